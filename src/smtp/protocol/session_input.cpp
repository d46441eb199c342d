#include "smtp/protocol/session_input.hpp"

#include <algorithm>
#include <cstring>

#include "core/checked.hpp"

namespace sealpost::smtp::protocol {

ChunkPlan plan_chunk(std::uint64_t held, std::uint64_t size, std::uint64_t limit) noexcept {
  if (size > limit) return ChunkPlan::kRefuseAndHangUp;
  // held + size <= limit, without forming a sum that could wrap (1 + 2^64 - 1 is 0).
  if (!core::fits_within(held, size, limit)) return ChunkPlan::kReadAndRefuse;
  return ChunkPlan::kKeep;
}

std::span<char> SessionInput::prepare() {
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  reading_from_ = buf_.size();
  buf_.resize(reading_from_ + kReadSize);
  return {buf_.data() + reading_from_, kReadSize};
}

void SessionInput::commit(std::size_t n) {
  buf_.resize(reading_from_ + std::min(n, kReadSize));
}

SessionInput::Line SessionInput::next_line(std::string& line) {
  const auto nl = buf_.find('\n', pos_);
  if (nl != std::string::npos) {
    const std::size_t start = pos_;
    pos_ = nl + 1;
    if (discarding_) {
      discarding_ = false;
      return Line::kTooLong;
    }
    if (nl == start || buf_[nl - 1] != '\r') return Line::kBareLineEnding;
    line.assign(buf_, start, nl - 1 - start);
    if (line.size() + 2 > max_line_) return Line::kTooLong;
    return Line::kLine;
  }
  if (buf_.size() - pos_ > max_line_) {
    discarding_ = true;  // drop what we have, keep reading to the end of the line
    buf_.clear();
    pos_ = 0;
  }
  return Line::kNeedMore;
}

bool SessionInput::feed_data(DataReader& reader, std::string& out) {
  pos_ += reader.feed(std::string_view(buf_).substr(pos_), out);
  return reader.done();
}

std::size_t SessionInput::take_chunk(std::uint64_t& remaining, std::string* out) {
  const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf_.size() - pos_));
  if (out) out->append(buf_, pos_, take);
  pos_ += take;
  remaining -= take;
  return take;
}

void SessionInput::scrub_consumed() {
  const std::size_t keep = buf_.size() - pos_;
  std::memmove(buf_.data(), buf_.data() + pos_, keep);
  // Volatile writes: the compiler may not drop them as dead stores before the resize.
  volatile char* p = buf_.data();
  for (std::size_t i = keep; i < buf_.capacity(); ++i) p[i] = 0;
  buf_.resize(keep);
  pos_ = 0;
}

bool SessionInput::holds_anywhere(std::string_view bytes) const noexcept {
  return std::string_view(buf_.data(), buf_.capacity()).find(bytes) != std::string_view::npos;
}

void SessionInput::clear() {
  buf_.clear();
  pos_ = 0;
  discarding_ = false;
}

}  // namespace sealpost::smtp::protocol

#include "smtp/protocol/data_reader.hpp"

#include <cstring>

namespace sealpost::smtp::protocol {

void DataReader::emit(std::string_view bytes, std::string& out) {
  const std::size_t before = content_size_;
  content_size_ += bytes.size();
  if (oversize_) return;
  if (content_size_ > max_size_) {
    // Keep exactly the first max_size_ octets, however the input was split.
    out.append(bytes.substr(0, max_size_ - before));
    oversize_ = true;
    return;
  }
  out.append(bytes);
}

std::size_t DataReader::feed(std::string_view input, std::string& out) {
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n && state_ != State::kDone) {
    switch (state_) {
      case State::kLineStart:
        if (input[i] == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kText;
        }
        break;
      case State::kLfLineStart:
        if (input[i] == '.') ++i;  // dot-stuffing removed; no end marker can start here
        state_ = State::kText;
        break;
      case State::kDot:
        if (input[i] == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else {
          // Dot-stuffing: a leading dot followed by anything else is removed.
          state_ = State::kText;
        }
        break;
      case State::kDotCr:
        if (input[i] == '\n') {
          state_ = State::kDone;
          ++i;
        } else {
          // ".<CR>" followed by something other than LF: a bare CR, not an end marker.
          bare_cr_ = true;
          emit("\r", out);
          state_ = State::kText;
        }
        break;
      case State::kText: {
        // Copy the run of ordinary octets in one go.
        const char* start = input.data() + i;
        std::size_t run = 0;
        while (i + run < n && start[run] != '\r' && start[run] != '\n') ++run;
        if (run > 0) emit(std::string_view(start, run), out);
        i += run;
        if (i == n) break;
        if (input[i] == '\r') {
          state_ = State::kCr;
        } else {
          ++bare_lf_count_;  // a bare LF ends the line, kept as CRLF
          emit("\r\n", out);
          state_ = State::kLfLineStart;
        }
        ++i;
        break;
      }
      case State::kCr:
        if (input[i] == '\n') {
          emit("\r\n", out);
          state_ = State::kLineStart;
          ++i;
        } else {
          bare_cr_ = true;  // bare CR: kept as data, never a line end
          emit("\r", out);
          state_ = State::kText;
        }
        break;
      case State::kDone:
        break;
    }
  }
  return i;
}

bool has_bare_cr(std::string_view content) noexcept {
  for (std::size_t i = content.find('\r'); i != std::string_view::npos;
       i = content.find('\r', i + 1)) {
    if (i + 1 >= content.size() || content[i + 1] != '\n') return true;
  }
  return false;
}

std::size_t normalize_bare_lf(std::string& content) {
  std::size_t bare = 0;
  for (std::size_t i = content.find('\n'); i != std::string::npos; i = content.find('\n', i + 1)) {
    if (i == 0 || content[i - 1] != '\r') ++bare;
  }
  if (bare == 0) return 0;
  std::string out;
  out.reserve(content.size() + bare);
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) out += '\r';
    out += content[i];
  }
  content.swap(out);
  return bare;
}

}  // namespace sealpost::smtp::protocol

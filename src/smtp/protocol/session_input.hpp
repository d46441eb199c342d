// The input side of an SMTP server session, without I/O: the octets a client sent, cut into
// command lines, DATA content and BDAT chunks. Every octet held is accounted for: the buffer
// never holds more than one command line plus one read, however the client's commands and
// chunk sizes combine (the session fuzz target checks this), and the chunk sizes it is told are
// compared with limits without arithmetic that could wrap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "smtp/protocol/data_reader.hpp"

namespace sealpost::smtp::protocol {

// What to do with a BDAT chunk of `size` octets when the message holds `held` already and may
// hold `limit` in all (RFC 3030 section 2; RFC 1870 for the limit).
enum class ChunkPlan {
  kKeep,             // it fits: read it into the message
  kReadAndRefuse,    // it does not fit: read and drop it to stay in step, then 552
  kRefuseAndHangUp,  // larger than any message may be: answer 552 now and close, since
                     // staying in step could mean reading up to 2^64 octets
};
ChunkPlan plan_chunk(std::uint64_t held, std::uint64_t size, std::uint64_t limit) noexcept;

class SessionInput {
 public:
  // Octets one read may add.
  static constexpr std::size_t kReadSize = std::size_t{16} * 1024;

  // `max_line`: a command line's octets with its CRLF.
  explicit SessionInput(std::size_t max_line) : max_line_(max_line) {}

  // Room for the next read (kReadSize octets, after dropping what was consumed), then how many
  // octets it wrote there.
  std::span<char> prepare();
  void commit(std::size_t n);

  enum class Line { kLine, kTooLong, kBareLineEnding, kNeedMore };
  // The next command line, without its CRLF. A line longer than max_line is dropped up to its
  // end (kTooLong once it ends), holding at most max_line octets meanwhile.
  Line next_line(std::string& line);

  // DATA: feeds what is buffered to `reader`, which appends the content to `out`. Returns
  // whether the end marker was reached.
  bool feed_data(DataReader& reader, std::string& out);

  // BDAT: takes up to `remaining` buffered octets of a chunk, lowering `remaining`; appends them
  // to `out` unless it is null. Returns how many were taken.
  std::size_t take_chunk(std::uint64_t& remaining, std::string* out);

  // Zeroes what was read so far (a credential's lines) and the buffer's spare capacity, keeping
  // only what the client sent after it.
  void scrub_consumed();
  // Drops everything buffered (after STARTTLS: nothing sent before the handshake is kept).
  void clear();

  // Octets buffered and not yet consumed, and the buffer's whole size (for the fuzz target's
  // memory ceiling).
  [[nodiscard]] std::size_t pending() const noexcept { return buf_.size() - pos_; }
  [[nodiscard]] std::size_t held() const noexcept { return buf_.capacity(); }
  // Whether `bytes` are anywhere in the buffer, spare capacity included: how tests prove that a
  // credential is gone.
  [[nodiscard]] bool holds_anywhere(std::string_view bytes) const noexcept;

 private:
  std::size_t max_line_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::size_t reading_from_ = 0;  // where prepare()'s room starts
  bool discarding_ = false;       // inside an overlong line
};

}  // namespace sealpost::smtp::protocol

// Reads the content of a DATA command (RFC 5321 section 4.1.1.4): removes dot-stuffing and
// finds the end marker. Only <CRLF>.<CRLF> ends the message. A bare LF or bare CR anywhere is
// recorded and never starts a line, so "<LF>.<LF>", "<LF>.<CR><LF>", "<CR>.<CR>" and the other
// SMTP smuggling end markers cannot end or split a message here (the session then rejects it).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sealpost::smtp::protocol {

class DataReader {
 public:
  // Content past `max_size` octets is scanned for the end marker but not kept (the first
  // `max_size` octets are).
  explicit DataReader(std::size_t max_size) : max_size_(max_size) {}

  // Feeds received octets, appending the unstuffed content to `out`. Returns how many octets of
  // `input` belong to the message (all of them until the end marker is seen; the rest are the
  // client's next commands).
  std::size_t feed(std::string_view input, std::string& out);

  [[nodiscard]] bool done() const noexcept { return state_ == State::kDone; }
  [[nodiscard]] bool bare_line_ending() const noexcept { return bare_line_ending_; }
  [[nodiscard]] bool oversize() const noexcept { return oversize_; }
  // Octets of content seen, kept or not (for logs and the size limit).
  [[nodiscard]] std::size_t content_size() const noexcept { return content_size_; }

 private:
  enum class State { kLineStart, kText, kCr, kDot, kDotCr, kDone };

  void emit(std::string_view bytes, std::string& out);

  std::size_t max_size_;
  std::size_t content_size_ = 0;
  State state_ = State::kLineStart;
  bool bare_line_ending_ = false;
  bool oversize_ = false;
};

// True when `content` holds a CR not followed by LF or an LF not preceded by CR (for BDAT content,
// which arrives unstuffed and must still be CRLF text since BINARYMIME is not offered).
bool has_bare_line_ending(std::string_view content) noexcept;

}  // namespace sealpost::smtp::protocol

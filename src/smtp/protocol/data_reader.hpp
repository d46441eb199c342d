// Reads the content of a DATA command (RFC 5321 section 4.1.1.4): removes dot-stuffing and
// finds the end marker. Only <CRLF>.<CRLF> ends the message.
//
// Line endings are handled as Postfix 3.9's `smtpd_forbid_bare_newline = normalize` does. A
// bare LF (scripts and CMS mailers send them: Python's smtplib passes bytes through as given)
// ends a line and is kept as CRLF, but the line after it can never begin the end marker, so
// "<LF>.<LF>", "<LF>.<CR><LF>" and "<CR><LF>.<LF>" stay inside the message: it cannot be split
// here, and relayed with every line ending in CRLF and dot-stuffed it cannot be split at the next
// hop either. A bare CR is recorded and kept as data; the session refuses such a message, since
// no sender produces one by accident and it is how the remaining smuggling variants hide a
// second message.
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
  // A CR not followed by LF was seen: the message must be refused.
  [[nodiscard]] bool bare_cr() const noexcept { return bare_cr_; }
  // Bare LFs seen (each stored as CRLF).
  [[nodiscard]] std::size_t bare_lf_count() const noexcept { return bare_lf_count_; }
  [[nodiscard]] bool oversize() const noexcept { return oversize_; }
  // Octets of content seen, kept or not (for logs and the size limit).
  [[nodiscard]] std::size_t content_size() const noexcept { return content_size_; }

 private:
  // kLfLineStart: the start of a line that followed a bare LF. A dot there is unstuffed like any
  // other, but never begins the end marker.
  enum class State { kLineStart, kLfLineStart, kText, kCr, kDot, kDotCr, kDone };

  void emit(std::string_view bytes, std::string& out);

  std::size_t max_size_;
  std::size_t content_size_ = 0;
  std::size_t bare_lf_count_ = 0;
  State state_ = State::kLineStart;
  bool bare_cr_ = false;
  bool oversize_ = false;
};

// True when `content` holds a CR not followed by LF.
bool has_bare_cr(std::string_view content) noexcept;

// BDAT content arrives unstuffed and must be CRLF text (BINARYMIME is not offered): each bare LF
// in `content` becomes CRLF, as DATA's reader does. Returns how many there were.
std::size_t normalize_bare_lf(std::string& content);

}  // namespace sealpost::smtp::protocol

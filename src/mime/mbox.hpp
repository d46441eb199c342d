// mboxrd (the mbox variant that escapes every "From " line reversibly): writing messages for
// `sealpost mailbox export --format mbox`, and reading mbox files (mboxrd, and mboxo/mboxcl as
// far as they can be told apart) for `sealpost mailbox import`.
//
// Stored messages use CRLF; mbox files use LF. A message whose lines all end in CRLF round-trips:
// read(write(m)) == m byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sealpost::mime {

// The "From " separator line (without its LF): "From SENDER DATE" with DATE in asctime form.
// An empty or unusable sender becomes MAILER-DAEMON.
std::string mbox_from_line(std::string_view sender, std::int64_t unix_time);

// Appends one message: the separator, the message with CRLF turned into LF and ">*From " lines
// given one more '>', a final LF if it had none, and the blank line that ends it.
void append_mboxrd(std::string& out, std::string_view from_line, std::string_view message);

struct MboxEntry {
  std::string_view from_line;  // without "From " and the LF
  std::string_view content;    // escaped, LF line ends, without the separating blank line
};

// Reads the next message at `pos` (advanced past it). Nullopt at the end, or when the data does
// not start with a "From " line (not an mbox). Never reads past `data`.
std::optional<MboxEntry> next_mbox_entry(std::string_view data, std::size_t& pos);

// An entry's content as a message: one '>' removed from ">+From " lines, LF turned into CRLF
// (a CRLF already there is kept). Bounded by `max_size` bytes of output: nullopt beyond.
std::optional<std::string> mbox_content_to_message(std::string_view content, std::size_t max_size);

// The envelope sender and the time of a "From " line, when readable.
struct FromLine {
  std::string sender;
  bool dated = false;          // the line carries a readable date
  std::int64_t unix_time = 0;  // when dated
};
FromLine parse_from_line(std::string_view from_line);

}  // namespace sealpost::mime

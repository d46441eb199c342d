// Delivery status notifications: the bounce a sender gets when the queue gives up on a recipient
// or has been retrying for a while. RFC 3464 report (RFC 3461 semantics) in an RFC 6522
// multipart/report, with RFC 6533's "utf-8" address type for internationalised addresses.
//
// Two things matter beyond the format. Privacy: the report returns the original's header only,
// never its body (a bounce must not become a way to read or relay content). Hostile input: the
// remote's reply, its host name and the addresses end up in a message we send, so every such
// value is cleaned of line breaks and control characters and bounded, and the MIME boundary is
// changed if the caller's occurs anywhere inside; nothing from outside can add a header field,
// a part or a line longer than RFC 5322's 998 octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::queue {

// How much of the original header the report carries (cut at a line end).
inline constexpr std::size_t kMaxDsnOriginalHeader = 64 * 1024;
// The remote's reply is cut to this many octets; host names and addresses to these.
inline constexpr std::size_t kMaxDsnDiagnostic = 512;
inline constexpr std::size_t kMaxDsnHostName = 255;
inline constexpr std::size_t kMaxDsnAddress = 320;
// Recipients reported one by one; more are counted in the text only (a message to more is rare
// and the report stays bounded).
inline constexpr std::size_t kMaxDsnRecipients = 1000;

struct DsnRecipient {
  std::string original_recipient;  // the address as the sender gave it (ASCII or UTF-8)
  bool failed = true;              // true: Action: failed; false: Action: delayed
  std::string status;              // "5.1.1", "4.4.1" (derive "5.0.0"/"4.0.0" when empty)
  std::string remote_mta;          // host name of the remote MTA, empty when none answered
  std::string diagnostic;  // the remote's reply, e.g. "550 5.1.1 No such user" (may be empty)
  std::int64_t last_attempt = 0;      // unix seconds
  std::int64_t will_retry_until = 0;  // for delayed: when we give up
};

struct DsnInput {
  std::string reporting_mta;  // our host name
  std::string postmaster;     // From: address, e.g. "MAILER-DAEMON@mx.example.com"
  std::string to;             // the original envelope sender (the DSN's recipient)
  std::string message_id;     // the DSN's own Message-ID value without <> (caller makes it)
  std::int64_t arrival = 0;   // when we accepted the original
  std::int64_t now = 0;       // Date:
  std::string
      boundary;  // MIME boundary to use (caller makes it random); must not occur in the parts
  std::string_view original;  // the original message (CRLF lines); only its HEADER goes in
  std::vector<DsnRecipient> recipients;
};

// The whole notification as an RFC 5322 message with CRLF line endings: From, To, Subject
// ("Undelivered Mail Returned to Sender" / "Delayed Mail (still being retried)"), Date,
// Message-ID, Auto-Submitted: auto-replied (RFC 3834), MIME-Version, Content-Type:
// multipart/report; report-type=delivery-status; boundary=...; parts: text/plain human
// explanation (no message content; list each recipient and the remote's answer, and for delayed
// mail say until when we retry), message/delivery-status (per-message fields Reporting-MTA:
// dns; X, Arrival-Date; per-recipient fields Final-Recipient: rfc822; addr (utf-8; for non-ASCII,
// RFC 6533), Action, Status, Remote-MTA: dns; host, Diagnostic-Code: smtp; text, Last-Attempt-Date,
// Will-Retry-Until), and text/rfc822-headers with the original's header section only (never the
// body). Every value that came from outside (diagnostic, remote host, addresses) is stripped of
// CR/LF/control characters and bounded in length (e.g. diagnostic ≤ 512 bytes) so a hostile
// remote cannot inject header lines or MIME parts; the original header is copied at most 64 KiB
// (cut at a line boundary), lines normalised to CRLF; lines longer than 998 octets are folded or
// cut. Dates in RFC 5322 format, UTC ("Fri, 04 Dec 2026 22:10:00 +0000").
//
// Details decided here:
// - The subject says "Undelivered" when any recipient failed; a report of failed and delayed
//   recipients together explains both in its text.
// - A non-ASCII Final-Recipient is written as RFC 6533's utf-8-addr-xtext ("\x{E9}"), which keeps
//   message/delivery-status 7-bit as RFC 3464 wants; the human text shows the address as given.
// - Status is kept when it is a well-formed x.y.z of class 4 or 5; a delayed recipient's 5.y.z
//   becomes 4.y.z (delayed is transient by definition: 552 5.2.2 "mailbox full" is retried).
// - Text from the remote is US-ASCII (RFC 5321): other bytes in it become '?'. Addresses may be
//   UTF-8 (RFC 6531); invalid UTF-8 in them becomes '?'.
// - The report is 7-bit unless an address or the original header has 8-bit octets; the parts
//   carrying them then say Content-Transfer-Encoding: 8bit (send with BODY=8BITMIME/SMTPUTF8).
// - An invalid boundary (empty, over 70 characters or outside RFC 2046's bchars) is replaced
//   with a fixed one; a boundary found anywhere in the parts gets a suffix that is not.
std::string build_dsn(const DsnInput& in);

// The header section of `message` (up to and excluding the empty line), bounded by max_bytes and
// cut at a line end; handles CRLF or LF, a message with no body, an empty message.
//
// The result keeps the last line's line break. A last line without one counts only when it ends
// the message (a message that is all header); a line that does not fit in max_bytes is left out
// with everything after it.
std::string_view header_section(std::string_view message, std::size_t max_bytes);

}  // namespace sealpost::queue

// The POP3 view of a mailbox (RFC 1939): the INBOX as it was at login, numbered 1..n for the
// whole session, with the session's marks (DELE, RETR) kept here until QUIT applies them; and the
// multi-line framing of what RETR and TOP send. Pure: no I/O, no store; the session feeds it.
//
// Sizes. A message's size (STAT, LIST, "+OK n octets") is the octet count of the message as
// stored, which is what RETR sends once the dot-stuffing is undone: the store keeps CRLF line
// ends, so no conversion changes the count. A message that does not end with CRLF (possible only
// for mail added by IMAP APPEND or an import, never for mail from SMTP) is sent with a CRLF added
// before the terminating "." line; that CRLF belongs to the terminator ("CRLF.CRLF", RFC 1939
// section 3) and is not counted, as in Dovecot. Counting it would need every message read at
// login, which a large mailbox cannot afford.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::pop3::server {

struct MaildropMessage {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;
  bool deleted = false;    // DELE: removed at QUIT, forgotten by RSET
  bool retrieved = false;  // RETR: marked \Seen at QUIT (as Dovecot does)
};

class Maildrop {
 public:
  Maildrop() = default;
  // `messages` in UID order; message number i is messages[i - 1].
  Maildrop(std::uint32_t uidvalidity, std::vector<MaildropMessage> messages);

  // Message numbers run 1..size(), marked messages included (RFC 1939: numbers never change).
  [[nodiscard]] std::uint32_t size() const noexcept {
    return static_cast<std::uint32_t>(messages_.size());
  }
  // STAT: the messages not marked deleted, and their octets.
  [[nodiscard]] std::uint32_t live_count() const noexcept { return live_count_; }
  [[nodiscard]] std::uint64_t live_octets() const noexcept { return live_octets_; }

  // The message `number`, or null when there is none or it is marked deleted.
  [[nodiscard]] const MaildropMessage* find(std::uint32_t number) const noexcept;
  // False when find(number) is null.
  bool mark_deleted(std::uint32_t number) noexcept;
  void mark_retrieved(std::uint32_t number) noexcept;
  void reset() noexcept;  // RSET: unmarks every message

  // UIDL (RFC 1939 section 7): "<uidvalidity>.<uid>". Unique in the mailbox and the same in
  // every session while the INBOX keeps its UIDVALIDITY; digits and a dot, within 0x21-0x7E and
  // under the 70 octets the RFC allows.
  [[nodiscard]] std::string unique_id(std::uint32_t number) const;

  // What QUIT applies (UPDATE state): the UIDs marked deleted, and those retrieved and kept.
  [[nodiscard]] std::vector<std::uint32_t> deleted_uids() const;
  [[nodiscard]] std::vector<std::uint32_t> retrieved_kept_uids() const;
  [[nodiscard]] std::uint32_t uidvalidity() const noexcept { return uidvalidity_; }

 private:
  std::uint32_t uidvalidity_ = 0;
  std::vector<MaildropMessage> messages_;
  std::uint32_t live_count_ = 0;
  std::uint64_t live_octets_ = 0;
};

// Writes a message as the body of a multi-line response (RFC 1939 section 3), in as many pieces
// as the caller likes: a line starting with "." gets another "." in front, and finish() ends the
// response with the "." line. A line starts after any LF, bare or not: a stored bare LF followed
// by ".\r\n" must not end the response early for a client that splits lines at LF (that would
// let a message forge the replies to the client's next commands).
class DotStuffer {
 public:
  void append(std::string_view text, std::string& out);
  // Adds CRLF first when what was appended does not end with one (nor is empty), then ".\r\n".
  void finish(std::string& out);

 private:
  bool at_line_start_ = true;
  bool empty_ = true;
  char last_ = '\0';
  char before_last_ = '\0';
};

// TOP (RFC 1939 section 7): the header, the blank line that ends it, and the first `lines` lines
// of the body. A message without a blank line is all header. A view into `raw`.
std::string_view top_of(std::string_view raw, std::uint32_t lines) noexcept;

}  // namespace sealpost::pop3::server

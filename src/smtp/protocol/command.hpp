// The SMTP command grammar (RFC 5321 section 4.1, RFC 1870 SIZE, RFC 6152 8BITMIME,
// RFC 3030 CHUNKING, RFC 6531 SMTPUTF8, RFC 3207 STARTTLS). Pure: one line in, a typed command
// or the reply that rejects it out. No I/O, no state: the session owns the state machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "smtp/protocol/address.hpp"
#include "smtp/protocol/reply.hpp"

namespace sealpost::smtp::protocol {

// RFC 5321 allows extensions to lengthen command lines; 1000 octets with CRLF covers every
// extension we advertise and bounds what a client can make us buffer.
inline constexpr std::size_t kMaxCommandLine = 1000;

enum class Verb {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kStarttls,
  kAuth,
};

enum class BodyType { kSevenBit, kEightBitMime };

struct MailParameters {
  std::optional<std::uint64_t> size;
  BodyType body = BodyType::kSevenBit;
  bool smtputf8 = false;
  // RFC 4954 section 5: AUTH=<> or AUTH=xtext-mailbox, as a relaying client sends it. Kept as
  // sent; the submission server trusts only its own authentication, never this claim.
  std::optional<std::string> auth;
};

struct Command {
  Verb verb = Verb::kNoop;
  std::string argument;          // HELO/EHLO name, VRFY/EXPN/HELP/NOOP/AUTH text
  Path path;                     // MAIL and RCPT
  MailParameters mail;           // MAIL
  std::uint64_t chunk_size = 0;  // BDAT
  bool last_chunk = false;       // BDAT ... LAST
};

// `line` is one command line without its CRLF. `utf8_transaction` says whether the current
// transaction's MAIL carried SMTPUTF8, which allows UTF-8 in RCPT paths.
Result<Command, Reply> parse_command(std::string_view line, bool utf8_transaction);

}  // namespace sealpost::smtp::protocol

// The POP3 command grammar: RFC 1939 (USER, PASS, APOP, STAT, LIST, UIDL, TOP, RETR, DELE, RSET,
// NOOP, QUIT), RFC 2449 (CAPA, line lengths), RFC 2595 (STLS) and RFC 5034 (AUTH with an initial
// response). Pure: one line in (without its CRLF), a typed command or the text of the -ERR that
// rejects it out. The session owns the state machine (which commands each state allows) and
// reads lines of at most kMaxPassLine octets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealpost::pop3::protocol {

// RFC 2449 section 4: a command line is at most 255 octets, CRLF included.
inline constexpr std::size_t kMaxCommandLine = 255;
// PASS carries the whole rest of the line; long passphrases and application tokens need more.
inline constexpr std::size_t kMaxPassLine = 1024;

enum class Verb : std::uint8_t {
  kUser,
  kPass,
  kApop,
  kAuth,
  kCapa,
  kStls,
  kStat,
  kList,
  kUidl,
  kTop,
  kRetr,
  kDele,
  kRset,
  kNoop,
  kQuit,
};

struct Command {
  Verb verb = Verb::kNoop;
  // USER and APOP: the name; PASS: the password, spaces included (RFC 1939 section 7);
  // AUTH: the SASL mechanism as sent, "" for a bare AUTH (clients ask for the mechanism list).
  std::string argument;
  std::string digest;  // APOP: 32 hexadecimal digits, as sent
  // AUTH's initial response (RFC 5034): base64 as sent, checked for syntax; "=" means empty.
  std::optional<std::string> initial_response;
  std::optional<std::uint32_t> message;  // LIST and UIDL maybe, RETR, DELE and TOP always
  std::uint32_t lines = 0;               // TOP
};

Result<Command, std::string> parse_command(std::string_view line);

// A line answering an AUTH challenge (RFC 5034 section 4): base64 (maybe empty), or "*" to
// cancel. The base64 is checked, not decoded. No length limit here: the session's line limit
// applies.
struct SaslResponse {
  bool cancelled = false;
  std::string_view base64;
};
Result<SaslResponse, std::string> parse_sasl_response(std::string_view line);

}  // namespace sealpost::pop3::protocol

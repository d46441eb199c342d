#include "pop3/protocol/command.hpp"

#include <array>

#include "core/base64.hpp"
#include "core/strings.hpp"

namespace sealpost::pop3::protocol {
namespace {

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbName, 15> kVerbs{{
    {"USER", Verb::kUser},
    {"PASS", Verb::kPass},
    {"APOP", Verb::kApop},
    {"AUTH", Verb::kAuth},
    {"CAPA", Verb::kCapa},
    {"STLS", Verb::kStls},
    {"STAT", Verb::kStat},
    {"LIST", Verb::kList},
    {"UIDL", Verb::kUidl},
    {"TOP", Verb::kTop},
    {"RETR", Verb::kRetr},
    {"DELE", Verb::kDele},
    {"RSET", Verb::kRset},
    {"NOOP", Verb::kNoop},
    {"QUIT", Verb::kQuit},
}};

using Error = Unexpected<std::string>;

Error reject(std::string_view reason) {
  return unexpected(std::string(reason));
}

bool has_control(std::string_view s) noexcept {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// Splits the arguments at single spaces, into at most args.size() (a count of args.size() says
// "that many or more"). `empty` tells whether one is empty: two spaces, or a trailing space.
std::size_t split(std::string_view rest, std::array<std::string_view, 3>& args, bool& empty) {
  std::size_t n = 0;
  empty = false;
  while (n < args.size()) {
    const std::size_t sp = rest.find(' ');
    args[n] = rest.substr(0, sp);
    empty = empty || args[n].empty();
    ++n;
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  return n;
}

bool is_hex(char c) noexcept {
  const char l = ascii_lower(c);
  return is_ascii_digit(c) || (l >= 'a' && l <= 'f');
}

// A message number or line count: decimal, at most 2^32-1.
std::optional<std::uint32_t> number(std::string_view s) {
  const auto v = parse_decimal(s, 10);
  if (!v || *v > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// sasl-mech = 1*20(UPPER-ALPHA / DIGIT / "-" / "_"), any case on receipt (RFC 4422 section 3.1)
bool is_sasl_mechanism(std::string_view m) noexcept {
  if (m.empty() || m.size() > 20) return false;
  for (char c : m) {
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

Result<Command, std::string> parse_command(std::string_view line) {
  const std::size_t sp = line.find(' ');
  const std::string_view keyword = line.substr(0, sp);
  const std::string_view rest =
      sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  const bool has_rest = sp != std::string_view::npos;

  const VerbName* found = nullptr;
  for (const VerbName& v : kVerbs) {
    if (iequals(keyword, v.name)) found = &v;
  }
  if (found == nullptr) return reject(keyword.empty() ? "Empty command" : "Unknown command");
  Command cmd;
  cmd.verb = found->verb;

  const std::size_t limit = cmd.verb == Verb::kPass ? kMaxPassLine : kMaxCommandLine;
  if (line.size() + 2 > limit) return reject("Command line too long");

  if (cmd.verb == Verb::kPass) {
    // RFC 1939 section 7: the password is the rest of the line, spaces included.
    if (rest.empty()) return reject("PASS needs a password");
    for (char c : rest) {
      if (c == '\0' || c == '\r' || c == '\n') return reject("Invalid character in password");
    }
    cmd.argument.assign(rest);
    return cmd;
  }

  std::array<std::string_view, 3> args{};
  bool empty = false;
  const std::size_t n = has_rest ? split(rest, args, empty) : 0;
  if (empty) return reject("Syntax error: one space between arguments");

  const auto arity = [&](std::size_t min, std::size_t max) { return n >= min && n <= max; };
  const auto message = [&](std::string_view s) -> std::optional<std::uint32_t> {
    const auto v = number(s);
    if (!v || *v == 0) return std::nullopt;
    return v;
  };

  switch (cmd.verb) {
    case Verb::kCapa:
    case Verb::kStls:
    case Verb::kStat:
    case Verb::kRset:
    case Verb::kNoop:
    case Verb::kQuit:
      if (n != 0) return reject("This command takes no arguments");
      return cmd;
    case Verb::kUser:
      if (!arity(1, 1)) return reject("Syntax: USER name");
      if (has_control(args[0])) return reject("Invalid character in name");
      cmd.argument.assign(args[0]);
      return cmd;
    case Verb::kApop:
      if (!arity(2, 2)) return reject("Syntax: APOP name digest");
      if (has_control(args[0])) return reject("Invalid character in name");
      if (args[1].size() != 32) return reject("APOP digest must be 32 hex digits");
      for (char c : args[1]) {
        if (!is_hex(c)) return reject("APOP digest must be 32 hex digits");
      }
      cmd.argument.assign(args[0]);
      cmd.digest.assign(args[1]);
      return cmd;
    case Verb::kAuth:
      if (!arity(0, 2)) return reject("Syntax: AUTH mechanism [initial-response]");
      if (n >= 1) {
        if (!is_sasl_mechanism(args[0])) return reject("Invalid SASL mechanism name");
        cmd.argument.assign(args[0]);
      }
      if (n == 2) {
        if (args[1] != "=" && !core::is_base64(args[1])) return reject("Invalid initial response");
        cmd.initial_response.emplace(args[1]);
      }
      return cmd;
    case Verb::kList:
    case Verb::kUidl:
      if (!arity(0, 1)) return reject("Syntax: LIST/UIDL [message]");
      if (n == 1) {
        cmd.message = message(args[0]);
        if (!cmd.message) return reject("Invalid message number");
      }
      return cmd;
    case Verb::kRetr:
    case Verb::kDele:
      if (!arity(1, 1)) return reject("Syntax: RETR/DELE message");
      cmd.message = message(args[0]);
      if (!cmd.message) return reject("Invalid message number");
      return cmd;
    case Verb::kTop: {
      if (!arity(2, 2)) return reject("Syntax: TOP message lines");
      cmd.message = message(args[0]);
      if (!cmd.message) return reject("Invalid message number");
      const auto lines = number(args[1]);
      if (!lines) return reject("Invalid number of lines");
      cmd.lines = *lines;
      return cmd;
    }
    case Verb::kPass:
      break;
  }
  return reject("Unknown command");
}

Result<SaslResponse, std::string> parse_sasl_response(std::string_view line) {
  if (line == "*") return SaslResponse{true, {}};
  if (!core::is_base64(line)) return reject("Invalid base64 in SASL response");
  return SaslResponse{false, line};
}

}  // namespace sealpost::pop3::protocol

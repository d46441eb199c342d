#include "smtp/protocol/command.hpp"

#include <array>
#include <utility>

#include "core/strings.hpp"

namespace sealpost::smtp::protocol {
namespace {

Unexpected<Reply> reject(int code, std::string_view enhanced, std::string_view text) {
  return unexpected(make_reply(code, enhanced, text));
}

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr std::array<VerbName, 14> kVerbs{{
    {"HELO", Verb::kHelo},
    {"EHLO", Verb::kEhlo},
    {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt},
    {"DATA", Verb::kData},
    {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset},
    {"NOOP", Verb::kNoop},
    {"QUIT", Verb::kQuit},
    {"VRFY", Verb::kVrfy},
    {"EXPN", Verb::kExpn},
    {"HELP", Verb::kHelp},
    {"STARTTLS", Verb::kStarttls},
    {"AUTH", Verb::kAuth},
}};

// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool is_esmtp_keyword(std::string_view k) {
  if (k.empty() || !(is_ascii_alpha(k[0]) || is_ascii_digit(k[0]))) return false;
  for (char c : k) {
    if (!(is_ascii_alpha(c) || is_ascii_digit(c) || c == '-')) return false;
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126), or UTF-8 under SMTPUTF8 (RFC 6531)
bool is_esmtp_value(std::string_view v) {
  if (v.empty()) return false;
  for (unsigned char c : v) {
    if (c == '=' || c < 33 || c == 127) return false;
  }
  return true;
}

// Splits "<path> params..." where the path may hold spaces only inside a quoted local part.
std::pair<std::string_view, std::string_view> split_path(std::string_view rest) {
  bool quoted = false;
  bool escaped = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (escaped) {
      escaped = false;
    } else if (c == '\\' && quoted) {
      escaped = true;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      return {rest.substr(0, i + 1), rest.substr(i + 1)};
    }
  }
  return {rest, {}};
}

Result<Path, Reply> parse_path_for(std::string_view text, bool allow_utf8, bool sender) {
  auto parsed = parse_path(text, allow_utf8);
  if (parsed) return std::move(parsed).value();
  const std::string_view enh = sender ? "5.1.7" : "5.1.3";
  switch (parsed.error()) {
    case PathError::kUtf8NotAllowed:
      return reject(553, "5.6.7", "Non-ASCII addresses require SMTPUTF8");
    case PathError::kTooLong:
      return reject(501, enh, sender ? "Sender address too long" : "Recipient address too long");
    case PathError::kSyntax:
      break;
  }
  return reject(501, enh, sender ? "Bad sender address syntax" : "Bad recipient address syntax");
}

Result<Command, Reply> parse_mail(std::string_view rest, Command cmd) {
  if (!istarts_with(rest, "FROM:")) return reject(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  rest = trim(rest.substr(5));
  auto [path_text, params] = split_path(rest);
  if (!params.empty() && params.front() != ' ') {
    return reject(501, "5.5.4", "Syntax: MAIL FROM:<address>");
  }

  bool seen_size = false;
  bool seen_body = false;
  bool seen_utf8 = false;
  params = trim(params);
  while (!params.empty()) {
    const auto sp = params.find(' ');
    const std::string_view param = params.substr(0, sp);
    params = sp == std::string_view::npos ? std::string_view{} : trim(params.substr(sp + 1));
    const auto eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (!is_esmtp_keyword(key) || (eq != std::string_view::npos && !is_esmtp_value(value))) {
      return reject(501, "5.5.4", "Malformed MAIL parameter");
    }
    if (iequals(key, "SIZE")) {
      const auto size = parse_decimal_saturating(value, 20);
      if (seen_size || !size) return reject(501, "5.5.4", "Malformed SIZE parameter");
      seen_size = true;
      cmd.mail.size = *size;
    } else if (iequals(key, "BODY")) {
      if (seen_body) return reject(501, "5.5.4", "Duplicate BODY parameter");
      seen_body = true;
      if (iequals(value, "7BIT")) {
        cmd.mail.body = BodyType::kSevenBit;
      } else if (iequals(value, "8BITMIME")) {
        cmd.mail.body = BodyType::kEightBitMime;
      } else {
        return reject(555, "5.5.4", "Unsupported BODY type");
      }
    } else if (iequals(key, "SMTPUTF8")) {
      if (seen_utf8 || eq != std::string_view::npos) {
        return reject(501, "5.5.4", "Malformed SMTPUTF8 parameter");
      }
      seen_utf8 = true;
      cmd.mail.smtputf8 = true;
    } else if (iequals(key, "AUTH")) {
      if (cmd.mail.auth || eq == std::string_view::npos || value.empty()) {
        return reject(501, "5.5.4", "Malformed AUTH parameter");
      }
      cmd.mail.auth = std::string(value);
    } else {
      return reject(555, "5.5.4", "Unsupported MAIL parameter");
    }
  }

  auto path = parse_path_for(path_text, cmd.mail.smtputf8, /*sender=*/true);
  if (!path) return unexpected(std::move(path).error());
  cmd.path = std::move(path).value();
  if (!cmd.path.null && cmd.path.mailbox.domain.empty()) {
    return reject(501, "5.1.7", "Bad sender address syntax");
  }
  return cmd;
}

Result<Command, Reply> parse_rcpt(std::string_view rest, Command cmd, bool utf8_transaction) {
  if (!istarts_with(rest, "TO:")) return reject(501, "5.5.4", "Syntax: RCPT TO:<address>");
  rest = trim(rest.substr(3));
  auto [path_text, params] = split_path(rest);
  if (!trim(params).empty()) {
    if (params.front() != ' ') return reject(501, "5.5.4", "Syntax: RCPT TO:<address>");
    return reject(555, "5.5.4", "Unsupported RCPT parameter");
  }
  auto path = parse_path_for(path_text, utf8_transaction, /*sender=*/false);
  if (!path) return unexpected(std::move(path).error());
  cmd.path = std::move(path).value();
  if (cmd.path.null) return reject(501, "5.1.3", "Bad recipient address syntax");
  return cmd;
}

Result<Command, Reply> parse_bdat(std::string_view rest, Command cmd) {
  const auto sp = rest.find(' ');
  const auto size = parse_decimal_saturating(rest.substr(0, sp), 20);
  if (!size) return reject(501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
  cmd.chunk_size = *size;
  if (sp != std::string_view::npos) {
    if (!iequals(rest.substr(sp + 1), "LAST")) {
      return reject(501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
    }
    cmd.last_chunk = true;
  }
  return cmd;
}

}  // namespace

Result<Command, Reply> parse_command(std::string_view line, bool utf8_transaction) {
  if (line.size() + 2 > kMaxCommandLine) return reject(500, "5.5.2", "Line too long");
  for (unsigned char c : line) {
    // Control characters have no place in a command; 8-bit octets are judged by the path parser.
    if ((c < 32 && c != '\t') || c == 127)
      return reject(500, "5.5.2", "Invalid character in command");
  }

  const auto sp = line.find(' ');
  const std::string_view verb_text = line.substr(0, sp);
  const std::string_view rest =
      sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);

  Command cmd;
  bool known = false;
  for (const auto& v : kVerbs) {
    if (iequals(verb_text, v.name)) {
      cmd.verb = v.verb;
      known = true;
      break;
    }
  }
  if (!known) return reject(500, "5.5.1", "Command unrecognized");

  switch (cmd.verb) {
    case Verb::kHelo:
    case Verb::kEhlo: {
      const std::string_view name = trim(rest);
      if (name.empty() || name.find(' ') != std::string_view::npos) {
        return reject(
            501, "5.5.4",
            cmd.verb == Verb::kEhlo ? "Syntax: EHLO domain-or-address" : "Syntax: HELO domain");
      }
      for (unsigned char c : name) {
        if (c > 126) return reject(501, "5.5.4", "Invalid greeting name");
      }
      cmd.argument = std::string(name);
      return cmd;
    }
    case Verb::kMail:
      return parse_mail(rest, std::move(cmd));
    case Verb::kRcpt:
      return parse_rcpt(rest, std::move(cmd), utf8_transaction);
    case Verb::kBdat:
      return parse_bdat(rest, std::move(cmd));
    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStarttls:
      if (!trim(rest).empty()) return reject(501, "5.5.4", "No parameters allowed");
      return cmd;
    case Verb::kVrfy:
    case Verb::kExpn:
      if (trim(rest).empty()) return reject(501, "5.5.4", "Argument required");
      [[fallthrough]];
    case Verb::kNoop:
    case Verb::kHelp:
    case Verb::kAuth:
      cmd.argument = std::string(rest);
      return cmd;
  }
  return reject(500, "5.5.1", "Command unrecognized");
}

}  // namespace sealpost::smtp::protocol

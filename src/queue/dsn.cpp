#include "queue/dsn.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/strings.hpp"
#include "core/utf8.hpp"
#include "mime/content.hpp"

namespace sealpost::queue {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// RFC 5322 section 2.1.1, without the CRLF.
constexpr std::size_t kMaxLine = 998;
// Where the human text wraps, when its words let it.
constexpr std::size_t kWrapColumn = 76;
// RFC 2046 section 5.1.1.
constexpr std::size_t kMaxBoundary = 70;
constexpr std::string_view kFallbackBoundary = "=_sealpost_delivery_report";
constexpr std::size_t kBoundarySuffix = 7;  // "_" and six digits

bool is_control(unsigned char c) noexcept {
  return c < 0x20 || c == 0x7f;
}

// The length of the well-formed UTF-8 sequence at the front of `s` (0: none), its code point
// into `cp`.
std::size_t next_length(std::string_view s, char32_t& cp) noexcept {
  const auto seq = core::next_utf8(s);
  cp = seq.code_point;
  return seq.length;
}

// C1 controls (U+0085 is a line break to some readers), the line and paragraph separators, and
// the bidirectional overrides that can make an address display as another.
bool is_unicode_control(char32_t cp) noexcept {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool is_ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// One line of text out of a value from outside: control characters (CR and LF first, and the
// Unicode ones above) become spaces, runs of spaces one, no space at either end, at most `max`
// octets (cut between characters). With `utf8`, well-formed UTF-8 stays and other 8-bit octets
// become '?'; without, every 8-bit octet does.
std::string clean_text(std::string_view in, std::size_t max, bool utf8) {
  std::string out;
  out.reserve(std::min(in.size(), max));
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t n = 1;
    std::string_view piece;
    char32_t cp = 0;
    if (is_control(c) || c == ' ') {
      piece = " ";
    } else if (c < 0x80) {
      piece = in.substr(i, 1);
    } else if (utf8 && (n = next_length(in.substr(i), cp)) != 0) {
      piece = is_unicode_control(cp) ? " " : in.substr(i, n);
    } else {
      n = 1;
      piece = "?";
    }
    i += n;
    if (piece == " " && (out.empty() || out.back() == ' ')) continue;
    if (out.size() + piece.size() > max) break;
    out += piece;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// An address for a header field or the report: one line, and without the angle brackets that
// would let it close the one we put around it.
std::string clean_address(std::string_view in) {
  std::string out = clean_text(in, kMaxDsnAddress, true);
  std::erase_if(out, [](char c) { return c == '<' || c == '>'; });
  return out;
}

// A host name or address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"): nothing else survives.
std::string clean_host(std::string_view in) {
  std::string out;
  for (const char c : in) {
    if (out.size() == kMaxDsnHostName) break;
    if (is_ascii_alpha(c) || is_ascii_digit(c) || c == '.' || c == '-' || c == '_' || c == ':' ||
        c == '[' || c == ']') {
      out += c;
    }
  }
  return out;
}

// A Message-ID's id-left "@" id-right without the brackets or anything that would end them.
std::string clean_message_id(std::string_view in) {
  std::string out = clean_text(in, kMaxDsnHostName, false);
  std::erase_if(out, [](char c) { return c == '<' || c == '>' || c == ' '; });
  return out;
}

struct StatusCode {
  int klass = 0;
  std::string_view rest;  // ".subject.detail"
};

// RFC 3463 status-code: class "." subject "." detail, subject and detail 1-3 digits.
std::optional<StatusCode> parse_status(std::string_view s) noexcept {
  s = trim(s);
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') {
    return std::nullopt;
  }
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = i;
    while (i < s.size() && is_ascii_digit(s[i]) && i - start < 3) ++i;
    if (i == start) return std::nullopt;
    if (part == 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return StatusCode{s[0] - '0', s.substr(1)};
}

std::string status_for(const DsnRecipient& r) {
  const auto code = parse_status(r.status);
  if (r.failed) {
    if (code && code->klass != 2) return std::string(trim(r.status));
    return "5.0.0";
  }
  if (code && code->klass != 2) return "4" + std::string(code->rest);
  return "4.0.0";
}

// RFC 6533 utf-8-addr-xtext: printable ASCII other than "+", "=" and "\" as it is, everything
// else as "\x{HEX}" (uppercase, at least two digits). Stops before `budget` octets would be
// exceeded, so the field stays within a line: such an address has no whitespace to fold at.
std::string utf8_addr_xtext(std::string_view addr, std::size_t budget) {
  std::string out;
  std::size_t i = 0;
  while (i < addr.size()) {
    char32_t cp = 0;
    std::size_t n = next_length(addr.substr(i), cp);
    if (n == 0) n = 1, cp = 0xfffd;
    i += n;
    char unit[16];
    if (cp >= 0x21 && cp <= 0x7e && cp != '+' && cp != '=' && cp != '\\') {
      unit[0] = static_cast<char>(cp);
      unit[1] = '\0';
    } else {
      std::snprintf(unit, sizeof unit, "\\x{%02X}", static_cast<unsigned>(cp));
    }
    const std::string_view u(unit);
    if (out.size() + u.size() > budget) break;
    out += u;
  }
  return out;
}

// Splits a line longer than kMaxLine into a folded field: before a space or tab when there is
// one to break at (the continuation then starts with it, as RFC 5322 folding does), otherwise
// hard, with a space put in front of the continuation and never inside a UTF-8 character.
void append_folded(std::string& out, std::string_view line) {
  bool inserted_space = false;
  while (true) {
    const std::size_t room = inserted_space ? kMaxLine - 1 : kMaxLine;
    if (line.size() <= room) {
      if (inserted_space) out += ' ';
      out += line;
      out += kCrlf;
      return;
    }
    std::size_t cut = line.find_last_of(" \t", room);
    bool hard = cut == std::string_view::npos || cut == 0;
    if (hard) {
      cut = room;
      for (int back = 0; back < 3 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80;
           ++back) {
        --cut;
      }
    }
    if (inserted_space) out += ' ';
    out += line.substr(0, cut);
    out += kCrlf;
    line.remove_prefix(cut);
    inserted_space = hard;
  }
}

// The original's header as the third part: CRLF line ends, no bare CR or NUL, no line over
// kMaxLine.
std::string copy_header(std::string_view header) {
  std::string out;
  out.reserve(header.size() + header.size() / 64);
  std::string line;
  while (!header.empty()) {
    const auto nl = header.find('\n');
    line.assign(header.substr(0, nl));
    header.remove_prefix(nl == std::string_view::npos ? header.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::replace_if(
        line.begin(), line.end(), [](char c) { return c == '\r' || c == '\0'; }, ' ');
    if (line.size() > kMaxLine) {
      // Runs of blanks become one and trailing ones go, so that no fold leaves a line of blanks
      // only (which some readers take for the end of the header).
      const auto blank = [](char a, char b) {
        return (a == ' ' || a == '\t') && (b == ' ' || b == '\t');
      };
      line.erase(std::unique(line.begin(), line.end(), blank), line.end());
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    }
    append_folded(out, line);
  }
  return out;
}

// Words of `text` (single spaces between them) on lines of kWrapColumn where they fit; the first
// line indented by `indent`, the others by `hang`. A longer word gets a line of its own.
void append_wrapped(std::string& out, std::string_view text, std::size_t indent, std::size_t hang) {
  std::string line(indent, ' ');
  bool line_has_word = false;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    if (word.empty()) continue;
    if (line_has_word && line.size() + 1 + word.size() > kWrapColumn) {
      out += line;
      out += kCrlf;
      line.assign(hang, ' ');
      line_has_word = false;
    }
    if (line_has_word) line += ' ';
    line += word;
    line_has_word = true;
  }
  out += line;
  out += kCrlf;
}

bool is_bchar(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c) ||
         std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
}

// The caller's boundary when it is valid and found nowhere in `content`; otherwise one that is
// not: the boundary followed by "_" and six digits, the smallest number no occurrence of the
// boundary in the content is followed by. Each occurrence rules out at most one number, so one is
// free as long as the content is under some 7 MB (the report is far smaller).
std::string choose_boundary(std::string_view wanted, std::string_view content) {
  std::string base(wanted);
  if (base.empty() || base.size() > kMaxBoundary ||
      !std::all_of(base.begin(), base.end(), is_bchar)) {
    base = kFallbackBoundary;
  }
  if (content.find(base) == std::string_view::npos) return base;
  if (base.size() > kMaxBoundary - kBoundarySuffix) base.resize(kMaxBoundary - kBoundarySuffix);

  std::vector<std::uint32_t> taken;
  for (auto at = content.find(base); at != std::string_view::npos;
       at = content.find(base, at + 1)) {
    const std::string_view after = content.substr(at + base.size());
    if (after.size() < kBoundarySuffix || after[0] != '_') continue;
    if (const auto n = parse_decimal(after.substr(1, kBoundarySuffix - 1))) {
      taken.push_back(static_cast<std::uint32_t>(*n));
    }
  }
  std::sort(taken.begin(), taken.end());
  std::uint32_t free = 0;
  for (const auto n : taken) {
    if (n == free) ++free;
    if (n > free) break;
  }
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%06u", static_cast<unsigned>(free % 1000000));
  return base + suffix;
}

struct Cleaned {
  std::string address;
  std::string host;
  std::string diagnostic;
  std::string status;
};

Cleaned clean(const DsnRecipient& r) {
  return {clean_address(r.original_recipient), clean_host(r.remote_mta),
          clean_text(r.diagnostic, kMaxDsnDiagnostic, false), status_for(r)};
}

void append_human_entry(std::string& out, const DsnRecipient& r, const Cleaned& c) {
  append_wrapped(out, "<" + c.address + ">", 2, 4);
  std::string detail;
  if (!c.diagnostic.empty()) {
    detail = c.host.empty() ? "Reason: " + c.diagnostic
                            : "The server " + c.host + " answered: " + c.diagnostic;
  } else if (!c.host.empty()) {
    detail = "The server " + c.host + " gave no answer.";
  } else {
    detail = "No server could be reached.";
  }
  append_wrapped(out, detail, 4, 6);
  if (!r.failed && r.will_retry_until > 0) {
    append_wrapped(out, "Retrying until: " + mime::format_rfc5322_date(r.will_retry_until), 4, 6);
  }
  out += kCrlf;
}

std::string human_text(const DsnInput& in, std::string_view reporting_mta,
                       const std::vector<Cleaned>& cleaned) {
  const std::size_t listed = cleaned.size();
  bool any_failed = false;
  bool any_delayed = false;
  for (std::size_t i = 0; i < listed; ++i) {
    (in.recipients[i].failed ? any_failed : any_delayed) = true;
  }

  std::string out;
  append_wrapped(out, "This is the mail delivery system at " + std::string(reporting_mta) + ".", 0,
                 0);
  out += kCrlf;
  if (any_failed) {
    append_wrapped(out,
                   "Your message could not be delivered to the recipients below. The mail "
                   "system has given up and will not try again.",
                   0, 0);
    out += kCrlf;
    for (std::size_t i = 0; i < listed; ++i) {
      if (in.recipients[i].failed) append_human_entry(out, in.recipients[i], cleaned[i]);
    }
  }
  if (any_delayed) {
    append_wrapped(out,
                   "Your message has not been delivered yet to the recipients below. The mail "
                   "system keeps trying until the time given for each, and tells you again only "
                   "if it gives up. You do not need to send the message again.",
                   0, 0);
    out += kCrlf;
    for (std::size_t i = 0; i < listed; ++i) {
      if (!in.recipients[i].failed) append_human_entry(out, in.recipients[i], cleaned[i]);
    }
  }
  if (in.recipients.size() > listed) {
    append_wrapped(out,
                   "This report lists the first " + std::to_string(listed) + " recipients; " +
                       std::to_string(in.recipients.size() - listed) + " more are not shown.",
                   0, 0);
    out += kCrlf;
  }
  append_wrapped(out,
                 "For your privacy, this report contains only the header of your message, not "
                 "its text or attachments.",
                 0, 0);
  return out;
}

std::string delivery_status(const DsnInput& in, std::string_view reporting_mta,
                            const std::vector<Cleaned>& cleaned) {
  std::string out;
  out += "Reporting-MTA: dns; ";
  out += reporting_mta;
  out += kCrlf;
  if (in.arrival > 0) {
    out += "Arrival-Date: " + mime::format_rfc5322_date(in.arrival);
    out += kCrlf;
  }
  for (std::size_t i = 0; i < cleaned.size(); ++i) {
    const DsnRecipient& r = in.recipients[i];
    const Cleaned& c = cleaned[i];
    out += kCrlf;
    if (is_ascii(c.address)) {
      out += "Final-Recipient: rfc822; " + c.address;
    } else {
      constexpr std::string_view kField = "Final-Recipient: utf-8; ";
      out += kField;
      out += utf8_addr_xtext(c.address, kMaxLine - kField.size());
    }
    out += kCrlf;
    out += r.failed ? "Action: failed" : "Action: delayed";
    out += kCrlf;
    out += "Status: " + c.status;
    out += kCrlf;
    if (!c.host.empty()) {
      out += "Remote-MTA: dns; " + c.host;
      out += kCrlf;
    }
    if (!c.diagnostic.empty()) {
      // Folded like a header field: a one-space indent unfolds back to the single space.
      append_wrapped(out, "Diagnostic-Code: smtp; " + c.diagnostic, 0, 1);
    }
    if (r.last_attempt > 0) {
      out += "Last-Attempt-Date: " + mime::format_rfc5322_date(r.last_attempt);
      out += kCrlf;
    }
    if (!r.failed && r.will_retry_until > 0) {
      out += "Will-Retry-Until: " + mime::format_rfc5322_date(r.will_retry_until);
      out += kCrlf;
    }
  }
  return out;
}

std::string part_header(std::string_view content_type, std::string_view body) {
  std::string out = "Content-Type: ";
  out += content_type;
  out += kCrlf;
  if (!is_ascii(body)) {
    out += "Content-Transfer-Encoding: 8bit";
    out += kCrlf;
  }
  out += kCrlf;
  return out;
}

}  // namespace

std::string_view header_section(std::string_view message, std::size_t max_bytes) {
  // Only the first max_bytes octets are looked at; a line running past them is left out.
  const std::string_view window = message.substr(0, max_bytes);
  std::size_t kept = 0;
  while (kept < window.size()) {
    const auto nl = window.find('\n', kept);
    const std::size_t end = nl == std::string_view::npos ? window.size() : nl;
    std::string_view line = window.substr(kept, end - kept);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the empty line that ends the header
    if (nl == std::string_view::npos) {
      // A last line without a line break: whole only when it ends the message.
      if (window.size() == message.size()) kept = window.size();
      break;
    }
    kept = nl + 1;
  }
  return message.substr(0, kept);
}

std::string build_dsn(const DsnInput& in) {
  std::string reporting_mta = clean_host(in.reporting_mta);
  if (reporting_mta.empty()) reporting_mta = "localhost";
  std::string postmaster = clean_address(in.postmaster);
  if (postmaster.empty()) postmaster = "MAILER-DAEMON@" + reporting_mta;
  const std::string to = clean_address(in.to);
  const std::string message_id = clean_message_id(in.message_id);

  const std::size_t listed = std::min(in.recipients.size(), kMaxDsnRecipients);
  std::vector<Cleaned> cleaned;
  cleaned.reserve(listed);
  for (std::size_t i = 0; i < listed; ++i) cleaned.push_back(clean(in.recipients[i]));
  const bool any_failed = std::any_of(in.recipients.begin(), in.recipients.begin() + listed,
                                      [](const DsnRecipient& r) { return r.failed; });

  const std::string text = human_text(in, reporting_mta, cleaned);
  const std::string status = delivery_status(in, reporting_mta, cleaned);
  const std::string headers = copy_header(header_section(in.original, kMaxDsnOriginalHeader));

  constexpr std::string_view kPreamble = "This is a MIME-encapsulated message.\r\n";
  const std::string parts[] = {
      part_header("text/plain; charset=utf-8", text) + text,
      part_header("message/delivery-status", status) + status,
      part_header("text/rfc822-headers", headers) + headers,
  };
  std::string all_content(kPreamble);
  for (const auto& p : parts) all_content += p;
  const std::string boundary = choose_boundary(in.boundary, all_content);

  std::string out;
  out.reserve(all_content.size() + 1024);
  out += "From: Mail Delivery System <" + postmaster + ">\r\n";
  out += to.empty() ? std::string("To: undisclosed-recipients:;\r\n") : "To: <" + to + ">\r\n";
  out += any_failed || listed == 0 ? "Subject: Undelivered Mail Returned to Sender\r\n"
                                   : "Subject: Delayed Mail (still being retried)\r\n";
  out += "Date: " + mime::format_rfc5322_date(in.now) + "\r\n";
  if (!message_id.empty()) out += "Message-ID: <" + message_id + ">\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n";
  out += "\tboundary=\"" + boundary + "\"\r\n";
  out += kCrlf;
  out += kPreamble;
  for (const auto& p : parts) {
    out += "\r\n--" + boundary + "\r\n";
    out += p;
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace sealpost::queue

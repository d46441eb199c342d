#include "mime/content.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/strings.hpp"
#include "mime/charset.hpp"

namespace sealpost::mime {

namespace {

std::string decode_quoted_printable(std::string_view in, std::size_t max) {
  std::string out;
  out.reserve(std::min(max, in.size()));
  for (std::size_t i = 0; i < in.size() && out.size() < max; ++i) {
    const char c = in[i];
    if (c == ' ' || c == '\t') {
      // RFC 2045 section 6.7 rule 3: whitespace at the end of an encoded line was added in
      // transport, and decoders delete it.
      std::size_t j = i;
      while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
      const bool at_end = j == in.size() || in[j] == '\n' ||
                          (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n');
      if (!at_end) out.append(in.substr(i, std::min(j - i, max - out.size())));
      i = j - 1;
      continue;
    }
    if (c != '=') {
      out += c;
      continue;
    }
    // A soft line break: "=" then optional trailing whitespace, then CRLF or LF.
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j < in.size() &&
        (in[j] == '\n' || (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n'))) {
      i = in[j] == '\r' ? j + 1 : j;
      continue;
    }
    if (j == in.size()) break;  // "=" at the very end
    if (i + 2 < in.size()) {
      const int hi = hex_digit_value(in[i + 1]);
      const int lo = hex_digit_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}

// Splits a date into tokens: runs of letters, runs of digits, and the signs before zones;
// comments, commas, colons and whitespace separate them (colons are remembered for the time).
struct Token {
  std::string_view text;
  char before = ' ';  // the separator just before: ':' inside a time, '+' or '-' for zones
};

std::size_t tokenize(std::string_view s, std::array<Token, 16>& tokens) {
  std::size_t n = 0;
  char sep = ' ';
  int comment = 0;
  for (std::size_t i = 0; i < s.size() && n < tokens.size();) {
    const char c = s[i];
    if (c == '(') {
      ++comment;
      ++i;
      continue;
    }
    if (c == ')' && comment > 0) {
      --comment;
      ++i;
      continue;
    }
    if (comment > 0) {
      ++i;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      std::size_t j = i;
      const bool digits = std::isdigit(u) != 0;
      while (j < s.size() && (digits ? std::isdigit(static_cast<unsigned char>(s[j]))
                                     : std::isalpha(static_cast<unsigned char>(s[j])))) {
        ++j;
      }
      tokens[n++] = {s.substr(i, j - i), sep};
      sep = ' ';
      i = j;
      continue;
    }
    if (c == ':' || c == '+' || c == '-') sep = c;
    ++i;
  }
  return n;
}

int month_of(std::string_view t) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (t.size() < 3) return -1;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(t.substr(0, 3), kMonths[i])) return static_cast<int>(i);
  }
  return -1;
}

int to_int(std::string_view t) {
  int v = 0;
  for (char c : t.substr(0, 9)) v = v * 10 + (c - '0');
  return v;
}

bool is_number(std::string_view t) {
  return !t.empty() && std::isdigit(static_cast<unsigned char>(t[0])) != 0;
}

// Offset in minutes of an RFC 5322 (or obsolete) zone name; 0 for unknown ones (RFC 5322 4.3).
int zone_minutes(std::string_view z) {
  static constexpr std::array<std::pair<std::string_view, int>, 10> kZones{{
      {"EDT", -4 * 60},
      {"EST", -5 * 60},
      {"CDT", -5 * 60},
      {"CST", -6 * 60},
      {"MDT", -6 * 60},
      {"MST", -7 * 60},
      {"PDT", -7 * 60},
      {"PST", -8 * 60},
      {"UT", 0},
      {"GMT", 0},
  }};
  for (const auto& [name, minutes] : kZones) {
    if (iequals(z, name)) return minutes;
  }
  return 0;
}

void collect_text(const Part& part, std::string_view raw, std::string& out, std::size_t max) {
  if (out.size() >= max) return;
  if (part.kind != PartKind::kLeaf) {
    for (const auto& child : part.children) collect_text(child, raw, out, max);
    return;
  }
  if (!is_searchable_text(part)) return;
  auto decoded = decoded_text(part, raw, max - out.size());
  if (!decoded) return;
  std::string text = std::move(*decoded);
  if (part.content_type.subtype == "html") text = html_to_text(text, max - out.size());
  append_searchable_text(out, text, max);
}

}  // namespace

std::optional<std::string> decoded_text(const Part& part, std::string_view raw,
                                        std::size_t max_output) {
  const Parameter* charset_param = find_parameter(part.content_type.params, "charset");
  const std::string_view charset = charset_param ? std::string_view(charset_param->value) : "";
  if (!is_allowed_charset(charset)) return std::nullopt;
  const std::string decoded =
      decode_transfer_encoding(part.body.in(raw), part.transfer_encoding, max_output);
  return to_utf8(decoded, charset, max_output);
}

std::string decode_transfer_encoding(std::string_view body, std::string_view encoding,
                                     std::size_t max_output) {
  if (iequals(encoding, "base64")) {
    return *core::base64_decode(body, core::Base64Mode::kLenient, max_output);
  }
  if (iequals(encoding, "quoted-printable")) return decode_quoted_printable(body, max_output);
  return std::string(body.substr(0, std::min(body.size(), max_output)));
}

std::string format_rfc5322_date(std::int64_t unix_time) {
  constexpr std::int64_t kMax = 253402300799;  // 9999-12-31 23:59:59
  const auto c = core::civil_time(std::clamp<std::int64_t>(unix_time, 0, kMax));
  static constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kWeekdays[c.weekday],
                c.day, kMonths[c.month - 1], static_cast<int>(c.year), c.hour, c.minute, c.second);
  return buf;
}

std::optional<std::int64_t> parse_rfc5322_date(std::string_view value) {
  std::array<Token, 16> t{};
  const std::size_t n = tokenize(value.substr(0, 256), t);
  std::size_t i = 0;
  // An optional day name.
  if (i < n && !is_number(t[i].text) && month_of(t[i].text) < 0) ++i;
  if (i + 3 > n) return std::nullopt;
  int day = 0;
  int month = -1;
  // "1 Jan 2024", and the "Jan 1 2024" some software writes.
  if (is_number(t[i].text) && month_of(t[i + 1].text) >= 0) {
    day = to_int(t[i].text);
    month = month_of(t[i + 1].text);
  } else if (month_of(t[i].text) >= 0 && is_number(t[i + 1].text)) {
    month = month_of(t[i].text);
    day = to_int(t[i + 1].text);
  } else {
    return std::nullopt;
  }
  i += 2;
  if (i >= n || !is_number(t[i].text)) return std::nullopt;
  int year = to_int(t[i].text);
  const std::size_t year_digits = t[i].text.size();
  ++i;
  // RFC 5322 4.3: two-digit years are 1950-2049, three-digit ones add 1900.
  if (year_digits <= 2) year += year < 50 ? 2000 : 1900;
  if (year_digits == 3) year += 1900;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (i + 1 < n && is_number(t[i].text) && t[i + 1].before == ':') {
    hour = to_int(t[i].text);
    minute = to_int(t[i + 1].text);
    i += 2;
    if (i < n && t[i].before == ':' && is_number(t[i].text)) second = to_int(t[i++].text);
  } else {
    return std::nullopt;
  }
  int offset = 0;
  if (i < n) {
    if (is_number(t[i].text) && t[i].text.size() == 4 &&
        (t[i].before == '+' || t[i].before == '-')) {
      const int hhmm = to_int(t[i].text);
      offset = (hhmm / 100) * 60 + hhmm % 100;
      if (t[i].before == '-') offset = -offset;
    } else if (!is_number(t[i].text)) {
      offset = zone_minutes(t[i].text);
    }
  }
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || year < 1900 ||
      year > 9999) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t utc = ::timegm(&tm);
  return static_cast<std::int64_t>(utc) - std::int64_t{offset} * 60;
}

bool is_searchable_text(const Part& part) {
  return part.kind == PartKind::kLeaf && part.is_text() &&
         !(part.has_disposition && part.disposition.type == "attachment") &&
         (part.content_type.subtype == "plain" || part.content_type.subtype == "html");
}

std::string html_to_text(std::string_view html, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < html.size() && out.size() < max) {
    const char c = html[i];
    if (c == '<') {  // a tag: a space in its place
      const std::size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      out += ' ';
      i = close + 1;
      continue;
    }
    if (c == '&') {
      const auto semi = html.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 8) {
        const auto name = html.substr(i + 1, semi - i - 1);
        const char* rep = name == "amp"    ? "&"
                          : name == "lt"   ? "<"
                          : name == "gt"   ? ">"
                          : name == "quot" ? "\""
                          : name == "nbsp" ? " "
                          : name == "apos" ? "'"
                                           : nullptr;
        if (rep) {
          out += rep;
          i = semi + 1;
          continue;
        }
      }
      out += c;
      ++i;
      continue;
    }
    // The text up to the next tag or entity, in one piece.
    const std::size_t stop = std::min(html.find_first_of("<&", i), html.size());
    const std::size_t n = std::min(stop - i, max - out.size());
    out.append(html.substr(i, n));
    i += n;
  }
  return out;
}

void append_searchable_text(std::string& out, std::string_view text, std::size_t max_output) {
  if (out.size() >= max_output) return;
  if (!out.empty()) out += '\n';
  out.append(text.substr(0, std::min(text.size(), max_output - std::min(max_output, out.size()))));
}

std::string searchable_text(const Message& message, std::size_t max_output) {
  std::string out;
  collect_text(message.root, message.raw, out, max_output);
  return out;
}

}  // namespace sealpost::mime

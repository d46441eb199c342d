#include "mime/mbox.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

namespace sealpost::mime {

namespace {

constexpr std::array<std::string_view, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// ">*From " at the start of a line.
bool is_quoted_from(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return line.substr(i).starts_with("From ");
}

int index_of(std::string_view token, auto const& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (token == names[i]) return static_cast<int>(i);
  }
  return -1;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 4 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

// "hh:mm" or "hh:mm:ss".
bool parse_time(std::string_view s, int& h, int& m, int& sec) {
  if (s.size() != 5 && s.size() != 8) return false;
  if (s[2] != ':' || (s.size() == 8 && s[5] != ':')) return false;
  if (!all_digits(s.substr(0, 2)) || !all_digits(s.substr(3, 2))) return false;
  h = number(s.substr(0, 2));
  m = number(s.substr(3, 2));
  sec = 0;
  if (s.size() == 8) {
    if (!all_digits(s.substr(6, 2))) return false;
    sec = number(s.substr(6, 2));
  }
  return h < 24 && m < 60 && sec < 61;
}

// A "From " line that a reader must take as a separator: it carries a date, as mutt requires,
// so a stray unescaped "From " in an mboxo body does not split the message.
bool is_separator(std::string_view line) {
  if (!line.starts_with("From ")) return false;
  return parse_from_line(line.substr(5)).dated;
}

}  // namespace

FromLine parse_from_line(std::string_view line) {
  FromLine out;
  std::array<std::string_view, 12> tokens{};
  std::size_t n = 0;
  while (!line.empty() && n < tokens.size()) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = line.find(' ');
    tokens[n++] = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  if (n == 0) return out;
  out.sender = std::string(tokens[0]);
  // "Www Mmm dd hh:mm[:ss] [zone] yyyy" after the sender.
  for (std::size_t i = 1; i + 3 < n; ++i) {
    if (index_of(tokens[i], kDays) < 0) continue;
    const int month = index_of(tokens[i + 1], kMonths);
    if (month < 0 || !all_digits(tokens[i + 2])) continue;
    int h = 0;
    int m = 0;
    int s = 0;
    if (!parse_time(tokens[i + 3], h, m, s)) continue;
    std::size_t y = i + 4;
    if (y < n && !all_digits(tokens[y])) ++y;  // a time zone name or offset
    if (y >= n || !all_digits(tokens[y]) || tokens[y].size() != 4) continue;
    const int day = number(tokens[i + 2]);
    if (day < 1 || day > 31) continue;
    std::tm tm{};
    tm.tm_year = number(tokens[y]) - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = s;
    const std::time_t t = ::timegm(&tm);
    out.dated = true;
    out.unix_time = static_cast<std::int64_t>(t);
    return out;
  }
  return out;
}

std::string mbox_from_line(std::string_view sender, std::int64_t unix_time) {
  std::string who;
  for (char c : sender) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      who.clear();
      break;
    }
    who += c;
  }
  if (who.empty()) who = "MAILER-DAEMON";
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char date[64];
  const std::size_t len = std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  return "From " + who + " " + std::string(date, len);
}

void append_mboxrd(std::string& out, std::string_view from_line, std::string_view message) {
  out.reserve(out.size() + from_line.size() + message.size() + message.size() / 50 + 4);
  out += from_line;
  out += '\n';
  while (!message.empty()) {
    const auto lf = message.find('\n');
    std::string_view line = message.substr(0, lf);
    message.remove_prefix(lf == std::string_view::npos ? message.size() : lf + 1);
    if (lf != std::string_view::npos && line.ends_with('\r')) line.remove_suffix(1);
    if (is_quoted_from(line)) out += '>';
    out += line;
    out += '\n';
  }
  out += '\n';
}

std::optional<MboxEntry> next_mbox_entry(std::string_view data, std::size_t& pos) {
  if (pos >= data.size()) return std::nullopt;
  std::string_view rest = data.substr(pos);
  // Blank lines before the first separator (or between messages) are not content.
  while (rest.starts_with('\n') || rest.starts_with("\r\n")) {
    rest.remove_prefix(rest[0] == '\n' ? 1 : 2);
  }
  if (!rest.starts_with("From ")) return std::nullopt;
  const std::size_t start = data.size() - rest.size();
  const auto eol = rest.find('\n');
  MboxEntry e;
  e.from_line = rest.substr(5, eol == std::string_view::npos ? std::string_view::npos : eol - 5);
  if (e.from_line.ends_with('\r')) e.from_line.remove_suffix(1);
  if (eol == std::string_view::npos) {
    e.content = data.substr(data.size());
    pos = data.size();
    return e;
  }
  const std::size_t body = start + eol + 1;
  std::size_t end = data.size();
  // From the from line's own LF, so that an empty message's next separator is found too.
  std::size_t search = body - 1;
  while (true) {
    const auto at = data.find("\nFrom ", search);
    if (at == std::string_view::npos) break;
    const auto line_end = data.find('\n', at + 1);
    const auto line = data.substr(
        at + 1, line_end == std::string_view::npos ? std::string_view::npos : line_end - at - 1);
    if (is_separator(line.ends_with('\r') ? line.substr(0, line.size() - 1) : line)) {
      end = at + 1;
      break;
    }
    search = at + 1;
  }
  e.content = data.substr(body, end > body ? end - body : 0);
  // The blank line that separates messages is not part of the last line.
  if (e.content.ends_with("\n\n")) {
    e.content.remove_suffix(1);
  } else if (e.content.ends_with("\r\n\r\n")) {
    e.content.remove_suffix(2);
  }
  pos = end;
  return e;
}

std::optional<std::string> mbox_content_to_message(std::string_view content, std::size_t max_size) {
  std::string out;
  out.reserve(std::min(max_size, content.size() + content.size() / 40 + 2));
  while (!content.empty()) {
    const auto lf = content.find('\n');
    std::string_view line = content.substr(0, lf);
    content.remove_prefix(lf == std::string_view::npos ? content.size() : lf + 1);
    const bool had_cr = lf != std::string_view::npos && line.ends_with('\r');
    if (had_cr) line.remove_suffix(1);
    if (line.starts_with('>') && is_quoted_from(line)) line.remove_prefix(1);
    if (out.size() + line.size() + 2 > max_size) return std::nullopt;
    out += line;
    if (lf != std::string_view::npos) out += "\r\n";
  }
  return out;
}

}  // namespace sealpost::mime

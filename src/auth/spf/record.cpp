#include "auth/spf/record.hpp"

#include <cstring>

#include <arpa/inet.h>

#include "auth/spf/macro.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::spf {

namespace {

constexpr std::size_t kMaxRecord = 65535;  // a TXT RRset cannot carry more

bool is_name_char(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-' || c == '_' || c == '.';
}

// "/" ("0" / %x31-39 0*N DIGIT), value at most `max`.
std::optional<unsigned> parse_cidr(std::string_view digits, unsigned max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  const auto v = parse_decimal(digits, 3);
  if (!v || *v > max) return std::nullopt;
  return static_cast<unsigned>(*v);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_ascii_digit(c)) return false;
  }
  return true;
}

// Splits a dual-cidr-length ("/24", "//64", "/24//64") off the end of `rest`.
bool take_dual_cidr(std::string_view& rest, Directive& d) {
  const auto dd = rest.rfind("//");
  if (dd != std::string_view::npos && all_digits(rest.substr(dd + 2))) {
    const auto v = parse_cidr(rest.substr(dd + 2), 128);
    if (!v) return false;
    d.cidr6 = *v;
    rest = rest.substr(0, dd);
  }
  const auto s = rest.rfind('/');
  if (s != std::string_view::npos && all_digits(rest.substr(s + 1))) {
    const auto v = parse_cidr(rest.substr(s + 1), 32);
    if (!v) return false;
    d.cidr4 = *v;
    rest = rest.substr(0, s);
  }
  return true;
}

bool parse_directive(std::string_view term, Directive& d) {
  if (term.front() == '+' || term.front() == '-' || term.front() == '~' || term.front() == '?') {
    d.qualifier = static_cast<Qualifier>(term.front());
    term.remove_prefix(1);
  }
  std::size_t n = 0;
  while (n < term.size() && (is_ascii_alpha(term[n]) || is_ascii_digit(term[n]))) ++n;
  const std::string name = to_lower_ascii(term.substr(0, n));
  std::string_view rest = term.substr(n);
  if (!rest.empty() && rest.front() != ':' && rest.front() != '/') return false;

  const auto domain_spec = [&](bool required) {
    if (rest.empty()) return !required;
    if (rest.front() != ':') return false;
    d.domain_spec = std::string(rest.substr(1));
    return valid_domain_spec(d.domain_spec);
  };

  if (name == "all") {
    d.mechanism = Mechanism::kAll;
    return rest.empty();
  }
  if (name == "include" || name == "exists") {
    d.mechanism = name == "include" ? Mechanism::kInclude : Mechanism::kExists;
    return domain_spec(true);
  }
  if (name == "a" || name == "mx") {
    d.mechanism = name == "a" ? Mechanism::kA : Mechanism::kMx;
    if (!take_dual_cidr(rest, d)) return false;
    return domain_spec(false);
  }
  if (name == "ptr") {
    d.mechanism = Mechanism::kPtr;
    return domain_spec(false);
  }
  if (name == "ip4" || name == "ip6") {
    const bool v6 = name == "ip6";
    d.mechanism = v6 ? Mechanism::kIp6 : Mechanism::kIp4;
    if (rest.empty() || rest.front() != ':') return false;
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    if (slash != std::string_view::npos) {
      const auto v = parse_cidr(rest.substr(slash + 1), v6 ? 128 : 32);
      if (!v) return false;
      (v6 ? d.cidr6 : d.cidr4) = *v;
      rest = rest.substr(0, slash);
    }
    const auto ip = Ip::parse(rest);
    if (!ip || ip->v6 != v6) return false;
    d.network = *ip;
    return true;
  }
  return false;
}

}  // namespace

std::optional<Ip> Ip::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  Ip ip;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  ip.v6 = true;
  return ip;
}

std::string Ip::to_string() const {
  char buf[64] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

bool Ip::in_network(const Ip& network, unsigned prefix) const {
  if (v6 != network.v6) return false;
  const unsigned bits = v6 ? 128 : 32;
  if (prefix > bits) prefix = bits;
  const unsigned whole = prefix / 8;
  if (std::memcmp(bytes.data(), network.bytes.data(), whole) != 0) return false;
  const unsigned partial = prefix % 8;
  if (partial == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - partial));
  return (bytes[whole] & mask) == (network.bytes[whole] & mask);
}

Ip Ip::unmapped() const {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!v6 || std::memcmp(bytes.data(), kPrefix, 12) != 0) return *this;
  Ip v4;
  std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
  return v4;
}

bool is_spf_record(std::string_view txt) noexcept {
  return istarts_with(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

Result<Record, RecordError> parse_record(std::string_view txt) {
  if (!is_spf_record(txt)) return unexpected(RecordError::kNotSpf);
  if (txt.size() > kMaxRecord) return unexpected(RecordError::kTooLong);
  for (char c : txt) {
    if (static_cast<unsigned char>(c) >= 0x80) return unexpected(RecordError::kNotAscii);
  }
  Record record;
  std::string_view rest = txt.substr(6);
  while (!rest.empty()) {
    if (rest.front() == ' ') {
      rest.remove_prefix(1);
      continue;
    }
    const auto end = rest.find(' ');
    const std::string_view term = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);

    std::size_t n = 0;
    while (n < term.size() && is_name_char(term[n])) ++n;
    if (n > 0 && n < term.size() && term[n] == '=' && is_ascii_alpha(term.front())) {
      const std::string name = to_lower_ascii(term.substr(0, n));
      const std::string value(term.substr(n + 1));
      if (name == "redirect" || name == "exp") {
        auto& slot = name == "redirect" ? record.redirect : record.exp;
        if (slot) return unexpected(RecordError::kDuplicateModifier);
        if (!valid_domain_spec(value)) return unexpected(RecordError::kSyntax);
        slot = value;
      } else if (!valid_macro_string(value, false)) {
        return unexpected(RecordError::kSyntax);
      }
      continue;
    }
    Directive d;
    if (!parse_directive(term, d)) return unexpected(RecordError::kSyntax);
    record.directives.push_back(std::move(d));
  }
  return record;
}

}  // namespace sealpost::auth::spf

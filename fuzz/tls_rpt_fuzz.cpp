// TLS-RPT records come from DNS, and reports carry strings seen on the wire (host names, TLS
// error texts): the parser must stay within its bounds for any bytes, and the JSON, file name and
// Subject built from any strings must stay well-formed (valid UTF-8, no raw control character).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "mime/report_mail.hpp"
#include "smtp/client/tls_rpt.hpp"

namespace {

using namespace sealpost::smtp::client;

// RFC 3629 well-formed UTF-8.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (d < lo || d > hi) : (d & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// A small RFC 8259 checker for what tls_report_json writes: objects, arrays, strings and
// non-negative integers.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}
  bool document() { return value(0) && i_ == s_.size(); }

 private:
  bool value(int depth) {
    if (depth > 8 || i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return string();
    return number();
  }
  bool object(int depth) {
    ++i_;
    if (peek('}')) return true;
    while (true) {
      if (i_ >= s_.size() || s_[i_] != '"' || !string() || !peek(':') || !value(depth + 1)) {
        return false;
      }
      if (peek('}')) return true;
      if (!peek(',')) return false;
    }
  }
  bool array(int depth) {
    ++i_;
    if (peek(']')) return true;
    while (true) {
      if (!value(depth + 1)) return false;
      if (peek(']')) return true;
      if (!peek(',')) return false;
    }
  }
  bool string() {
    ++i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k, ++i_) {
          if (i_ >= s_.size() || kHex.find(s_[i_]) == std::string_view::npos) return false;
        }
      } else if (kEscapes.find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start && (s_[start] != '0' || i_ - start == 1);
  }
  bool peek(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  static constexpr std::string_view kHex = "0123456789abcdefABCDEF";
  static constexpr std::string_view kEscapes = "\"\\/bfnrt";

  std::string_view s_;
  std::size_t i_ = 0;
};

std::vector<std::string> split_lines(std::string_view in, std::size_t max) {
  std::vector<std::string> out;
  while (out.size() < max) {
    const auto lf = in.find('\n');
    out.emplace_back(in.substr(0, lf));
    if (lf == std::string_view::npos) break;
    in.remove_prefix(lf + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto lines = split_lines(in, 16);

  if (auto r = parse_tlsrpt_record(lines)) {
    if (r->rua.empty() || r->rua.size() > kTlsRptMaxUris) __builtin_trap();
    for (const auto& uri : r->rua) {
      if (uri.size() > kTlsRptMaxUriOctets) __builtin_trap();
      if (!uri.starts_with("mailto:") && !uri.starts_with("https://")) __builtin_trap();
    }
    for (const auto& address : tlsrpt_mailto_addresses(*r)) {
      const auto at = address.rfind('@');
      if (at == std::string::npos || at == 0 || at + 1 == address.size()) __builtin_trap();
      for (char c : address) {
        if (c <= 0x20 || c >= 0x7f) __builtin_trap();
      }
    }
  }

  // A report whose every string is a piece of the input.
  const auto piece = [&](std::size_t i) -> const std::string& { return lines[i % lines.size()]; };
  std::int64_t t = 0;
  if (size > 0) std::memcpy(&t, data, std::min(size, sizeof t));
  const auto end = static_cast<std::int64_t>(static_cast<std::uint64_t>(t) * 31);  // may wrap
  TlsFailureDetail detail{
      static_cast<TlsResultType>(size % 11), piece(4), piece(5), piece(6), size, piece(7)};
  TlsPolicyResult policy;
  policy.policy_type = static_cast<TlsPolicyType>(size % 3);
  policy.policy_string = {piece(8), piece(9)};
  policy.policy_domain = piece(10);
  policy.mx_host = {piece(11)};
  policy.successful_session_count = UINT64_MAX - size;
  policy.failure_details = {detail, detail};
  TlsReport report;
  report.organization_name = piece(0);
  report.contact_info = piece(1);
  report.report_id = piece(2);
  report.start = t;
  report.end = end;
  report.policies = {policy};

  const std::string json = tls_report_json(report);
  // RFC 8259 section 7: no control character unescaped (DEL may stand as it is).
  for (char c : json) {
    if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
  }
  if (!valid_utf8(json) || !JsonChecker(json).document()) __builtin_trap();

  const std::string name =
      sealpost::mime::report_filename(piece(0), piece(1), t, end, piece(2), "json.gz");
  if (!name.ends_with(".json.gz")) __builtin_trap();
  for (char c : name) {
    // Lowercase domains; unique-id = 1*(ALPHA / DIGIT) may have capitals.
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '!';
    if (!ok) __builtin_trap();
  }
  const std::string subject = sealpost::mime::report_subject(piece(0), piece(1), piece(2));
  for (char c : subject) {
    if (c < 0x20 || c >= 0x7f) __builtin_trap();
  }
  return 0;
}

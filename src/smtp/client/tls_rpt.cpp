#include "smtp/client/tls_rpt.hpp"

#include <algorithm>
#include <limits>

#include "core/clock.hpp"
#include "core/strings.hpp"

namespace sealpost::smtp::client {

namespace {

constexpr std::string_view kVersion = "v=TLSRPTv1";

constexpr bool is_wsp(char c) noexcept {
  return c == ' ' || c == '\t';
}

constexpr bool is_alnum(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

constexpr bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

std::string_view trim_wsp(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 3986 2: the characters a URI may hold (unreserved, reserved and "%" of a pct-encoded).
bool is_uri_char(char c) noexcept {
  if (is_alnum(c)) return true;
  return std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

bool valid_uri_chars(std::string_view uri) noexcept {
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (!is_uri_char(uri[i])) return false;
    if (uri[i] == '%') {
      if (i + 2 >= uri.size() || hex_digit_value(uri[i + 1]) < 0 ||
          hex_digit_value(uri[i + 2]) < 0) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

// The address of a mailto: URI (RFC 6068): up to any "?hfields", percent-decoded. Section 3
// of RFC 8460 has "," encoded in URIs, so a decoded "," would be a second address: refused, as
// are controls, spaces and non-ASCII, and anything without a local part and a domain.
std::optional<std::string> mailto_address(std::string_view uri) {
  if (!istarts_with(uri, "mailto:")) return std::nullopt;
  uri.remove_prefix(7);
  return decode_mailto_address(uri.substr(0, uri.find('?')));
}

// A report URI we can use, with its scheme lowercased; nullopt for other schemes and for
// malformed or overlong URIs (section 3 names mailto and https as the two schemes).
std::optional<std::string> report_uri(std::string_view uri) {
  if (uri.empty() || uri.size() > kTlsRptMaxUriOctets || !valid_uri_chars(uri)) {
    return std::nullopt;
  }
  const auto colon = uri.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string scheme = to_lower_ascii(uri.substr(0, colon));
  std::string out = scheme + std::string(uri.substr(colon));
  if (scheme == "mailto") {
    if (!mailto_address(out)) return std::nullopt;
    return out;
  }
  if (scheme == "https") {
    // "https://" authority, with a host: reports are POSTed there (section 5.4).
    std::string_view rest = uri.substr(colon + 1);
    if (!rest.starts_with("//")) return std::nullopt;
    rest.remove_prefix(2);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const std::string_view host = authority.substr(authority.rfind('@') + 1);
    if (host.empty() || host.front() == ':') return std::nullopt;
    return out;
  }
  return std::nullopt;
}

// Section 3: "records that do not begin with 'v=TLSRPTv1;' are discarded". Its field-delim
// allows white space before the ";", so "v=TLSRPTv1 ;" is one too; "v=TLSRPTv10" is not.
bool is_tlsrpt_record(std::string_view txt) noexcept {
  if (!txt.starts_with(kVersion)) return false;
  txt.remove_prefix(kVersion.size());
  return txt.empty() || txt.front() == ';' || is_wsp(txt.front());
}

std::optional<TlsRptRecord> parse_one_record(std::string_view txt) {
  if (txt.size() > kTlsRptMaxRecordOctets) return std::nullopt;
  txt.remove_prefix(kVersion.size());
  TlsRptRecord record;
  bool first = true;
  while (!txt.empty()) {
    const auto semi = txt.find(';');
    const std::string_view field = trim_wsp(txt.substr(0, semi));
    const bool had_delim = semi != std::string_view::npos;
    txt = had_delim ? txt.substr(semi + 1) : std::string_view();
    if (first) {
      if (!field.empty() || !had_delim) return std::nullopt;  // "v=TLSRPTv1 junk"
      first = false;
      continue;
    }
    // tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri). Other fields, and "RUA=",
    // are extensions, ignored as section 3 asks.
    if (!field.starts_with("rua=")) continue;
    std::string_view uris = field.substr(4);
    while (record.rua.size() < kTlsRptMaxUris) {
      const auto comma = uris.find(',');
      if (auto uri = report_uri(trim_wsp(uris.substr(0, comma)))) {
        if (std::find(record.rua.begin(), record.rua.end(), *uri) == record.rua.end()) {
          record.rua.push_back(std::move(*uri));
        }
      }
      if (comma == std::string_view::npos) break;
      uris.remove_prefix(comma + 1);
    }
  }
  if (record.rua.empty()) return std::nullopt;
  return record;
}

// --- JSON ---------------------------------------------------------------------------------

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629 4), or 0 with `bad` set to the
// length of its maximal invalid subpart (at least 1): Unicode's recommended U+FFFD substitution.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad) noexcept {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lo = 0x90;  // no overlong forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    const std::size_t j = i + k;
    const auto c = j < s.size() ? static_cast<unsigned char>(s[j]) : 0;
    const bool ok = j < s.size() && (k == 1 ? (c >= lo && c <= hi) : is_continuation(c));
    if (!ok) {
      bad = k;
      return 0;
    }
  }
  return need + 1;
}

// RFC 8259 7: a quoted string. Controls (and DEL, which some log viewers act on) go as \u00XX.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7f) {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::size_t bad = 0;
    if (const std::size_t n = utf8_sequence(s, i, bad); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += bad;
    }
  }
  out += '"';
}

// At most `max` octets, cut before a UTF-8 sequence rather than inside it.
std::string_view bounded(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && n + 3 > max && is_continuation(static_cast<unsigned char>(s[n]))) --n;
  return s.substr(0, n);
}

// RFC 3339 5.6 date-time in UTC ("2016-04-01T00:00:00Z") for section 4.4's date-range. Times
// are clamped to years 0000-9999, the four digits date-fullyear has.
std::string rfc3339(std::int64_t t) {
  constexpr std::int64_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  const auto c = core::civil_time(std::clamp(t, kMin, kMax));
  const auto two = [](int v) {
    return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
  };
  std::string y = std::to_string(c.year);
  y.insert(0, 4 - y.size(), '0');
  return y + "-" + two(c.month) + "-" + two(c.day) + "T" + two(c.hour) + ":" + two(c.minute) + ":" +
         two(c.second) + "Z";
}

// Writes members of one JSON object, placing the commas.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;
  ~ObjectWriter() { out_ += '}'; }

  // Starts a member and returns the output, for the value to be appended.
  std::string& key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(out_, name);
    out_ += ':';
    return out_;
  }
  void string(std::string_view name, std::string_view value) {
    append_json_string(key(name), value);
  }
  void optional_string(std::string_view name, std::string_view value) {
    if (!value.empty()) string(name, value);
  }
  void number(std::string_view name, std::uint64_t value) { key(name) += std::to_string(value); }
  void string_array(std::string_view name, const std::vector<std::string>& values) {
    std::string& o = key(name);
    o += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) o += ',';
      append_json_string(o, values[i]);
    }
    o += ']';
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void append_failure_detail(std::string& out, const TlsFailureDetail& d) {
  ObjectWriter o(out);
  o.string("result-type", to_string(d.result_type));
  o.optional_string("sending-mta-ip", d.sending_mta_ip);
  o.optional_string("receiving-mx-hostname", d.receiving_mx_hostname);
  o.optional_string("receiving-ip", d.receiving_ip);
  o.number("failed-session-count", d.failed_session_count);
  o.optional_string("failure-reason-code", bounded(d.failure_reason_code, kTlsRptMaxReasonOctets));
}

void append_policy_result(std::string& out, const TlsPolicyResult& p) {
  ObjectWriter o(out);
  {
    ObjectWriter policy(o.key("policy"));
    policy.string("policy-type", to_string(p.policy_type));
    if (!p.policy_string.empty()) policy.string_array("policy-string", p.policy_string);
    policy.string("policy-domain", p.policy_domain);
    if (!p.mx_host.empty()) policy.string_array("mx-host", p.mx_host);
  }
  std::uint64_t failed = p.failed_session_count;
  if (!p.failure_details.empty()) {
    failed = 0;
    for (const auto& d : p.failure_details) {
      const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - failed;
      failed += std::min(room, d.failed_session_count);  // saturating
    }
  }
  {
    ObjectWriter summary(o.key("summary"));
    summary.number("total-successful-session-count", p.successful_session_count);
    summary.number("total-failure-session-count", failed);
  }
  if (!p.failure_details.empty()) {
    std::string& a = o.key("failure-details");
    a += '[';
    for (std::size_t i = 0; i < p.failure_details.size(); ++i) {
      if (i > 0) a += ',';
      append_failure_detail(a, p.failure_details[i]);
    }
    a += ']';
  }
}

}  // namespace

std::optional<TlsRptRecord> parse_tlsrpt_record(const std::vector<std::string>& txt_rrset) {
  const std::string* found = nullptr;
  for (const auto& txt : txt_rrset) {
    if (!is_tlsrpt_record(txt)) continue;
    if (found != nullptr) return std::nullopt;  // section 3: not exactly one
    found = &txt;
  }
  if (found == nullptr) return std::nullopt;
  return parse_one_record(*found);
}

std::vector<std::string> tlsrpt_mailto_addresses(const TlsRptRecord& r) {
  std::vector<std::string> out;
  for (const auto& uri : r.rua) {
    if (auto address = mailto_address(uri)) out.push_back(std::move(*address));
  }
  return out;
}

std::string_view to_string(TlsResultType t) noexcept {
  switch (t) {
    case TlsResultType::kStarttlsNotSupported:
      return "starttls-not-supported";
    case TlsResultType::kCertificateHostMismatch:
      return "certificate-host-mismatch";
    case TlsResultType::kCertificateExpired:
      return "certificate-expired";
    case TlsResultType::kCertificateNotTrusted:
      return "certificate-not-trusted";
    case TlsResultType::kValidationFailure:
      return "validation-failure";
    case TlsResultType::kTlsaInvalid:
      return "tlsa-invalid";
    case TlsResultType::kDnssecInvalid:
      return "dnssec-invalid";
    case TlsResultType::kDaneRequired:
      return "dane-required";
    case TlsResultType::kStsPolicyFetchError:
      return "sts-policy-fetch-error";
    case TlsResultType::kStsPolicyInvalid:
      return "sts-policy-invalid";
    case TlsResultType::kStsWebpkiInvalid:
      return "sts-webpki-invalid";
  }
  return "validation-failure";
}

std::string_view to_string(TlsPolicyType t) noexcept {
  switch (t) {
    case TlsPolicyType::kSts:
      return "sts";
    case TlsPolicyType::kTlsa:
      return "tlsa";
    case TlsPolicyType::kNoPolicyFound:
      return "no-policy-found";
  }
  return "no-policy-found";
}

std::string tls_report_json(const TlsReport& r) {
  std::string out;
  {
    ObjectWriter o(out);
    o.string("organization-name", r.organization_name);
    {
      ObjectWriter range(o.key("date-range"));
      range.string("start-datetime", rfc3339(r.start));
      range.string("end-datetime", rfc3339(r.end));
    }
    o.optional_string("contact-info", r.contact_info);
    o.string("report-id", r.report_id);
    std::string& a = o.key("policies");
    a += '[';
    for (std::size_t i = 0; i < r.policies.size(); ++i) {
      if (i > 0) a += ',';
      append_policy_result(a, r.policies[i]);
    }
    a += ']';
  }
  return out;
}

}  // namespace sealpost::smtp::client

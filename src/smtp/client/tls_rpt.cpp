#include "smtp/client/tls_rpt.hpp"

#include <algorithm>
#include <limits>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sealpost::smtp::client {

namespace json = boost::json;

namespace {

constexpr std::string_view kVersion = "v=TLSRPTv1";

constexpr bool is_alnum(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c);
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

// A JSON string of `s` as UTF-8: valid sequences pass as they are, each maximal ill-formed
// subpart becomes U+FFFD (Unicode's recommended practice). Boost.JSON escapes what RFC 8259
// section 7 requires when it writes it.
json::string text(std::string_view s) {
  json::string out;
  out.reserve(s.size());
  std::size_t run = 0;  // start of the valid run being gathered
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto seq = core::next_utf8(s.substr(i));
    if (seq.length > 0) {
      i += seq.length;
      continue;
    }
    out.append(s.substr(run, i - run));
    out.append("\xEF\xBF\xBD");  // U+FFFD
    i += seq.ill_formed;
    run = i;
  }
  out.append(s.substr(run));
  return out;
}

json::array texts(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& v : values) out.emplace_back(text(v));
  return out;
}

// At most `max` octets, cut before a UTF-8 sequence rather than inside it.
std::string_view bounded(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && n + 3 > max && core::is_utf8_continuation(static_cast<unsigned char>(s[n]))) --n;
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

// Sets `name` to `value` unless it is empty: the report's optional fields.
void set_optional(json::object& o, std::string_view name, std::string_view value) {
  if (!value.empty()) o[name] = text(value);
}

json::object failure_detail(const TlsFailureDetail& d) {
  json::object o;
  o["result-type"] = to_string(d.result_type);
  set_optional(o, "sending-mta-ip", d.sending_mta_ip);
  set_optional(o, "receiving-mx-hostname", d.receiving_mx_hostname);
  set_optional(o, "receiving-ip", d.receiving_ip);
  o["failed-session-count"] = d.failed_session_count;
  set_optional(o, "failure-reason-code", bounded(d.failure_reason_code, kTlsRptMaxReasonOctets));
  return o;
}

json::object policy_result(const TlsPolicyResult& p) {
  json::object policy;
  policy["policy-type"] = to_string(p.policy_type);
  if (!p.policy_string.empty()) policy["policy-string"] = texts(p.policy_string);
  policy["policy-domain"] = text(p.policy_domain);
  if (!p.mx_host.empty()) policy["mx-host"] = texts(p.mx_host);

  std::uint64_t failed = p.failed_session_count;
  if (!p.failure_details.empty()) {
    failed = 0;
    for (const auto& d : p.failure_details) {
      const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - failed;
      failed += std::min(room, d.failed_session_count);  // saturating
    }
  }
  json::object summary;
  summary["total-successful-session-count"] = p.successful_session_count;
  summary["total-failure-session-count"] = failed;

  json::object o;
  o["policy"] = std::move(policy);
  o["summary"] = std::move(summary);
  if (!p.failure_details.empty()) {
    json::array details;
    for (const auto& d : p.failure_details) details.emplace_back(failure_detail(d));
    o["failure-details"] = std::move(details);
  }
  return o;
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
  json::object range;
  range["start-datetime"] = rfc3339(r.start);
  range["end-datetime"] = rfc3339(r.end);
  json::array policies;
  for (const auto& p : r.policies) policies.emplace_back(policy_result(p));

  json::object o;
  o["organization-name"] = text(r.organization_name);
  o["date-range"] = std::move(range);
  set_optional(o, "contact-info", r.contact_info);
  o["report-id"] = text(r.report_id);
  o["policies"] = std::move(policies);
  return json::serialize(o);
}

}  // namespace sealpost::smtp::client

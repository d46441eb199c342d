#include "smtp/client/mta_sts.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace sealpost::smtp::client {

namespace {

constexpr std::string_view kVersion = "v=STSv1";

constexpr bool is_alnum(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

// Section 3.1 sts-ext-name and section 3.2 sts-policy-ext-name (the known names fit it too):
// (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool valid_field_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 32 || !is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// Section 3.1 sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), i.e. visible ASCII but "=" and ";".
bool valid_record_value(std::string_view v) noexcept {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != '=' && c != ';';
  });
}

// RFC 5321 4.1.2 Domain as section 3.2 uses it for mx (A-labels only: a U-label is not an
// Ldh-str): labels of letters, digits and inner hyphens, at most 63 octets each.
bool valid_domain(std::string_view d) noexcept {
  if (d.empty() || d.size() > kStsMaxPatternOctets) return false;
  while (true) {
    const auto dot = d.find('.');
    const std::string_view label = d.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    d.remove_prefix(dot + 1);
  }
}

// Section 3.2 sts-policy-mx-value = ["*."] Domain, lowercased; nullopt if it is not one. A single
// trailing dot (the absolute form of the same name) is dropped rather than refused.
std::optional<std::string> mx_pattern(std::string_view v) {
  if (v.ends_with('.')) v.remove_suffix(1);
  if (v.size() > kStsMaxPatternOctets) return std::nullopt;
  const std::string_view domain = v.starts_with("*.") ? v.substr(2) : v;
  if (!valid_domain(domain)) return std::nullopt;
  return to_lower_ascii(v);
}

// Input quoted back in an error: printable ASCII only and short, so an error can go to a log or
// a TLS-RPT failure-reason-code as it is.
std::string quoted(std::string_view v) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size() && i < kMax; ++i) {
    const char c = v[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (v.size() > kMax) out += "...";
  out += '"';
  return out;
}

std::string on_line(std::size_t n) {
  return " on line " + std::to_string(n);
}

std::optional<StsMode> mode_of(std::string_view v) noexcept {
  // %s"enforce" / %s"testing" / %s"none": exact case (section 3.2).
  if (v == "enforce") return StsMode::kEnforce;
  if (v == "testing") return StsMode::kTesting;
  if (v == "none") return StsMode::kNone;
  return std::nullopt;
}

// Whether the TXT string is an STS record for the purpose of section 3.1's "records that do not
// begin with 'v=STSv1;' are discarded". The ABNF's sts-field-delim allows white space before the
// ";" (erratum 6285 notes the clash), so "v=STSv1 ;" counts as one too; "v=STSv10" does not.
bool is_sts_record(std::string_view txt) noexcept {
  if (!txt.starts_with(kVersion)) return false;
  txt.remove_prefix(kVersion.size());
  return txt.empty() || txt.front() == ';' || is_wsp(txt.front());
}

std::string_view trim_wsp(std::string_view s) noexcept {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<StsRecord> parse_one_record(std::string_view txt) {
  if (txt.size() > kStsMaxRecordOctets) return std::nullopt;
  txt.remove_prefix(kVersion.size());
  std::optional<StsRecord> record;
  bool first = true;
  while (!txt.empty()) {
    const auto semi = txt.find(';');
    const std::string_view field = trim_wsp(txt.substr(0, semi));
    const bool had_delim = semi != std::string_view::npos;
    txt = had_delim ? txt.substr(semi + 1) : std::string_view();
    if (first) {
      // What follows "v=STSv1" up to the first ";" may only be white space.
      if (!field.empty() || !had_delim) return std::nullopt;
      first = false;
      continue;
    }
    if (field.empty()) continue;  // ";;" or a trailing ";": harmless, read past
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = field.substr(0, eq);
    const std::string_view value = field.substr(eq + 1);
    if (!valid_field_name(name) || !valid_record_value(value)) return std::nullopt;
    if (name == "id") {
      // sts-id = %s"id=" 1*32(ALPHA / DIGIT)
      if (value.size() > 32 || !std::all_of(value.begin(), value.end(), is_alnum)) {
        return std::nullopt;
      }
      if (!record) record = StsRecord{std::string(value)};
    }
    // Other fields (including "ID", names being case-sensitive) are extensions: ignored.
  }
  if (first) return std::nullopt;  // "v=STSv1" alone: the ABNF wants at least one field
  return record;
}

}  // namespace

std::string_view to_string(StsMode m) noexcept {
  switch (m) {
    case StsMode::kEnforce:
      return "enforce";
    case StsMode::kTesting:
      return "testing";
    case StsMode::kNone:
      return "none";
  }
  return "none";
}

std::optional<StsRecord> parse_sts_record(const std::vector<std::string>& txt_rrset) {
  const std::string* found = nullptr;
  for (const auto& txt : txt_rrset) {
    if (!is_sts_record(txt)) continue;
    if (found != nullptr) return std::nullopt;  // section 3.1: not exactly one
    found = &txt;
  }
  if (found == nullptr) return std::nullopt;
  return parse_one_record(*found);
}

Result<StsPolicy, std::string> parse_sts_policy(std::string_view body) {
  if (body.size() > kStsMaxPolicyOctets) {
    return unexpected("policy is larger than " + std::to_string(kStsMaxPolicyOctets) + " bytes");
  }
  // A UTF-8 byte order mark from a text editor is not part of the first key.
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);

  StsPolicy policy;
  bool have_version = false;
  bool have_mode = false;
  bool have_max_age = false;
  std::size_t mx_lines = 0;
  std::size_t line_no = 0;
  while (!body.empty()) {
    ++line_no;
    const auto lf = body.find('\n');
    std::string_view line = body.substr(0, lf);
    body = lf == std::string_view::npos ? std::string_view() : body.substr(lf + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);  // sts-policy-term = LF / CRLF
    if (line.size() > kStsMaxPolicyLineOctets) {
      return unexpected("line " + std::to_string(line_no) + " is longer than " +
                        std::to_string(kStsMaxPolicyLineOctets) + " characters");
    }
    // The ABNF allows no control character other than HTAB in white space (a bare CR included).
    if (std::any_of(line.begin(), line.end(), [](char c) {
          return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
        })) {
      return unexpected("control character" + on_line(line_no));
    }
    line = trim_wsp(line);
    if (line.empty()) continue;

    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return unexpected("no \"key: value\"" + on_line(line_no) + ": " + quoted(line));
    }
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim_wsp(line.substr(colon + 1));
    if (!valid_field_name(key)) {
      return unexpected("invalid key " + quoted(key) + on_line(line_no));
    }
    if (value.empty()) return unexpected("empty value for " + quoted(key) + on_line(line_no));

    // Keys are case-sensitive (%s in the ABNF): "Mode" is an unknown key, and ignored.
    // Section 3.2: of a repeated key other than mx, "all entries except for the first SHALL be
    // ignored".
    if (key == "version") {
      if (have_version) continue;
      if (value != "STSv1") {
        return unexpected("unsupported version " + quoted(value) + on_line(line_no));
      }
      have_version = true;
    } else if (key == "mode") {
      if (have_mode) continue;
      const auto mode = mode_of(value);
      if (!mode) {
        return unexpected("invalid mode " + quoted(value) + on_line(line_no) +
                          " (must be enforce, testing or none)");
      }
      policy.mode = *mode;
      have_mode = true;
    } else if (key == "max_age") {
      if (have_max_age) continue;
      // sts-policy-max-age-value = 1*10(DIGIT). A value above the section 3.2 ceiling is lowered
      // to it: refusing the policy would leave the domain with no protection at all.
      const auto seconds = parse_decimal(value, 10);
      if (!seconds) return unexpected("invalid max_age " + quoted(value) + on_line(line_no));
      policy.max_age = static_cast<std::int64_t>(
          std::min<std::uint64_t>(*seconds, static_cast<std::uint64_t>(kStsMaxAgeLimit)));
      have_max_age = true;
    } else if (key == "mx") {
      if (++mx_lines > kStsMaxMxLines) {
        return unexpected("more than " + std::to_string(kStsMaxMxLines) + " mx lines");
      }
      auto pattern = mx_pattern(value);
      if (!pattern) return unexpected("invalid mx pattern " + quoted(value) + on_line(line_no));
      if (std::find(policy.mx.begin(), policy.mx.end(), *pattern) == policy.mx.end()) {
        policy.mx.push_back(std::move(*pattern));
      }
    }
    // Any other key is an extension: section 3.2 says unknown fields SHALL be ignored.
  }

  if (!have_version) return unexpected(std::string("missing version"));
  if (!have_mode) return unexpected(std::string("missing mode"));
  if (!have_max_age) return unexpected(std::string("missing max_age"));
  // Section 3.2: mx is "required at least once, except when mode is 'none'".
  if (policy.mx.empty() && policy.mode != StsMode::kNone) {
    return unexpected("no mx for mode " + std::string(to_string(policy.mode)));
  }
  return policy;
}

bool sts_mx_matches(std::string_view pattern, std::string_view mx_host) {
  if (pattern.ends_with('.')) pattern.remove_suffix(1);
  if (mx_host.ends_with('.')) mx_host.remove_suffix(1);
  if (pattern.empty() || mx_host.empty()) return false;
  if (!pattern.starts_with("*.")) return iequals(pattern, mx_host);
  // Section 4.1 (the RFC 6125 rules, restricted): "*" stands for the whole leftmost label, and
  // for exactly one label.
  const auto dot = mx_host.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  return iequals(pattern.substr(2), mx_host.substr(dot + 1));
}

bool sts_policy_allows_mx(const StsPolicy& policy, std::string_view mx_host) {
  if (policy.mode == StsMode::kNone) return true;
  return std::any_of(policy.mx.begin(), policy.mx.end(),
                     [&](const std::string& p) { return sts_mx_matches(p, mx_host); });
}

std::vector<std::string> sts_policy_strings(const StsPolicy& p) {
  std::vector<std::string> out;
  out.reserve(p.mx.size() + 3);
  out.emplace_back("version: STSv1");
  out.push_back("mode: " + std::string(to_string(p.mode)));
  for (const auto& mx : p.mx) out.push_back("mx: " + mx);
  out.push_back("max_age: " + std::to_string(p.max_age));
  return out;
}

}  // namespace sealpost::smtp::client

#include "auth/dmarc/record.hpp"

#include "core/strings.hpp"

namespace sealpost::auth::dmarc {

namespace {

constexpr std::size_t kMaxRecord = 4096;
constexpr std::size_t kMaxUris = 16;

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<Policy> policy_of(std::string_view v) {
  if (iequals(v, "none")) return Policy::kNone;
  if (iequals(v, "quarantine")) return Policy::kQuarantine;
  if (iequals(v, "reject")) return Policy::kReject;
  return std::nullopt;
}

std::vector<std::string> uris(std::string_view v) {
  std::vector<std::string> out;
  while (!v.empty() && out.size() < kMaxUris) {
    const auto comma = v.find(',');
    const auto u = trim_wsp(v.substr(0, comma));
    if (!u.empty()) out.emplace_back(u);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::string_view to_string(Policy p) noexcept {
  switch (p) {
    case Policy::kNone: return "none";
    case Policy::kQuarantine: return "quarantine";
    case Policy::kReject: return "reject";
  }
  return "none";
}

bool is_dmarc_record(std::string_view txt) noexcept {
  txt = trim_wsp(txt);
  if (!txt.starts_with("v")) return false;
  txt.remove_prefix(1);
  txt = trim_wsp(txt);
  if (!txt.starts_with("=")) return false;
  txt = trim_wsp(txt.substr(1));
  // RFC 7489 section 6.4: "v" "=" "DMARC1", compared exactly (case-sensitive).
  if (!txt.starts_with("DMARC1")) return false;
  txt = trim_wsp(txt.substr(6));
  return txt.empty() || txt.front() == ';';
}

Result<Record, RecordError> parse_record(std::string_view txt) {
  if (txt.size() > kMaxRecord) return unexpected(RecordError::kTooLong);
  if (!is_dmarc_record(txt)) return unexpected(RecordError::kNotDmarc);
  for (char c : txt) {
    if (static_cast<unsigned char>(c) >= 0x80 || (static_cast<unsigned char>(c) < 0x20 && !is_wsp(c))) {
      return unexpected(RecordError::kSyntax);
    }
  }
  Record r;
  bool have_p = false;
  bool p_valid = false;
  std::vector<std::string> seen;
  std::string_view rest = txt;
  bool first = true;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view spec = trim_wsp(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (spec.empty()) continue;
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos) return unexpected(RecordError::kSyntax);
    const std::string name = to_lower_ascii(trim_wsp(spec.substr(0, eq)));
    const std::string_view value = trim_wsp(spec.substr(eq + 1));
    if (first) {  // v=DMARC1, checked above
      first = false;
      continue;
    }
    for (const auto& s : seen) {
      if (s == name) return unexpected(RecordError::kDuplicateTag);
    }
    seen.push_back(name);
    if (name == "p") {
      have_p = true;
      if (auto p = policy_of(value)) {
        r.p = *p;
        p_valid = true;
      }
    } else if (name == "sp") {
      r.sp = policy_of(value);  // invalid: as if absent (p applies)
    } else if (name == "adkim" || name == "aspf") {
      Alignment& a = name == "adkim" ? r.adkim : r.aspf;
      if (iequals(value, "s")) a = Alignment::kStrict;
      if (iequals(value, "r")) a = Alignment::kRelaxed;
    } else if (name == "pct") {
      if (const auto v = parse_decimal(value, 3); v && *v <= 100) r.pct = static_cast<unsigned>(*v);
    } else if (name == "rua") {
      r.rua = uris(value);
    } else if (name == "ruf") {
      r.ruf = uris(value);
    } else if (name == "fo") {
      r.fo = std::string(value);
    } else if (name == "ri") {
      if (const auto v = parse_decimal(value, 10); v && *v > 0 && *v <= 0xffffffffULL) {
        r.ri = static_cast<unsigned>(*v);
      }
    }
    // Unknown tags are ignored (section 6.3).
  }
  if (!have_p || !p_valid) {
    // Section 6.6.3: without a valid p=, a record with a valid rua= is treated as p=none.
    bool rua_ok = false;
    for (const auto& u : r.rua) rua_ok = rua_ok || mailto_address(u).has_value();
    if (!rua_ok) return unexpected(RecordError::kNoPolicy);
    r.p = Policy::kNone;
  }
  return r;
}

std::optional<std::string> mailto_address(std::string_view uri) {
  if (!istarts_with(uri, "mailto:")) return std::nullopt;
  uri.remove_prefix(7);
  const auto bang = uri.find('!');
  uri = uri.substr(0, bang);
  const auto at = uri.find('@');
  if (uri.empty() || at == std::string_view::npos || at == 0 || at + 1 == uri.size()) {
    return std::nullopt;
  }
  return std::string(uri);
}

}  // namespace sealpost::auth::dmarc

#include "auth/dmarc/record.hpp"

#include <cstdint>
#include <unordered_set>

#include "core/strings.hpp"

namespace sealpost::auth::dmarc {

namespace {

// Once valid_octets has passed, CR and LF only occur as folding whitespace (CRLF then WSP), so
// trimming them with SP and HTAB is the same as skipping FWS.
constexpr bool is_fws(char c) noexcept {
  return is_wsp(c) || c == '\r' || c == '\n';
}

std::string_view trim_fws(std::string_view s) noexcept {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

// The section 6.4 grammar is printable ASCII plus SP, HTAB and folding; a record with any other
// octet (non-ASCII, a control, a bare CR or LF) is not one we can read safely.
bool valid_octets(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\r') {
      if (i + 2 >= s.size() || s[i + 1] != '\n' || !is_wsp(s[i + 2])) return false;
      ++i;
      continue;
    }
    if (c == '\t') continue;
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// RFC 6376 section 3.2: tag-name = ALPHA *ALNUMPUNC.
bool valid_tag_name(std::string_view name) noexcept {
  if (name.empty() || !is_ascii_alpha(name.front())) return false;
  for (char c : name) {
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '_') return false;
  }
  return true;
}

std::optional<Policy> policy_of(std::string_view v) {
  if (iequals(v, "none")) return Policy::kNone;
  if (iequals(v, "quarantine")) return Policy::kQuarantine;
  if (iequals(v, "reject")) return Policy::kReject;
  return std::nullopt;
}

std::optional<Alignment> alignment_of(std::string_view v) {
  if (iequals(v, "r")) return Alignment::kRelaxed;
  if (iequals(v, "s")) return Alignment::kStrict;
  return std::nullopt;
}

// What follows "!" in a report URI: 1*DIGIT [ "k" / "m" / "g" / "t" ], in octets. Section 6.2:
// the units are powers of two. The digits are bounded (parse_decimal's 19); a limit past 2^64 - 1
// octets is read as that, which no report reaches.
std::optional<std::uint64_t> size_limit_octets(std::string_view s) noexcept {
  unsigned shift = 0;
  if (!s.empty()) {
    switch (ascii_lower(s.back())) {
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) s.remove_suffix(1);
  }
  const auto n = parse_decimal(s);
  if (!n) return std::nullopt;
  if (*n > (UINT64_MAX >> shift)) return UINT64_MAX;
  return *n << shift;
}

bool valid_size_limit(std::string_view s) noexcept {
  return size_limit_octets(s).has_value();
}

// RFC 3986 scheme ":" and something without whitespace; mailto: must also name one address.
bool valid_report_uri(std::string_view uri) {
  const auto bang = uri.find('!');
  if (bang != std::string_view::npos && !valid_size_limit(uri.substr(bang + 1))) return false;
  const std::string_view base = uri.substr(0, bang);
  const auto colon = base.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == base.size()) return false;
  if (!is_ascii_alpha(base.front())) return false;
  for (char c : base.substr(0, colon)) {
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (char c : base.substr(colon + 1)) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  return !istarts_with(base, "mailto:") || mailto_address(uri).has_value();
}

// rua=/ruf=: comma-separated URIs. Invalid ones are dropped (section 6.3's "discarded"), and at
// most kMaxReportUris are kept (section 6.2 lets receivers limit them).
std::vector<std::string> report_uris(std::string_view v) {
  std::vector<std::string> out;
  while (out.size() < kMaxReportUris) {
    const auto comma = v.find(',');
    const std::string_view uri = trim_fws(v.substr(0, comma));
    if (valid_report_uri(uri)) out.emplace_back(uri);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// fo=: ("0" / "1" / "d" / "s") separated by ":", normalised to lowercase without whitespace.
std::optional<std::string> failure_options(std::string_view v) {
  std::string out;
  while (true) {
    const auto colon = v.find(':');
    const std::string_view option = trim_fws(v.substr(0, colon));
    if (option.size() != 1) return std::nullopt;
    const char c = ascii_lower(option.front());
    if (c != '0' && c != '1' && c != 'd' && c != 's') return std::nullopt;
    if (!out.empty()) out += ':';
    out += c;
    if (colon == std::string_view::npos) return out;
    v.remove_prefix(colon + 1);
  }
}

// RFC 5321 Keyword (Ldh-str): letters, digits and inner hyphens.
bool valid_keyword(std::string_view k) noexcept {
  if (k.empty() || k.front() == '-' || k.back() == '-') return false;
  for (char c : k) {
    if (!is_ascii_alpha(c) && !is_ascii_digit(c) && c != '-') return false;
  }
  return true;
}

// rf=: Keyword *(":" Keyword), lowercased.
std::optional<std::vector<std::string>> report_formats(std::string_view v) {
  std::vector<std::string> out;
  while (true) {
    const auto colon = v.find(':');
    const std::string_view format = trim_fws(v.substr(0, colon));
    if (!valid_keyword(format)) return std::nullopt;
    out.push_back(to_lower_ascii(format));
    if (colon == std::string_view::npos) return out;
    v.remove_prefix(colon + 1);
  }
}

}  // namespace

std::string_view to_string(Policy p) noexcept {
  switch (p) {
    case Policy::kNone:
      return "none";
    case Policy::kQuarantine:
      return "quarantine";
    case Policy::kReject:
      return "reject";
  }
  return "none";
}

bool is_dmarc_record(std::string_view txt) noexcept {
  txt = trim_fws(txt);
  // The tag name is the ABNF literal "v" (case-insensitive); its value "DMARC1" is %x44 %x4d
  // %x41 %x52 %x43 %x31 and section 6.3 says it MUST match precisely, so "dmarc1" is not DMARC.
  if (txt.empty() || ascii_lower(txt.front()) != 'v') return false;
  txt = trim_fws(txt.substr(1));
  if (txt.empty() || txt.front() != '=') return false;
  txt = trim_fws(txt.substr(1));
  if (!txt.starts_with("DMARC1")) return false;
  txt = trim_fws(txt.substr(6));
  return txt.empty() || txt.front() == ';';
}

Result<Record, RecordError> parse_record(std::string_view txt) {
  if (txt.size() > kMaxRecordOctets) return unexpected(RecordError::kTooLong);
  if (!is_dmarc_record(txt)) return unexpected(RecordError::kNotDmarc);
  if (!valid_octets(txt)) return unexpected(RecordError::kSyntax);

  Record r;
  bool p_valid = false;
  bool sp_invalid = false;
  bool first = true;
  std::unordered_set<std::string> seen;
  std::string_view rest = txt;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view spec = trim_fws(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    if (spec.empty()) continue;
    const auto eq = spec.find('=');
    const std::string_view raw_name = trim_fws(spec.substr(0, eq));
    // Section 6.3: syntax errors in the rest of the record are discarded, not fatal.
    if (eq == std::string_view::npos || !valid_tag_name(raw_name)) continue;
    const std::string name = to_lower_ascii(raw_name);
    if (!seen.insert(name).second) return unexpected(RecordError::kDuplicateTag);
    const std::string_view value = trim_fws(spec.substr(eq + 1));
    if (first) {  // "v=DMARC1", already checked by is_dmarc_record
      first = false;
      continue;
    }
    // p= is read wherever it appears after v=. The section 6.4 ABNF puts it second, but section
    // 6.3's prose only asks that v and p come "in that order", and treating a misplaced p=reject
    // as absent would weaken the owner's stated policy to none (or to no DMARC at all).
    if (name == "p") {
      if (const auto p = policy_of(value)) {
        r.p = *p;
        p_valid = true;
      }
    } else if (name == "sp") {
      r.sp = policy_of(value);
      sp_invalid = !r.sp;
    } else if (name == "adkim") {
      r.adkim = alignment_of(value).value_or(Alignment::kRelaxed);
    } else if (name == "aspf") {
      r.aspf = alignment_of(value).value_or(Alignment::kRelaxed);
    } else if (name == "pct") {
      if (const auto v = parse_decimal(value, 3); v && *v <= 100) r.pct = static_cast<unsigned>(*v);
    } else if (name == "rua") {
      r.rua = report_uris(value);
    } else if (name == "ruf") {
      r.ruf = report_uris(value);
    } else if (name == "fo") {
      if (auto fo = failure_options(value)) r.fo = std::move(*fo);
    } else if (name == "ri") {
      if (const auto v = parse_decimal(value, 10); v && *v <= UINT32_MAX) {
        r.ri = static_cast<unsigned>(*v);
      }
    } else if (name == "rf") {
      if (auto rf = report_formats(value)) r.rf = std::move(*rf);
    }
    // Unknown tags are ignored (section 6.3).
  }

  // Section 6.6.3: without a valid p=, or with an invalid sp=, a record with at least one valid
  // rua= URI is read as p=none (so reports still flow); otherwise DMARC does not apply. The other
  // tags are kept: they only shape the result and the reports, never a stricter disposition.
  if (!p_valid || sp_invalid) {
    if (r.rua.empty()) return unexpected(RecordError::kNoPolicy);
    r.p = Policy::kNone;
    r.sp.reset();
  }
  return r;
}

std::optional<std::string> mailto_address(std::string_view uri) {
  if (!istarts_with(uri, "mailto:")) return std::nullopt;
  uri.remove_prefix(7);
  const auto bang = uri.find('!');
  if (bang != std::string_view::npos && !valid_size_limit(uri.substr(bang + 1))) {
    return std::nullopt;
  }
  uri = uri.substr(0, bang);
  // RFC 6068 hfields go; section 6.2: "," and "!" inside a URI arrive percent-encoded.
  return decode_mailto_address(uri.substr(0, uri.find('?')));
}

std::optional<std::uint64_t> report_size_limit(std::string_view uri) noexcept {
  const auto bang = uri.find('!');
  if (bang == std::string_view::npos) return std::nullopt;
  return size_limit_octets(uri.substr(bang + 1));
}

}  // namespace sealpost::auth::dmarc

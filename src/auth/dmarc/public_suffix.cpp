#include "auth/dmarc/public_suffix.hpp"

#include <fstream>
#include <vector>

#include <idn2.h>

#include "core/strings.hpp"

namespace sealpost::auth::dmarc {

namespace {

constexpr std::size_t kMaxDomainOctets = 253;
constexpr std::size_t kMaxLabelOctets = 63;

std::string normalise(std::string_view domain) {
  std::string d = to_lower_ascii(domain);
  if (!d.empty() && d.back() == '.') d.pop_back();
  return d;
}

// Non-empty labels of at most 63 octets, at most 253 octets in all.
bool well_formed(std::string_view d) noexcept {
  if (d.empty() || d.size() > kMaxDomainOctets) return false;
  std::size_t label = 0;
  for (char c : d) {
    if (c != '.') {
      if (++label > kMaxLabelOctets) return false;
      continue;
    }
    if (label == 0) return false;
    label = 0;
  }
  return label != 0;
}

// Offsets where each label starts, leftmost first; `d` is well formed, so at most 127 of them.
std::vector<std::size_t> label_starts(std::string_view d) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '.') starts.push_back(i + 1);
  }
  return starts;
}

// A rule (without "!" or "*.") as a lowercase A-label name; nullopt when it is malformed or
// libidn2 cannot convert it (IDNA2008, non-transitional, as browsers and libpsl read the list).
std::optional<std::string> rule_name(std::string_view rule) {
  bool ascii = true;
  for (char c : rule) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::string name;
  if (ascii) {
    name = to_lower_ascii(rule);
  } else {
    char* out = nullptr;
    const std::string in(rule);
    if (idn2_to_ascii_8z(in.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
      return std::nullopt;
    }
    name = to_lower_ascii(out);
    idn2_free(out);
  }
  if (!well_formed(name) || name.find_first_of("*!") != std::string::npos) return std::nullopt;
  return name;
}

}  // namespace

std::optional<PublicSuffixList> PublicSuffixList::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::vector<char> chunk(std::size_t{64} * 1024);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileOctets) return std::nullopt;
  }
  if (in.bad()) return std::nullopt;
  return from_string(text);
}

PublicSuffixList PublicSuffixList::from_string(std::string_view text) {
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);  // a UTF-8 byte order mark
  PublicSuffixList psl;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // The format reads each line only up to its first whitespace; "//" starts a comment, and the
    // "===BEGIN PRIVATE DOMAINS===" marker is one, so both sections count.
    line = line.substr(0, line.find_first_of(" \t\r"));
    if (line.empty() || line.starts_with("//")) continue;
    RuleSet* set = &psl.rules_;
    if (line.starts_with("!")) {
      set = &psl.exceptions_;
      line.remove_prefix(1);
    } else if (line.starts_with("*.")) {
      set = &psl.wildcards_;
      line.remove_prefix(2);
    }
    if (auto name = rule_name(line)) set->insert(std::move(*name));
  }
  return psl;
}

std::size_t PublicSuffixList::suffix_labels(std::string_view domain) const {
  const std::vector<std::size_t> starts = label_starts(domain);
  const std::size_t labels = starts.size();
  // The PSL algorithm: a matching exception rule prevails, and means its rule minus its leftmost
  // label; otherwise the matching rule with the most labels; otherwise the default rule "*".
  for (std::size_t k = 0; k < labels; ++k) {
    if (exceptions_.contains(domain.substr(starts[k]))) return labels - k - 1;
  }
  for (std::size_t k = 0; k < labels; ++k) {
    if (rules_.contains(domain.substr(starts[k]))) return labels - k;
    // "*.ck" matches "<any label>.ck": the suffix from k has the wildcard's parent after it.
    if (k + 1 < labels && wildcards_.contains(domain.substr(starts[k + 1]))) return labels - k;
  }
  return 1;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string d = normalise(domain);
  if (!well_formed(d)) return d;
  const std::vector<std::size_t> starts = label_starts(d);
  const std::size_t suffix = suffix_labels(d);
  if (starts.size() <= suffix) return d;
  return d.substr(starts[starts.size() - suffix - 1]);
}

bool PublicSuffixList::is_public_suffix(std::string_view domain) const {
  const std::string d = normalise(domain);
  if (!well_formed(d)) return false;
  return suffix_labels(d) >= label_starts(d).size();
}

}  // namespace sealpost::auth::dmarc

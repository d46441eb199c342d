#include "auth/dmarc/public_suffix.hpp"

#include <idn2.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/strings.hpp"

namespace sealpost::auth::dmarc {

namespace {

std::string normalise(std::string_view d) {
  std::string s = to_lower_ascii(d);
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// A rule as an A-label; empty when it cannot be converted.
std::string a_label(const std::string& rule) {
  bool ascii = true;
  for (char c : rule) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return to_lower_ascii(rule);
  char* out = nullptr;
  if (idn2_to_ascii_8z(rule.c_str(), &out, IDN2_NONTRANSITIONAL) != IDN2_OK) return {};
  std::string s = out;
  idn2_free(out);
  return to_lower_ascii(s);
}

}  // namespace

std::optional<PublicSuffixList> PublicSuffixList::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return from_string(s.str());
}

PublicSuffixList PublicSuffixList::from_string(std::string_view text) {
  PublicSuffixList psl;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // A rule is the line's first whitespace-free run; comments start with "//".
    const auto end = line.find_first_of(" \t\r");
    line = line.substr(0, end);
    if (line.empty() || line.starts_with("//")) continue;
    if (line.starts_with("!")) {
      if (auto r = a_label(std::string(line.substr(1))); !r.empty()) psl.exceptions_.insert(r);
    } else if (line.starts_with("*.")) {
      if (auto r = a_label(std::string(line.substr(2))); !r.empty()) psl.wildcards_.insert(r);
    } else if (auto r = a_label(std::string(line)); !r.empty()) {
      psl.rules_.insert(r);
    }
  }
  return psl;
}

std::size_t PublicSuffixList::suffix_labels(const std::string& domain) const {
  // Candidate suffixes from the longest down; the PSL algorithm's prevailing rule.
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < domain.size(); ++i) {
    if (domain[i] == '.') starts.push_back(i + 1);
  }
  const std::size_t labels = starts.size();
  for (std::size_t k = 0; k < labels; ++k) {
    const std::string suffix = domain.substr(starts[k]);
    const std::size_t n = labels - k;  // labels in `suffix`
    if (exceptions_.count(suffix)) return n - 1;
    // Wildcard: suffix = label "." parent where parent is a wildcard rule.
    const auto dot = suffix.find('.');
    if (dot != std::string::npos && wildcards_.count(suffix.substr(dot + 1))) return n;
    if (rules_.count(suffix)) return n;
  }
  return 1;  // the default rule "*"
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  const std::string d = normalise(domain);
  if (d.empty()) return d;
  const std::size_t suffix = suffix_labels(d);
  std::size_t labels = 1;
  for (char c : d) labels += c == '.' ? 1 : 0;
  if (labels <= suffix) return d;
  // Keep suffix + 1 labels from the right.
  std::size_t pos = d.size();
  for (std::size_t kept = 0; kept < suffix + 1; ++kept) pos = d.rfind('.', pos - 1);
  return d.substr(pos + 1);
}

bool PublicSuffixList::is_public_suffix(std::string_view domain) const {
  const std::string d = normalise(domain);
  std::size_t labels = 1;
  for (char c : d) labels += c == '.' ? 1 : 0;
  return !d.empty() && suffix_labels(d) >= labels;
}

}  // namespace sealpost::auth::dmarc

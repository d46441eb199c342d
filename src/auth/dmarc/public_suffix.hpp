// The Public Suffix List (Debian's `publicsuffix` package) and the organisational domain of
// RFC 7489 section 3.2: the public suffix plus one label.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace sealpost::auth::dmarc {

class PublicSuffixList {
 public:
  // Nullopt when the file cannot be read.
  static std::optional<PublicSuffixList> load(const std::string& path);
  static PublicSuffixList from_string(std::string_view text);

  // Lowercase, without a trailing dot. A domain that is itself a public suffix is returned as is.
  [[nodiscard]] std::string organizational_domain(std::string_view domain) const;
  [[nodiscard]] bool is_public_suffix(std::string_view domain) const;
  [[nodiscard]] std::size_t size() const { return rules_.size() + wildcards_.size(); }

 private:
  // How many labels, from the right, the public suffix of `labels` has.
  [[nodiscard]] std::size_t suffix_labels(const std::string& domain) const;

  std::unordered_set<std::string> rules_;       // "co.uk"
  std::unordered_set<std::string> wildcards_;   // "ck" for "*.ck"
  std::unordered_set<std::string> exceptions_;  // "www.ck" for "!www.ck"
};

}  // namespace sealpost::auth::dmarc

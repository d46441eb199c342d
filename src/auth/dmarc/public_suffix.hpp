// The Public Suffix List (Debian's `publicsuffix` package, ICANN and PRIVATE sections alike) and
// the organisational domain of RFC 7489 section 3.2: the public suffix plus one label.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace sealpost::auth::dmarc {

class PublicSuffixList {
 public:
  // Debian's list is about 250 KB; anything past this is not a suffix list.
  static constexpr std::size_t kMaxFileOctets = std::size_t{16} * 1024 * 1024;

  // Nullopt when the file cannot be read or exceeds kMaxFileOctets.
  static std::optional<PublicSuffixList> load(const std::string& path);
  // The PSL text format: "//" comments, blank lines, "*." wildcards, "!" exceptions. Unicode
  // rules are stored as A-labels (libidn2); rules that do not convert are skipped.
  static PublicSuffixList from_string(std::string_view text);

  // `domain` in A-label form, any case, with or without a trailing dot; the result is lowercase
  // without the dot. A domain that is itself a public suffix, or is not a well-formed name (an
  // empty label, over 253 octets), is returned as is.
  [[nodiscard]] std::string organizational_domain(std::string_view domain) const;
  [[nodiscard]] bool is_public_suffix(std::string_view domain) const;
  // How many rules were loaded (normal, wildcard and exception).
  [[nodiscard]] std::size_t size() const {
    return rules_.size() + wildcards_.size() + exceptions_.size();
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using RuleSet = std::unordered_set<std::string, Hash, std::equal_to<>>;

  // How many labels, from the right, the public suffix of the normalised `domain` has.
  [[nodiscard]] std::size_t suffix_labels(std::string_view domain) const;

  RuleSet rules_;       // "co.uk"
  RuleSet wildcards_;   // "ck" for "*.ck"
  RuleSet exceptions_;  // "www.ck" for "!www.ck"
};

}  // namespace sealpost::auth::dmarc

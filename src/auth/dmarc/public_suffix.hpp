// The Public Suffix List (Debian's `publicsuffix` package, ICANN and PRIVATE sections alike) and
// the organisational domain of RFC 7489 section 3.2: the public suffix plus one label. The list
// and its algorithm (wildcards, exceptions, the default rule "*", IDNA rules) are libpsl's.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct psl_ctx_st;

namespace sealpost::auth::dmarc {

class PublicSuffixList {
 public:
  // Debian's list is about 250 KB; anything past this is not a suffix list.
  static constexpr std::size_t kMaxFileOctets = std::size_t{16} * 1024 * 1024;

  // Nullopt when the file cannot be read, exceeds kMaxFileOctets, or holds no rule.
  static std::optional<PublicSuffixList> load(const std::string& path);
  // The PSL text format: "//" comments, blank lines, "*." wildcards, "!" exceptions; Unicode
  // rules match their A-label forms.
  static PublicSuffixList from_string(std::string_view text);

  // `domain` in A-label form, any case, with or without a trailing dot; the result is lowercase
  // without the dot. A domain that is itself a public suffix, or is not a well-formed name (an
  // empty label, over 253 octets), is returned as is.
  [[nodiscard]] std::string organizational_domain(std::string_view domain) const;
  [[nodiscard]] bool is_public_suffix(std::string_view domain) const;
  // How many rules were loaded (normal, wildcard and exception).
  [[nodiscard]] std::size_t size() const;

 private:
  struct Free {
    void operator()(psl_ctx_st* psl) const noexcept;
  };
  std::unique_ptr<psl_ctx_st, Free> psl_;
};

}  // namespace sealpost::auth::dmarc

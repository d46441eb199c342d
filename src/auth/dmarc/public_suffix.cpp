#include "auth/dmarc/public_suffix.hpp"

#include <cstdio>
#include <filesystem>
#include <new>

#include <libpsl.h>

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

}  // namespace

void PublicSuffixList::Free::operator()(psl_ctx_st* psl) const noexcept {
  psl_free(psl);
}

std::optional<PublicSuffixList> PublicSuffixList::load(const std::string& path) {
  std::error_code ec;
  const auto octets = std::filesystem::file_size(path, ec);
  if (ec || octets > kMaxFileOctets) return std::nullopt;
  PublicSuffixList psl;
  psl.psl_.reset(psl_load_file(path.c_str()));
  if (!psl.psl_ || psl.size() == 0) return std::nullopt;
  return psl;
}

PublicSuffixList PublicSuffixList::from_string(std::string_view text) {
  PublicSuffixList psl;
  // libpsl reads a stream: the text is one, read in place. An empty list still gets a context,
  // which knows only the rule "*".
  if (text.empty()) text = "\n";
  std::FILE* f = ::fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  if (f != nullptr) {
    psl.psl_.reset(psl_load_fp(f));
    std::fclose(f);
  }
  if (!psl.psl_) throw std::bad_alloc();
  return psl;
}

std::size_t PublicSuffixList::size() const {
  const int n = psl_suffix_count(psl_.get()) + psl_suffix_exception_count(psl_.get()) +
                psl_suffix_wildcard_count(psl_.get());
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string PublicSuffixList::organizational_domain(std::string_view domain) const {
  std::string d = normalise(domain);
  if (!well_formed(d)) return d;
  const char* registrable = psl_registrable_domain(psl_.get(), d.c_str());
  if (registrable == nullptr) return d;  // a public suffix itself
  return registrable;
}

bool PublicSuffixList::is_public_suffix(std::string_view domain) const {
  const std::string d = normalise(domain);
  if (!well_formed(d)) return false;
  return psl_is_public_suffix2(psl_.get(), d.c_str(), PSL_TYPE_ANY) != 0;
}

}  // namespace sealpost::auth::dmarc

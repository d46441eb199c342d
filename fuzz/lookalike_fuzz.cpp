// The homograph and lookalike checks on arbitrary names: the first line is the domain looked at
// (as given, and as to_a_label makes it when it can), the next ones up to four own domains.
// Invariants: no crash and no unbounded work whatever the bytes (invalid UTF-8, Punycode that
// does not decode, labels past 63 octets); at most one finding per symbol, with its fixed score;
// the same answer twice; a protected domain never imitates itself, and what a domain imitates is
// a protected organisational domain other than its own.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dmarc/public_suffix.hpp"
#include "core/domain.hpp"
#include "filter/lookalike.hpp"

namespace {

using sealpost::filter::ProtectedDomains;

const sealpost::auth::dmarc::PublicSuffixList& suffixes() {
  static const auto psl = sealpost::auth::dmarc::PublicSuffixList::from_string(
      "com\nnet\norg\nde\nuk\nco.uk\nru\nрф\njp\ngithub.io\n");
  return psl;
}

void check(std::string_view domain, const ProtectedDomains& protect,
           const std::vector<std::string>& own) {
  const auto why = sealpost::filter::homograph(domain);
  if (why != sealpost::filter::homograph(domain)) __builtin_trap();
  if (why && why->empty()) __builtin_trap();
  const auto original = protect.imitated(domain);
  if (original != protect.imitated(domain)) __builtin_trap();
  if (original) {
    if (sealpost::core::to_a_label(*original) != *original) __builtin_trap();
    if (*original == suffixes().organizational_domain(domain)) __builtin_trap();
  }
  std::vector<sealpost::filter::Url> links;
  for (const auto& o : own) links.push_back({o, false, "", false});
  const auto findings = sealpost::filter::lookalike_findings(domain, links, &protect);
  if (findings.size() > 2) __builtin_trap();
  for (const auto& f : findings) {
    const bool homograph = f.symbol == "PHISH_HOMOGRAPH" && f.score == 6;
    const bool lookalike = f.symbol == "PHISH_LOOKALIKE_DOMAIN" && (f.score == 5 || f.score == 4);
    if (!(homograph || lookalike) || f.decides || f.reason.empty()) __builtin_trap();
  }
  if (findings.size() == 2 && findings[0].symbol == findings[1].symbol) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  while (lines.size() < 5) {
    const std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  std::vector<std::string> own;
  for (std::size_t i = 1; i < lines.size(); ++i) own.emplace_back(lines[i]);
  const ProtectedDomains protect(suffixes(), own);
  // A protected domain does not imitate itself, nor do its subdomains.
  for (const auto& o : own) {
    const auto a = sealpost::core::to_a_label(o);
    if (!a || suffixes().is_public_suffix(*a)) continue;
    if (protect.imitated(*a) || protect.imitated("www." + *a)) __builtin_trap();
  }
  check(lines[0], protect, own);
  if (const auto a = sealpost::core::to_a_label(lines[0])) check(*a, protect, own);
  return 0;
}

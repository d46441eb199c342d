// Domains made to look like other domains (issue 18 item 5): the From: domain and the links'
// hosts. Two symbols, each once per message, scored and never deciding alone:
//
// PHISH_HOMOGRAPH: an internationalised label that ICU's spoof checker (UTS #39) finds
// deceptive. Scripts mixed beyond its "moderately restrictive" level (Latin with Cyrillic, Greek
// or Cherokee: "pаypal" with a Cyrillic "а"), invisible characters, a dot hidden over an "i",
// digits of two systems; or a label written wholly in another script's look-alikes of Latin
// letters, which ICU's single-script level passes: Cyrillic "аррӏе", whose confusable skeleton is
// ASCII. A label in one script that does not read as Latin (bücher, пример, 例え) is not one, nor
// is a look-alike label under a TLD of its own script's countries (below). Each label is checked
// by itself: "bücher.рф" mixes nothing.
//
// PHISH_LOOKALIKE_DOMAIN: a domain whose organisational domain (Public Suffix List) imitates a
// protected one: the recipient's own domains, and a short list of the brands phishing imitates
// most. It imitates when its registrable label (the one left of the public suffix) has the same
// confusable skeleton as the protected one's but is another label ("rnicrosoft", "paypa1",
// "gооgle" with Cyrillic "о"s), when the whole organisational domain has the same skeleton
// ("paypal.corn"), or, for labels of five characters or more, when the labels or their skeletons
// are one edit apart (Damerau-Levenshtein: an insertion, a deletion, a substitution or a
// transposition of neighbours: "paypall", "exmaple"; Cyrillic "аррӏе" and Greek "ραγραι", whose
// skeletons are "appie" and "paypai"). Shorter labels are too close to ordinary words and names
// ("ab.com", "ac.com"); five-letter ones still have such neighbours (apply.com and ample.com are
// one edit from apple.com), which is why the scores stay under the junk threshold alone. The
// same label under another suffix (paypal.co.uk, docusign.net) is not flagged: brands own their
// name under many suffixes. A domain of a protected organisational domain (www.paypal.com) is
// never flagged.
//
// The confusable data is ICU's (Debian libicu-dev), no table of our own. Pure: no I/O; bounded:
// at most kMaxLookalikeDomains domains per message, names as to_a_label takes them (253 octets,
// labels of 63), and a lookup's cost does not grow with the number of protected domains.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/url.hpp"
#include "filter/verdict.hpp"

namespace sealpost::auth::dmarc {
class PublicSuffixList;
}

namespace sealpost::filter {

// The brands phishing imitates most (the APWG's and the mailbox providers' reports name the
// same few: payment, shopping, parcels, cloud accounts), by organisational domain. Kept short:
// every name here makes its neighbours suspect. Names whose one-edit neighbours are common words
// or other companies (chase, office, icloud, gmail) are left out.
inline constexpr std::array<std::string_view, 22> kImpersonatedBrands = {
    "adobe.com",      "amazon.com",   "apple.com",     "bankofamerica.com", "coinbase.com",
    "dhl.com",        "docusign.com", "dropbox.com",   "ebay.com",          "facebook.com",
    "fedex.com",      "google.com",   "instagram.com", "linkedin.com",      "microsoft.com",
    "netflix.com",    "outlook.com",  "paypal.com",    "ups.com",           "usps.com",
    "wellsfargo.com", "whatsapp.com"};

// Domains looked at per message: the From: domain and the links' hosts (ScanLimits bounds the
// links to 100 by default).
inline constexpr std::size_t kMaxLookalikeDomains = 128;

// What makes `domain` (A-labels) a homograph, as words for the finding's reason ("mixes
// scripts"); nullopt when it is not one, or is not a host name.
std::optional<std::string_view> homograph(std::string_view domain);

// The domains PHISH_LOOKALIKE_DOMAIN protects, prepared once (their labels' skeletons and an
// index of their one-edit neighbours) and then read by any number of threads.
class ProtectedDomains {
 public:
  // Own domains past this many are not protected: the index costs memory for each.
  static constexpr std::size_t kMaxOwnDomains = 10000;

  // kImpersonatedBrands and `own` (the hosted domains, in any form to_a_label takes; names that
  // are not host names or are public suffixes are left out), each by its organisational domain
  // under `psl`, which must outlive this.
  explicit ProtectedDomains(const auth::dmarc::PublicSuffixList& psl,
                            const std::vector<std::string>& own = {});
  ~ProtectedDomains();
  ProtectedDomains(const ProtectedDomains&) = delete;
  ProtectedDomains& operator=(const ProtectedDomains&) = delete;

  // The protected organisational domain that `domain` (A-labels) imitates, the own domains'
  // first; nullopt when it imitates none, belongs to one, or is not a host name. The answers for
  // the domains seen lately are remembered (by keyed hashes, in memory).
  [[nodiscard]] std::optional<std::string> imitated(std::string_view domain) const;

  // Organisational domains protected (distinct).
  [[nodiscard]] std::size_t size() const;

 private:
  struct Index;
  class Memo;
  // imitated() without the memo: an entry's id + 1, or 0.
  [[nodiscard]] std::size_t imitated_id(std::string_view domain) const;
  const auth::dmarc::PublicSuffixList* psl_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<Memo> memo_;
};

// PHISH_HOMOGRAPH (6) and PHISH_LOOKALIKE_DOMAIN (5 for the From: domain, 4 for a link) for a
// message: its From: domain (A-labels; empty when it has none) and its links (those to IP
// addresses are not looked at). Without `protect` only homographs are looked for.
std::vector<Finding> lookalike_findings(std::string_view from_domain, const std::vector<Url>& links,
                                        const ProtectedDomains* protect);

}  // namespace sealpost::filter

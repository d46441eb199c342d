#include "filter/lookalike.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/dmarc/public_suffix.hpp"
#include "core/domain.hpp"

namespace sealpost::filter {
namespace {

const auth::dmarc::PublicSuffixList& suffixes() {
  static const auto psl = auth::dmarc::PublicSuffixList::from_string(
      "com\nnet\norg\nde\nuk\nco.uk\njp\nru\nрф\ngithub.io\n");
  return psl;
}

// The A-label form, as the URL parser and the From: check give domains.
std::string a(std::string_view domain) {
  const auto label = core::to_a_label(domain);
  EXPECT_TRUE(label) << domain;
  return label.value_or("");
}

std::vector<Url> links(const std::vector<std::string>& hosts) {
  std::vector<Url> out;
  for (const auto& h : hosts) out.push_back(Url{h, false, "", false});
  return out;
}

TEST(FilterLookalikeTest, WholeScriptLookalikesOfLatinNamesAreHomographs) {
  EXPECT_EQ(homograph("xn--80ak6aa92e.com"), "imitates Latin letters");  // Cyrillic "аррӏе"
  EXPECT_EQ(homograph(a("раураӏ.com")), "imitates Latin letters");       // Cyrillic
  EXPECT_EQ(homograph(a("ραγραι.com")), "imitates Latin letters");       // Greek
  EXPECT_EQ(homograph(a("login.аррӏе.com")), "imitates Latin letters");  // any label
}

TEST(FilterLookalikeTest, LabelsMixingLatinWithALookalikeScriptAreHomographs) {
  EXPECT_EQ(homograph(a("pаypal.com")), "mixes scripts");  // Cyrillic "а"
  EXPECT_EQ(homograph(a("ρaypal.com")), "mixes scripts");  // Greek "ρ"
  EXPECT_EQ(homograph(a("gооgle.com")), "mixes scripts");  // Cyrillic "о"s
  EXPECT_EQ(homograph(a("www.аpple.de")), "mixes scripts");
}

TEST(FilterLookalikeTest, HiddenCharactersAndMixedDigitsAreHomographs) {
  EXPECT_EQ(homograph(a("i\u0307nfo.com")), "hides characters");  // a dot above the dot of "i"
  EXPECT_EQ(homograph(a("\u0915\u09672.com")), "mixes digits of different scripts");
}

TEST(FilterLookalikeTest, SingleScriptNamesAreNotHomographs) {
  for (const std::string d :
       {"bücher.de", "münchen.de", "пример.рф", "例え.jp", "日本語abc.jp", "kırmızı.com", "æble.dk",
        "straße.de", "bücher.рф", "ɡoogle.com", "сахар.ru", "сахар.рф", "example.com", "a-b.net"}) {
    EXPECT_EQ(homograph(a(d)), std::nullopt) << d;
  }
  // What is not an A-label host name is not looked at.
  for (const std::string d : {"xn--abc-.com", "", "a..b", "[::1]", "пример.рф", "ex ample.com"}) {
    EXPECT_EQ(homograph(d), std::nullopt) << d;
  }
}

TEST(FilterLookalikeTest, LookalikesOfBrandsAreFound) {
  const ProtectedDomains protect(suffixes());
  EXPECT_EQ(protect.size(), kImpersonatedBrands.size());
  EXPECT_EQ(protect.imitated("paypa1.com"), "paypal.com");         // same skeleton
  EXPECT_EQ(protect.imitated("secure.paypa1.com"), "paypal.com");  // by organisational domain
  EXPECT_EQ(protect.imitated("rnicrosoft.com"), "microsoft.com");  // "rn" looks like "m"
  EXPECT_EQ(protect.imitated("xn--80ak6aa92e.com"), "apple.com");  // Cyrillic, skeleton "appie"
  EXPECT_EQ(protect.imitated(a("ραγραι.com")), "paypal.com");      // Greek
  EXPECT_EQ(protect.imitated(a("gооgle.com")), "google.com");      // mixed
  EXPECT_EQ(protect.imitated(a("ɡoogle.com")), "google.com");      // Latin script "ɡ"
  EXPECT_EQ(protect.imitated(a("pàypal.com")), "paypal.com");      // one accent
  EXPECT_EQ(protect.imitated("paypal-login.paypall.net"), "paypal.com");
  EXPECT_EQ(protect.imitated("dh1.com"), "dhl.com");         // short: by skeleton only
  EXPECT_EQ(protect.imitated("paypal.corn"), "paypal.com");  // the whole name's skeleton
}

TEST(FilterLookalikeTest, LookalikesOfOwnDomainsAreFoundOneEditAway) {
  const ProtectedDomains protect(suffixes(), {"example.com", "Bücher.de", "ab.com"});
  EXPECT_EQ(protect.size(), kImpersonatedBrands.size() + 3);
  EXPECT_EQ(protect.imitated("examp1e.com"), "example.com");
  EXPECT_EQ(protect.imitated("exaample.com"), "example.com");  // an insertion
  EXPECT_EQ(protect.imitated("exmple.com"), "example.com");    // a deletion
  EXPECT_EQ(protect.imitated("exbmple.net"), "example.com");   // a substitution
  EXPECT_EQ(protect.imitated("exmaple.com"), "example.com");   // a transposition
  EXPECT_EQ(protect.imitated("example-com.net"), std::nullopt);
  EXPECT_EQ(protect.imitated("exmalpe.com"), std::nullopt);        // two transpositions
  EXPECT_EQ(protect.imitated("xn--bcher-kva.com"), std::nullopt);  // the same label
  EXPECT_EQ(protect.imitated(a("bucher.de")), "xn--bcher-kva.de");
  EXPECT_EQ(protect.imitated(a("büchers.de")), "xn--bcher-kva.de");
  // Labels under five characters are compared by skeleton only: "ac" is not "ab".
  EXPECT_EQ(protect.imitated("ac.com"), std::nullopt);
  EXPECT_EQ(protect.imitated("abc.com"), std::nullopt);
}

TEST(FilterLookalikeTest, ProtectedDomainsAndTheirBrandNamesElsewhereAreNotLookalikes) {
  const ProtectedDomains protect(suffixes(), {"example.com", "mail.example.org"});
  for (const std::string d :
       {"paypal.com", "www.paypal.com", "paypal.co.uk", "docusign.net", "example.com",
        "mail.example.com", "example.org", "www.example.org", "example.net", "apple.com",
        "wikipedia.org", "github.io", "someone.github.io", "com", "xn--abc-.com", ""}) {
    EXPECT_EQ(protect.imitated(d), std::nullopt) << d;
  }
}

TEST(FilterLookalikeTest, RememberedAnswersAreTheAnswers) {
  const ProtectedDomains protect(suffixes(), {"example.com"});
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"paypa1.com", "paypal.com"},
      {"examp1e.com", "example.com"},
      {"example.com", std::nullopt},
      {"news.test", std::nullopt},
      {"rnicrosoft.com", "microsoft.com"}};
  // Asked again (from the memo), and again after more distinct domains than it keeps.
  for (int round = 0; round < 3; ++round) {
    for (const auto& [domain, answer] : cases) {
      EXPECT_EQ(protect.imitated(domain), answer) << domain << " round " << round;
    }
    if (round == 1) {
      for (int i = 0; i < 20000; ++i) {
        (void)protect.imitated("host" + std::to_string(i) + ".example.net");
      }
    }
  }
}

TEST(FilterLookalikeTest, ManyOwnDomainsAreAllProtected) {
  std::vector<std::string> own;
  for (int i = 0; i < 3000; ++i) own.push_back("customer" + std::to_string(i) + ".com");
  const ProtectedDomains protect(suffixes(), own);
  EXPECT_EQ(protect.imitated("customer17.com"), std::nullopt);
  EXPECT_EQ(protect.imitated("custoner17.com"), "customer17.com");
  EXPECT_EQ(protect.imitated("cusotmer2999.com"), "customer2999.com");
}

TEST(FilterLookalikeTest, EachSymbolCountsOncePerMessageTheFromFirst) {
  const ProtectedDomains protect(suffixes(), {"example.com"});
  const auto findings = lookalike_findings(
      "paypa1.com", links({"examp1e.com", "rnicrosoft.com", "xn--80ak6aa92e.com", a("pаypal.com")}),
      &protect);
  ASSERT_EQ(findings.size(), 2U);
  EXPECT_EQ(findings[0].symbol, "PHISH_HOMOGRAPH");
  EXPECT_EQ(findings[0].score, 6);
  EXPECT_EQ(findings[0].reason,
            "a link to xn--80ak6aa92e.com (аррӏе.com), a name that imitates "
            "Latin letters");
  EXPECT_EQ(findings[1].symbol, "PHISH_LOOKALIKE_DOMAIN");
  EXPECT_EQ(findings[1].score, 5);
  EXPECT_EQ(findings[1].reason, "the From: domain paypa1.com looks like paypal.com");
  EXPECT_FALSE(findings[0].decides);
  EXPECT_FALSE(findings[1].decides);
}

TEST(FilterLookalikeTest, ALookalikeLinkScoresBelowALookalikeFrom) {
  const ProtectedDomains protect(suffixes(), {"example.com"});
  const auto findings =
      lookalike_findings("example.com", links({"example.com", "www.examp1e.com"}), &protect);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].symbol, "PHISH_LOOKALIKE_DOMAIN");
  EXPECT_EQ(findings[0].score, 4);
  EXPECT_EQ(findings[0].reason, "a link to www.examp1e.com looks like example.com");
  const auto from = lookalike_findings(a("pаypal.com"), {}, &protect);
  ASSERT_EQ(from.size(), 2U);
  EXPECT_EQ(from[0].reason, "the From: domain xn--pypal-4ve.com (pаypal.com) mixes scripts");
}

TEST(FilterLookalikeTest, WithoutProtectedDomainsOnlyHomographsAreFound) {
  const auto findings = lookalike_findings("paypa1.com", links({a("pаypal.com")}), nullptr);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].symbol, "PHISH_HOMOGRAPH");
}

TEST(FilterLookalikeTest, LegitimateMailHasNoFindings) {
  const ProtectedDomains protect(suffixes(), {"example.com"});
  auto ip = links({"192.0.2.1"});
  ip[0].ip_host = true;
  EXPECT_TRUE(lookalike_findings("", ip, &protect).empty());
  EXPECT_TRUE(lookalike_findings(a("bücher.de"),
                                 links({"www.paypal.com", a("пример.рф"), a("例え.jp"),
                                        a("münchen.de"), "example.com", "news.example.org"}),
                                 &protect)
                  .empty());
}

TEST(FilterLookalikeTest, LinksPastTheBoundAreNotLookedAt) {
  const ProtectedDomains protect(suffixes());
  std::vector<std::string> hosts;
  for (std::size_t i = 0; i < kMaxLookalikeDomains; ++i) {
    hosts.push_back("site" + std::to_string(i) + ".org");
  }
  hosts.push_back("paypa1.com");
  EXPECT_TRUE(lookalike_findings("", links(hosts), &protect).empty());
  hosts.erase(hosts.begin());
  EXPECT_EQ(lookalike_findings("", links(hosts), &protect).size(), 1U);
}

}  // namespace
}  // namespace sealpost::filter

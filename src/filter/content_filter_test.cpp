#include "filter/content_filter.hpp"

#include <gtest/gtest.h>

#include "testing/async.hpp"

namespace sealpost::filter {
namespace {

const auth::dmarc::PublicSuffixList& psl() {
  static const auto list = auth::dmarc::PublicSuffixList::from_string("com\norg\ntest\n");
  return list;
}

core::Filter offline() {
  core::Filter f;
  f.dnsbl.clear();
  f.rhsbl.clear();
  f.uribl.clear();
  f.family_resolver.clear();
  f.clamd.clear();
  return f;
}

Verdict check(const ContentFilter& filter, std::string_view content, bool dmarc_failed,
              Treatment treatment = {}) {
  MessageFacts facts;
  facts.content = content;
  facts.envelope_sender = "bounce@sender.test";
  facts.dmarc_failed = dmarc_failed;
  return testing::run_sync(filter.check(facts, treatment));
}

bool has(const Verdict& v, std::string_view symbol) {
  for (const auto& f : v.findings) {
    if (f.symbol == symbol) return true;
  }
  return false;
}

TEST(FilterContentFilterTest, MailForgingAHostedDomainIsJunk) {
  ContentFilter filter(offline(), &psl(), {}, {}, {"example.com"});
  const std::string forged = "From: IT desk <it@mail.example.com>\r\nSubject: x\r\n\r\nHi\r\n";
  const Verdict v = check(filter, forged, true);
  EXPECT_TRUE(has(v, "PHISH_FORGED_OWN_DOMAIN"));
  EXPECT_EQ(v.action, Action::kJunk);
  // Passing DMARC (or not evaluated), or another domain: nothing.
  EXPECT_FALSE(has(check(filter, forged, false), "PHISH_FORGED_OWN_DOMAIN"));
  EXPECT_FALSE(
      has(check(filter, "From: a@other.org\r\n\r\nHi\r\n", true), "PHISH_FORGED_OWN_DOMAIN"));
  // The hosted domains change as the store does.
  filter.set_own_domains({"other.org"});
  EXPECT_TRUE(
      has(check(filter, "From: a@other.org\r\n\r\nHi\r\n", true), "PHISH_FORGED_OWN_DOMAIN"));
  EXPECT_FALSE(has(check(filter, forged, true), "PHISH_FORGED_OWN_DOMAIN"));
  EXPECT_EQ(filter.checked(), 5U);
}

TEST(FilterContentFilterTest, EachDomainGetsItsTreatment) {
  core::Filter settings = offline();
  settings.spam_action = "junk";
  DomainSettingsMap domains;
  domains["off.test"].enabled = false;
  domains["strict.test"].at_reject_score = Action::kReject;
  domains["grown-up.test"].adult = false;
  const ContentFilter filter(settings, &psl(), {}, domains);
  EXPECT_EQ(filter.treatment("example.com"), (Treatment{true, Action::kJunk, true}));
  EXPECT_EQ(filter.treatment("off.test"), (Treatment{false, Action::kJunk, true}));
  EXPECT_EQ(filter.treatment("strict.test"), (Treatment{true, Action::kReject, true}));
  EXPECT_EQ(filter.treatment("grown-up.test"), (Treatment{true, Action::kJunk, false}));
  // The treatment's spam action is what the verdict applies.
  const std::string spam =
      "From: \"service@paypal.com\" <a@sender.test>\r\nContent-Type: text/html\r\n\r\n"
      "<a href=\"http://paypal.com@192.0.2.1/\">http://paypal.com/</a>\r\n";
  Treatment strict = filter.treatment("strict.test");
  core::Filter low = settings;
  low.reject_score = 8;
  const ContentFilter sensitive(low, &psl(), {});
  EXPECT_EQ(check(sensitive, spam, false, strict).action, Action::kReject);
  EXPECT_EQ(check(sensitive, spam, false, sensitive.treatment("example.com")).action,
            Action::kJunk);
}

}  // namespace
}  // namespace sealpost::filter

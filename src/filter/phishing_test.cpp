#include "filter/phishing.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "auth/dmarc/public_suffix.hpp"

namespace sealpost::filter {
namespace {

std::vector<std::string> from_symbols(const std::string& from) {
  const std::string raw = "From: " + from + "\r\nTo: a@example.org\r\nSubject: s\r\n\r\nbody\r\n";
  const auto m = mime::parse_message(raw);
  EXPECT_TRUE(m);
  std::vector<std::string> out;
  for (const auto& f : from_findings(*m)) out.push_back(f.symbol);
  return out;
}

std::vector<std::string> link_symbols(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& f : link_findings(extract_text_urls(text))) out.push_back(f.symbol);
  return out;
}

TEST(FilterPhishingTest, DisplayNamesThatShowAnotherSenderAreFlagged) {
  EXPECT_EQ(from_symbols("\"support@paypal.com\" <x@evil.example>"),
            std::vector<std::string>{"PHISH_DISPLAY_NAME_ADDRESS"});
  EXPECT_EQ(from_symbols("\"PayPal.com Security\" <x@evil.example>"),
            std::vector<std::string>{"PHISH_DISPLAY_NAME_DOMAIN"});
  EXPECT_EQ(from_symbols("=?UTF-8?B?c2VydmljZUBiYW5rLmV4YW1wbGU=?= <x@evil.example>"),
            std::vector<std::string>{"PHISH_DISPLAY_NAME_ADDRESS"});  // service@bank.example
}

TEST(FilterPhishingTest, HonestDisplayNamesAreNot) {
  for (const std::string from :
       {"\"Example.com Support\" <support@example.com>", "\"billing@example.com\" <b@example.com>",
        "\"example.com\" <news@mail.example.com>", "\"Dr. J.R.R. Smith\" <js@uni.example>",
        "Alice <alice@example.org>", "bob@example.net", "\"Version 2.0 release\" <r@example.net>",
        "\"Team (via list.example)\" <list@list.example>"}) {
    EXPECT_TRUE(from_symbols(from).empty()) << from;
  }
}

TEST(FilterPhishingTest, LinksThatHideWhereTheyGoAreFlaggedOnceEach) {
  EXPECT_EQ(link_symbols("http://paypal.com@evil.example/ and http://bank.example@evil.example/"),
            std::vector<std::string>{"URL_USERINFO_HOST"});
  EXPECT_EQ(link_symbols("http://192.0.2.1/ http://198.51.100.1/"),
            std::vector<std::string>{"URL_IP_HOST"});
  EXPECT_EQ(link_symbols("http://0x7f.1/"),
            (std::vector<std::string>{"URL_IP_HOST", "URL_OBFUSCATED"}));
  EXPECT_TRUE(link_symbols("https://example.org/ http://user:pass@example.net/").empty());
}

const auth::dmarc::PublicSuffixList& suffixes() {
  static const auto psl =
      auth::dmarc::PublicSuffixList::from_string("com\nexample\nuk\nco.uk\ngithub.io\n");
  return psl;
}

std::vector<Finding> text_findings(const std::string& html) {
  return link_text_findings(extract_html_links(html).links, suffixes());
}

TEST(FilterPhishingTest, LinkTextShowingAnotherDomainIsFlagged) {
  for (const std::string shown :
       {"https://www.paypal.com/login", "paypal.com", "PayPal.com/signin?x=1", "www.paypal.com.",
        "&lt;https://paypal.com&gt;", "HTTP://PAYPAL.COM", "paypal\xE2\x80\x8B.com"}) {
    const auto f =
        text_findings("<a href=\"http://login.evil.example/paypal.com\">" + shown + "</a>");
    ASSERT_EQ(f.size(), 1U) << shown;
    EXPECT_EQ(f[0].symbol, "PHISH_LINK_TEXT_MISMATCH");
    EXPECT_EQ(f[0].score, 4);
    // Only the two organisational domains, never the link or its text.
    EXPECT_EQ(f[0].reason, "a link showing paypal.com goes to evil.example") << shown;
  }
  // A homograph shows one domain and is another.
  EXPECT_EQ(text_findings("<a href=\"https://xn--pypal-4ve.com/\">www.paypal.com</a>").size(), 1U);
  // The public suffix decides, not the last two labels: example.co.uk is not evil.co.uk.
  EXPECT_EQ(text_findings("<a href=\"http://evil.co.uk/\">shop.example.co.uk</a>").size(), 1U);
  EXPECT_EQ(text_findings("<a href=\"http://evil.github.io/\">bank.github.io</a>").size(), 1U);
  // Addresses are compared as addresses.
  EXPECT_EQ(text_findings("<a href=\"http://198.51.100.7/\">http://192.0.2.1/</a>").size(), 1U);
  EXPECT_EQ(text_findings("<a href=\"http://198.51.100.7/\">bank.example.com</a>").size(), 1U);
  // A relative link goes to the base, and is compared with it.
  EXPECT_EQ(
      text_findings("<base href=\"http://evil.example/\"><a href=\"login\">paypal.com</a>").size(),
      1U);
}

TEST(FilterPhishingTest, LinkTextOfTheSameOrganisationOrNotADomainIsNot) {
  for (const std::string html : {
           "<a href=\"https://paypal.com/signin\">www.paypal.com</a>",
           "<a href=\"https://links.paypal.com/c?u=1\">paypal.com</a>",
           "<a href=\"https://WWW.PayPal.com./\">https://paypal.com/</a>",
           "<a href=\"http://mail.example.co.uk/\">https://www.example.co.uk/</a>",
           "<a href=\"http://192.0.2.1/x\">192.0.2.1</a>",
           // Words, as newsletters send through their tracker.
           "<a href=\"https://t.tracker.example/c?u=1\">Read more</a>",
           "<a href=\"https://t.tracker.example/c?u=2\">Visit paypal.com today</a>",
           "<a href=\"https://t.tracker.example/c?u=3\">Version 2.0</a>",
           "<a href=\"https://t.tracker.example/c?u=4\">Dr.</a>",
           "<a href=\"https://t.tracker.example/c?u=5\">support@paypal.com</a>",
           R"(<a href="https://t.tracker.example/c?u=6"><img src="logo.png"></a>)",
           "<form action=\"https://collect.example/\"></form>",
       }) {
    EXPECT_TRUE(text_findings(html).empty()) << html;
  }
}

TEST(FilterPhishingTest, LinkTextMismatchCountsOncePerMessage) {
  const auto f = text_findings(
      "<a href=\"https://www.paypal.com/\">paypal.com</a>"
      "<a href=\"http://one.example/\">paypal.com</a><a href=\"http://two.example/\">bank.com</a>");
  ASSERT_EQ(f.size(), 1U);
  EXPECT_EQ(f[0].reason, "a link showing paypal.com goes to one.example");
}

}  // namespace
}  // namespace sealpost::filter

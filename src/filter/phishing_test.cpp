#include "filter/phishing.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sealpost::filter

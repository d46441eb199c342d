#include "filter/url.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

std::string host_of(std::string_view url) {
  const auto u = parse_url(url);
  return u ? u->host : "(none)";
}

TEST(FilterUrlTest, TheHostIsWhereABrowserGoes) {
  EXPECT_EQ(host_of("https://Example.COM/path?q=1#x"), "example.com");
  EXPECT_EQ(host_of("http://example.com:8080/"), "example.com");
  EXPECT_EQ(host_of("http://example.com./"), "example.com");
  EXPECT_EQ(host_of("  http://example.com/ \r\n"), "example.com");
  EXPECT_EQ(host_of("http://exa\tmple.com/"), "example.com");  // tabs and line ends vanish
  EXPECT_EQ(host_of("HTTPS://example.com"), "example.com");
  EXPECT_EQ(host_of("http://b\xC3\xBC"
                    "cher.example/"),
            "xn--bcher-kva.example");
  // Full-width letters and the ideographic full stop map to ASCII (UTS #46).
  EXPECT_EQ(host_of("http://\xEF\xBD\x85\xEF\xBD\x98\xE3\x80\x82"
                    "com/"),
            "ex.com");
  EXPECT_EQ(host_of("mailto:someone@example.com"), "(none)");
  EXPECT_EQ(host_of("javascript:alert(1)"), "(none)");
  EXPECT_EQ(host_of("http:///"), "(none)");
  EXPECT_EQ(host_of("http://exa mple.com/"), "(none)");
  EXPECT_EQ(host_of("http://example.com:80x/"), "(none)");
}

TEST(FilterUrlTest, UserInfoThatLooksLikeAHostIsKeptApart) {
  const auto u = parse_url("http://paypal.com@evil.example/login");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "evil.example");
  EXPECT_EQ(u->userinfo, "paypal.com");
  const auto v = parse_url("https://www.PayPal.com:secure@198.51.100.7/");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->host, "198.51.100.7");
  EXPECT_TRUE(v->ip_host);
  EXPECT_EQ(v->userinfo, "www.paypal.com:secure");
}

TEST(FilterUrlTest, ObfuscatedHostsAreUndoneAndFlagged) {
  for (std::string_view url : {"http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/",
                               "http://127.1/", "http://0x7F000001/", "http://127.0.0.1./"}) {
    const auto u = parse_url(url);
    ASSERT_TRUE(u) << url;
    EXPECT_EQ(u->host, "127.0.0.1") << url;
    EXPECT_TRUE(u->ip_host) << url;
    EXPECT_TRUE(u->obfuscated) << url;
  }
  const auto plain = parse_url("http://192.0.2.1/");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->ip_host);
  EXPECT_FALSE(plain->obfuscated);
  const auto pct = parse_url("http://evil%2Eexample/");
  ASSERT_TRUE(pct);
  EXPECT_EQ(pct->host, "evil.example");
  EXPECT_TRUE(pct->obfuscated);
  const auto back = parse_url("http:\\\\evil.example\\x");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, "evil.example");
  EXPECT_TRUE(back->obfuscated);
  EXPECT_EQ(host_of("http:evil.example"), "evil.example");
  // Not IPv4 and not a host either: browsers refuse these, so nobody is sent there.
  EXPECT_EQ(host_of("http://256.256.256.256/"), "(none)");
  EXPECT_EQ(host_of("http://1.2.3.4.5/"), "(none)");
  EXPECT_EQ(host_of("http://0x100000000/"), "(none)");
  EXPECT_EQ(host_of("http://example.09/"), "(none)");
  const auto v6 = parse_url("http://[2001:DB8::0:1]:443/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[2001:db8::1]");
  EXPECT_TRUE(v6->ip_host);
  EXPECT_EQ(host_of("http://[2001:db8::1/"), "(none)");
}

TEST(FilterUrlTest, TextLinksAreFoundAsMailClientsShowThem) {
  const auto urls = extract_text_urls(
      "Hello, see https://example.com/a. Or (www.Example.org/b), and "
      "http://paypal.com@evil.example!"
      "\nnot a link: xwww.example.net, someone@www.example.net, https://example.com/again");
  ASSERT_EQ(urls.size(), 3U);
  EXPECT_EQ(urls[0].host, "example.com");
  EXPECT_EQ(urls[1].host, "www.example.org");
  EXPECT_EQ(urls[2].host, "evil.example");
  EXPECT_EQ(urls[2].userinfo, "paypal.com");
  // A closing bracket the link opened stays with it.
  const auto wiki = extract_text_urls("<https://en.wikipedia.example/wiki/A_(b)>");
  ASSERT_EQ(wiki.size(), 1U);
  EXPECT_EQ(wiki[0].host, "en.wikipedia.example");
}

TEST(FilterUrlTest, ExtractionIsBounded) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "http://host" + std::to_string(i) + ".example/ ";
  EXPECT_EQ(extract_text_urls(text).size(), 100U);
  EXPECT_EQ(extract_text_urls(text, {.max_urls = 5, .max_url_length = 8192}).size(), 5U);
  // A link longer than the limit is cut there: its host is still found.
  const std::string huge = "http://long.example/" + std::string(100000, 'a');
  const auto cut = extract_text_urls(huge, {.max_urls = 100, .max_url_length = 64});
  ASSERT_EQ(cut.size(), 1U);
  EXPECT_EQ(cut[0].host, "long.example");
  EXPECT_TRUE(extract_text_urls(std::string(100000, 'h')).empty());
}

}  // namespace
}  // namespace sealpost::filter

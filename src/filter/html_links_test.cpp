#include "filter/html_links.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

std::vector<std::string> hosts(const std::vector<HtmlLink>& links) {
  std::vector<std::string> out;
  out.reserve(links.size());
  for (const auto& l : links) out.push_back(l.url.host);
  return out;
}

TEST(FilterHtmlLinksTest, HrefOnlyLinksAreFound) {
  // Nothing of the link is in the text the part shows.
  const auto links =
      extract_html_links(
          "<html><body><p>Your account is locked. <a href=\"https://evil.example/login\">Unlock "
          "it</a>.</p></body></html>")
          .links;
  ASSERT_EQ(links.size(), 1U);
  EXPECT_EQ(links[0].url.host, "evil.example");
  EXPECT_EQ(links[0].element, HtmlLink::Element::kAnchor);
  EXPECT_EQ(links[0].text, "Unlock it");
}

TEST(FilterHtmlLinksTest, AreasAndFormActionsAreLinks) {
  const auto links =
      extract_html_links(
          "<img usemap=\"#m\"><map name=\"m\"><area shape=\"rect\" coords=\"0,0,9,9\" "
          "href=\"http://map.example/\"></map>"
          "<form method=\"post\" action=\"https://collect.example/post.php\">"
          "<input name=\"password\" type=\"password\"></form>")
          .links;
  ASSERT_EQ(links.size(), 2U);
  EXPECT_EQ(links[0].url.host, "map.example");
  EXPECT_EQ(links[0].element, HtmlLink::Element::kArea);
  EXPECT_EQ(links[1].url.host, "collect.example");
  EXPECT_EQ(links[1].element, HtmlLink::Element::kForm);
  EXPECT_TRUE(links[1].text.empty());
}

TEST(FilterHtmlLinksTest, AttributesAreReadAsBrowsersReadThem) {
  // Entities decoded, white space around and inside the scheme dropped, no quotes, upper case.
  const auto links = extract_html_links(
                         "<a href=\" http&#58;//evil.example \">a</a>"
                         "<A HREF=HTTPS://Upper.Example/x>b</A>"
                         "<a href=\"ht\ntps://split.example/\">c</a>"
                         "<a href=\"//scheme-relative.example/\">d</a>"
                         "<a href=\"http://paypal.com&#64;userinfo.example/\">e</a>")
                         .links;
  EXPECT_EQ(hosts(links),
            (std::vector<std::string>{"evil.example", "upper.example", "split.example",
                                      "scheme-relative.example", "userinfo.example"}));
  EXPECT_EQ(links.back().url.userinfo, "paypal.com");
}

TEST(FilterHtmlLinksTest, BrokenHtmlStillYieldsItsLinks) {
  const auto links =
      extract_html_links(
          "<<>>\x01\xff garbage <table><tr><td><a href='http://one.example/'>one<td>"
          "<div><b><a href=http://two.example/>two</i></p></table><a href=\"http://three.example/\""
          "</div><p <a href=\"http://four.example\">")
          .links;
  const auto h = hosts(links);
  for (const std::string expected : {"one.example", "two.example"}) {
    EXPECT_NE(std::find(h.begin(), h.end(), expected), h.end()) << expected;
  }
  EXPECT_EQ(links[0].text, "one");
}

TEST(FilterHtmlLinksTest, OtherSchemesAndRelativeLinksAreNotFollowed) {
  const auto links =
      extract_html_links(
          "<a href=\"mailto:a@evil.example\">mail</a><a href=\"javascript:go('http://x.example')\">"
          "js</a><a href=\"data:text/html,<a href=http://y.example>\">data</a>"
          "<a href=\"tel:+15550100\">call</a><a href=\"ftp://files.example/\">ftp</a>"
          "<a href=\"/relative/path\">rel</a><a href=\"#top\">top</a><a "
          "href=\"\">empty</a><a>none</a>"
          "<form action=\"submit.php\"></form>")
          .links;
  EXPECT_TRUE(links.empty()) << links.size();
}

TEST(FilterHtmlLinksTest, RelativeLinksGoToTheBase) {
  const auto links =
      extract_html_links(
          "<html><head><base href=\"https://base.example/dir/\"></head><body>"
          "<a href=\"login.html\">PayPal.com</a><form action=\"/post\"></form></body></html>")
          .links;
  ASSERT_EQ(links.size(), 2U);
  EXPECT_EQ(links[0].url.host, "base.example");
  EXPECT_EQ(links[0].text, "PayPal.com");
  EXPECT_EQ(links[1].url.host, "base.example");
  EXPECT_EQ(links[1].element, HtmlLink::Element::kForm);
}

TEST(FilterHtmlLinksTest, LinkTextIsWhatTheReaderSees) {
  const auto links =
      extract_html_links(
          "<a href=\"http://a.example/\">\n  <span>www.pay</span>\xE2\x80\x8Bpal\xC2\xAD.com&nbsp; "
          "<img alt=\"x\"><script>var x = 'hidden';</script>\n</a>"
          "<a href=\"http://b.example/\">" +
          std::string(400, 'x') + "</a>")
          .links;
  ASSERT_EQ(links.size(), 2U);
  EXPECT_EQ(links[0].text, "www.paypal.com");  // zero-width space and soft hyphen dropped
  EXPECT_EQ(links[1].text, std::string(256, 'x'));
  // Cut at a character boundary.
  HtmlLimits limits;
  limits.max_text = 4;
  const auto cut =
      extract_html_links("<a href=\"http://c.example/\">ab\xC3\xA9\xC3\xA9</a>", limits).links;
  ASSERT_EQ(cut.size(), 1U);
  EXPECT_EQ(cut[0].text, "ab\xC3\xA9");
}

TEST(FilterHtmlLinksTest, TheDocumentsTextIsKeptWhenAskedFor) {
  const std::string html =
      "<html><head><title>Offer</title><style>p{x:url(http://style.example/)}</style>"
      "<script>var u='http://script.example/';</script></head><body><p>Visit "
      "www&#46;shown&#x2E;example &amp; <b>more</b></p><!-- http://comment.example/ --></body>"
      "</html>";
  HtmlLimits limits;
  EXPECT_EQ(extract_html_links(html, limits).text, "");  // not asked for
  limits.max_shown_text = 1000;
  const std::string text = extract_html_links(html, limits).text;
  // Entities decoded, a space for each tag; what <script>, <style> and comments hold left out.
  EXPECT_NE(text.find("Offer"), std::string::npos);
  EXPECT_NE(text.find("Visit www.shown.example &  more "), std::string::npos) << text;
  for (const char* hidden : {"style.example", "script.example", "comment.example"}) {
    EXPECT_EQ(text.find(hidden), std::string::npos) << hidden;
  }
  // Bounded, at a character boundary; asked for, it comes also when no link is wanted. (The
  // parser adds the <html> and <body> the fragment leaves out: three tags, three spaces.)
  limits.max_shown_text = 8;
  limits.urls.max_urls = 0;
  EXPECT_EQ(extract_html_links("<p>caf\xC3\xA9s</p>", limits).text, "   caf\xC3\xA9");
  limits.max_shown_text = 7;
  EXPECT_EQ(extract_html_links("<p>caf\xC3\xA9s</p>", limits).text, "   caf ");  // </p>
}

TEST(FilterHtmlLinksTest, ANewsletterIsBounded) {
  std::string html = "<html><body><table>";
  for (int i = 0; i < 150; ++i) {
    html += "<tr><td><a href=\"https://t" + std::to_string(i) +
            ".tracker.example/c?u=1\">Article " + std::to_string(i) + "</a></td></tr>";
  }
  html += "</table></body></html>";
  const auto links = extract_html_links(html).links;
  ASSERT_EQ(links.size(), 100U);
  EXPECT_EQ(links[0].url.host, "t0.tracker.example");
  EXPECT_EQ(links[99].url.host, "t99.tracker.example");

  HtmlLimits small;
  small.urls.max_urls = 3;
  EXPECT_EQ(extract_html_links(html, small).links.size(), 3U);
  // Past max_input nothing is read.
  small.urls.max_urls = 100;
  small.max_input = html.find("t5.tracker");
  EXPECT_EQ(extract_html_links(html, small).links.size(), 5U);
}

TEST(FilterHtmlLinksTest, RepeatedLinksAreListedOnce) {
  const auto links =
      extract_html_links(
          "<a href=\"https://shop.example/a\">Shop</a><a href=\"https://shop.example/b\">Shop</a>"
          "<a href=\"https://shop.example/c\">Sale</a><a href=\"https://%73hop.example/\">Shop</a>")
          .links;
  ASSERT_EQ(links.size(), 2U);
  EXPECT_EQ(links[0].text, "Shop");
  EXPECT_TRUE(links[0].url.obfuscated);  // the percent-encoded repeat marks it
  EXPECT_EQ(links[1].text, "Sale");
}

TEST(FilterHtmlLinksTest, NestingPastLibxml2sDepthIsReported) {
  const auto nested = [](int depth) {
    std::string html = "<a href=\"http://before.example/\">before</a>";
    for (int i = 0; i < depth; ++i) html += "<div>";
    return html + "<a href=\"http://after.example/\">after</a>";
  };
  const HtmlLinks shallow = extract_html_links(nested(200));
  EXPECT_FALSE(shallow.cut_short);
  EXPECT_EQ(hosts(shallow.links), (std::vector<std::string>{"before.example", "after.example"}));
  // libxml2 stops at 256 elements: what came before is kept, and the scan is told.
  const HtmlLinks deep = extract_html_links(nested(20000));
  EXPECT_TRUE(deep.cut_short);
  EXPECT_EQ(hosts(deep.links), std::vector<std::string>{"before.example"});
  // A megabyte of open elements and then of end tags none of them matches: stopped at the
  // depth, so no end tag searches more than that many open elements (this returns at once).
  std::string opened;
  for (int i = 0; i < 200000; ++i) opened += "<div>";
  for (int i = 0; i < 150000; ++i) opened += "</span>";
  EXPECT_TRUE(extract_html_links(opened).cut_short);
  EXPECT_FALSE(extract_html_links("<p><<garbage</b></div>&;").cut_short);
  EXPECT_TRUE(extract_html_links("").links.empty());
}

TEST(FilterHtmlLinksTest, ParsingPrintsNothing) {
  testing::internal::CaptureStderr();
  extract_html_links("<a href=\"http://x.example/\"</a></b></c><!DOCTYPE><?xml?>&bogus;<</");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace sealpost::filter

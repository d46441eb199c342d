// The filter's HTML link reader (libxml2's HTML parser and the walk over its tree) on arbitrary
// markup. Invariants: it ends and returns at most max_urls links; every host is a clean A-label
// domain, a dotted quad or a bracketed IPv6 address that parses back to itself (as url_fuzz
// checks for links in text); a link's text is valid UTF-8 within max_text octets, white space
// collapsed and trimmed, and only an <a> has one; the document's text is valid UTF-8 within its
// bound. The link text check (phishing.hpp) on what it
// returns finds at most one mismatch, whose reason names two domains and nothing else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dmarc/public_suffix.hpp"
#include "core/utf8.hpp"
#include "filter/html_links.hpp"
#include "filter/phishing.hpp"

namespace {

using sealpost::filter::HtmlLink;

constexpr std::size_t kMaxUrls = 16;
constexpr std::size_t kMaxText = 64;
constexpr std::size_t kMaxShown = 200;

void check(const HtmlLink& link) {
  const auto& u = link.url;
  if (u.host.empty() || u.host.size() > 1024) __builtin_trap();
  for (const char c : u.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || (u.ip_host && (c == ':' || c == '[' || c == ']'));
    if (!ok) __builtin_trap();
  }
  if (u.host.back() == '.') __builtin_trap();
  const auto again = sealpost::filter::parse_url("http://" + u.host + "/");
  if (!again || again->host != u.host || again->ip_host != u.ip_host) __builtin_trap();

  const std::string& t = link.text;
  if (link.element != HtmlLink::Element::kAnchor && !t.empty()) __builtin_trap();
  if (t.size() > kMaxText || !sealpost::core::is_valid_utf8(t)) __builtin_trap();
  if (!t.empty() && (t.front() == ' ' || t.back() == ' ')) __builtin_trap();
  if (t.find("  ") != std::string::npos || t.find_first_of("\t\r\n") != std::string::npos) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  sealpost::filter::HtmlLimits limits;
  limits.max_text = kMaxText;
  limits.urls.max_urls = kMaxUrls;
  limits.urls.max_url_length = 512;
  limits.max_shown_text = kMaxShown;
  const auto result = sealpost::filter::extract_html_links(html, limits);
  if (result.links.size() > kMaxUrls) __builtin_trap();
  if (result.text.size() > kMaxShown || !sealpost::core::is_valid_utf8(result.text)) {
    __builtin_trap();
  }
  for (const auto& link : result.links) check(link);

  static const auto psl =
      sealpost::auth::dmarc::PublicSuffixList::from_string("com\nexample\nuk\nco.uk\n");
  const auto findings = sealpost::filter::link_text_findings(result.links, psl);
  if (findings.size() > 1) __builtin_trap();
  for (const auto& f : findings) {
    if (f.symbol != "PHISH_LINK_TEXT_MISMATCH") __builtin_trap();
    // "a link showing <domain> goes to <domain>": two hosts, as bounded as check() has them.
    if (f.reason.size() > 64 + 2 * 1024) __builtin_trap();
    for (const char c : f.reason) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == ' ' || c == ':' || c == '[' || c == ']';
      if (!ok) __builtin_trap();
    }
  }
  return 0;
}

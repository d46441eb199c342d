// Links in a message as the filter checks them (issue 18 item 3): found in plain text where mail
// clients make them clickable, and each reduced to the host a browser would visit. Browsers
// follow the WHATWG URL standard, so this does what it says for http(s) URLs: backslashes count
// as slashes, any number of them may follow the scheme, the host is percent-decoded and mapped
// to its A-label (UTS #46: "ｅｘａｍｐｌｅ．com" is example.com), and a host that ends in a number
// is an IPv4 address in any of the forms it accepts ("0x7f.1", "2130706433", "0177.0.0.1").
// The tricks phishing uses are kept as flags: "http://paypal.com@evil.example/" goes to
// evil.example, its user-info only looks like a host. Pure and bounded: no I/O, no recursion,
// linear in the text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::filter {

struct Url {
  // Where the link goes: an A-label domain (lowercase, no trailing dot), a dotted-quad IPv4
  // address, or an IPv6 address in brackets.
  std::string host;
  bool ip_host = false;
  // Before an '@' in the authority: what a reader may take for the host ("paypal.com" in
  // "http://paypal.com@evil.example/"), lowercased; empty when there is none.
  std::string userinfo;
  // Written so that a reader does not see the host: a percent-encoded host, an IPv4 address not
  // in dotted-quad form, backslashes or other than two slashes after the scheme. (A Unicode host
  // is not obfuscated as such: the phishing check looks at what its labels look like.)
  bool obfuscated = false;
};

// An http or https URL (an href value, or a link found in text); nullopt for other schemes, or
// when the host is not one a browser would visit.
std::optional<Url> parse_url(std::string_view url);

struct UrlLimits {
  std::size_t max_urls = 100;         // distinct links returned (by host and user-info)
  std::size_t max_url_length = 8192;  // longer candidates are cut here
};

// The links of plain text, as mail clients make them clickable: "http://" and "https://" in any
// case, and "www." at the start of a word; trailing punctuation is not part of the link.
std::vector<Url> extract_text_urls(std::string_view text, const UrlLimits& limits = {});

}  // namespace sealpost::filter

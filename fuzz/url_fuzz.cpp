// The filter's link extraction and URL parser on arbitrary text. Invariants the checks depend
// on: what is extracted is bounded; every host is a clean A-label domain, a dotted quad or a
// bracketed IPv6 address (nothing a DNS query or a header could be abused with); a host parses
// back to itself, so the same link always reaches the same blocklist query.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filter/url.hpp"

namespace {

using sealpost::filter::Url;

void check(const Url& u) {
  if (u.host.empty() || u.host.size() > 1024) __builtin_trap();
  for (const char c : u.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_' || (u.ip_host && (c == ':' || c == '[' || c == ']'));
    if (!ok) __builtin_trap();
  }
  if (u.host.back() == '.') __builtin_trap();
  const auto again = sealpost::filter::parse_url("http://" + u.host + "/");
  if (!again || again->host != u.host || again->ip_host != u.ip_host) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto u = sealpost::filter::parse_url(text)) check(*u);
  const auto urls =
      sealpost::filter::extract_text_urls(text, {.max_urls = 20, .max_url_length = 256});
  if (urls.size() > 20) __builtin_trap();
  for (const Url& u : urls) check(u);
  return 0;
}

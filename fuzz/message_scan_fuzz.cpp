// The filter's walk over a parsed message (attachments' names and bytes, links in the text and
// the HTML) on arbitrary messages. Invariants: it ends and stays within its limits whatever the
// structure, every finding has a fixed symbol (at most four per attachment for its name and ten
// for its bytes, and eight for the links, the HTML, the From: name and the domains' lookalikes),
// and every link host is non-empty. Clearing the sender's X-Spam-* fields (what the MX does
// before adding its own) only removes, and leaves none behind.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/dmarc/public_suffix.hpp"
#include "core/strings.hpp"
#include "filter/message_scan.hpp"
#include "filter/verdict.hpp"
#include "mime/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  if (const auto cleared = sealpost::filter::without_spam_fields(raw)) {
    if (cleared->size() >= raw.size()) __builtin_trap();
    const auto header = sealpost::mime::split_header(*cleared);
    if (!header) __builtin_trap();
    for (const auto& f : header.value().fields) {
      if (sealpost::istarts_with(f.name, "X-Spam-")) __builtin_trap();
    }
  }
  const auto message = sealpost::mime::parse_message(raw);
  if (!message) return 0;
  sealpost::filter::ScanLimits limits;
  limits.max_text = 4096;
  limits.max_attachments = 8;
  limits.max_html = 4096;
  limits.urls.max_urls = 8;
  limits.max_decoded = 64 * 1024;
  limits.content.max_unpacked = 256 * 1024;
  limits.content.max_member = 64 * 1024;
  static const auto psl =
      sealpost::auth::dmarc::PublicSuffixList::from_string("com\nexample\nuk\nco.uk\n");
  const auto scan = sealpost::filter::scan_message(*message, limits, &psl);
  if (scan.urls.size() > 8 || scan.findings.size() > 8 * (4 + 10) + 8) __builtin_trap();
  if (scan.decoded > limits.max_decoded) __builtin_trap();
  for (const auto& f : scan.findings) {
    if (f.symbol.empty() || f.symbol.size() > sealpost::filter::kMaxSymbol) __builtin_trap();
  }
  for (const auto& u : scan.urls) {
    if (u.host.empty()) __builtin_trap();
  }
  return 0;
}

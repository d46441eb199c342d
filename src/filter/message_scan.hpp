// What the filter's checks read of a message (issue 18): its attachments' names, declared types
// and bytes (attachment_content.hpp), and the links in its text. One walk over the parsed MIME tree
// (mime::parse_message), bounded by the parser's limits and by ScanLimits; nothing is written
// anywhere. Links come from the text the text parts show (mime::searchable_text, HTML reduced to
// its text) and from the markup of the HTML parts (html_links.hpp: href, form action), which is
// where a click goes.
#pragma once

#include <cstddef>
#include <vector>

#include "filter/attachment_content.hpp"
#include "filter/lookalike.hpp"
#include "filter/url.hpp"
#include "filter/verdict.hpp"
#include "mime/message.hpp"

namespace sealpost::auth::dmarc {
class PublicSuffixList;
}

namespace sealpost::filter {

struct ScanLimits {
  std::size_t max_text = std::size_t{1} << 20;  // decoded text searched for links
  // Decoded HTML parsed for links, all HTML parts together; each part at most this much.
  std::size_t max_html = std::size_t{2} << 20;
  std::size_t max_attachments = 256;  // attachments whose names are checked
  // Attachments' bytes decoded (base64, quoted-printable) and checked, across the message: the
  // parser's largest message decodes to less, so within it every attachment is looked at.
  std::size_t max_decoded = std::size_t{64} << 20;
  // For each attachment; its bounds on archive members and bytes unpacked hold across all of
  // the message's attachments.
  ContentLimits content;
  UrlLimits urls;  // max_urls: links of the whole message, distinct
  // Keep the decoded attachments a virus scanner is given (MessageScan::virus_scan).
  bool keep_for_virus_scan = false;
};

struct MessageScan {
  // From the attachments' names and types, the links (phishing.hpp), the HTML (HTML_TOO_DEEP),
  // the From: display name, and the domains of the links and of the From: address
  // (lookalike.hpp).
  std::vector<Finding> findings;
  // The links of the text and HTML parts, distinct by host and user-info: those of the HTML
  // markup first, then those of the text.
  std::vector<Url> urls;
  std::size_t attachments = 0;  // attachments seen, also past max_attachments
  std::size_t decoded = 0;      // attachments' bytes looked at
  std::size_t members = 0;      // archive members read
  std::size_t unpacked = 0;     // bytes decompressed from archives
  bool magic_missing = false;   // libmagic could not be loaded: no checks by type
  // With ScanLimits::keep_for_virus_scan: each attachment, decoded, but images (what rspamd's
  // antivirus module gives clamd); its text and HTML parts are not among them. False
  // `virus_scan_complete`: an attachment past max_attachments or max_decoded, or a structure past
  // the parser's limits, is not among them either, so the whole message must be scanned.
  std::vector<std::string> virus_scan;
  bool virus_scan_complete = true;
};

// `psl` gives the organisational domains that the link text check (PHISH_LINK_TEXT_MISMATCH)
// compares; without it that check is not made. `protect`: the domains the lookalike check
// (PHISH_LOOKALIKE_DOMAIN) protects, the recipients' own and the brands, prepared once by the
// caller; without it, the built-in brands (kImpersonatedBrands) under `psl`, and without either
// that check is not made. Homographs (PHISH_HOMOGRAPH) are looked for in any case.
MessageScan scan_message(const mime::Message& message, const ScanLimits& limits = {},
                         const auth::dmarc::PublicSuffixList* psl = nullptr,
                         const ProtectedDomains* protect = nullptr);

}  // namespace sealpost::filter

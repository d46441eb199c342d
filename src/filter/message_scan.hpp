// What the filter's checks read of a message (issue 18): its attachments' names, declared types
// and bytes (attachment_content.hpp), and the links in its text. One walk over the parsed MIME tree
// (mime::parse_message), bounded by the parser's limits and by ScanLimits; nothing is written
// anywhere. HTML parts are searched as the text they show (mime::searchable_text): links only in
// href attributes wait for the HTML parser, the next step of this issue.
#pragma once

#include <cstddef>
#include <vector>

#include "filter/attachment_content.hpp"
#include "filter/url.hpp"
#include "filter/verdict.hpp"
#include "mime/message.hpp"

namespace sealpost::filter {

struct ScanLimits {
  std::size_t max_text = std::size_t{1} << 20;  // decoded text searched for links
  std::size_t max_attachments = 256;            // attachments whose names are checked
  // Attachments' bytes decoded (base64, quoted-printable) and checked, across the message: the
  // parser's largest message decodes to less, so within it every attachment is looked at.
  std::size_t max_decoded = std::size_t{64} << 20;
  // For each attachment; its bounds on archive members and bytes unpacked hold across all of
  // the message's attachments.
  ContentLimits content;
  UrlLimits urls;
};

struct MessageScan {
  // From the attachments' names and types, the links (phishing.hpp) and the From: display name.
  std::vector<Finding> findings;
  std::vector<Url> urls;        // the links of the text parts (distinct)
  std::size_t attachments = 0;  // attachments seen, also past max_attachments
  std::size_t decoded = 0;      // attachments' bytes looked at
  std::size_t members = 0;      // archive members read
  std::size_t unpacked = 0;     // bytes decompressed from archives
  bool magic_missing = false;   // libmagic could not be loaded: no checks by type
};

MessageScan scan_message(const mime::Message& message, const ScanLimits& limits = {});

}  // namespace sealpost::filter

#include "filter/message_scan.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "filter/attachment_name.hpp"
#include "filter/html_links.hpp"
#include "filter/lookalike.hpp"
#include "filter/phishing.hpp"
#include "mime/content.hpp"
#include "mime/encoded_word.hpp"

namespace sealpost::filter {
namespace {

// The name a mail client shows for a part: Content-Disposition's filename, else Content-Type's
// name; RFC 2231 is decoded by the parser, RFC 2047 words (which clients also decode) here.
std::string part_name(const mime::Part& part) {
  const mime::Parameter* p =
      part.has_disposition ? mime::find_parameter(part.disposition.params, "filename") : nullptr;
  if (p == nullptr) p = mime::find_parameter(part.content_type.params, "name");
  if (p == nullptr) return {};
  return p->extended ? p->value : mime::decode_encoded_words(p->value);
}

// An attachment: what a client offers to save or open rather than shows as the message.
bool is_attachment(const mime::Part& part, const std::string& name) {
  if (part.has_disposition && part.disposition.type == "attachment") return true;
  if (!name.empty()) return true;
  return !part.is_text() && part.content_type.type != "multipart" &&
         part.content_type.type != "message";
}

// An HTML part the reader sees as the message: the same parts the text search reads
// (mime::searchable_text), so an inline part that carries a name is read too.
bool is_shown_html(const mime::Part& part) {
  return mime::is_searchable_text(part) && part.content_type.subtype == "html";
}

// Adds `url` unless a link to the same host with the same user-info is there (a repeat that
// hides its host marks it so), up to `max` links.
void add_distinct(std::vector<Url>& urls, const Url& url, std::size_t max) {
  const auto same = std::find_if(urls.begin(), urls.end(), [&](const Url& u) {
    return u.host == url.host && u.userinfo == url.userinfo;
  });
  if (same != urls.end()) {
    same->obfuscated = same->obfuscated || url.obfuscated;
  } else if (urls.size() < max) {
    urls.push_back(url);
  }
}

}  // namespace

MessageScan scan_message(const mime::Message& message, const ScanLimits& limits,
                         const auth::dmarc::PublicSuffixList* psl,
                         const ProtectedDomains* protect) {
  MessageScan scan;
  scan.virus_scan_complete = !message.truncated;
  std::vector<HtmlLink> html_links;
  bool html_cut_short = false;
  std::size_t html_budget = limits.max_html;
  std::vector<std::string> content_symbols;
  // The text a reader sees, for the links a mail client makes of text: mime::searchable_text's,
  // with each HTML part's text from the parse for its links (not decoded and read a second time).
  std::string text;
  // Iterative, in the order mime::searchable_text reads the parts: the parser bounds the depth,
  // and this walk keeps no stack of its own calls.
  std::vector<const mime::Part*> todo{&message.root};
  while (!todo.empty()) {
    const mime::Part* part = todo.back();
    todo.pop_back();
    for (auto it = part->children.rbegin(); it != part->children.rend(); ++it) {
      todo.push_back(&*it);
    }
    if (part->kind != mime::PartKind::kLeaf) continue;
    const bool text_room = mime::is_searchable_text(*part) && text.size() < limits.max_text;
    if (is_shown_html(*part) && html_budget > 0 &&
        (html_links.size() < limits.urls.max_urls || text_room)) {
      if (const auto html = mime::decoded_text(*part, message.raw, html_budget)) {
        html_budget -= html->size();
        HtmlLimits html_limits;
        html_limits.max_input = html->size();
        html_limits.urls = limits.urls;
        html_limits.urls.max_urls = limits.urls.max_urls - html_links.size();
        html_limits.max_shown_text = text_room ? limits.max_text - text.size() : 0;
        auto found = extract_html_links(*html, html_limits);
        html_cut_short = html_cut_short || found.cut_short;
        for (auto& l : found.links) html_links.push_back(std::move(l));
        if (text_room) mime::append_searchable_text(text, found.text, limits.max_text);
      }
    } else if (text_room) {
      // A plain part, or HTML past the bound on what is parsed.
      if (auto decoded = mime::decoded_text(*part, message.raw, limits.max_text - text.size())) {
        if (part->content_type.subtype == "html") {
          *decoded = mime::html_to_text(*decoded, limits.max_text - text.size());
        }
        mime::append_searchable_text(text, *decoded, limits.max_text);
      }
    }
    const std::string name = part_name(*part);
    if (!is_attachment(*part, name)) continue;
    if (++scan.attachments > limits.max_attachments) {
      scan.virus_scan_complete = false;
      continue;
    }
    const std::string type = part->content_type.type + '/' + part->content_type.subtype;
    for (auto& f : check_attachment_name(name, part->has_content_type ? type : std::string())) {
      scan.findings.push_back(std::move(f));
    }
    // One attachment's bytes at a time: decoded, looked at, dropped (or kept for the virus
    // scan).
    if (scan.decoded >= limits.max_decoded) {
      scan.virus_scan_complete = false;
      continue;
    }
    const std::size_t room = limits.max_decoded - scan.decoded;
    std::string bytes =
        mime::decode_transfer_encoding(part->body.in(message.raw), part->transfer_encoding, room);
    scan.decoded += bytes.size();
    if (bytes.size() == room) scan.virus_scan_complete = false;  // maybe cut short
    // The bounds on archive members and bytes unpacked hold for the message: what one
    // attachment used, the next cannot.
    ContentLimits content_limits = limits.content;
    content_limits.max_members -= std::min(scan.members, limits.content.max_members);
    content_limits.max_unpacked -= scan.unpacked;
    ContentScan content = check_attachment_content(bytes, name, content_limits);
    scan.members += content.members;
    scan.unpacked += content.unpacked;
    scan.magic_missing = scan.magic_missing || content.magic_missing;
    // Each of these symbols once per message, as rspamd counts them: two encrypted zips are not
    // twice the sign one is.
    for (auto& f : content.findings) {
      const bool seen = std::any_of(content_symbols.begin(), content_symbols.end(),
                                    [&](const std::string& s) { return s == f.symbol; });
      if (seen) continue;
      content_symbols.push_back(f.symbol);
      scan.findings.push_back(std::move(f));
    }
    if (limits.keep_for_virus_scan && part->content_type.type != "image" && !bytes.empty()) {
      scan.virus_scan.push_back(std::move(bytes));
    }
  }
  for (const auto& l : html_links) add_distinct(scan.urls, l.url, limits.urls.max_urls);
  for (const auto& u : extract_text_urls(text, limits.urls)) {
    add_distinct(scan.urls, u, limits.urls.max_urls);
  }
  for (auto& f : link_findings(scan.urls)) scan.findings.push_back(std::move(f));
  if (psl != nullptr) {
    for (auto& f : link_text_findings(html_links, *psl)) scan.findings.push_back(std::move(f));
  }
  if (html_cut_short) {
    // What follows the point where libxml2 stopped is shown by mail clients and read by no check.
    scan.findings.push_back({"HTML_TOO_DEEP", 2, "HTML nested too deep to read its links", {}});
  }
  for (auto& f : from_findings(message)) scan.findings.push_back(std::move(f));
  // The brands alone when the caller has no protected domains of its own (about 40 us to
  // prepare; the MX prepares its own once).
  std::optional<ProtectedDomains> brands;
  if (protect == nullptr && psl != nullptr) protect = &brands.emplace(*psl);
  for (auto& f : lookalike_findings(from_domain(message).value_or(""), scan.urls, protect)) {
    scan.findings.push_back(std::move(f));
  }
  return scan;
}

}  // namespace sealpost::filter

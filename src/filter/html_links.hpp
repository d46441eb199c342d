// The links of an HTML part as a mail client makes them clickable (issue 18 item 3): the href of
// <a> and <area>, and the action of <form> (a phishing page mailed as HTML posts the password
// there). libxml2's HTML parser reads the markup as browsers do, broken or not: unclosed tags,
// entities in attribute values ("http&#58;//"), attributes without quotes. Each link goes through
// parse_url (url.hpp), so a host here is normalised exactly as one found in plain text.
//
// Only web links count: http, https and scheme-relative ("//host/") ones. A relative link goes
// to the host of the document's <base href>, and without one nowhere a filter can check; other
// schemes (mailto:, tel:, javascript:, data:) are not followed. An <a> keeps the text it shows,
// which the phishing check compares with where it goes (phishing.hpp).
//
// Bounded: the input is cut at max_input octets, at most urls.max_urls links are returned, each
// href is cut at urls.max_url_length octets, each text at max_text and the document's text at
// max_shown_text. libxml2's SAX events are
// read as they come: no tree is built. libxml2 reports nothing on stderr, and needs no network
// (HTML_PARSE_NONET).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filter/url.hpp"

namespace sealpost::filter {

struct HtmlLink {
  enum class Element : std::uint8_t { kAnchor, kArea, kForm };
  Url url;
  Element element = Element::kAnchor;
  // What an <a> shows: its text, whitespace collapsed to single spaces and trimmed, invisible
  // characters (zero-width spaces, soft hyphens) removed, at most HtmlLimits::max_text octets
  // (cut at a character boundary). Empty for <area> and <form>.
  std::string text;
};

struct HtmlLimits {
  std::size_t max_input = std::size_t{2} << 20;  // octets of HTML parsed; the rest is not read
  std::size_t max_text = 256;                    // octets of an <a>'s text kept
  // Octets of the document's text kept in HtmlLinks::text; 0: none.
  std::size_t max_shown_text = 0;
  // max_urls bounds the links returned, distinct by host, user-info and text.
  UrlLimits urls;
};

struct HtmlLinks {
  std::vector<HtmlLink> links;
  // libxml2 stopped before the end: the document nests deeper than the 256 elements it builds
  // (without XML_PARSE_HUGE, which would also lift its other limits). Browsers still show what
  // follows, so it can hide links; the message scan scores it (HTML_TOO_DEEP).
  bool cut_short = false;
  // What the document shows as text, as mime::html_to_text makes it (a space for each tag) but
  // with every entity decoded, without what <script> and <style> hold, and with U+FFFD for what
  // is not UTF-8: for the links a mail client makes of text (url.hpp). At most
  // HtmlLimits::max_shown_text octets, whole characters.
  std::string text;
};

// `html` is the part's text in UTF-8 (mime::decoded_text); a <meta charset> in it is ignored.
HtmlLinks extract_html_links(std::string_view html, const HtmlLimits& limits = {});

}  // namespace sealpost::filter

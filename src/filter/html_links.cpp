#include "filter/html_links.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sealpost::filter {
namespace {

// The options mail needs: recover from anything, never fetch, never print. Not XML_PARSE_HUGE, so
// libxml2 keeps its own limits on depth and on the size of names and text nodes.
// HTML_PARSE_IGNORE_ENC: the text is UTF-8 already, whatever a <meta charset> in it says.
constexpr int kParseOptions = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                              HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC;

// libxml2's xmlGenericErrorFunc is printf-like.
// NOLINTNEXTLINE(cert-dcl50-cpp)
void ignore_generic_error(void* /*context*/, const char* /*format*/, ...) {}

// libxml2's error handlers are per thread: the defaults are set once, for threads that start
// later, and this thread's own on its first parse. The structured handler's argument changed from
// xmlErrorPtr to const xmlError* in libxml2 2.12; the generic lambda converts to either.
void quiet_libxml2() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlThrDefSetGenericErrorFunc(nullptr, ignore_generic_error);
    xmlThrDefSetStructuredErrorFunc(nullptr, [](void*, auto*) {});
  });
  thread_local bool quiet = false;
  if (quiet) return;
  xmlSetGenericErrorFunc(nullptr, ignore_generic_error);
  xmlSetStructuredErrorFunc(nullptr, [](void*, auto*) {});
  quiet = true;
}

struct FreeDoc {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
struct FreeContext {
  void operator()(htmlParserCtxt* ctxt) const noexcept { htmlFreeParserCtxt(ctxt); }
};
struct FreeString {
  void operator()(xmlChar* s) const noexcept { xmlFree(s); }
};

bool is_element(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && node->name != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

// An attribute's value, entities decoded by the parser; nullopt when it is absent.
std::optional<std::string> attribute(xmlNode* node, const char* name) {
  const std::unique_ptr<xmlChar, FreeString> value(
      xmlGetProp(node, reinterpret_cast<const xmlChar*>(name)));
  if (!value) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(value.get()));
}

// Visits the nodes below `root` in document order without recursion (libxml2's nodes link to
// their parent and siblings): `enter` before a node's children, `leave` after them. `enter`
// returns false to end the walk.
template <typename Enter, typename Leave>
void walk(xmlNode* root, Enter&& enter, Leave&& leave) {
  xmlNode* node = root->children;
  while (node != nullptr) {
    if (!enter(node)) return;
    if (node->type == XML_ELEMENT_NODE && node->children != nullptr) {
      node = node->children;
      continue;
    }
    while (node != nullptr) {
      leave(node);
      if (node->next != nullptr) {
        node = node->next;
        break;
      }
      node = node->parent;
      if (node == root) return;
    }
  }
}

// Where a link's value (href, action, base href) goes: parse_url for http and https, and for
// scheme-relative values ("//host/"); for a relative one (no scheme) the base's host, when there
// is an http(s) base; nullopt for other schemes.
std::optional<Url> resolve(std::string_view value, const std::optional<Url>& base,
                           std::size_t max_length) {
  value = value.substr(0, std::min(value.size(), max_length));
  // WHATWG: leading and trailing C0 controls and spaces go, tabs and line ends anywhere.
  while (!value.empty() && static_cast<unsigned char>(value.front()) <= 0x20) {
    value.remove_prefix(1);
  }
  std::string s;
  s.reserve(value.size());
  for (const char c : value) {
    if (c != '\t' && c != '\n' && c != '\r') s += c;
  }
  if (s.empty()) return std::nullopt;  // the document itself
  if (is_ascii_alpha(s[0])) {
    // A scheme: a letter, then letters, digits, "+", "-" or ".", then ":".
    std::size_t i = 1;
    while (i < s.size() && (is_ascii_alpha(s[i]) || is_ascii_digit(s[i]) || s[i] == '+' ||
                            s[i] == '-' || s[i] == '.')) {
      ++i;
    }
    if (i < s.size() && s[i] == ':') return parse_url(s);  // other schemes: nullopt
  }
  const auto slash = [](char c) { return c == '/' || c == '\\'; };
  if (s.size() >= 2 && slash(s[0]) && slash(s[1])) return parse_url("http:" + s);
  return base;
}

// The first <base href> that names an http(s) URL (browsers take the first <base> with an href,
// wherever it is).
std::optional<Url> document_base(xmlNode* root, std::size_t max_length) {
  std::optional<Url> base;
  walk(
      root,
      [&](xmlNode* node) {
        if (!is_element(node, "base")) return true;
        const auto href = attribute(node, "href");
        if (!href) return true;
        base = resolve(*href, std::nullopt, max_length);
        return false;
      },
      [](xmlNode*) {});
  return base;
}

bool is_space(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0xA0 || c == 0x3000 ||
         (c >= 0x2000 && c <= 0x200A);
}

// Characters a reader does not see: zero-width spaces and joiners, the word joiner, the byte
// order mark, the soft hyphen.
bool is_invisible(char32_t c) {
  return (c >= 0x200B && c <= 0x200D) || c == 0x2060 || c == 0xFEFF || c == 0xAD;
}

// Appends what `text` shows to `out`: runs of white space as one space (none at the start),
// invisible characters left out, at most `max` octets, whole characters only.
void append_shown(std::string& out, std::string_view text, std::size_t max) {
  while (!text.empty()) {
    const core::Utf8Sequence seq = core::next_utf8(text);
    const char32_t c = seq.length != 0 ? seq.code_point : U'\uFFFD';
    const std::string_view octets = text.substr(0, seq.length != 0 ? seq.length : 0);
    text.remove_prefix(seq.length != 0 ? seq.length : seq.ill_formed);
    if (is_invisible(c)) continue;
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ' && out.size() < max) out += ' ';
      continue;
    }
    const std::size_t size = seq.length != 0 ? octets.size() : 3;
    if (out.size() + size > max) return;
    if (seq.length != 0) {
      out.append(octets);
    } else {
      core::append_utf8(out, c);
    }
  }
}

class LinkCollector {
 public:
  LinkCollector(const HtmlLimits& limits, std::optional<Url> base)
      : limits_(limits), base_(std::move(base)) {}

  // False once the links are all that may be returned.
  bool enter(xmlNode* node) {
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
      if (anchor_ != nullptr && node->content != nullptr && !in_script(node)) {
        append_shown(text_, reinterpret_cast<const char*>(node->content), limits_.max_text);
      }
      return true;
    }
    if (node->type != XML_ELEMENT_NODE) return true;
    if (is_element(node, "a") || is_element(node, "area")) {
      // An <a> inside another (which the parser does not always close) starts a new link.
      if (anchor_ != nullptr) finish_anchor();
      const auto href = attribute(node, "href");
      auto url = href ? resolve(*href, base_, limits_.urls.max_url_length) : std::nullopt;
      if (!url) return true;
      if (is_element(node, "area")) {
        add({std::move(*url), HtmlLink::Element::kArea, {}});
      } else {
        anchor_ = node;
        anchor_url_ = std::move(*url);
        text_.clear();
      }
    } else if (is_element(node, "form")) {
      const auto action = attribute(node, "action");
      auto url = action ? resolve(*action, base_, limits_.urls.max_url_length) : std::nullopt;
      if (url) add({std::move(*url), HtmlLink::Element::kForm, {}});
    }
    return links_.size() < limits_.urls.max_urls;
  }

  void leave(xmlNode* node) {
    if (node == anchor_) finish_anchor();
  }

  std::vector<HtmlLink> take() {
    if (anchor_ != nullptr) finish_anchor();
    return std::move(links_);
  }

 private:
  static bool in_script(const xmlNode* node) {
    return node->parent != nullptr &&
           (is_element(node->parent, "script") || is_element(node->parent, "style"));
  }

  void finish_anchor() {
    anchor_ = nullptr;
    while (!text_.empty() && text_.back() == ' ') text_.pop_back();
    add({std::move(anchor_url_), HtmlLink::Element::kAnchor, std::move(text_)});
    text_.clear();
  }

  // Distinct by where the link goes and what it shows; a repeat that hides its host marks the
  // first one so.
  void add(HtmlLink link) {
    if (links_.size() >= limits_.urls.max_urls) return;
    const auto same = std::find_if(links_.begin(), links_.end(), [&](const HtmlLink& l) {
      return l.url.host == link.url.host && l.url.userinfo == link.url.userinfo &&
             l.text == link.text;
    });
    if (same != links_.end()) {
      same->url.obfuscated = same->url.obfuscated || link.url.obfuscated;
      return;
    }
    links_.push_back(std::move(link));
  }

  const HtmlLimits& limits_;
  const std::optional<Url> base_;
  std::vector<HtmlLink> links_;
  xmlNode* anchor_ = nullptr;  // the open <a>, whose text is being read
  Url anchor_url_;
  std::string text_;
};

}  // namespace

HtmlLinks extract_html_links(std::string_view html, const HtmlLimits& limits) {
  // htmlCtxtReadMemory takes an int size.
  const std::size_t max_input =
      std::min(limits.max_input, static_cast<std::size_t>(std::numeric_limits<int>::max()));
  html = html.substr(0, std::min(html.size(), max_input));
  HtmlLinks out;
  if (html.empty() || limits.urls.max_urls == 0) return out;
  quiet_libxml2();
  const std::unique_ptr<htmlParserCtxt, FreeContext> ctxt(htmlNewParserCtxt());
  if (!ctxt) return out;
  const std::unique_ptr<xmlDoc, FreeDoc> doc(htmlCtxtReadMemory(
      ctxt.get(), html.data(), static_cast<int>(html.size()), nullptr, "UTF-8", kParseOptions));
  // libxml2 halts (and disables its callbacks) on what it will not go past, above all a
  // document nested deeper than it builds; in recovery mode nothing else stops it.
  out.cut_short = ctxt->disableSAX != 0;
  if (!doc) return out;
  // The document node begins like any node: its children are the top-level nodes.
  auto* root = reinterpret_cast<xmlNode*>(doc.get());
  LinkCollector links(limits, document_base(root, limits.urls.max_url_length));
  walk(
      root, [&](xmlNode* node) { return links.enter(node); },
      [&](xmlNode* node) { links.leave(node); });
  out.links = links.take();
  return out;
}

}  // namespace sealpost::filter

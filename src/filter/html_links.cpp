#include "filter/html_links.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>

#include <libxml/HTMLparser.h>
#include <libxml/parserInternals.h>
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

struct FreeContext {
  void operator()(htmlParserCtxt* ctxt) const noexcept { htmlFreeParserCtxt(ctxt); }
};

// An attribute's value as the parser gives it (entities decoded), "" for one without a value;
// nullopt when it is absent. libxml2's HTML parser gives attribute names in lower case.
std::optional<std::string_view> attribute(const xmlChar** atts, const char* name) {
  if (atts == nullptr) return std::nullopt;
  for (std::size_t i = 0; atts[i] != nullptr; i += 2) {
    if (std::strcmp(reinterpret_cast<const char*>(atts[i]), name) != 0) continue;
    const xmlChar* value = atts[i + 1];
    return value == nullptr ? std::string_view() : reinterpret_cast<const char*>(value);
  }
  return std::nullopt;
}

// Where a link's value (href, action, base href) goes: parse_url for http and https, and for
// scheme-relative values ("//host/"). A relative value (no scheme) goes to the document's base,
// which may come later: `relative` says so. nullopt for other schemes and for nothing.
std::optional<Url> resolve(std::string_view value, std::size_t max_length, bool& relative) {
  relative = false;
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
  relative = true;
  return std::nullopt;
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

// Appends `text` to `out` as it is, but for what is not UTF-8 (libxml2 passes some on), which
// becomes U+FFFD; at most `max` octets, whole characters only.
void append_valid(std::string& out, std::string_view text, std::size_t max) {
  while (!text.empty() && out.size() < max) {
    // A run of ASCII in one piece.
    const auto run = static_cast<std::size_t>(
        std::find_if(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) -
        text.begin());
    if (run > 0) {
      const std::size_t n = std::min(run, max - out.size());
      out.append(text.substr(0, n));
      text.remove_prefix(n);
      continue;
    }
    const core::Utf8Sequence seq = core::next_utf8(text);
    const std::size_t size = seq.length != 0 ? seq.length : 3;
    if (out.size() + size > max) return;
    if (seq.length != 0) {
      out.append(text.substr(0, seq.length));
    } else {
      core::append_utf8(out, U'\uFFFD');
    }
    text.remove_prefix(seq.length != 0 ? seq.length : seq.ill_formed);
  }
}

// Collects the links as libxml2's SAX events come (no tree is built): in document order, each
// with where it goes (or "relative"), its element and, for an <a>, its text. A relative link
// goes to the first <base href> of the document, wherever it is, so links are resolved at the end.
class LinkCollector {
 public:
  LinkCollector(const HtmlLimits& limits, htmlParserCtxt* ctxt) : limits_(limits), ctxt_(ctxt) {}

  void start(const char* name, const xmlChar** atts) {
    add_shown_space();
    // The depth libxml2 allows a tree (xmlParserMaxDepth) is not checked without one: past it the
    // parse stops, as it did, and the scan is told. Deeper, each end tag would search a longer
    // stack of open elements: a megabyte of them would take minutes.
    if (ctxt_->nameNr > kMaxDepth) {
      xmlStopParser(ctxt_);
      return;
    }
    if (std::strcmp(name, "script") == 0 || std::strcmp(name, "style") == 0) {
      ++raw_depth_;
      return;
    }
    if (std::strcmp(name, "base") == 0) {
      const auto href = attribute(atts, "href");
      if (href && !base_seen_) {
        base_seen_ = true;
        bool relative = false;
        base_ = resolve(*href, limits_.urls.max_url_length, relative);
      }
      return;
    }
    const bool anchor = std::strcmp(name, "a") == 0;
    const bool area = !anchor && std::strcmp(name, "area") == 0;
    const bool form = !anchor && !area && std::strcmp(name, "form") == 0;
    if (!anchor && !area && !form) return;
    // An <a> inside another (which the parser does not always close) starts a new link.
    if (anchor || area) finish_anchor();
    const auto value = attribute(atts, form ? "action" : "href");
    if (!value) return;
    Pending link;
    link.url = resolve(*value, limits_.urls.max_url_length, link.relative);
    if (!link.url && !link.relative) return;
    link.element = anchor ? HtmlLink::Element::kAnchor
                   : area ? HtmlLink::Element::kArea
                          : HtmlLink::Element::kForm;
    if (anchor) {
      open_ = std::move(link);
    } else {
      keep(std::move(link));
    }
  }

  void end(const char* name) {
    add_shown_space();
    if (std::strcmp(name, "script") == 0 || std::strcmp(name, "style") == 0) {
      if (raw_depth_ > 0) --raw_depth_;
    } else if (std::strcmp(name, "a") == 0) {
      finish_anchor();
    }
  }

  void text(std::string_view s) {
    if (raw_depth_ != 0) return;
    if (open_) append_shown(open_->text, s, limits_.max_text);
    append_valid(shown_, s, limits_.max_shown_text);
  }

  std::string take_shown() { return std::move(shown_); }

  std::vector<HtmlLink> take() {
    finish_anchor();
    std::vector<HtmlLink> links;
    for (auto& p : pending_) {
      auto url = p.relative ? base_ : std::move(p.url);
      if (url) add(links, {std::move(*url), p.element, std::move(p.text)});
    }
    return links;
  }

 private:
  struct Pending {
    std::optional<Url> url;
    bool relative = false;  // goes to the document's base
    HtmlLink::Element element = HtmlLink::Element::kAnchor;
    std::string text;
  };

  void finish_anchor() {
    if (!open_) return;
    while (!open_->text.empty() && open_->text.back() == ' ') open_->text.pop_back();
    keep(std::move(*open_));
    open_.reset();
  }

  // Bounded as the links returned are: at most max_urls of each kind, distinct by where they go
  // (a relative one: by its text alone, all going to the base) and what they show.
  void keep(Pending link) {
    std::size_t& kept = link.relative ? relative_ : absolute_;
    const auto same = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) {
      if (p.relative != link.relative || p.element != link.element || p.text != link.text) {
        return false;
      }
      return link.relative ||
             (p.url->host == link.url->host && p.url->userinfo == link.url->userinfo);
    });
    if (same != pending_.end()) {
      if (!link.relative) same->url->obfuscated = same->url->obfuscated || link.url->obfuscated;
      return;
    }
    if (kept >= limits_.urls.max_urls) return;
    ++kept;
    pending_.push_back(std::move(link));
  }

  // Distinct by where the link goes and what it shows; a repeat that hides its host marks the
  // first one so.
  void add(std::vector<HtmlLink>& links, HtmlLink link) const {
    if (links.size() >= limits_.urls.max_urls) return;
    const auto same = std::find_if(links.begin(), links.end(), [&](const HtmlLink& l) {
      return l.url.host == link.url.host && l.url.userinfo == link.url.userinfo &&
             l.text == link.text;
    });
    if (same != links.end()) {
      same->url.obfuscated = same->url.obfuscated || link.url.obfuscated;
      return;
    }
    links.push_back(std::move(link));
  }

  // A tag is a space in the document's text (mime::html_to_text's rule).
  void add_shown_space() {
    if (shown_.size() < limits_.max_shown_text) shown_ += ' ';
  }

  static constexpr int kMaxDepth = 256;
  const HtmlLimits& limits_;
  htmlParserCtxt* ctxt_;
  std::vector<Pending> pending_;
  std::size_t absolute_ = 0;
  std::size_t relative_ = 0;
  std::optional<Pending> open_;  // the <a> whose text is being read
  bool base_seen_ = false;
  std::optional<Url> base_;
  std::size_t raw_depth_ = 0;  // inside <script> or <style>
  std::string shown_;          // the document's text
};

LinkCollector& collector(void* ctx) {
  return *static_cast<LinkCollector*>(ctx);
}

}  // namespace

HtmlLinks extract_html_links(std::string_view html, const HtmlLimits& limits) {
  // libxml2 takes an int size.
  const std::size_t max_input =
      std::min(limits.max_input, static_cast<std::size_t>(std::numeric_limits<int>::max()));
  html = html.substr(0, std::min(html.size(), max_input));
  HtmlLinks out;
  if (html.empty() || (limits.urls.max_urls == 0 && limits.max_shown_text == 0)) return out;
  quiet_libxml2();
  const std::unique_ptr<htmlParserCtxt, FreeContext> ctxt(
      htmlCreateMemoryParserCtxt(html.data(), static_cast<int>(html.size())));
  if (!ctxt || ctxt->sax == nullptr) return out;
  LinkCollector links(limits, ctxt.get());
  // SAX events only: no tree is built. Text in <script> and <style> (libxml2's CDATA blocks) is
  // not what a reader sees; white space the parser calls ignorable is text like any other.
  htmlSAXHandler sax{};
  sax.startElement = [](void* ctx, const xmlChar* name, const xmlChar** atts) {
    collector(ctx).start(reinterpret_cast<const char*>(name), atts);
  };
  sax.endElement = [](void* ctx, const xmlChar* name) {
    collector(ctx).end(reinterpret_cast<const char*>(name));
  };
  sax.characters = [](void* ctx, const xmlChar* ch, int len) {
    collector(ctx).text(std::string_view(reinterpret_cast<const char*>(ch),
                                         static_cast<std::size_t>(std::max(len, 0))));
  };
  sax.ignorableWhitespace = sax.characters;
  sax.cdataBlock = [](void*, const xmlChar*, int) {};
  *ctxt->sax = sax;
  ctxt->userData = &links;
  htmlCtxtUseOptions(ctxt.get(), kParseOptions);
  // The text is UTF-8 already, whatever a <meta charset> in it says.
  xmlSwitchEncoding(ctxt.get(), XML_CHAR_ENCODING_UTF8);
  htmlParseDocument(ctxt.get());
  // Stopped (its callbacks disabled) on a document nested deeper than kMaxDepth, or on what
  // libxml2 will not go past; in recovery mode nothing else stops it.
  out.cut_short = ctxt->disableSAX != 0;
  out.links = links.take();
  out.text = links.take_shown();
  return out;
}

}  // namespace sealpost::filter

#include "mime/charset.hpp"

#include <array>
#include <cerrno>

#include <iconv.h>

#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sealpost::mime {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// windows-1252's 0x80..0x9F; the five bytes it leaves undefined map to the C1 control they are
// in Latin-1 (the WHATWG Encoding Standard does the same).
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Appends to `out` without letting it grow past `max`, never splitting a UTF-8 sequence.
class Utf8Sink {
 public:
  Utf8Sink(std::string& out, std::size_t max) : out_(out), max_(max) {}

  [[nodiscard]] bool full() const noexcept { return full_; }

  // `s` must be valid UTF-8.
  void put(std::string_view s) {
    if (full_) return;
    const std::size_t room = max_ > out_.size() ? max_ - out_.size() : 0;
    if (s.size() <= room) {
      out_.append(s);
      return;
    }
    std::size_t n = room;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    out_.append(s.substr(0, n));
    full_ = true;
  }

  void put_code_point(char32_t cp) {
    char buf[4];
    put(std::string_view(buf, core::encode_utf8(cp, buf)));
  }

 private:
  std::string& out_;
  std::size_t max_;
  bool full_ = false;
};

// Valid runs are copied in one piece; each byte that starts no valid sequence becomes U+FFFD.
void put_sanitized_utf8(Utf8Sink& sink, std::string_view s) {
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < s.size() && !sink.full()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // most text: no call per octet
      ++i;
      continue;
    }
    const std::size_t n = core::next_utf8(s.substr(i)).length;
    if (n > 0) {
      i += n;
      continue;
    }
    sink.put(s.substr(run, i - run));
    sink.put(kReplacement);
    run = ++i;
  }
  sink.put(s.substr(run, i - run));
}

void put_cp1252(Utf8Sink& sink, std::string_view s) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size() && !sink.full(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) continue;
    sink.put(s.substr(run, i - run));
    sink.put_code_point(c < 0xA0 ? kCp1252High[c - 0x80] : c);
    run = i + 1;
  }
  sink.put(s.substr(run));
}

struct Alias {
  std::string_view label;
  std::string_view canonical;
};

// The allowlist: every charset label that mail really carries, with the name glibc's iconv knows
// it by. No other name ever reaches iconv_open, so a hostile label cannot select one of glibc's
// rarely used converters (ISO-2022-CN-EXT's overflow, CVE-2024-2961) or a stateful, non-ASCII
// one that would turn a body into unsearchable noise. Labels whose meaning differs from glibc's
// follow what mail clients do: "latin1" and "iso-8859-1" decode as windows-1252 (C1 controls are
// never meant), "ks_c_5601-1987" and "euc-kr" as CP949, "gb2312" and "gbk" as GB18030,
// "shift_jis" as CP932. A canonical "" means "unknown, sniff the bytes".
constexpr Alias kCharsets[] = {
    {"utf-8", "utf-8"},
    {"utf8", "utf-8"},
    {"unicode-1-1-utf-8", "utf-8"},
    {"x-unicode20utf8", "utf-8"},
    {"utf-7", "utf-7"},
    {"unicode-1-1-utf-7", "utf-7"},
    {"utf-16", "utf-16"},
    {"utf-16le", "utf-16le"},
    {"utf-16be", "utf-16be"},
    {"us-ascii", ""},
    {"ascii", ""},
    {"us", ""},
    {"ansi_x3.4-1968", ""},
    {"iso646-us", ""},
    {"csascii", ""},
    {"x-unknown", ""},
    {"unknown", ""},
    {"unknown-8bit", ""},
    {"x-user-defined", ""},
    {"default", ""},
    {"none", ""},
    {"iso-8859-1", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-1:1987", "windows-1252"},
    {"iso88591", "windows-1252"},
    {"latin1", "windows-1252"},
    {"latin-1", "windows-1252"},
    {"l1", "windows-1252"},
    {"cp819", "windows-1252"},
    {"ibm819", "windows-1252"},
    {"csisolatin1", "windows-1252"},
    {"windows-1252", "windows-1252"},
    {"cp1252", "windows-1252"},
    {"x-cp1252", "windows-1252"},
    {"iso-8859-2", "iso-8859-2"},
    {"iso-8859-3", "iso-8859-3"},
    {"iso-8859-4", "iso-8859-4"},
    {"iso-8859-5", "iso-8859-5"},
    {"iso-8859-6", "iso-8859-6"},
    {"iso-8859-7", "iso-8859-7"},
    {"iso-8859-8", "iso-8859-8"},
    {"iso-8859-8-i", "iso-8859-8"},
    {"iso-8859-9", "iso-8859-9"},
    {"iso-8859-10", "iso-8859-10"},
    {"iso-8859-11", "iso-8859-11"},
    {"iso-8859-13", "iso-8859-13"},
    {"iso-8859-14", "iso-8859-14"},
    {"iso-8859-15", "iso-8859-15"},
    {"iso-8859-16", "iso-8859-16"},
    {"latin2", "iso-8859-2"},
    {"latin-2", "iso-8859-2"},
    {"latin3", "iso-8859-3"},
    {"latin4", "iso-8859-4"},
    {"cyrillic", "iso-8859-5"},
    {"arabic", "iso-8859-6"},
    {"greek", "iso-8859-7"},
    {"hebrew", "iso-8859-8"},
    {"latin5", "iso-8859-9"},
    {"latin6", "iso-8859-10"},
    {"latin7", "iso-8859-13"},
    {"latin8", "iso-8859-14"},
    {"latin9", "iso-8859-15"},
    {"latin-9", "iso-8859-15"},
    {"latin10", "iso-8859-16"},
    {"windows-1250", "windows-1250"},
    {"windows-1251", "windows-1251"},
    {"windows-1253", "windows-1253"},
    {"windows-1254", "windows-1254"},
    {"windows-1255", "windows-1255"},
    {"windows-1256", "windows-1256"},
    {"windows-1257", "windows-1257"},
    {"windows-1258", "windows-1258"},
    {"cp1250", "windows-1250"},
    {"cp1251", "windows-1251"},
    {"cp1253", "windows-1253"},
    {"cp1254", "windows-1254"},
    {"cp1255", "windows-1255"},
    {"cp1256", "windows-1256"},
    {"cp1257", "windows-1257"},
    {"cp1258", "windows-1258"},
    {"x-cp1250", "windows-1250"},
    {"x-cp1251", "windows-1251"},
    {"koi8-r", "koi8-r"},
    {"koi8-u", "koi8-u"},
    {"koi8r", "koi8-r"},
    {"cskoi8r", "koi8-r"},
    {"ibm866", "cp866"},
    {"cp866", "cp866"},
    {"iso-2022-jp", "iso-2022-jp-2"},
    {"csiso2022jp", "iso-2022-jp-2"},
    {"iso-2022-jp-2", "iso-2022-jp-2"},
    {"iso-2022-kr", "iso-2022-kr"},
    {"shift_jis", "cp932"},
    {"shift-jis", "cp932"},
    {"sjis", "cp932"},
    {"x-sjis", "cp932"},
    {"ms_kanji", "cp932"},
    {"csshiftjis", "cp932"},
    {"windows-31j", "cp932"},
    {"cp932", "cp932"},
    {"euc-jp", "euc-jp"},
    {"x-euc-jp", "euc-jp"},
    {"cseucpkdfmtjapanese", "euc-jp"},
    {"ks_c_5601-1987", "cp949"},
    {"ks_c_5601-1989", "cp949"},
    {"ks_c_5601", "cp949"},
    {"ksc5601", "cp949"},
    {"ksc_5601", "cp949"},
    {"euc-kr", "cp949"},
    {"cseuckr", "cp949"},
    {"windows-949", "cp949"},
    {"x-windows-949", "cp949"},
    {"uhc", "cp949"},
    {"cp949", "cp949"},
    {"gb2312", "gb18030"},
    {"gbk", "gb18030"},
    {"x-gbk", "gb18030"},
    {"cp936", "gb18030"},
    {"euc-cn", "gb18030"},
    {"csgb2312", "gb18030"},
    {"gb18030", "gb18030"},
    {"big5", "big5-hkscs"},
    {"x-x-big5", "big5-hkscs"},
    {"cn-big5", "big5-hkscs"},
    {"csbig5", "big5-hkscs"},
    {"big5-hkscs", "big5-hkscs"},
    {"tis-620", "tis-620"},
    {"windows-874", "cp874"},
    {"cp874", "cp874"},
    {"x-mac-roman", "macintosh"},
    {"macintosh", "macintosh"},
    {"mac", "macintosh"},
};

// What a label names: nothing at all (no label: RFC 2045's default, US-ASCII), a charset on the
// allowlist, or a charset outside it.
struct Lookup {
  bool allowed = false;
  std::string canonical;
};

Lookup look_up(std::string_view charset) {
  std::string_view name = trim(charset);
  while (!name.empty() && (name.front() == '"' || name.front() == '\'')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == '"' || name.back() == '\'')) name.remove_suffix(1);
  if (const auto star = name.find('*'); star != std::string_view::npos) {
    name = name.substr(0, star);  // RFC 2231 section 5: charset*language
  }
  name = trim(name);
  if (name.empty()) return {.allowed = true, .canonical = {}};
  if (name.size() > 40) return {};
  std::string lower;
  lower.reserve(name.size());
  for (char c : name) lower += ascii_lower(c);
  for (const auto& entry : kCharsets) {
    if (entry.label == lower) return {.allowed = true, .canonical = std::string(entry.canonical)};
  }
  return {};
}

// iconv descriptors are costly to open and not shareable between threads: each thread keeps the
// few it used last. A name iconv does not know is remembered too (as an invalid descriptor).
class IconvCache {
 public:
  IconvCache() = default;
  IconvCache(const IconvCache&) = delete;
  IconvCache& operator=(const IconvCache&) = delete;
  ~IconvCache() {
    for (auto& e : entries_) {
      if (e.cd != kInvalid) iconv_close(e.cd);
    }
  }

  iconv_t get(const std::string& name) {
    for (auto& e : entries_) {
      if (e.used && e.name == name) return e.cd;
    }
    Entry& e = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    if (e.cd != kInvalid) iconv_close(e.cd);
    e.used = true;
    e.name = name;
    e.cd = iconv_open("UTF-8", name.c_str());
    return e.cd;
  }

  static inline const iconv_t kInvalid = reinterpret_cast<iconv_t>(-1);  // NOLINT

 private:
  struct Entry {
    bool used = false;
    std::string name;
    iconv_t cd = kInvalid;
  };
  std::array<Entry, 8> entries_;
  std::size_t next_ = 0;
};

// Charsets in which every byte below 0x80 other than ESC means its ASCII character.
constexpr std::string_view kAsciiCompatible[] = {
    "iso-8859-", "windows-125", "cp125",     "koi8-",     "cp949",   "gb18030", "cp932",
    "big5",      "euc-",        "iso-2022-", "macintosh", "tis-620", "cp874",   "windows-874"};

void put_unknown(Utf8Sink& sink, std::string_view bytes) {
  if (core::is_valid_utf8(bytes)) {
    sink.put(bytes);
  } else {
    put_cp1252(sink, bytes);
  }
}

// Returns false when iconv does not know the charset.
bool put_iconv(Utf8Sink& sink, std::string_view bytes, const std::string& name) {
  thread_local IconvCache cache;
  iconv_t cd = cache.get(name);
  if (cd == IconvCache::kInvalid) return false;
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // back to the initial shift state
  char* in = const_cast<char*>(bytes.data());     // iconv's signature; it does not write
  std::size_t in_left = bytes.size();
  std::string chunk;
  char buf[4096];
  // glibc's output is UTF-8 already; it is checked again all the same, so that no decoder quirk
  // can put invalid UTF-8 in front of a client.
  const auto flush = [&](std::size_t n) { chunk.append(buf, n); };
  bool done = false;
  while (!done && !sink.full()) {
    const bool flushing = in_left == 0;
    char* out = buf;
    std::size_t out_left = sizeof(buf);
    const std::size_t r = flushing ? iconv(cd, nullptr, nullptr, &out, &out_left)
                                   : iconv(cd, &in, &in_left, &out, &out_left);
    const int err = errno;
    flush(sizeof(buf) - out_left);
    if (r != static_cast<std::size_t>(-1)) {
      done = flushing;
    } else if (err == E2BIG) {
      // more output to come
    } else if (err == EILSEQ && !flushing) {
      chunk.append(kReplacement);
      ++in;
      --in_left;
    } else {  // EINVAL: the input ends inside a character
      if (!flushing) chunk.append(kReplacement);
      in_left = 0;
      done = flushing;
    }
    if (chunk.size() >= sizeof(buf) || done) {
      put_sanitized_utf8(sink, chunk);
      chunk.clear();
    }
  }
  return true;
}

}  // namespace

std::string canonical_charset(std::string_view charset) {
  return look_up(charset).canonical;
}

bool is_allowed_charset(std::string_view charset) {
  return look_up(charset).allowed;
}

void append_utf8(std::string& out, std::string_view bytes, std::string_view charset,
                 std::size_t max_output) {
  Utf8Sink sink(out, max_output);
  if (bytes.empty()) return;
  const std::string name = canonical_charset(charset);
  if (name.empty()) {
    put_unknown(sink, bytes);
  } else if (name == "utf-8") {
    put_sanitized_utf8(sink, bytes);
  } else if (name == "windows-1252") {
    put_cp1252(sink, bytes);
  } else {
    // Most text in an ASCII-compatible charset is plain ASCII, which needs no iconv. (ESC starts
    // ISO-2022 shift sequences.)
    bool ascii = false;
    for (std::string_view prefix : kAsciiCompatible) {
      if (name.starts_with(prefix)) ascii = true;
    }
    for (std::size_t i = 0; ascii && i < bytes.size(); ++i) {
      const auto c = static_cast<unsigned char>(bytes[i]);
      if (c >= 0x80 || c == 0x1B || c == 0) ascii = false;
    }
    if (ascii) {
      sink.put(bytes);
    } else if (!put_iconv(sink, bytes, name)) {
      put_unknown(sink, bytes);
    }
  }
}

}  // namespace sealpost::mime

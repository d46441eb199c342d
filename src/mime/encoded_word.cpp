#include "mime/encoded_word.hpp"

#include <cstdint>
#include <cstring>
#include <optional>

#include "core/base64.hpp"
#include "core/strings.hpp"
#include "mime/charset.hpp"

namespace sealpost::mime {

namespace {

struct EncodedWord {
  std::string_view charset;  // as written, RFC 2231 language suffix removed
  char encoding = 'q';       // 'b' or 'q'
  std::string_view text;
  std::size_t end = 0;  // just after the closing "?="
};

// The encoded word that starts at `at` (where "=?" is). The charset is at most 75 characters
// (a whole word's limit in RFC 2047); the text runs to the next '?', which must be followed by
// '='. Spaces in the text are accepted: some mailers write them.
std::optional<EncodedWord> match_word(std::string_view s, std::size_t at) {
  std::size_t i = at + 2;
  const std::size_t charset_begin = i;
  while (i < s.size() && i - charset_begin <= 75) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '?' || c <= ' ' || c >= 0x7F) break;
    ++i;
  }
  if (i >= s.size() || s[i] != '?' || i == charset_begin) return std::nullopt;
  EncodedWord w;
  w.charset = s.substr(charset_begin, i - charset_begin);
  if (const auto star = w.charset.find('*'); star != std::string_view::npos) {
    w.charset = w.charset.substr(0, star);
  }
  if (i + 2 >= s.size() || s[i + 2] != '?') return std::nullopt;
  w.encoding = ascii_lower(s[i + 1]);
  if (w.encoding != 'b' && w.encoding != 'q') return std::nullopt;
  const std::size_t text_begin = i + 3;
  const void* q = std::memchr(s.data() + text_begin, '?', s.size() - text_begin);
  if (q == nullptr) return std::nullopt;
  const auto text_end = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
  if (text_end + 1 >= s.size() || s[text_end + 1] != '=') return std::nullopt;
  w.text = s.substr(text_begin, text_end - text_begin);
  w.end = text_end + 2;
  return w;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const char l = ascii_lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// RFC 2047 section 4.2; an '=' not followed by two hex digits is kept as written.
void decode_q(std::string_view text, std::string& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace

std::string unfold(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c != '\r' && c != '\n') out += c;
  }
  return out;
}

std::string decode_encoded_words(std::string_view text, std::size_t max_output) {
  std::string out;
  std::string run;               // decoded bytes of adjacent words in one charset
  std::string_view run_charset;  // valid while `in_run`
  bool in_run = false;
  const auto flush_run = [&] {
    if (in_run) append_utf8(out, run, run_charset, max_output);
    run.clear();
    in_run = false;
  };
  std::size_t pending = 0;  // start of the text not yet written
  std::size_t search = 0;
  std::string bytes;
  while (out.size() < max_output) {
    const std::size_t at = text.find("=?", search);
    if (at == std::string_view::npos) break;
    search = at + 1;
    const auto word = match_word(text, at);
    if (!word) continue;
    bytes.clear();
    if (word->encoding == 'q') {
      decode_q(word->text, bytes);
    } else if (auto decoded = core::base64_decode(word->text, core::Base64Mode::kWord)) {
      bytes = std::move(*decoded);
    } else {
      continue;
    }
    const std::string_view between = text.substr(pending, at - pending);
    if (!(in_run && is_blank(between))) {  // RFC 2047 section 6.2: blanks between words go
      flush_run();
      append_utf8(out, between, "", max_output);
    }
    if (in_run && !iequals(run_charset, word->charset)) flush_run();
    run_charset = word->charset;
    in_run = true;
    run += bytes;
    pending = word->end;
    search = word->end;
  }
  flush_run();
  if (pending < text.size()) append_utf8(out, text.substr(pending), "", max_output);
  return out;
}

std::string decode_header_value(std::string_view raw_value, std::size_t max_output) {
  const std::string unfolded = unfold(raw_value);
  return decode_encoded_words(trim(unfolded), max_output);
}

}  // namespace sealpost::mime

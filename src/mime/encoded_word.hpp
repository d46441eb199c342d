// Header values as people read them: RFC 5322 unfolding and RFC 2047 encoded words
// ("=?charset?B|Q?text?=") decoded to UTF-8. Tolerant the way mail clients are: words are decoded
// wherever they start (also inside quotes or glued to other text), whitespace between two adjacent
// encoded words is dropped, and adjacent words in one charset are decoded together so a character
// split between them survives. A word that does not decode (bad base64, malformed syntax) is left
// as written. Text outside words is taken as UTF-8 when valid, else as windows-1252 (see
// charset.hpp). Linear in the input; the output is at most `max_output` bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sealpost::mime {

inline constexpr std::size_t kMaxDecodedHeader = std::size_t{64} * 1024;

// RFC 5322 section 2.2.3: removes the line breaks of a folded value (CRLF or a bare LF, and any
// stray CR), keeping the whitespace that follows them.
std::string unfold(std::string_view value);

// Decodes the encoded words in `text` (already unfolded) to UTF-8.
std::string decode_encoded_words(std::string_view text, std::size_t max_output = kMaxDecodedHeader);

// An unstructured header value (Subject, Comments, Content-Description...) as displayed: unfolded,
// surrounding whitespace trimmed, encoded words decoded.
std::string decode_header_value(std::string_view raw_value,
                                std::size_t max_output = kMaxDecodedHeader);

}  // namespace sealpost::mime

// What FETCH BODY[section] and BINARY[part] name inside a parsed message (RFC 9051 section
// 6.4.5, RFC 3516): header, header fields, text, MIME header, part content, or the content with
// its Content-Transfer-Encoding undone. Pure: the session fetches the bytes, this cuts them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "imap/protocol/command.hpp"
#include "mime/message.hpp"

namespace sealpost::imap::protocol {

enum class SectionError {
  kNoSuchPart,      // the part number names no part, or HEADER/TEXT of a part that is no message
  kUnknownEncoding  // BINARY of a part whose Content-Transfer-Encoding is not one we can undo
};

// The octets of a section: most sections are a range of the message and are not copied (a FETCH
// of BODY[] of a large message streams it from the stored bytes); HEADER.FIELDS and a decoded
// BINARY part are built.
struct SectionBytes {
  std::string_view slice;           // into the message's raw octets
  std::optional<std::string> made;  // the octets built for the section, when not a slice
  [[nodiscard]] std::string_view bytes() const noexcept {
    return made ? std::string_view(*made) : slice;
  }
};

// The octets BODY[section] names, before any partial.
Result<SectionBytes, SectionError> body_section(const mime::Message& message,
                                                const Section& section);

// The octets BINARY[part] names: a leaf part's content decoded (base64, quoted-printable; 7bit,
// 8bit and binary as they are); the whole message for an empty part number; a multipart's or an
// encapsulated message's content as it is.
Result<SectionBytes, SectionError> binary_section(const mime::Message& message,
                                                  const std::vector<std::uint32_t>& part);

// False when BINARY[part] names a part whose Content-Transfer-Encoding cannot be undone (what
// binary_section() fails with kUnknownEncoding), found without decoding it.
bool binary_decodable(const mime::Message& message, const std::vector<std::uint32_t>& part);

// The part number as find_part() reads it ("1.2.3").
std::string part_path(const std::vector<std::uint32_t>& part);

// `<offset.length>` applied: the octets from `offset`, at most `length` of them.
std::string_view apply_partial(std::string_view bytes, const std::optional<Partial>& partial);

// Lone LF (and lone CR) turned into CRLF: an APPENDed message is stored with the line ends IMAP
// serves, so that RFC822.SIZE, BODY[] and every part's size agree. Nullopt when nothing changes.
std::optional<std::string> to_crlf(std::string_view message);

}  // namespace sealpost::imap::protocol

// The header section of an RFC 5322 message, split into its fields without copying: each field's
// name, its raw bytes (folding and final CRLF included) and where the body starts. Bounded: the
// header may hold at most `max_fields` fields. Input must use CRLF line ends (what SMTP carries).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::mime {

struct HeaderField {
  std::string_view name;   // as written, before the colon (no trailing whitespace)
  std::string_view raw;    // the whole field: name, colon, value, folding, final CRLF
  std::string_view value;  // after the colon, final CRLF removed (folding kept)
};

struct Header {
  std::vector<HeaderField> fields;
  std::size_t body_offset = 0;  // where the body starts; the message's size when there is none
};

enum class HeaderError { kNoColon, kBadName, kTooManyFields };

Result<Header, HeaderError> split_header(std::string_view message, std::size_t max_fields = 1000);

}  // namespace sealpost::mime

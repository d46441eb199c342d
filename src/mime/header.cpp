#include "mime/header.hpp"

namespace sealpost::mime {

namespace {

// RFC 5322 section 3.6.8: printable US-ASCII except colon.
bool is_ftext(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != ':';
}

}  // namespace

Result<Header, HeaderError> split_header(std::string_view message, std::size_t max_fields) {
  Header header;
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (message.compare(pos, 2, "\r\n") == 0) {  // the empty line: the body follows
      header.body_offset = pos + 2;
      return header;
    }
    // A field runs to the first CRLF not followed by whitespace (RFC 5322 section 2.2.3).
    std::size_t end = pos;
    while (true) {
      const auto crlf = message.find("\r\n", end);
      if (crlf == std::string_view::npos) {
        end = message.size();
        break;
      }
      end = crlf + 2;
      if (end >= message.size() || (message[end] != ' ' && message[end] != '\t')) break;
    }
    const std::string_view raw = message.substr(pos, end - pos);
    const auto colon = raw.find(':');
    if (colon == std::string_view::npos) return unexpected(HeaderError::kNoColon);
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name.empty()) return unexpected(HeaderError::kBadName);
    for (char c : name) {
      if (!is_ftext(c)) return unexpected(HeaderError::kBadName);
    }
    if (header.fields.size() >= max_fields) return unexpected(HeaderError::kTooManyFields);
    std::string_view value = raw.substr(colon + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    header.fields.push_back(HeaderField{name, raw, value});
    pos = end;
  }
  header.body_offset = message.size();
  return header;
}

}  // namespace sealpost::mime

#include "imap/protocol/fetch_body.hpp"

#include <algorithm>

#include "core/strings.hpp"
#include "mime/content.hpp"
#include "mime/imap_structure.hpp"

namespace sealpost::imap::protocol {

std::string part_path(const std::vector<std::uint32_t>& part) {
  std::string out;
  for (const auto n : part) {
    if (!out.empty()) out += '.';
    out += std::to_string(n);
  }
  return out;
}

namespace {

const mime::Part* part_for(const mime::Message& message, const std::vector<std::uint32_t>& part) {
  if (part.empty()) return &message.root;
  return mime::find_part(message, part_path(part));
}

// The message whose HEADER/TEXT a section names: the message itself, or the one a
// message/rfc822 (message/global) part encapsulates.
const mime::Part* message_for(const mime::Message& message,
                              const std::vector<std::uint32_t>& part) {
  if (part.empty()) return &message.root;
  const mime::Part* p = part_for(message, part);
  if (!p || p->kind != mime::PartKind::kMessage || p->children.empty()) return nullptr;
  return &p->children.front();
}

std::string header_fields(std::string_view raw, const mime::Part& message,
                          const std::vector<std::string>& names, bool exclude) {
  std::string out;
  for (const auto& field : message.fields) {
    const bool listed = std::any_of(names.begin(), names.end(),
                                    [&](const std::string& n) { return iequals(n, field.name); });
    if (listed != exclude) out += field.raw;
  }
  (void)raw;
  out += "\r\n";
  return out;
}

}  // namespace

namespace {

SectionBytes slice(std::string_view bytes) {
  return SectionBytes{bytes, std::nullopt};
}

SectionBytes made(std::string bytes) {
  return SectionBytes{{}, std::move(bytes)};
}

}  // namespace

Result<SectionBytes, SectionError> body_section(const mime::Message& message,
                                                const Section& section) {
  const std::string_view raw = message.raw;
  switch (section.text) {
    case SectionText::kNone: {
      if (section.part.empty()) return slice(raw);
      const mime::Part* p = part_for(message, section.part);
      if (!p) return unexpected(SectionError::kNoSuchPart);
      return slice(p->body.in(raw));
    }
    case SectionText::kMime: {
      const mime::Part* p = part_for(message, section.part);
      if (!p || section.part.empty()) return unexpected(SectionError::kNoSuchPart);
      return slice(p->header.in(raw));
    }
    case SectionText::kHeader:
    case SectionText::kHeaderFields:
    case SectionText::kHeaderFieldsNot:
    case SectionText::kText: {
      const mime::Part* m = message_for(message, section.part);
      if (!m) return unexpected(SectionError::kNoSuchPart);
      if (section.text == SectionText::kText) return slice(m->body.in(raw));
      if (section.text == SectionText::kHeader) return slice(m->header.in(raw));
      return made(
          header_fields(raw, *m, section.fields, section.text == SectionText::kHeaderFieldsNot));
    }
  }
  return unexpected(SectionError::kNoSuchPart);
}

Result<SectionBytes, SectionError> binary_section(const mime::Message& message,
                                                  const std::vector<std::uint32_t>& part) {
  if (part.empty()) return slice(message.raw);
  const mime::Part* p = part_for(message, part);
  if (!p) return unexpected(SectionError::kNoSuchPart);
  const std::string_view body = p->body.in(message.raw);
  if (p->kind != mime::PartKind::kLeaf) return slice(body);
  const std::string& cte = p->transfer_encoding;
  if (p->transfer_encoding_invalid) return unexpected(SectionError::kUnknownEncoding);
  if (cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary") return slice(body);
  if (cte != "base64" && cte != "quoted-printable")
    return unexpected(SectionError::kUnknownEncoding);
  return made(mime::decode_transfer_encoding(body, cte, body.size()));
}

bool binary_decodable(const mime::Message& message, const std::vector<std::uint32_t>& part) {
  if (part.empty()) return true;
  const mime::Part* p = part_for(message, part);
  if (!p || p->kind != mime::PartKind::kLeaf) return true;
  if (p->transfer_encoding_invalid) return false;
  const std::string& cte = p->transfer_encoding;
  return cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary" || cte == "base64" ||
         cte == "quoted-printable";
}

std::string_view apply_partial(std::string_view bytes, const std::optional<Partial>& partial) {
  if (!partial) return bytes;
  if (partial->offset >= bytes.size()) return {};
  return bytes.substr(static_cast<std::size_t>(partial->offset),
                      static_cast<std::size_t>(std::min<std::uint64_t>(
                          partial->length, bytes.size() - partial->offset)));
}

std::optional<std::string> to_crlf(std::string_view message) {
  bool clean = true;
  for (std::size_t i = 0; i < message.size() && clean; ++i) {
    if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) clean = false;
    if (message[i] == '\r' && (i + 1 == message.size() || message[i + 1] != '\n')) clean = false;
  }
  if (clean) return std::nullopt;
  std::string out;
  out.reserve(message.size() + message.size() / 32);
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < message.size() && message[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sealpost::imap::protocol

// Mail comes from anyone: the MIME parser and everything computed from its tree (ENVELOPE,
// BODYSTRUCTURE, part numbers, decoded header values, parameters, charsets) must take any bytes,
// give the input back from the tree's ranges, respect its limits and never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "mime/charset.hpp"
#include "mime/encoded_word.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"
#include "mime/params.hpp"

namespace {

using namespace sealpost::mime;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_part(const Part& p, std::size_t depth, std::size_t size, const Limits& limits) {
  check(p.depth == depth && depth < limits.max_depth);
  check(p.body.offset == p.header.end() && p.body.end() <= size);
  check(p.fields.size() <= limits.max_header_fields);
  check(p.content_type.params.size() <= limits.max_params);
  if (p.kind == PartKind::kMessage) check(p.children.size() == 1);
  if (p.kind == PartKind::kLeaf) check(p.children.empty());
  for (const Part& c : p.children) {
    check(c.header.offset >= p.body.offset && c.body.end() <= p.body.end());
    check_part(c, depth + 1, size, limits);
  }
}

// Parentheses balance outside quoted strings and literals, and everything is consumed.
void check_imap_syntax(std::string_view s) {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        check(s[i] != '\r' && s[i] != '\n' && static_cast<unsigned char>(s[i]) < 0x80);
        if (s[i] == '\\') ++i;
      }
      check(i < s.size());
    } else if (c == '{') {
      const auto close = s.find("}\r\n", i);
      check(close != std::string_view::npos && close > i + 1);
      std::size_t n = 0;
      for (std::size_t k = i + 1; k < close; ++k) {
        check(s[k] >= '0' && s[k] <= '9');
        n = n * 10 + static_cast<std::size_t>(s[k] - '0');
      }
      check(close + 3 + n <= s.size());
      check(s.substr(close + 3, n).find('\0') == std::string_view::npos);
      i = close + 2 + n;  // the loop steps past the literal
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      check(depth > 0);
      --depth;
    }
  }
  check(depth == 0);
}

constexpr std::string_view kCharsets[] = {
    "utf-8", "iso-8859-1", "ks_c_5601-1987", "shift_jis", "iso-2022-jp", "gb2312",
    "big5",  "utf-16",     "utf-7",          "koi8-r",    "x-unknown",   "euc-jp"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::uint8_t selector = size > 0 ? data[0] : 0;

  Limits limits;
  if (selector & 1) {  // small limits, so that small inputs reach them
    limits.max_depth = 4;
    limits.max_parts = 8;
    limits.max_header_fields = 8;
    limits.max_params = 4;
    limits.max_message_size = size / 2;
  }
  auto parsed = parse_message(in, limits);
  check(parsed.has_value());
  const Message& m = *parsed;
  check(serialize(m) == in);
  check(m.part_count >= 1 && m.part_count <= limits.max_parts);
  check_part(m.root, 0, size, limits);

  const ImapStructure s = imap_structure(m);
  check_imap_syntax(s.envelope);
  check_imap_syntax(s.body);
  check_imap_syntax(s.body_structure);
  check_imap_syntax(imap_body_structure(m.root, {.extensible = true, .imap4rev2 = true}));
  for (std::string_view section : {"1", "2", "1.1", "2.1", "1.2.1", "3.1.1"}) {
    if (const Part* p = find_part(m, section)) check(p->body.end() <= size);
  }

  const std::string decoded = decode_header_value(in);
  check(sealpost::core::is_valid_utf8(decoded) && decoded.size() <= kMaxDecodedHeader);
  if (const auto ct = parse_content_type(in)) {
    check(!ct->type.empty() && !ct->subtype.empty() && ct->params.size() <= kMaxParams);
    for (const auto& p : ct->params) check(sealpost::core::is_valid_utf8(p.value));
  }
  if (const auto cd = parse_content_disposition(in)) check(cd->params.size() <= kMaxParams);
  for (const auto& a : parse_envelope_addresses(in, 50)) {
    check(!a.host || a.mailbox);
  }
  const std::string converted = to_utf8(in, kCharsets[selector % std::size(kCharsets)], 4096);
  check(sealpost::core::is_valid_utf8(converted) && converted.size() <= 4096);
  return 0;
}

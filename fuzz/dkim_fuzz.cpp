// DKIM-Signature fields, key records and message headers are attacker-controlled: every parser
// and canonicaliser must return a value or an error for any bytes, within bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/dkim/canon.hpp"
#include "auth/dkim/record.hpp"
#include "mime/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace sealpost::auth::dkim;
  if (auto tags = parse_tags(in)) {
    for (const auto& t : tags.value()) {
      if (t.value_begin > t.value_end || t.value_end > size) __builtin_trap();
    }
  }
  if (auto sig = parse_signature(in)) {
    if (sig->bh.size() != 32 || sig->domain.empty() || sig->headers.empty()) __builtin_trap();
  }
  (void)without_b_value(in);
  (void)parse_key_record(in);
  if (auto header = sealpost::mime::split_header(in)) {
    if (header->body_offset > size) __builtin_trap();
    std::string out;
    for (const auto& f : header->fields) {
      canonical_header(Canon::kRelaxed, f.name, f.raw, out);
      if (out.size() > 2 * size + 4) __builtin_trap();
    }
    const auto body = in.substr(header->body_offset);
    const std::string relaxed = canonical_body(Canon::kRelaxed, body);
    if (relaxed.size() > body.size() + 2) __builtin_trap();
    if (relaxed != detail::canonical_body_portable(Canon::kRelaxed, body)) __builtin_trap();
    if (canonical_body(Canon::kSimple, body).size() > body.size() + 2) __builtin_trap();
  }
  return 0;
}

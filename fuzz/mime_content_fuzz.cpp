// Bodies and dates come from anyone: transfer decoding, date reading and the search text must
// stay within their bounds on any input, and never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mime/content.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sealpost::mime;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const char* encoding : {"base64", "quoted-printable", "7bit"}) {
    if (decode_transfer_encoding(in, encoding, 4096).size() > 4096) __builtin_trap();
  }
  // Base64 never grows, quoted-printable never grows.
  if (decode_transfer_encoding(in, "base64", size + 1).size() > size) __builtin_trap();
  if (decode_transfer_encoding(in, "quoted-printable", size + 1).size() > size) __builtin_trap();
  (void)parse_rfc5322_date(in);
  if (auto m = parse_message(in)) {
    if (searchable_text(m.value(), 1000).size() > 1000) __builtin_trap();
  }
  return 0;
}

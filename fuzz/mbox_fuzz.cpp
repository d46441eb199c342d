// mbox files come from anywhere: any bytes must read without a crash or a hang, entries must lie
// inside the input, and any CRLF message written as mboxrd must read back byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mime/mbox.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sealpost::mime;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t pos = 0;
  std::size_t count = 0;
  while (auto e = next_mbox_entry(in, pos)) {
    if (e->content.data() < in.data() || e->content.data() + e->content.size() > in.data() + size) {
      __builtin_trap();
    }
    (void)mbox_content_to_message(e->content, 1 << 20);
    (void)parse_from_line(e->from_line);
    if (++count > size + 1) __builtin_trap();  // every entry consumes input
  }
  // Round trip: the input made into a CRLF message (no bare CR or LF, as the store holds them).
  std::string message;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = in[i];
    if (c == '\r') continue;
    if (c == '\n') {
      message += "\r\n";
    } else {
      message += c;
    }
  }
  if (message.empty()) return 0;  // mbox cannot hold an empty message (the store has none)
  if (!message.ends_with("\r\n")) message += "\r\n";
  std::string box;
  append_mboxrd(box, mbox_from_line("fuzz@example.com", 0), message);
  append_mboxrd(box, mbox_from_line("", 1), message);
  pos = 0;
  for (int i = 0; i < 2; ++i) {
    const auto e = next_mbox_entry(box, pos);
    if (!e) __builtin_trap();
    const auto back = mbox_content_to_message(e->content, box.size() + 16);
    if (!back || *back != message) __builtin_trap();
  }
  if (next_mbox_entry(box, pos)) __builtin_trap();
  return 0;
}

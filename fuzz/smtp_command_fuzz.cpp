// The SMTP command parser on arbitrary lines: a typed command or a reply, never a crash, and
// every rejection a well-formed reply (code 5xx with an RFC 3463 enhanced code).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/protocol/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (const bool utf8 : {false, true}) {
    auto parsed = sealpost::smtp::protocol::parse_command(line, utf8);
    if (parsed) {
      const auto& cmd = parsed.value();
      // A parsed path never exceeds the RFC 5321 limits.
      if (cmd.path.mailbox.local.size() > sealpost::smtp::protocol::kMaxLocalPart) __builtin_trap();
      if (cmd.path.mailbox.domain.size() > sealpost::smtp::protocol::kMaxDomain) __builtin_trap();
      (void)cmd.path.mailbox.to_string();
    } else {
      const auto& reply = parsed.error();
      if (reply.code < 500 || reply.code > 555) __builtin_trap();
      if (reply.enhanced.size() < 5 || reply.enhanced[0] != '5') __builtin_trap();
      (void)reply.serialize();
    }
  }
  (void)sealpost::smtp::protocol::parse_path(line, true);
  return 0;
}

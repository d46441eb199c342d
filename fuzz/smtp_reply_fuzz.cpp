// Replies from other servers are hostile input: the bounded reply parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "smtp/protocol/reply_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view buffer(reinterpret_cast<const char*>(data), size);
  sealpost::smtp::protocol::ServerReply reply;
  // Parse pipelined replies one after another, as the relay client does.
  for (int i = 0; i < 100; ++i) {
    std::size_t used = 0;
    const auto r = sealpost::smtp::protocol::parse_reply(buffer, reply, used);
    if (r != sealpost::smtp::protocol::ReplyParse::kComplete) break;
    if (used == 0 || used > buffer.size()) __builtin_trap();
    if (reply.code < 200 || reply.code > 599) __builtin_trap();
    if (reply.lines.size() > sealpost::smtp::protocol::kMaxReplyLines) __builtin_trap();
    (void)reply.has_extension("PIPELINING");
    (void)reply.text();
    buffer.remove_prefix(used);
  }
  return 0;
}

// The POP3 command parser on arbitrary lines: a typed command within the RFC limits or a reason
// for -ERR, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pop3/protocol/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sealpost::pop3::protocol;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    const std::size_t lf = in.find('\n');
    std::string_view line = in.substr(0, lf);
    in = lf == std::string_view::npos ? std::string_view{} : in.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    auto parsed = parse_command(line);
    if (parsed) {
      const Command& c = parsed.value();
      const std::size_t limit = c.verb == Verb::kPass ? kMaxPassLine : kMaxCommandLine;
      if (line.size() + 2 > limit) __builtin_trap();
      if (c.argument.size() >= line.size()) __builtin_trap();
      if (c.message && *c.message == 0) __builtin_trap();
      const bool needs_message =
          c.verb == Verb::kRetr || c.verb == Verb::kDele || c.verb == Verb::kTop;
      if (needs_message && !c.message) __builtin_trap();
      if (c.verb == Verb::kPass && (c.argument.empty() || line.substr(5) != c.argument)) {
        __builtin_trap();
      }
      if (c.verb == Verb::kApop && c.digest.size() != 32) __builtin_trap();
      if (c.initial_response && c.initial_response->empty()) __builtin_trap();
    } else if (parsed.error().empty()) {
      __builtin_trap();
    }
    if (auto sasl = parse_sasl_response(line); sasl && !sasl->cancelled) {
      if (sasl->base64.size() % 4 != 0 || sasl->base64 != line) __builtin_trap();
    }
  }
  return 0;
}

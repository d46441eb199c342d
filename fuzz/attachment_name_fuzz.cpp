// The filter's attachment-name check on arbitrary names and types. Invariants: it never reads
// past the name (broken UTF-8 included), every finding has a fixed symbol, a name with a program's
// extension is always refused, and the verdict over its findings is one of the four actions.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/attachment_name.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t split = in.find('\n');
  const std::string_view name = in.substr(0, split);
  const std::string_view type = split == std::string_view::npos ? "" : in.substr(split + 1);
  const auto findings = sealpost::filter::check_attachment_name(name, type);
  for (const auto& f : findings) {
    if (f.symbol.empty() || f.symbol.size() > sealpost::filter::kMaxSymbol) __builtin_trap();
  }
  const auto v = sealpost::filter::decide(findings, {});
  if (sealpost::filter::extension_of(name) == "exe" &&
      v.action != sealpost::filter::Action::kReject) {
    __builtin_trap();
  }
  if (findings.size() > 4) __builtin_trap();
  return 0;
}

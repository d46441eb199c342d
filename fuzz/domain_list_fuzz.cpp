// The local category lists' parser ([filter] adult_lists) on arbitrary text: bounded, and every
// domain it keeps is found again by contains(), as are the names under it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/domain.hpp"
#include "filter/domain_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sealpost::filter::DomainList list;
  const std::size_t rejected = list.add(text);
  if (list.size() + rejected > size) __builtin_trap();  // at most one entry per line
  // The first line, when it is a domain, is found, and so is a name under it.
  std::string_view first = text.substr(0, text.find('\n'));
  if (first.find('#') == std::string_view::npos && !first.empty() && first.size() < 200) {
    if (const auto a = sealpost::core::to_a_label(first);
        a && !a->empty() && a->back() != '.' && first.find(' ') == std::string_view::npos &&
        first.find('\t') == std::string_view::npos && first.find('\r') == std::string_view::npos) {
      if (!list.contains(*a) || !list.contains("www." + *a)) __builtin_trap();
    }
  }
  (void)list.contains(text.substr(0, 300));
  return 0;
}

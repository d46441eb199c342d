// The filter's look at an attachment's bytes on arbitrary input: the archive walk (libarchive,
// nested archives, the bounds on members and bytes unpacked) and the compound file directory
// reader, which also gets the input directly. Invariants: both end within their limits whatever
// the headers claim; each symbol is reported at most once, and only the documented ones; names
// read from a compound file are UTF-8 of at most 31 characters.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/utf8.hpp"
#include "filter/attachment_content.hpp"
#include "filter/compound_file.hpp"

namespace {

constexpr auto kSymbols = std::to_array<std::string_view>(
    {"ATTACHMENT_EXECUTABLE_CONTENT", "ARCHIVE_EXECUTABLE", "ARCHIVE_BIDI_NAME", "OFFICE_MACRO",
     "ARCHIVE_DOUBLE_EXTENSION", "ARCHIVE_ENCRYPTED", "ARCHIVE_TOO_DEEP", "ARCHIVE_TOO_MANY",
     "ARCHIVE_TOO_LARGE", "ARCHIVE_UNREADABLE"});

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  sealpost::filter::CompoundFileLimits cfb_limits;
  cfb_limits.max_entries = 64;
  if (const auto dir = sealpost::filter::read_compound_file_directory(bytes, cfb_limits)) {
    if (dir->entries.size() > cfb_limits.max_entries) __builtin_trap();
    for (const auto& e : dir->entries) {
      if (e.name.size() > 31 * 3 || !sealpost::core::is_valid_utf8(e.name)) __builtin_trap();
    }
  }

  sealpost::filter::ContentLimits limits;
  limits.magic_bytes = 64 * 1024;
  limits.max_members = 64;
  limits.max_unpacked = 1024 * 1024;
  limits.min_budget = 64 * 1024;
  limits.max_member = 256 * 1024;
  const auto scan = sealpost::filter::check_attachment_content(bytes, "attachment.zip", limits);
  if (scan.members > limits.max_members + 1 || scan.unpacked > limits.max_unpacked) {
    __builtin_trap();
  }
  if (scan.findings.size() > kSymbols.size()) __builtin_trap();
  for (std::size_t i = 0; i < scan.findings.size(); ++i) {
    const auto& f = scan.findings[i];
    if (std::find(kSymbols.begin(), kSymbols.end(), f.symbol) == kSymbols.end()) __builtin_trap();
    for (std::size_t j = 0; j < i; ++j) {
      if (scan.findings[j].symbol == f.symbol) __builtin_trap();
    }
  }
  return 0;
}

// The directory of a Compound File Binary ([MS-CFB], "OLE2": .doc, .xls, .ppt, .msi, and the
// vbaProject.bin inside .docm and .xlsm): the names of its storages and streams, which is what a
// mail filter needs to see macros (a "VBA" or "Macros" storage, as oletools' olevba looks for)
// and installers (the root's class id). libmagic names the file type but not what is inside.
//
// Hostile input: the header's sector size, counts and chains are checked against the buffer, and
// every chain (the DIFAT's, the directory's) is followed for at most as many steps as the buffer
// has sectors, so a loop ends. Lenient where Office is (version and byte-order fields, a
// truncated last sector). The red-black tree of the directory is not needed to find names: the
// entries are read in order. Pure: bytes in, names out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::filter {

inline constexpr std::string_view kCompoundFileSignature{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8};

enum class CompoundFileEntryType : std::uint8_t {
  kStorage = 1,
  kStream = 2,
  kRoot = 5,
};

struct CompoundFileEntry {
  std::string name;  // UTF-8 (the file stores UTF-16LE), at most 31 characters
  CompoundFileEntryType type = CompoundFileEntryType::kStream;
};

struct CompoundFileDirectory {
  // The allocated entries, in directory order: the root comes first in a well-formed file.
  std::vector<CompoundFileEntry> entries;
  // The root entry's class id as stored (the first three fields little-endian): an installer's
  // says {000C1084-0000-0000-C000-000000000046}. All zero when there is no root entry.
  std::array<std::uint8_t, 16> root_clsid{};
  // The walk ended early: a chain left the buffer or looped, or max_entries was reached.
  bool incomplete = false;
};

struct CompoundFileLimits {
  std::size_t max_entries = 4096;  // allocated directory entries kept
};

enum class CompoundFileError : std::uint8_t {
  kNotCompoundFile,  // no signature, or shorter than its header
  kBadHeader,        // a sector size other than 512 or 4096, or no directory sector in the file
};

Result<CompoundFileDirectory, CompoundFileError> read_compound_file_directory(
    std::string_view bytes, const CompoundFileLimits& limits = {});

}  // namespace sealpost::filter

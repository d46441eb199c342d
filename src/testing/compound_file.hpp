// Test helper: a minimal Compound File Binary ([MS-CFB], version 3, 512-byte sectors) written
// here rather than checked in: the header, one FAT sector (sector 0), then the directory
// (sectors 1..n, four entries each, the root first). Enough for readers that walk the directory;
// there are no stream contents.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::testing {

struct CompoundFileSpec {
  struct Entry {
    std::string name;       // ASCII
    std::uint8_t type = 2;  // 1 storage, 2 stream
  };
  std::vector<Entry> entries;  // after the root
  std::array<std::uint8_t, 16> root_clsid{};
  bool directory_loops = false;  // the directory chain's last sector points back to its first
};

namespace compound_file_detail {

inline void put16(std::string& s, std::size_t at, std::uint16_t v) {
  s[at] = static_cast<char>(v & 0xFF);
  s[at + 1] = static_cast<char>(v >> 8);
}

inline void put32(std::string& s, std::size_t at, std::uint32_t v) {
  put16(s, at, static_cast<std::uint16_t>(v & 0xFFFF));
  put16(s, at + 2, static_cast<std::uint16_t>(v >> 16));
}

inline std::string entry(std::string_view name, std::uint8_t type, std::uint32_t right,
                         std::uint32_t child) {
  std::string e(128, '\0');
  for (std::size_t i = 0; i < name.size() && i < 31; ++i) e[i * 2] = name[i];
  put16(e, 64, static_cast<std::uint16_t>((std::min<std::size_t>(name.size(), 31) + 1) * 2));
  e[66] = static_cast<char>(type);
  e[67] = 1;                  // black
  put32(e, 68, 0xFFFFFFFF);   // left sibling
  put32(e, 72, right);        // right sibling
  put32(e, 76, child);        // child
  put32(e, 116, 0xFFFFFFFE);  // starting sector: none
  return e;
}

}  // namespace compound_file_detail

inline std::string compound_file(const CompoundFileSpec& spec) {
  using compound_file_detail::entry;
  using compound_file_detail::put16;
  using compound_file_detail::put32;
  constexpr std::uint32_t kNone = 0xFFFFFFFF;
  constexpr std::uint32_t kEnd = 0xFFFFFFFE;

  std::vector<std::string> dir;
  std::string root = entry("Root Entry", 5, kNone, spec.entries.empty() ? kNone : 1);
  std::copy(spec.root_clsid.begin(), spec.root_clsid.end(), root.begin() + 80);
  dir.push_back(root);
  for (std::size_t i = 0; i < spec.entries.size(); ++i) {
    const auto right = i + 1 < spec.entries.size() ? static_cast<std::uint32_t>(i + 2) : kNone;
    dir.push_back(entry(spec.entries[i].name, spec.entries[i].type, right, kNone));
  }
  while (dir.size() % 4 != 0) dir.emplace_back(128, '\0');  // unallocated entries
  const std::size_t dir_sectors = dir.size() / 4;

  std::string header(512, '\0');
  header.replace(0, 8, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
  put16(header, 24, 0x003E);  // minor version
  put16(header, 26, 3);       // major version
  put16(header, 28, 0xFFFE);  // byte order
  put16(header, 30, 9);       // sector shift: 512
  put16(header, 32, 6);       // mini sector shift: 64
  put32(header, 44, 1);       // FAT sectors
  put32(header, 48, 1);       // first directory sector
  put32(header, 56, 4096);    // mini stream cutoff
  put32(header, 60, kEnd);    // first mini FAT sector
  put32(header, 68, kEnd);    // first DIFAT sector
  put32(header, 76, 0);       // DIFAT[0]: the FAT is sector 0
  for (std::size_t i = 1; i < 109; ++i) put32(header, 76 + i * 4, kNone);

  std::string fat(512, '\xFF');
  put32(fat, 0, 0xFFFFFFFD);  // sector 0 is the FAT
  for (std::size_t s = 1; s <= dir_sectors; ++s) {
    const bool last = s == dir_sectors;
    put32(fat, s * 4, last ? (spec.directory_loops ? 1 : kEnd) : static_cast<std::uint32_t>(s + 1));
  }

  std::string out = header + fat;
  for (const auto& e : dir) out += e;
  return out;
}

}  // namespace sealpost::testing

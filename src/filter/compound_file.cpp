#include "filter/compound_file.hpp"

#include <algorithm>
#include <optional>

#include "core/utf8.hpp"

namespace sealpost::filter {
namespace {

// [MS-CFB] 2.1: sector numbers above this are markers (DIFSECT, FATSECT, ENDOFCHAIN, FREESECT).
constexpr std::uint32_t kMaxRegularSector = 0xFFFFFFFA;
constexpr std::size_t kHeaderSize = 512;
constexpr std::size_t kHeaderDifatEntries = 109;
constexpr std::size_t kEntrySize = 128;

std::uint16_t le16(std::string_view b, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) |
                                    (static_cast<unsigned char>(b[at + 1]) << 8));
}

std::uint32_t le32(std::string_view b, std::size_t at) noexcept {
  return static_cast<std::uint32_t>(le16(b, at)) |
         (static_cast<std::uint32_t>(le16(b, at + 2)) << 16);
}

// The sectors after the header; the last may be cut short (Office reads such files).
class Sectors {
 public:
  Sectors(std::string_view bytes, std::size_t size) : bytes_(bytes), size_(size) {
    count_ = bytes.size() > size ? (bytes.size() - size + size - 1) / size : 0;
  }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // Sector `n`'s bytes (fewer for a truncated last sector), empty when it is not in the file.
  [[nodiscard]] std::string_view get(std::uint32_t n) const noexcept {
    if (n >= count_) return {};
    return bytes_.substr((std::size_t{n} + 1) * size_, size_);
  }
  // The 32-bit entry `index` of sector `n`, or nullopt when that is not in the file.
  [[nodiscard]] std::optional<std::uint32_t> entry(std::uint32_t n, std::size_t index) const {
    const std::string_view s = get(n);
    if ((index + 1) * 4 > s.size()) return std::nullopt;
    return le32(s, index * 4);
  }

 private:
  std::string_view bytes_;
  std::size_t size_;
  std::size_t count_;
};

// Where the FAT's sectors are: the header's 109 DIFAT entries, then the DIFAT chain. Only as many
// as it takes to cover the file's sectors are kept, so a header claiming millions costs nothing.
std::vector<std::uint32_t> fat_sectors(std::string_view header, const Sectors& sectors) {
  const std::size_t per_sector = sectors.size() / 4;
  const std::size_t needed = (sectors.count() + per_sector - 1) / per_sector;
  const std::size_t wanted = std::min<std::size_t>(le32(header, 44), needed);
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < kHeaderDifatEntries && out.size() < wanted; ++i) {
    out.push_back(le32(header, 76 + i * 4));
  }
  std::uint32_t difat = le32(header, 68);
  std::vector<bool> seen(sectors.count());
  while (out.size() < wanted && difat < sectors.count() && !seen[difat]) {
    seen[difat] = true;
    for (std::size_t i = 0; i + 1 < per_sector && out.size() < wanted; ++i) {
      const auto loc = sectors.entry(difat, i);
      if (!loc) return out;
      out.push_back(*loc);
    }
    const auto next = sectors.entry(difat, per_sector - 1);
    if (!next) break;
    difat = *next;
  }
  return out;
}

// The UTF-16LE name of a directory entry ([MS-CFB] 2.6.1: at most 31 units and a terminator; the
// length field counts bytes, terminator included). Unpaired surrogates become U+FFFD.
std::string entry_name(std::string_view entry) {
  const std::size_t length = std::min<std::size_t>(le16(entry, 64), 64);
  const std::size_t units = length >= 2 ? length / 2 - 1 : 0;
  std::string out;
  for (std::size_t i = 0; i < units; ++i) {
    char32_t c = le16(entry, i * 2);
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units) {
      const char32_t low = le16(entry, (i + 1) * 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        ++i;
      }
    }
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    core::append_utf8(out, c);
  }
  return out;
}

}  // namespace

Result<CompoundFileDirectory, CompoundFileError> read_compound_file_directory(
    std::string_view bytes, const CompoundFileLimits& limits) {
  if (bytes.size() < kHeaderSize || !bytes.starts_with(kCompoundFileSignature)) {
    return unexpected(CompoundFileError::kNotCompoundFile);
  }
  const std::string_view header = bytes.substr(0, kHeaderSize);
  // Version 3 files use 512-byte sectors, version 4 files 4096; the version field itself is not
  // trusted to agree.
  const std::uint16_t shift = le16(header, 30);
  if (shift != 9 && shift != 12) return unexpected(CompoundFileError::kBadHeader);
  const Sectors sectors(bytes, std::size_t{1} << shift);
  std::uint32_t sector = le32(header, 48);
  if (sector >= sectors.count()) return unexpected(CompoundFileError::kBadHeader);

  const std::vector<std::uint32_t> fat = fat_sectors(header, sectors);
  const std::size_t per_fat_sector = sectors.size() / 4;
  const auto next = [&](std::uint32_t s) -> std::optional<std::uint32_t> {
    const std::size_t index = s / per_fat_sector;
    if (index >= fat.size()) return std::nullopt;
    return sectors.entry(fat[index], s % per_fat_sector);
  };

  CompoundFileDirectory dir;
  bool root_seen = false;
  // Each sector at most once: a chain that comes back on itself ends there.
  std::vector<bool> seen(sectors.count());
  while (true) {
    if (sector > kMaxRegularSector) break;  // ENDOFCHAIN, or a marker where a sector should be
    if (sector >= sectors.count() || seen[sector]) {
      dir.incomplete = true;
      break;
    }
    seen[sector] = true;
    const std::string_view s = sectors.get(sector);
    for (std::size_t at = 0; at + kEntrySize <= s.size(); at += kEntrySize) {
      const std::string_view entry = s.substr(at, kEntrySize);
      const auto type = static_cast<std::uint8_t>(entry[66]);
      if (type != 1 && type != 2 && type != 5) continue;  // unallocated, or unknown
      if (dir.entries.size() >= limits.max_entries) {
        dir.incomplete = true;
        return dir;
      }
      dir.entries.push_back({entry_name(entry), static_cast<CompoundFileEntryType>(type)});
      if (type == 5 && !root_seen) {
        root_seen = true;
        std::copy_n(entry.begin() + 80, dir.root_clsid.size(), dir.root_clsid.begin());
      }
    }
    const auto following = next(sector);
    if (!following) {
      dir.incomplete = true;
      break;
    }
    sector = *following;
  }
  return dir;
}

}  // namespace sealpost::filter

#include "filter/attachment_content.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include <archive.h>
#include <archive_entry.h>
#include <magic.h>

#include "core/strings.hpp"
#include "filter/attachment_name.hpp"
#include "filter/compound_file.hpp"

namespace sealpost::filter {
namespace {

// What libmagic calls a program: Windows (PE, and the older NE), Linux (ELF), macOS (Mach-O),
// Windows Installer packages, Java classes and archives.
constexpr auto kExecutableTypes = std::to_array<std::string_view>({
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/x-ms-ne-executable",
    "application/x-executable",
    "application/x-pie-executable",
    "application/x-sharedlib",
    "application/x-mach-binary",
    "application/x-msi",
    "application/x-java-applet",
    "application/java-archive",
});

// The class ids of Windows Installer packages and patches, as a compound file stores them.
constexpr std::array<std::uint8_t, 16> kMsiClsid{0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
constexpr std::array<std::uint8_t, 16> kMspClsid{0x86, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

// The storages and streams that hold VBA macros in Word, Excel and PowerPoint files (olevba).
constexpr auto kMacroEntries =
    std::to_array<std::string_view>({"vba", "_vba_project", "_vba_project_cur", "macros"});

// libmagic's decompression (MAGIC_NO_CHECK_COMPRESS: libarchive does that, bounded), its
// compound-file and tar readers (compound_file.hpp and libarchive do that) and the checks whose
// answer a mail filter does not need (text, encodings, OS/2 types) are off: half the time per
// file.
constexpr int kMagicFlags = MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS |
                            MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV |
                            MAGIC_NO_CHECK_TEXT | MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_TOKENS |
                            MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_APPTYPE;

class MagicCookie {
 public:
  MagicCookie() : cookie_(magic_open(kMagicFlags)) {
    if (cookie_ == nullptr) return;
    if (magic_load(cookie_, nullptr) != 0) {
      magic_close(cookie_);
      cookie_ = nullptr;
      return;
    }
    // Lower than libmagic's defaults: the type is known from the first bytes (how many is set
    // for each call), and ELF's headers are not walked for details.
    const std::size_t elf_max = 128;
    const std::size_t indirect_max = 8;
    magic_setparam(cookie_, MAGIC_PARAM_ELF_PHNUM_MAX, &elf_max);
    magic_setparam(cookie_, MAGIC_PARAM_ELF_SHNUM_MAX, &elf_max);
    magic_setparam(cookie_, MAGIC_PARAM_ELF_NOTES_MAX, &elf_max);
    magic_setparam(cookie_, MAGIC_PARAM_INDIR_MAX, &indirect_max);
  }
  ~MagicCookie() {
    if (cookie_ != nullptr) magic_close(cookie_);
  }
  MagicCookie(const MagicCookie&) = delete;
  MagicCookie& operator=(const MagicCookie&) = delete;

  [[nodiscard]] magic_t get() const noexcept { return cookie_; }

 private:
  magic_t cookie_;
};

// One per thread, opened on first use: a magic_t must not be shared between threads.
magic_t thread_magic() {
  thread_local const MagicCookie cookie;
  return cookie.get();
}

// The first bytes every type in kExecutableTypes starts with, as the system that runs it
// requires: MS-DOS, NE and PE programs "MZ" (DOS also took "ZM"), ELF "\x7FELF", Mach-O its
// magic number in either byte order, Java classes and Mach-O universal binaries 0xCAFEBABE. (A
// Java archive is a zip: Walk reads its members, and its classes are programs. An MSI package is
// a compound file: Walk reads its class id.) Only such a file is given to
// libmagic (which says which type it is, if any): libmagic tries every rule of its database on
// any other, 20 to 130 us for a PDF, an image or unknown data, and a millisecond for text.
constexpr auto kProgramStarts = std::to_array<std::string_view>({
    "MZ",
    "ZM",
    "\x7F"
    "ELF",
    "\xFE\xED\xFA\xCE",
    "\xFE\xED\xFA\xCF",
    "\xCE\xFA\xED\xFE",
    "\xCF\xFA\xED\xFE",
    "\xCA\xFE\xBA\xBE",
});

bool may_be_a_program(std::string_view bytes) noexcept {
  return std::any_of(kProgramStarts.begin(), kProgramStarts.end(),
                     [&](std::string_view start) { return bytes.starts_with(start); });
}

std::string magic_type_with(magic_t magic, std::string_view bytes, std::size_t max_bytes) {
  if (magic == nullptr || bytes.empty()) return {};
  const std::size_t n = std::min(bytes.size(), max_bytes);
  magic_setparam(magic, MAGIC_PARAM_BYTES_MAX, &n);
  const char* type = magic_buffer(magic, bytes.data(), n);
  return type == nullptr ? std::string() : std::string(type);
}

struct ArchiveFree {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// A reader of the formats mail carries archives in. Left out: mtree (its entries name files on
// this machine, which the reader would open), xar and warc (not mail's, and more parser to
// expose), and every filter libarchive would run an external program for (lrzip, lzop, grzip,
// and any whose library it was built without).
ArchivePtr open_archive(std::string_view bytes) {
  ArchivePtr a(archive_read_new());
  if (!a) return nullptr;
  archive* r = a.get();
  archive_read_support_format_zip(r);
  archive_read_support_format_7zip(r);
  archive_read_support_format_rar(r);
  archive_read_support_format_rar5(r);
  archive_read_support_format_tar(r);
  archive_read_support_format_cab(r);
  archive_read_support_format_iso9660(r);
  // A compressed file that is not an archive: one member, the decompressed bytes.
  archive_read_support_format_raw(r);
  archive_read_support_filter_compress(r);
  if (archive_zlib_version() != nullptr) archive_read_support_filter_gzip(r);
  if (archive_bzlib_version() != nullptr) archive_read_support_filter_bzip2(r);
  if (archive_liblzma_version() != nullptr) {
    archive_read_support_filter_xz(r);
    archive_read_support_filter_lzma(r);
    archive_read_support_filter_lzip(r);
  }
  if (archive_libzstd_version() != nullptr) archive_read_support_filter_zstd(r);
  if (archive_liblz4_version() != nullptr) archive_read_support_filter_lz4(r);
  if (archive_read_open_memory(r, bytes.data(), bytes.size()) != ARCHIVE_OK) return nullptr;
  return a;
}

// Images and PDFs, most of what mail attaches, start with a signature of their own, and
// libarchive's readers (open_archive's) look for theirs at the start of the data, with three
// exceptions: the zip reader also finds a zip from its end (its end-of-central-directory record,
// "PK\5\6", within the last 64 KiB + 22 octets: an archive appended to an image is one), the
// tar reader takes any first 512 octets whose checksum field is right (a V7 header has no
// signature), and the ISO 9660 reader looks 32 KiB in ("CD001"). A file with one of these
// signatures and none of those three is no archive to libarchive, which is not asked: opening a
// reader and letting each format bid costs more than looking here. Anything else is asked.
constexpr auto kPlainStarts = std::to_array<std::string_view>({
    "\x89PNG\r\n\x1A\n",
    "\xFF\xD8\xFF",  // JPEG
    "GIF87a",
    "GIF89a",
    "%PDF-",
});

bool is_plain_file(std::string_view bytes) noexcept {
  if (std::none_of(kPlainStarts.begin(), kPlainStarts.end(),
                   [&](std::string_view start) { return bytes.starts_with(start); })) {
    return false;
  }
  // A tar header's checksum field: octal digits, ended by a space or NUL. Any such field sends
  // the file to libarchive, which checks the sum itself.
  constexpr std::size_t kTarChecksum = 148;
  constexpr std::size_t kTarChecksumSize = 8;
  if (bytes.size() >= 512) {
    const std::string_view field = bytes.substr(kTarChecksum, kTarChecksumSize);
    if (std::all_of(field.begin(), field.end(),
                    [](char c) { return (c >= '0' && c <= '7') || c == ' ' || c == '\0'; })) {
      return false;
    }
  }
  constexpr std::size_t kIsoDescriptor = 32769;
  if (bytes.size() > kIsoDescriptor && bytes.substr(kIsoDescriptor).starts_with("CD001")) {
    return false;
  }
  constexpr std::size_t kZipTail = (std::size_t{64} << 10) + 22;
  const std::string_view tail = bytes.substr(bytes.size() - std::min(bytes.size(), kZipTail));
  return tail.find("PK\x05\x06") == std::string_view::npos;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The name of what a compressed file holds: "report.exe.gz" holds "report.exe".
std::string_view without_extension(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(0, dot);
}

std::string mebibytes(std::size_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

bool is_office_macro_member(std::string_view path) {
  const std::string lower = to_lower_ascii(path);
  // VBA in OOXML (word/vbaProject.bin, xl/, ppt/), and Excel 4.0 macro sheets (xl/macrosheets/).
  return lower.ends_with("vbaproject.bin") || lower.starts_with("xl/macrosheets/") ||
         lower.find("/xl/macrosheets/") != std::string::npos;
}

class Walk {
 public:
  Walk(const ContentLimits& limits, magic_t magic, ContentScan& scan)
      : limits_(limits), magic_(magic), scan_(scan) {}

  // Looks at one file: the attachment (level 0) or an archive's member (the level of its
  // archive). True when it is an archive or a compound file (something with files inside).
  bool inspect(std::string_view bytes, std::string_view name, std::size_t level) {
    const std::string_view where = level == 0 ? "" : " in an archive";
    std::string type;
    if (may_be_a_program(bytes)) {
      ++scan_.typed;
      type = magic_type_with(magic_, bytes, limits_.magic_bytes);
    }
    if (std::find(kExecutableTypes.begin(), kExecutableTypes.end(), type) !=
        kExecutableTypes.end()) {
      add({"ATTACHMENT_EXECUTABLE_CONTENT", 0,
           "a program by its content (" + type + ")" + std::string(where), Action::kReject});
    }
    bool container = false;
    if (bytes.starts_with(kCompoundFileSignature)) {
      const auto dir = read_compound_file_directory(bytes);
      if (dir) {
        container = true;
        if (dir->root_clsid == kMsiClsid || dir->root_clsid == kMspClsid) {
          add({"ATTACHMENT_EXECUTABLE_CONTENT", 0,
               "a Windows Installer package by its content" + std::string(where), Action::kReject});
        }
        const bool macros =
            std::any_of(dir->entries.begin(), dir->entries.end(), [](const CompoundFileEntry& e) {
              const std::string lower = to_lower_ascii(e.name);
              return std::find(kMacroEntries.begin(), kMacroEntries.end(), lower) !=
                     kMacroEntries.end();
            });
        if (macros) {
          add({"OFFICE_MACRO", 0, "an Office document with macros" + std::string(where),
               Action::kReject});
        }
      }
    }
    return look_into(bytes, name, level + 1) || container;
  }

 private:
  void add(Finding f) {
    const bool seen = std::any_of(scan_.findings.begin(), scan_.findings.end(),
                                  [&](const Finding& g) { return g.symbol == f.symbol; });
    if (!seen) scan_.findings.push_back(std::move(f));
  }

  void stop(Finding f) {
    stopped_ = true;
    add(std::move(f));
  }

  // Opens `bytes` as an archive of nesting `level` and looks at its members. False when it is
  // not one.
  bool look_into(std::string_view bytes, std::string_view name, std::size_t level) {
    if (stopped_ || bytes.empty() || is_plain_file(bytes)) return false;
    ArchivePtr a = open_archive(bytes);
    if (!a) return false;
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    const int format = archive_format(a.get());
    const bool raw = (format & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW;
    if (raw && archive_filter_count(a.get()) <= 1) return false;  // neither archive nor compressed
    if (rc == ARCHIVE_FATAL || rc == ARCHIVE_EOF) {
      if (archive_read_has_encrypted_entries(a.get()) > 0) {
        add({"ARCHIVE_ENCRYPTED", 5, "an archive with encrypted contents", {}});
      } else if (rc == ARCHIVE_FATAL && format != 0 && !raw) {
        add({"ARCHIVE_UNREADABLE", 1, "an archive that cannot be read", {}});
      }
      return format != 0;
    }
    if (level > limits_.max_depth) {
      add({"ARCHIVE_TOO_DEEP",
           3,
           "archives nested more than " + std::to_string(limits_.max_depth) + " deep",
           {}});
      return true;
    }

    // This archive's share of the bytes to unpack: a multiple of its size, against zip bombs.
    const std::size_t ratio_budget = budget_for(bytes.size());
    std::size_t unpacked_here = 0;

    for (; rc != ARCHIVE_EOF && !stopped_; rc = archive_read_next_header(a.get(), &entry)) {
      if (rc == ARCHIVE_FATAL) {
        broken(a.get());
        break;
      }
      // Every header counts, also those that failed: the loop ends whatever the archive says.
      if (++scan_.members > limits_.max_members) {
        stop({"ARCHIVE_TOO_MANY", 2, "more members in archives than the filter reads", {}});
        break;
      }
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) continue;

      std::string path;
      if (raw) {
        path = without_extension(name);
      } else if (const char* p = archive_entry_pathname_utf8(entry)) {
        path = p;
      } else if (const char* q = archive_entry_pathname(entry)) {
        path = q;
      }
      check_member_name(path, level);

      if (archive_entry_is_encrypted(entry) != 0) {
        add({"ARCHIVE_ENCRYPTED", 5, "an archive with encrypted contents", {}});
        continue;  // nothing to read without the password
      }

      // Every member's data is read, also what is not a file: what is not read, libarchive
      // would decompress to skip it, outside these bounds.
      std::string kept;
      bool cut = false;
      bool over = false;
      while (true) {
        const std::size_t room_total = limits_.max_unpacked - scan_.unpacked;
        const std::size_t room_here = ratio_budget - unpacked_here;
        const std::size_t room = std::min(room_total, room_here);
        // One byte more than there is room for tells that a bound was reached.
        if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
        const std::size_t ask = room < kChunk ? room + 1 : kChunk;
        const la_ssize_t n = archive_read_data(a.get(), chunk_.get(), ask);
        if (n == 0) break;
        if (n < 0) {
          if (n == ARCHIVE_FATAL) rc = ARCHIVE_FATAL;
          if (archive_read_has_encrypted_entries(a.get()) > 0) {
            add({"ARCHIVE_ENCRYPTED", 5, "an archive with encrypted contents", {}});
          } else {
            add({"ARCHIVE_UNREADABLE", 1, "an archive that cannot be read to its end", {}});
          }
          break;
        }
        const auto got = static_cast<std::size_t>(n);
        const std::size_t counted = std::min(got, room);
        scan_.unpacked += counted;
        unpacked_here += counted;
        const std::size_t keep = std::min(counted, limits_.max_member - kept.size());
        kept.append(chunk_.get(), keep);
        cut = cut || keep < counted;
        if (got > room) {
          over = true;
          stop({"ARCHIVE_TOO_LARGE",
                2,
                room_total <= room_here ? "archives unpacking to more than the filter reads"
                                        : "an archive unpacking to more than " +
                                              std::to_string(limits_.max_ratio) + " times its size",
                {}});
          break;
        }
      }
      if (archive_entry_filetype(entry) == AE_IFREG) {
        const bool container = inspect(kept, path, level);
        if (cut && !over && container) {
          add({"ARCHIVE_TOO_LARGE",
               2,
               "an archive member larger than " + mebibytes(limits_.max_member),
               {}});
        }
      }
      if (rc == ARCHIVE_FATAL) break;
    }
    if (archive_read_has_encrypted_entries(a.get()) > 0) {
      add({"ARCHIVE_ENCRYPTED", 5, "an archive with encrypted contents", {}});
    }
    return true;
  }

  std::size_t budget_for(std::size_t archive_size) const noexcept {
    constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
    const std::size_t ratio = limits_.max_ratio;
    const std::size_t by_ratio =
        ratio != 0 && archive_size > kMax / ratio ? kMax : archive_size * ratio;
    return std::max(by_ratio, limits_.min_budget);
  }

  void broken(archive* a) {
    if (archive_read_has_encrypted_entries(a) > 0) {
      add({"ARCHIVE_ENCRYPTED", 5, "an archive with encrypted contents", {}});
    } else {
      add({"ARCHIVE_UNREADABLE", 1, "an archive that cannot be read to its end", {}});
    }
  }

  // A member's name, as the attachment's own is checked (attachment_name.hpp), and the names
  // that say an Office document carries macros.
  void check_member_name(std::string_view path, std::size_t level) {
    for (auto& f : check_attachment_name(base_name(path), "")) {
      // Not UTF-8 is common in archives (zip names in the creator's code page): no signal here.
      if (f.symbol == "ATTACHMENT_NAME_CONTROL") continue;
      f.symbol.replace(0, std::string_view("ATTACHMENT").size(), "ARCHIVE");
      f.reason += " in an archive";
      add(std::move(f));
    }
    if (is_office_macro_member(path)) {
      add({"OFFICE_MACRO", 0,
           std::string("an Office document with macros") + (level > 1 ? " in an archive" : ""),
           Action::kReject});
    }
  }

  const ContentLimits& limits_;
  magic_t magic_;
  ContentScan& scan_;
  // What archive_read_data fills, made at the first member read (most attachments are no
  // archive) and not zeroed.
  static constexpr std::size_t kChunk = std::size_t{64} << 10;
  std::unique_ptr<char[]> chunk_;
  bool stopped_ = false;  // a bound ended the walk
};

}  // namespace

std::string magic_type(std::string_view bytes, std::size_t max_bytes) {
  return magic_type_with(thread_magic(), bytes, max_bytes);
}

ContentScan check_attachment_content(std::string_view bytes, std::string_view name,
                                     const ContentLimits& limits) {
  ContentScan scan;
  const magic_t magic = thread_magic();
  scan.magic_missing = magic == nullptr;
  Walk(limits, magic, scan).inspect(bytes, name, 0);
  return scan;
}

}  // namespace sealpost::filter

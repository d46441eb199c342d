// What an attachment's bytes are (issue 18 item 6, second part), whatever its name says: a
// program by its magic (libmagic), an archive's members (libarchive: zip, 7z, rar, tar, cab, ISO
// images, gzip/bzip2/xz/zstd-compressed files; nested archives too), and Office documents with
// macros (a vbaProject.bin in OOXML, a VBA storage in an OLE file, compound_file.hpp).
//
// Symbols (scores are the defaults; [filter.scores] overrides them):
//   ATTACHMENT_EXECUTABLE_CONTENT  refuses  a program by its bytes (PE, ELF, Mach-O, MSI, Java
//                                           class...), even named report.pdf, or in an archive
//   ARCHIVE_EXECUTABLE             refuses  a member whose name is a program's ("run.exe")
//   ARCHIVE_BIDI_NAME              refuses  a member name with bidirectional controls
//   OFFICE_MACRO                   refuses  an Office document with macros (VBA, Excel 4.0
//                                           macro sheets), attached or in an archive
//   ARCHIVE_DOUBLE_EXTENSION       5        a member name hiding its extension ("a.pdf.exe")
//   ARCHIVE_ENCRYPTED              5        encrypted members (nothing in them can be checked:
//                                           the classic carrier of malware, its password in the
//                                           message's text)
//   ARCHIVE_TOO_DEEP               3        archives nested deeper than max_depth
//   ARCHIVE_TOO_MANY               2        more members than max_members
//   ARCHIVE_TOO_LARGE              2        more to unpack than max_unpacked, or than max_ratio
//                                           times the archive's size (a zip bomb), or an archive
//                                           member larger than max_member
//   ARCHIVE_UNREADABLE             1        an archive that breaks off (corrupt, truncated)
// Each symbol at most once per attachment. Reasons name the kind of file found, never its name
// or content.
//
// Bounded: whatever the archive headers claim, memory is at most max_member per nesting level
// plus the decompressors' own state, and the bytes decompressed at most max_unpacked. Pure but
// for libmagic's database, which each thread loads once (a magic_t is not thread-safe); when it
// cannot be loaded, the type checks add nothing and magic_missing says so.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "filter/verdict.hpp"

namespace sealpost::filter {

struct ContentLimits {
  // Bytes at the start of a file (the attachment, a member) that libmagic looks at.
  std::size_t magic_bytes = std::size_t{1} << 20;
  // Archive levels looked into: 1 is the attachment's own archive, 2 an archive inside it.
  std::size_t max_depth = 3;
  // Members read across one attachment's archives, nested ones included.
  std::size_t max_members = 1000;
  // Bytes decompressed across one attachment's archives.
  std::size_t max_unpacked = std::size_t{64} << 20;
  // An archive yields at most max_ratio times its own size, and at least min_budget bytes.
  std::size_t max_ratio = 100;
  std::size_t min_budget = std::size_t{1} << 20;
  // Bytes of one member kept in memory to look into; a larger one is looked at by its start.
  std::size_t max_member = std::size_t{16} << 20;
};

struct ContentScan {
  std::vector<Finding> findings;
  std::size_t members = 0;     // archive members seen
  std::size_t unpacked = 0;    // bytes decompressed
  std::size_t typed = 0;       // files whose first bytes could start a program, given to libmagic
  bool magic_missing = false;  // libmagic's database could not be loaded: no type checks
};

// `bytes` is the attachment's decoded body, `name` its decoded file name (maybe empty: it names
// the member of a compressed file such as "report.exe.gz").
ContentScan check_attachment_content(std::string_view bytes, std::string_view name,
                                     const ContentLimits& limits = {});

// The MIME type libmagic gives the start of `bytes` ("application/x-dosexec"), or "" when
// libmagic is not available.
std::string magic_type(std::string_view bytes, std::size_t max_bytes = std::size_t{1} << 20);

}  // namespace sealpost::filter

// Test helper: archives written in the test with libarchive's writer (zip, 7z, tar, compressed
// files, encrypted zips) rather than checked in as binary files.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

namespace sealpost::testing {

struct Member {
  std::string name;
  std::string data;
};

struct ArchiveSpec {
  const char* format;      // libarchive's names: zip, 7zip, ustar, raw
  const char* filter;      // gzip, bzip2, xz, or nullptr
  const char* options;     // "zip:encryption=aes256", or nullptr
  const char* passphrase;  // or nullptr
};

inline ArchiveSpec spec(const char* format, const char* filter = nullptr,
                        const char* options = nullptr, const char* passphrase = nullptr) {
  return {format, filter, options, passphrase};
}

inline la_ssize_t append(archive* /*a*/, void* out, const void* data, std::size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

inline std::unique_ptr<archive, WriteFree> writer(const ArchiveSpec& as, std::string& out) {
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  EXPECT_EQ(archive_write_set_format_by_name(a.get(), as.format), ARCHIVE_OK);
  if (as.filter != nullptr) {
    EXPECT_EQ(archive_write_add_filter_by_name(a.get(), as.filter), ARCHIVE_OK);
  }
  if (as.options != nullptr) {
    EXPECT_EQ(archive_write_set_options(a.get(), as.options), ARCHIVE_OK)
        << archive_error_string(a.get());
  }
  if (as.passphrase != nullptr) {
    EXPECT_EQ(archive_write_set_passphrase(a.get(), as.passphrase), ARCHIVE_OK);
  }
  archive_write_set_bytes_in_last_block(a.get(), 1);
  EXPECT_EQ(archive_write_open(a.get(), &out, nullptr, append, nullptr), ARCHIVE_OK);
  return a;
}

// Writes a member of `size` bytes produced `chunk` at a time (for members too large to hold).
inline void write_member(archive* a, const std::string& name, std::size_t size,
                         const std::string& chunk) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
  for (std::size_t done = 0; done < size;) {
    const std::size_t n = std::min(chunk.size(), size - done);
    EXPECT_EQ(archive_write_data(a, chunk.data(), n), static_cast<la_ssize_t>(n));
    done += n;
  }
  archive_entry_free(e);
}

inline std::string make_archive(const std::vector<Member>& members, const ArchiveSpec& as) {
  std::string out;
  auto a = writer(as, out);
  for (const auto& m : members) write_member(a.get(), m.name, m.data.size(), m.data);
  EXPECT_EQ(archive_write_close(a.get()), ARCHIVE_OK) << archive_error_string(a.get());
  return out;
}

inline std::string zip(const std::vector<Member>& members) {
  return make_archive(members, spec("zip"));
}

}  // namespace sealpost::testing

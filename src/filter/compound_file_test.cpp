#include "filter/compound_file.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/compound_file.hpp"

namespace sealpost::filter {
namespace {

using testing::compound_file;
using testing::CompoundFileSpec;

std::vector<std::string> names(const CompoundFileDirectory& dir) {
  std::vector<std::string> out;
  for (const auto& e : dir.entries) out.push_back(e.name);
  return out;
}

void put32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

TEST(FilterCompoundFileTest, ReadsTheDirectoryAcrossSectors) {
  CompoundFileSpec spec;
  spec.entries = {{"Macros", 1},
                  {"VBA", 1},
                  {"dir", 2},
                  {"WordDocument", 2},
                  {"\x01"
                   "CompObj",
                   2},
                  {"1Table", 2}};
  spec.root_clsid[0] = 0x84;
  const auto dir = read_compound_file_directory(compound_file(spec));
  ASSERT_TRUE(dir);
  EXPECT_EQ(names(*dir),
            (std::vector<std::string>{"Root Entry", "Macros", "VBA", "dir", "WordDocument",
                                      "\x01"
                                      "CompObj",
                                      "1Table"}));
  EXPECT_EQ(dir->entries[0].type, CompoundFileEntryType::kRoot);
  EXPECT_EQ(dir->entries[1].type, CompoundFileEntryType::kStorage);
  EXPECT_EQ(dir->entries[3].type, CompoundFileEntryType::kStream);
  EXPECT_EQ(dir->root_clsid[0], 0x84);
  EXPECT_FALSE(dir->incomplete);
}

TEST(FilterCompoundFileTest, RejectsWhatIsNoCompoundFile) {
  EXPECT_EQ(read_compound_file_directory("PK\x03\x04").error(),
            CompoundFileError::kNotCompoundFile);
  std::string cfb = compound_file({});
  EXPECT_EQ(read_compound_file_directory(cfb.substr(0, 511)).error(),
            CompoundFileError::kNotCompoundFile);
  std::string bad_shift = cfb;
  bad_shift[30] = 10;
  EXPECT_EQ(read_compound_file_directory(bad_shift).error(), CompoundFileError::kBadHeader);
  std::string far_directory = cfb;
  put32(far_directory, 48, 1000);
  EXPECT_EQ(read_compound_file_directory(far_directory).error(), CompoundFileError::kBadHeader);
}

TEST(FilterCompoundFileTest, ALoopingChainEnds) {
  CompoundFileSpec spec;
  spec.entries.resize(9, {"s", 2});
  spec.directory_loops = true;
  const auto dir = read_compound_file_directory(compound_file(spec));
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 10U);  // each sector read once
  EXPECT_TRUE(dir->incomplete);
}

TEST(FilterCompoundFileTest, BrokenChainsAndClaimsStayInTheBuffer) {
  CompoundFileSpec spec;
  spec.entries.resize(9, {"s", 2});
  const std::string cfb = compound_file(spec);
  // The directory's second sector points past the end of the file.
  std::string past_end = cfb;
  put32(past_end, 512 + 2 * 4, 5000);
  auto dir = read_compound_file_directory(past_end);
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 8U);
  EXPECT_TRUE(dir->incomplete);
  // A header that claims millions of FAT sectors, and a DIFAT chain it does not need.
  std::string claims = cfb;
  put32(claims, 44, 0x7FFFFFFF);
  put32(claims, 68, 1);
  dir = read_compound_file_directory(claims);
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 10U);
  // A truncated last sector: the whole entries in it are read (one of its four).
  dir = read_compound_file_directory(std::string_view(cfb).substr(0, cfb.size() - 384));
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 9U);
  // The entry limit.
  dir = read_compound_file_directory(cfb, {.max_entries = 4});
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 4U);
  EXPECT_TRUE(dir->incomplete);
}

TEST(FilterCompoundFileTest, NamesAreDecodedFromUtf16) {
  CompoundFileSpec spec;
  spec.entries = {{"x", 2}};
  std::string cfb = compound_file(spec);
  // Entry 1 at 512 + 512 + 128: "é" then an unpaired high surrogate.
  const std::size_t at = 1024 + 128;
  cfb[at] = '\xE9';
  cfb[at + 1] = 0;
  cfb[at + 2] = 0;
  cfb[at + 3] = '\xD8';
  cfb[at + 4] = 0;
  cfb[at + 5] = 0;
  cfb[at + 64] = 6;
  const auto dir = read_compound_file_directory(cfb);
  ASSERT_TRUE(dir);
  ASSERT_EQ(dir->entries.size(), 2U);
  EXPECT_EQ(dir->entries[1].name, "\xC3\xA9\xEF\xBF\xBD");
}

}  // namespace
}  // namespace sealpost::filter

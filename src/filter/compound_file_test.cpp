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

// The header lists 109 FAT sectors; a file of more than 109 * 128 sectors needs the DIFAT chain
// for the rest. Here the directory sits in the last sectors (two of them, chained), so the FAT
// entry joining them is in the 110th FAT sector, which only the DIFAT sector names.
TEST(FilterCompoundFileTest, FatSectorsPastTheHeaderAreFoundThroughTheDifat) {
  constexpr std::uint32_t kSectors = 14000;
  constexpr std::uint32_t kFatSectors = 110;  // sectors 0..109
  constexpr std::uint32_t kDifatSector = 110;
  constexpr std::uint32_t kDirectory = 13990;  // and 13991
  CompoundFileSpec spec;
  spec.entries.resize(7, {"s", 2});
  const std::string small = compound_file(spec);  // header, FAT, two directory sectors
  std::string cfb = small.substr(0, 512);
  cfb.resize(512 + std::size_t{kSectors} * 512, '\xFF');
  put32(cfb, 44, kFatSectors);
  put32(cfb, 48, kDirectory);
  for (std::uint32_t i = 0; i < 109; ++i) put32(cfb, 76 + i * 4, i);
  put32(cfb, 68, kDifatSector);
  put32(cfb, 72, 1);
  const auto sector = [](std::uint32_t n) { return 512 + std::size_t{n} * 512; };
  put32(cfb, sector(kDifatSector), 109);  // the DIFAT's first entry: FAT sector 109
  put32(cfb, sector(kDifatSector) + 508, 0xFFFFFFFE);
  const auto fat_entry = [&](std::uint32_t s) { return sector(s / 128) + (s % 128) * 4; };
  put32(cfb, fat_entry(kDirectory), kDirectory + 1);
  put32(cfb, fat_entry(kDirectory + 1), 0xFFFFFFFE);
  cfb.replace(sector(kDirectory), 1024, small.substr(1024, 1024));
  auto dir = read_compound_file_directory(cfb);
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->entries.size(), 8U);
  EXPECT_FALSE(dir->incomplete);
  // A DIFAT chain that loops back on itself ends, and what it could not name ends the walk.
  put32(cfb, sector(kDifatSector), 0xFFFFFFFF);
  put32(cfb, sector(kDifatSector) + 508, kDifatSector);
  put32(cfb, 44, 0x7FFFFFFF);
  dir = read_compound_file_directory(cfb);
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

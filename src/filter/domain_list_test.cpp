#include "filter/domain_list.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

TEST(FilterDomainListTest, ListedDomainsCoverTheNamesUnderThem) {
  DomainList list;
  EXPECT_EQ(list.add("# adult sites\nexample.xxx\n  Adult.Example  # a comment\n\nxxx2.test.\n"
                     "bücher.example\nbad..name\n"),
            1U);
  EXPECT_EQ(list.size(), 4U);
  EXPECT_TRUE(list.contains("example.xxx"));
  EXPECT_TRUE(list.contains("www.example.xxx"));
  EXPECT_TRUE(list.contains("cdn.WWW.adult.example."));
  EXPECT_TRUE(list.contains("xxx2.test"));
  EXPECT_TRUE(list.contains("shop.xn--bcher-kva.example"));  // IDN entries as A-labels
  EXPECT_FALSE(list.contains("xxx"));
  EXPECT_FALSE(list.contains("notexample.xxx"));  // a label, not a suffix of one
  EXPECT_FALSE(list.contains("example.xxx.evil.test"));
  EXPECT_FALSE(list.contains(""));
}

TEST(FilterDomainListTest, FilesAreReadAndTheirErrorsNamed) {
  const auto dir = std::filesystem::temp_directory_path() / "sealpost-domain-list-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.txt") << "one.test\n";
  std::ofstream(dir / "b.txt") << "two.test\r\nthree.test";
  const auto both = DomainList::load({dir / "a.txt", dir / "b.txt"});
  ASSERT_TRUE(both);
  EXPECT_EQ(both.value().size(), 3U);
  EXPECT_TRUE(both.value().contains("www.three.test"));
  const auto missing = DomainList::load({dir / "absent.txt"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), (dir / "absent.txt").string() + ": cannot be read");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sealpost::filter

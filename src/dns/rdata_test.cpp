#include "dns/rdata.hpp"

#include <gtest/gtest.h>

namespace sealpost::dns {
namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> b) {
  std::vector<std::uint8_t> v;
  for (int x : b) v.push_back(static_cast<std::uint8_t>(x));
  return v;
}

std::vector<std::uint8_t> wire_name(const std::string& dotted) {
  std::vector<std::uint8_t> out;
  std::size_t start = 0;
  while (start < dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    for (std::size_t i = start; i < dot; ++i) out.push_back(static_cast<std::uint8_t>(dotted[i]));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

TEST(RdataTest, ParsesMx) {
  auto data = bytes({0, 10});
  const auto name = wire_name("MX1.Example.COM");
  data.insert(data.end(), name.begin(), name.end());
  const auto mx = parse_mx(data);
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->preference, 10);
  EXPECT_EQ(mx->host, "mx1.example.com");
}

TEST(RdataTest, NullMxIsTheRoot) {
  const auto mx = parse_mx(bytes({0, 0, 0}));
  ASSERT_TRUE(mx);
  EXPECT_EQ(mx->host, "");
}

TEST(RdataTest, RefusesCompressionPointersAndTruncation) {
  EXPECT_EQ(parse_mx(bytes({0, 10, 0xC0, 0x0C})).error(), RdataError::kBadName);
  EXPECT_EQ(parse_mx(bytes({0, 10, 5, 'a', 'b'})).error(), RdataError::kTruncated);
  EXPECT_EQ(parse_mx(bytes({0, 10, 1, 'a'})).error(), RdataError::kTruncated);
  EXPECT_EQ(parse_mx(bytes({0})).error(), RdataError::kTruncated);
  EXPECT_EQ(parse_mx(bytes({0, 10, 1, 'a', 0, 7})).error(), RdataError::kTrailingData);
}

TEST(RdataTest, RefusesNonHostCharactersAndLongNames) {
  EXPECT_EQ(parse_ptr(bytes({3, 'a', ' ', 'b', 0})).error(), RdataError::kBadName);
  std::vector<std::uint8_t> long_name;
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'a');
  }
  long_name.push_back(0);
  EXPECT_EQ(parse_ptr(long_name).error(), RdataError::kBadName);
}

TEST(RdataTest, ParsesTxtStrings) {
  const auto txt = parse_txt(bytes({3, 'v', '=', 's', 0, 2, 'h', 'i'}));
  ASSERT_TRUE(txt);
  EXPECT_EQ(*txt, (std::vector<std::string>{"v=s", "", "hi"}));
  EXPECT_EQ(parse_txt(bytes({4, 'a'})).error(), RdataError::kTruncated);
  EXPECT_EQ(parse_txt({}).error(), RdataError::kTruncated);
}

}  // namespace
}  // namespace sealpost::dns

#include "mime/address_list.hpp"

#include <gtest/gtest.h>

namespace sealpost::mime {
namespace {

std::vector<std::string> domains(std::string_view v) {
  std::vector<std::string> out;
  for (const auto& m : parse_address_list(v)) out.push_back(m.domain);
  return out;
}

TEST(AddressList, ReadsTheForms5322Allows) {
  using V = std::vector<std::string>;
  EXPECT_EQ(domains(" alice@Example.COM"), V{"example.com"});
  EXPECT_EQ(domains(" Alice <alice@example.com>"), V{"example.com"});
  EXPECT_EQ(domains(" \"Smith, Alice <x@evil.test>\" <alice@example.com>"), V{"example.com"});
  EXPECT_EQ(domains(" alice@example.com (Alice, from evil@evil.test)"), V{"example.com"});
  EXPECT_EQ(domains(" a@one.test, B <b@two.test>"), (V{"one.test", "two.test"}));
  EXPECT_EQ(domains(" Friends: a@one.test, b@two.test;, c@three.test"),
            (V{"one.test", "two.test", "three.test"}));
  EXPECT_EQ(domains("\r\n\tAlice\r\n <alice@example.com.>"), V{"example.com"});
  EXPECT_EQ(domains(" \"quoted@local\"@example.com"), V{"example.com"});
  EXPECT_TRUE(domains(" undisclosed-recipients:;").empty());
  EXPECT_TRUE(domains(" no address here").empty());
}

TEST(AddressList, IsBounded) {
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "a@b.test,";
  EXPECT_EQ(parse_address_list(many, 64).size(), 64u);
}

}  // namespace
}  // namespace sealpost::mime

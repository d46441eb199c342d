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

std::vector<std::string> strict(std::string_view v, std::size_t max = 10) {
  std::vector<std::string> out;
  const auto list = parse_mailbox_list(v, max);
  if (!list) return {"error"};
  for (const auto& m : list.value()) out.push_back(m.local + "@" + m.domain);
  return out;
}

TEST(MailboxList, ReadsEveryMailboxOfACleanList) {
  using V = std::vector<std::string>;
  EXPECT_EQ(strict(" alice@Example.COM"), V{"alice@example.com"});
  EXPECT_EQ(strict(" \"Smith, Alice <x@evil.test>\" <alice@example.com>"), V{"alice@example.com"});
  EXPECT_EQ(strict(" alice@example.com (Alice, from evil@evil.test)"), V{"alice@example.com"});
  EXPECT_EQ(strict(" a@one.test, B <b@two.test>"), (V{"a@one.test", "b@two.test"}));
  EXPECT_EQ(strict("\r\n\tAlice\r\n <alice@example.com.>"), V{"alice@example.com"});
  EXPECT_EQ(strict(" \"quoted local\"@example.com"), V{"\"quoted local\"@example.com"});
}

TEST(MailboxList, RefusesWhatTheLenientReaderWouldSkip) {
  using V = std::vector<std::string>;
  const V error{"error"};
  // Each of these hides or drops an author from a reader that skips what it cannot read.
  EXPECT_EQ(strict(" alice@example.com, ceo"), error);
  EXPECT_EQ(strict(" alice@example.com, Boss ceo@bank.test"), error);
  EXPECT_EQ(strict(" <alice@example.com> <ceo@bank.test>"), error);
  EXPECT_EQ(strict(" <alice@example.com> ceo@bank.test"), error);
  EXPECT_EQ(strict(" alice@example.com, <ceo@bank.test"), error);
  EXPECT_EQ(strict(" alice@example.com, \"ceo@bank.test"), error);
  EXPECT_EQ(strict(" alice@example.com (unclosed, ceo@bank.test"), error);
  EXPECT_EQ(strict(" Friends: alice@example.com;"), error);  // no groups in a mailbox-list
  EXPECT_EQ(strict(" alice@exa mple.com"), error);
  EXPECT_EQ(strict(" "), error);
  EXPECT_EQ(strict(" no address here"), error);
}

TEST(MailboxList, RefusesMoreThanTheBoundInsteadOfCuttingItOff) {
  std::string many;
  for (int i = 0; i < 11; ++i) many += "a" + std::to_string(i) + "@b.test,";
  EXPECT_EQ(parse_mailbox_list(many, 10).error(), AddressListError::kTooMany);
  EXPECT_EQ(parse_mailbox_list(many, 11).value().size(), 11U);
}

}  // namespace
}  // namespace sealpost::mime

#include "access/password_strength.hpp"

#include <gtest/gtest.h>

namespace sealpost::access {
namespace {

int score(std::string_view password, std::string_view address = "alice@example.com") {
  return password_strength(password, address_words(address)).score;
}

TEST(PasswordStrength, ScoresCommonPasswordsLow) {
  EXPECT_EQ(score("password"), 0);
  EXPECT_EQ(score("123456"), 0);
  EXPECT_LE(score("qwertyuiop"), 1);
  EXPECT_LE(score("hunter2"), 1);
  EXPECT_LE(score("secret123"), 1);
}

TEST(PasswordStrength, ScoresLongUncommonPasswordsHigh) {
  EXPECT_EQ(score("correct horse battery staple"), 4);
  EXPECT_EQ(score("sealpost-demo"), 4) << "the demo's password";
  // What `mailbox app-password add` generates: 20 random characters in groups of four.
  EXPECT_EQ(score("k7mq-x3vd-p9ta-2wze-h4nc"), 4);
}

TEST(PasswordStrength, CountsTheAddressAsKnownToAnAttacker) {
  const std::string_view password = "jonathan.whitfield1987";
  EXPECT_GE(score(password, "someone@example.org"), 3);
  EXPECT_LT(score(password, "jonathan.whitfield@whitfield.example"), 3);
  EXPECT_NE(password_strength(password, address_words("jonathan.whitfield@x.example"))
                .hint.find("own name"),
            std::string::npos);
}

TEST(PasswordStrength, SplitsAnAddressIntoTheWordsOfItsParts) {
  EXPECT_EQ(
      address_words("J.Doe@Mail.Example.com"),
      (std::vector<std::string>{"j.doe", "doe", "mail.example.com", "mail", "example", "com"}));
}

TEST(PasswordStrength, RefusalNamesTheScoreTheMinimumAndTheReason) {
  const auto refusal = password_refusal("password1", "alice@example.com", 3);
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("password too weak (score 0 of 4, at least 3 required): "),
            std::string::npos)
      << *refusal;
  EXPECT_NE(refusal->find("common password"), std::string::npos) << *refusal;
  EXPECT_FALSE(password_refusal("correct horse battery staple", "alice@example.com", 3));
  EXPECT_FALSE(password_refusal("password1", "alice@example.com", 0)) << "0 turns it off";
  EXPECT_TRUE(password_refusal("a mailbox password", "alice@example.com", 4));
}

TEST(PasswordStrength, ScoresOnlyABoundedPrefix) {
  // A megabyte of one letter is a repeat: weak by zxcvbn's reckoning, but it is scored in bounded
  // time, and a NUL ends what is scored.
  EXPECT_LE(score(std::string(1 << 20, 'a')), 2);
  EXPECT_EQ(score(std::string("password\0correct horse battery staple", 37)), 0);
}

}  // namespace
}  // namespace sealpost::access

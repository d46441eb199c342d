#include "crypto/mailbox_keys.hpp"

#include <gtest/gtest.h>

namespace sealpost::crypto {
namespace {

const KdfCost kFast = KdfCost::for_tests();

TEST(MailboxKeys, WrapUnwrapAndRewrapWithoutChangingTheMasterKey) {
  const SecretBytes master = new_master_key();
  ASSERT_EQ(master.size(), kMasterKeyBytes);
  const WrappedKey by_password = wrap(master, "correct horse", kFast);
  const WrappedKey by_app_password = wrap(master, "app-password-1", kFast);
  auto a = unwrap(by_password, "correct horse");
  auto b = unwrap(by_app_password, "app-password-1");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->equals(master));
  EXPECT_TRUE(b->equals(master));
  // A password change is a new wrapping of the same master key: the database is not rekeyed.
  const WrappedKey changed = wrap(*a, "new password", kFast);
  EXPECT_TRUE(unwrap(changed, "new password")->equals(master));
  EXPECT_FALSE(unwrap(changed, "correct horse"));
  // Two wrappings of one key share nothing visible.
  EXPECT_NE(by_password.salt, changed.salt);
  EXPECT_NE(by_password.sealed, changed.sealed);
}

TEST(MailboxKeys, WrongPasswordAndTamperingFailTheSameWay) {
  const SecretBytes master = new_master_key();
  WrappedKey w = wrap(master, "pw", kFast);
  EXPECT_FALSE(unwrap(w, "pW"));
  EXPECT_FALSE(unwrap(w, ""));
  w.sealed[30] ^= 1;
  EXPECT_FALSE(unwrap(w, "pw"));
  EXPECT_FALSE(unwrap_nobody("pw", kFast));
}

TEST(MailboxKeys, UnknownUserCostsWhatAWrongPasswordCosts) {
  // Counted, not timed: the same number of Argon2id runs at the same cost and the same AEAD open
  // is the same time, whatever else the machine is doing.
  const KdfCost cost{2, std::size_t{16} << 10};
  const WrappedKey w = wrap(new_master_key(), "pw", cost);
  const auto work_of = [](auto&& f) {
    const KdfWork before = kdf_work();
    f();
    const KdfWork after = kdf_work();
    return KdfWork{after.derivations - before.derivations, after.cost - before.cost,
                   after.opens - before.opens};
  };
  const KdfWork wrong = work_of([&] { EXPECT_FALSE(unwrap(w, "wrong")); });
  const KdfWork nobody = work_of([&] { EXPECT_FALSE(unwrap_nobody("wrong", cost)); });
  EXPECT_EQ(wrong.derivations, 1U);
  EXPECT_EQ(wrong.cost, cost.ops * cost.memory);
  EXPECT_EQ(wrong.opens, 1U);
  EXPECT_EQ(nobody.derivations, wrong.derivations);
  EXPECT_EQ(nobody.cost, wrong.cost);
  EXPECT_EQ(nobody.opens, wrong.opens);
}

TEST(MailboxKeys, SerializedFormRoundTripsAndRefusesDamage) {
  const SecretBytes master = new_master_key();
  const WrappedKey w = wrap(master, "pw", kFast);
  const std::string text = w.serialize();
  EXPECT_TRUE(text.starts_with("v1$1$8192$"));
  auto back = WrappedKey::parse(text);
  ASSERT_TRUE(back);
  EXPECT_TRUE(unwrap(*back, "pw")->equals(master));
  EXPECT_FALSE(WrappedKey::parse("v2" + text.substr(2)));
  EXPECT_FALSE(WrappedKey::parse(text.substr(0, text.size() - 4)));
  EXPECT_FALSE(WrappedKey::parse("v1$0$8192$AAAA$AAAA"));
  EXPECT_FALSE(WrappedKey::parse(""));
}

TEST(SpoolKeys, SealedMailOpensOnlyWithTheMailboxSecretKey) {
  const SpoolKeys alice = SpoolKeys::generate();
  const SpoolKeys bob = SpoolKeys::generate();
  const std::string message = "Subject: sealed\r\n\r\nfor alice only\r\n";
  const auto sealed = seal_to(alice.public_key, message);
  EXPECT_EQ(std::string(sealed.begin(), sealed.end()).find("alice only"), std::string::npos);
  EXPECT_EQ(*open_sealed(alice, sealed), message);
  EXPECT_FALSE(open_sealed(bob, sealed));
  auto damaged = sealed;
  damaged.back() ^= 1;
  EXPECT_FALSE(open_sealed(alice, damaged));
  EXPECT_NE(seal_to(alice.public_key, message), sealed) << "every seal uses a fresh key";
}

TEST(SecretBytes, MovesAndComparesInConstantTime) {
  SecretBytes a = SecretBytes::random(32);
  SecretBytes b = SecretBytes::copy_of(a.bytes());
  EXPECT_TRUE(a.equals(b));
  SecretBytes c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_TRUE(c.equals(a));
  c.data()[0] ^= 1;
  EXPECT_FALSE(c.equals(a));
}

}  // namespace
}  // namespace sealpost::crypto

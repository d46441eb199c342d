#include "store/mailbox/mailboxes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "store/mailbox/encrypted_db.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

const crypto::KdfCost kFast = crypto::KdfCost::for_tests();

class MailboxesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-mailboxes");
    store = open_sqlite_metadata_store((dir / "metadata.db").string());
    store->add_domain("example.com");
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<MetadataStore> store;
};

TEST_F(MailboxesTest, CreateUnlockAndDelete) {
  const auto m = create_mailbox(*store, dir, "alice@example.com", "example.com", "s3cret", kFast);
  EXPECT_TRUE(std::filesystem::exists(database_file(dir, m)));
  EXPECT_EQ(database_file(dir, m).filename().string().find("alice"), std::string::npos)
      << "file names do not reveal the address";
  auto u = unlock(*store, "alice@example.com", "s3cret", kFast);
  ASSERT_TRUE(u);
  EXPECT_NO_THROW(open_encrypted(database_file(dir, m), u->master_key));
  // The spool keys work: what is sealed to the public key opens with the unlocked secret.
  const auto sealed = crypto::seal_to(m.spool_public_key, "hello");
  EXPECT_EQ(*crypto::open_sealed(u->spool_keys, sealed), "hello");

  EXPECT_FALSE(unlock(*store, "alice@example.com", "wrong", kFast));
  EXPECT_FALSE(unlock(*store, "nobody@example.com", "s3cret", kFast));
  EXPECT_THROW(create_mailbox(*store, dir, "alice@example.com", "example.com", "x", kFast),
               StoreError);
  EXPECT_THROW(create_mailbox(*store, dir, "bob@other.example", "other.example", "x", kFast),
               StoreError);

  EXPECT_TRUE(delete_mailbox(*store, dir, "alice@example.com"));
  EXPECT_FALSE(std::filesystem::exists(database_file(dir, m)));
  EXPECT_FALSE(unlock(*store, "alice@example.com", "s3cret", kFast));
  EXPECT_FALSE(delete_mailbox(*store, dir, "alice@example.com"));
}

TEST_F(MailboxesTest, AppPasswordsAndPasswordChangeRewrapTheSameKey) {
  const auto m = create_mailbox(*store, dir, "alice@example.com", "example.com", "old", kFast);
  auto u = unlock(*store, "alice@example.com", "old", kFast);
  ASSERT_TRUE(u);
  store->set_credential({"alice@example.com", "password", *wrap_for(*store, *u, "new"), 0});
  store->set_credential({"alice@example.com", "phone", *wrap_for(*store, *u, "app-1"), 0});
  // One salt for the mailbox: a login derives one key however many credentials there are.
  const auto creds = store->credentials("alice@example.com");
  ASSERT_EQ(creds.size(), 2u);
  EXPECT_EQ(crypto::WrappedKey::parse(creds[0].wrapped)->salt,
            crypto::WrappedKey::parse(creds[1].wrapped)->salt);
  EXPECT_FALSE(unlock(*store, "alice@example.com", "old", kFast));
  auto by_new = unlock(*store, "alice@example.com", "new", kFast);
  auto by_app = unlock(*store, "alice@example.com", "app-1", kFast);
  ASSERT_TRUE(by_new && by_app);
  EXPECT_TRUE(by_new->master_key.equals(u->master_key));
  EXPECT_TRUE(by_app->master_key.equals(u->master_key));
  EXPECT_NO_THROW(open_encrypted(database_file(dir, m), by_app->master_key));
  EXPECT_TRUE(store->remove_credential("alice@example.com", "phone"));
  EXPECT_FALSE(unlock(*store, "alice@example.com", "app-1", kFast));
}

TEST_F(MailboxesTest, RemovingTheDomainRemovesItsMailboxRecords) {
  create_mailbox(*store, dir, "alice@example.com", "example.com", "pw", kFast);
  store->remove_domain("example.com");
  EXPECT_FALSE(store->mailbox("alice@example.com"));
  EXPECT_TRUE(store->credentials("alice@example.com").empty());
}

}  // namespace
}  // namespace sealpost::store::mailbox

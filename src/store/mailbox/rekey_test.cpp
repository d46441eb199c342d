#include "store/mailbox/rekey.hpp"

#include <gtest/gtest.h>

#include "store/mailbox/encrypted_db.hpp"
#include "store/mailbox/local_delivery.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "store/mailbox/message_store.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

const crypto::KdfCost kFast = crypto::KdfCost::for_tests();
constexpr int kMessages = 40;

std::string message(int i) {
  return "From: x@example.org\r\nSubject: rekey " + std::to_string(i) + "\r\n\r\n" +
         std::string(2000 + i, static_cast<char>('a' + i % 26)) + "\r\n";
}

class RekeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-rekey");
    store = open_sqlite_metadata_store((dir / "metadata.db").string());
    store->add_domain("example.com");
    record = create_mailbox(*store, dir, "alice@example.com", "example.com", "old", kFast);
    auto u = unlock(*store, "alice@example.com", "old", kFast);
    store->set_credential({"alice@example.com", "phone", *wrap_for(*store, *u, "app"), 0});
    MessageStore s(open_encrypted(database_file(dir, record), u->master_key));
    const auto inbox = s.special_folder(SpecialUse::kInbox).id;
    for (int i = 0; i < kMessages; ++i) {
      const std::string raw = message(i);
      NewMessage m;
      m.raw = raw;
      m.internal_date = 1000 + i;
      (void)s.append(inbox, m);
    }
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }

  // The metadata as a backup taken now would hold it.
  std::filesystem::path backup_metadata() {
    std::filesystem::copy_file(dir / "metadata.db", dir / "backup.db");
    if (std::filesystem::exists(dir / "metadata.db-wal")) {
      std::filesystem::copy_file(dir / "metadata.db-wal", dir / "backup.db-wal");
    }
    return dir / "backup.db";
  }

  // A delivery to the locked mailbox, sealed to `public_key`: the key of the moment, or one it
  // looked up before a rekey committed.
  void spool(const std::vector<unsigned char>& public_key, int i) {
    const std::string raw = message(i);
    ASSERT_TRUE(
        append_to_spool(spool_file(dir, record),
                        crypto::seal_to(public_key, encode_spool_payload({2000 + i, false, raw}))));
  }

  std::size_t inbox_size(const crypto::SecretBytes& key) {
    MessageStore s(open_encrypted(database_file(dir, record), key));
    return s.messages(s.special_folder(SpecialUse::kInbox).id).size();
  }

  // Every message of the inbox, as delivered, through `key`.
  void expect_all_mail(const crypto::SecretBytes& key) {
    MessageStore s(open_encrypted(database_file(dir, record), key));
    const auto inbox = s.special_folder(SpecialUse::kInbox).id;
    const auto list = s.messages(inbox);
    ASSERT_EQ(list.size(), static_cast<std::size_t>(kMessages));
    for (int i = 0; i < kMessages; ++i) {
      EXPECT_EQ(s.raw(inbox, list[i].uid), message(i));
      EXPECT_EQ(list[i].internal_date, 1000 + i);
    }
  }

  std::filesystem::path dir;
  std::unique_ptr<MetadataStore> store;
  MailboxRecord record;
};

TEST_F(RekeyTest, AnOldMetadataBackupAndTheOldPasswordNoLongerOpenTheMail) {
  const auto backup_path = backup_metadata();
  const auto before = std::filesystem::file_size(database_file(dir, record));

  const auto done = rekey_mailbox(*store, dir, "alice@example.com", "old", "new");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->revoked_app_passwords, 1U);

  // The backup still unwraps the old key with the old password, but that key opens nothing now.
  auto backup = open_sqlite_metadata_store(backup_path.string());
  const auto old = unlock(*backup, "alice@example.com", "old", kFast);
  ASSERT_TRUE(old) << "the backup is a real one";
  EXPECT_THROW(open_encrypted(database_file(dir, record), old->master_key), StoreError);

  // The new password opens every message; the old one and the app password nothing.
  const auto now = unlock(*store, "alice@example.com", "new", kFast);
  ASSERT_TRUE(now);
  expect_all_mail(now->master_key);
  EXPECT_FALSE(unlock(*store, "alice@example.com", "old", kFast));
  EXPECT_FALSE(unlock(*store, "alice@example.com", "app", kFast));
  EXPECT_EQ(store->credentials("alice@example.com").size(), 1U);
  // The spool's key pair is new: what is sealed to it now, the old backup's key does not open.
  const auto rotated = store->mailbox("alice@example.com");
  ASSERT_TRUE(rotated);
  EXPECT_NE(rotated->spool_public_key, record.spool_public_key);
  const auto sealed = crypto::seal_to(rotated->spool_public_key, "hi");
  EXPECT_EQ(*open_spooled(*now, sealed), "hi");
  EXPECT_FALSE(open_spooled(*old, sealed));
  EXPECT_GT(std::filesystem::file_size(database_file(dir, record)), before / 2);
  EXPECT_FALSE(std::filesystem::exists(database_file(dir, record).string() + ".rekeyed"));
}

// Mail spooled before the rekey is in the rekeyed database (the spool file is gone, so the old
// key opens none of it), and mail sealed to the old public key while the rekey ran (a delivery
// that looked the key up before the commit) still reaches the inbox at the next login.
TEST_F(RekeyTest, TheSpoolMovesInAndMailSealedToTheOldKeyIsNotLost) {
  spool(record.spool_public_key, 100);
  spool(record.spool_public_key, 101);
  ASSERT_TRUE(rekey_mailbox(*store, dir, "alice@example.com", "old", "new"));
  EXPECT_FALSE(std::filesystem::exists(spool_file(dir, record)));
  auto now = unlock(*store, "alice@example.com", "new", kFast);
  ASSERT_TRUE(now);
  ASSERT_TRUE(now->previous_spool_keys);
  EXPECT_EQ(now->previous_spool_keys->public_key, record.spool_public_key);
  EXPECT_EQ(inbox_size(now->master_key), static_cast<std::size_t>(kMessages + 2));

  spool(record.spool_public_key, 102);       // sealed to the old key, after the commit
  spool(now->record.spool_public_key, 103);  // and to the new one
  MessageStore s(open_encrypted(database_file(dir, record), now->master_key));
  EXPECT_EQ(import_spool_into(s, *now, spool_file(dir, record), nullptr), 2U);
  const auto inbox = s.special_folder(SpecialUse::kInbox).id;
  const auto list = s.messages(inbox);
  ASSERT_EQ(list.size(), static_cast<std::size_t>(kMessages + 4));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s.raw(inbox, list[kMessages + i].uid), message(100 + i));
  }
}

// A second rekey before the owner logs in takes in what was sealed to the first one's old key:
// each rekey keeps only the key it rotated away from, so it must not leave older mail behind.
TEST_F(RekeyTest, ASecondRekeyTakesInWhatTheFirstOnesOldKeySealed) {
  ASSERT_TRUE(rekey_mailbox(*store, dir, "alice@example.com", "old", "new"));
  spool(record.spool_public_key, 100);  // a delivery that looked the key up before the first
  ASSERT_TRUE(rekey_mailbox(*store, dir, "alice@example.com", "new", "newer"));
  EXPECT_FALSE(std::filesystem::exists(spool_file(dir, record)));
  const auto now = unlock(*store, "alice@example.com", "newer", kFast);
  ASSERT_TRUE(now);
  EXPECT_NE(now->previous_spool_keys->public_key, record.spool_public_key);
  EXPECT_EQ(inbox_size(now->master_key), static_cast<std::size_t>(kMessages + 1));
}

TEST_F(RekeyTest, AWrongPasswordChangesNothing) {
  EXPECT_FALSE(rekey_mailbox(*store, dir, "alice@example.com", "wrong", "new"));
  const auto u = unlock(*store, "alice@example.com", "old", kFast);
  ASSERT_TRUE(u);
  expect_all_mail(u->master_key);
  EXPECT_TRUE(unlock(*store, "alice@example.com", "app", kFast));
}

TEST_F(RekeyTest, AMailboxInUseIsRefused) {
  const auto u = unlock(*store, "alice@example.com", "old", kFast);
  auto session = open_encrypted(database_file(dir, record), u->master_key);
  EXPECT_THROW(rekey_mailbox(*store, dir, "alice@example.com", "old", "new"), StoreError);
  session.reset();
  EXPECT_TRUE(unlock(*store, "alice@example.com", "old", kFast)) << "nothing changed";
  expect_all_mail(u->master_key);
}

struct Crash {};

// A crash once the copy is durable but before the metadata names its key: the old password
// still opens all the mail, and a later rekey succeeds over the debris.
TEST_F(RekeyTest, ACrashBeforeTheCommitLeavesTheOldKeyWorking) {
  EXPECT_THROW(rekey_mailbox(*store, dir, "alice@example.com", "old", "new",
                             [](RekeyStep step) {
                               if (step == RekeyStep::kCopied) throw Crash{};
                             }),
               Crash);
  EXPECT_TRUE(std::filesystem::exists(database_file(dir, record).string() + ".rekeyed"));
  EXPECT_FALSE(unlock(*store, "alice@example.com", "new", kFast));
  const auto u = unlock(*store, "alice@example.com", "old", kFast);
  ASSERT_TRUE(u);
  expect_all_mail(u->master_key);

  ASSERT_TRUE(rekey_mailbox(*store, dir, "alice@example.com", "old", "new"));
  const auto now = unlock(*store, "alice@example.com", "new", kFast);
  ASSERT_TRUE(now);
  expect_all_mail(now->master_key);
}

// A crash after the metadata commit, before the copy is renamed into place: the new password's
// key opens no database file yet, and the first open finishes the swap.
TEST_F(RekeyTest, ACrashAfterTheCommitIsFinishedByTheNextOpen) {
  const auto old = unlock(*store, "alice@example.com", "old", kFast);
  EXPECT_THROW(rekey_mailbox(*store, dir, "alice@example.com", "old", "new",
                             [](RekeyStep step) {
                               if (step == RekeyStep::kCommitted) throw Crash{};
                             }),
               Crash);
  EXPECT_TRUE(std::filesystem::exists(database_file(dir, record).string() + ".rekeyed"));
  EXPECT_FALSE(unlock(*store, "alice@example.com", "old", kFast));
  const auto now = unlock(*store, "alice@example.com", "new", kFast);
  ASSERT_TRUE(now);
  EXPECT_THROW(open_encrypted(database_file(dir, record), now->master_key, Access::kReadOnly),
               StoreError)
      << "a reader does not move files";
  expect_all_mail(now->master_key);
  EXPECT_FALSE(std::filesystem::exists(database_file(dir, record).string() + ".rekeyed"));
  EXPECT_THROW(open_encrypted(database_file(dir, record), old->master_key), StoreError);
}

}  // namespace
}  // namespace sealpost::store::mailbox

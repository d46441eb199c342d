#include "store/mailbox/spool.hpp"

#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <unistd.h>

#include "crypto/mailbox_keys.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-spool");
    spool = dir / "alice.spool";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::filesystem::path spool;
};

TEST_F(SpoolTest, SealedAppendsImportOnceAndOpenWithTheMailboxKey) {
  const auto keys = crypto::SpoolKeys::generate();
  for (int i = 0; i < 3; ++i) {
    append_to_spool(spool, crypto::seal_to(keys.public_key, "message " + std::to_string(i)));
  }
  std::ifstream raw(spool, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(raw)), {});
  EXPECT_EQ(bytes.find("message"), std::string::npos) << "sealed, not plain";
  EXPECT_EQ(std::filesystem::status(spool).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);

  std::vector<std::string> got;
  const auto n = import_spool(spool, [&](const std::vector<SpoolRecord>& records) {
    for (const auto& r : records) got.push_back(*crypto::open_sealed(keys, r.sealed));
  });
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(got, (std::vector<std::string>{"message 0", "message 1", "message 2"}));
  EXPECT_FALSE(std::filesystem::exists(spool));
  EXPECT_EQ(import_spool(spool, [](const auto&) { FAIL() << "nothing left to import"; }), 0u);
}

TEST_F(SpoolTest, ATruncatedLastRecordIsDroppedNotMisread) {
  append_to_spool(spool, {1, 2, 3});
  append_to_spool(spool, {4, 5, 6, 7});
  std::filesystem::resize_file(spool, std::filesystem::file_size(spool) - 2);  // a crash mid-append
  const auto records = read_spool(spool);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].sealed, (std::vector<unsigned char>{1, 2, 3}));
}

TEST_F(SpoolTest, ACrashAfterCommitBeforeDeleteDuplicatesNothing) {
  append_to_spool(spool, {1});
  append_to_spool(spool, {2});
  std::set<std::string> stored;  // the database: ids are unique
  int commits = 0;
  const auto store = [&](const std::vector<SpoolRecord>& records) {
    ++commits;
    for (const auto& r : records) stored.insert(std::string(r.id.begin(), r.id.end()));
  };
  // First import "crashes" after moving the spool aside and committing, before deleting.
  std::filesystem::rename(spool, spool.string() + ".importing");
  store(read_spool(spool.string() + ".importing"));
  // Meanwhile new mail arrives in a new spool.
  append_to_spool(spool, {3});
  // The next import finishes the earlier file, then takes the new one.
  import_spool(spool, store);
  EXPECT_EQ(stored.size(), 3u) << "every message once";
  EXPECT_EQ(commits, 3);
  EXPECT_FALSE(std::filesystem::exists(spool.string() + ".importing"));
}

TEST_F(SpoolTest, RefusesEmptyAndOversizedRecords) {
  EXPECT_THROW(append_to_spool(spool, {}), std::runtime_error);
  EXPECT_THROW(append_to_spool(dir / "missing-dir" / "x.spool", {1}), std::runtime_error);
}

}  // namespace
}  // namespace sealpost::store::mailbox

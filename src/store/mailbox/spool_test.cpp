#include "store/mailbox/spool.hpp"

#include <cstdio>
#include <fstream>
#include <map>
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
  EXPECT_EQ(n.records, 3u);
  EXPECT_EQ(got, (std::vector<std::string>{"message 0", "message 1", "message 2"}));
  EXPECT_FALSE(std::filesystem::exists(spool));
  EXPECT_EQ(import_spool(spool, [](const auto&) { FAIL() << "nothing left to import"; }).records,
            0u);
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

std::vector<unsigned char> record_of(int i, std::size_t size) {
  std::vector<unsigned char> r(size, static_cast<unsigned char>(i));
  r[0] = static_cast<unsigned char>(i >> 8);
  return r;
}

// A spool far larger than the import's batch goes through in batches that each stay within it:
// what the import holds at once is bounded by the batch, not by the spool.
TEST_F(SpoolTest, ImportStreamsALargeSpoolInBoundedBatches) {
  constexpr int kRecords = 48;
  constexpr std::size_t kRecordSize = 64 * 1024;
  for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(append_to_spool(spool, record_of(i, kRecordSize)));
  const SpoolBatching batching{.max_records = 100, .max_bytes = 256 * 1024};
  ASSERT_GT(std::filesystem::file_size(spool), 10 * batching.max_bytes);

  std::vector<std::vector<unsigned char>> got;
  std::size_t largest_batch = 0;
  const auto done = import_spool(
      spool,
      [&](const std::vector<SpoolRecord>& records) {
        std::size_t bytes = 0;
        for (const auto& r : records) {
          bytes += r.sealed.size();
          got.push_back(r.sealed);
        }
        largest_batch = std::max(largest_batch, bytes);
      },
      batching);
  EXPECT_EQ(done.records, static_cast<std::size_t>(kRecords));
  EXPECT_LE(largest_batch, batching.max_bytes);
  EXPECT_LE(done.peak_bytes, batching.max_bytes);
  EXPECT_GE(done.batches, static_cast<std::size_t>(kRecords) * kRecordSize / batching.max_bytes);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(got[i], record_of(i, kRecordSize)) << "in order";
  EXPECT_FALSE(std::filesystem::exists(spool));
  EXPECT_FALSE(std::filesystem::exists(spool.string() + ".importing"));
}

TEST_F(SpoolTest, BatchesHoldARecordLargerThanTheBatchAlone) {
  ASSERT_TRUE(append_to_spool(spool, record_of(1, 100)));
  ASSERT_TRUE(append_to_spool(spool, record_of(2, 5000)));
  ASSERT_TRUE(append_to_spool(spool, record_of(3, 100)));
  std::vector<std::size_t> sizes;
  const auto done = import_spool(
      spool, [&](const std::vector<SpoolRecord>& records) { sizes.push_back(records.size()); },
      {.max_records = 10, .max_bytes = 1000});
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 1, 1}));
  EXPECT_EQ(done.peak_bytes, 5000U);
}

// A crash in the middle of an import (here: the third batch's commit fails) leaves the file
// aside: the next import reads it again, and ids already committed are skipped, so every message
// is stored exactly once.
TEST_F(SpoolTest, AnImportInterruptedBetweenBatchesLosesAndDuplicatesNothing) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(append_to_spool(spool, record_of(i, 100)));
  std::map<std::string, int> stored;  // the database: id -> times stored
  int commits = 0;
  const auto store = [&](const std::vector<SpoolRecord>& records) {
    if (++commits == 3) throw std::runtime_error("crash");
    for (const auto& r : records) {
      const std::string id(r.id.begin(), r.id.end());
      if (!stored.count(id)) stored[id] = 1;  // as MessageStore skips a spool id it has
    }
  };
  const SpoolBatching batching{.max_records = 2, .max_bytes = 1 << 20};
  EXPECT_THROW(import_spool(spool, store, batching), std::runtime_error);
  EXPECT_EQ(stored.size(), 4U);
  EXPECT_TRUE(std::filesystem::exists(spool.string() + ".importing")) << "kept until committed";
  ASSERT_TRUE(append_to_spool(spool, record_of(10, 100)));  // new mail meanwhile
  const auto done = import_spool(spool, store, batching);
  EXPECT_EQ(done.records, 11U);
  EXPECT_EQ(stored.size(), 11U) << "every message once";
  EXPECT_FALSE(std::filesystem::exists(spool.string() + ".importing"));
}

TEST_F(SpoolTest, TheReaderStopsAtALengthTheFileCannotHold) {
  ASSERT_TRUE(append_to_spool(spool, {1, 2, 3}));
  // A header claiming 200 MiB with three bytes behind it: damage, not an allocation.
  SpoolId id{};
  auto bogus = encode_spool_record(id, std::vector<unsigned char>{9, 9, 9});
  bogus[20] = 0x0C;
  std::FILE* f = std::fopen(spool.c_str(), "ab");
  std::fwrite(bogus.data(), 1, bogus.size(), f);
  std::fclose(f);
  SpoolReader reader(spool);
  ASSERT_TRUE(reader.next());
  EXPECT_FALSE(reader.next());
  EXPECT_FALSE(reader.next());
}

TEST_F(SpoolTest, AppendsStopAtTheSizeLimit) {
  const std::size_t record = kSpoolHeader + 100;
  ASSERT_TRUE(append_to_spool(spool, record_of(1, 100), 2 * record));
  ASSERT_TRUE(append_to_spool(spool, record_of(2, 100), 2 * record));
  EXPECT_FALSE(append_to_spool(spool, record_of(3, 100), 2 * record));
  EXPECT_EQ(std::filesystem::file_size(spool), 2 * record) << "nothing written past the limit";
  EXPECT_EQ(read_spool(spool).size(), 2U);
}

TEST_F(SpoolTest, RefusesEmptyAndOversizedRecords) {
  EXPECT_THROW(append_to_spool(spool, {}), std::runtime_error);
  EXPECT_THROW(append_to_spool(dir / "missing-dir" / "x.spool", {1}), std::runtime_error);
}

}  // namespace
}  // namespace sealpost::store::mailbox

#include "store/mailbox/encrypted_db.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "crypto/mailbox_keys.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class EncryptedDbTest : public ::testing::Test {
 protected:
  void SetUp() override { dir = sealpost::testing::fresh_test_dir("sealpost-mbox"); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

TEST_F(EncryptedDbTest, NoPlaintextInTheFileItsWalOrShm) {
  const auto key = crypto::new_master_key();
  const auto file = dir / "mailbox.db";
  const std::string marker = "MARKER-7f3a9c-plaintext-never-on-disk";
  auto db = open_encrypted(file, key);
  db->exec("CREATE TABLE m(body TEXT)");
  for (int i = 0; i < 50; ++i) db->prepare("INSERT INTO m VALUES(?)").bind(1, marker).run();
  // While open (the WAL holds the writes) and after closing (checkpointed into the file).
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const auto p = dir / ("mailbox.db" + std::string(suffix));
    if (std::filesystem::exists(p)) {
      EXPECT_EQ(read_all(p).find(marker), std::string::npos) << p;
      EXPECT_EQ(read_all(p).find("CREATE TABLE"), std::string::npos) << p;
    }
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "mailbox.db-wal")) << "journal_mode=WAL";
  db.reset();
  EXPECT_EQ(read_all(file).find(marker), std::string::npos);
  EXPECT_EQ(read_all(file).substr(0, 15).find("SQLite format"), std::string::npos);
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);

  auto again = open_encrypted(file, key);
  auto st = again->prepare("SELECT count(*) FROM m WHERE body = ?");
  st.bind(1, marker).step();
  EXPECT_EQ(st.integer(0), 50);
}

TEST_F(EncryptedDbTest, WrongOrOtherMailboxKeyCannotOpen) {
  const auto key = crypto::new_master_key();
  const auto other = crypto::new_master_key();
  {
    auto db = open_encrypted(dir / "a.db", key);
    db->exec("CREATE TABLE t(x)");
    auto db2 = open_encrypted(dir / "b.db", other);
    db2->exec("CREATE TABLE t(x)");
  }
  EXPECT_THROW(open_encrypted(dir / "a.db", other), StoreError);
  auto flipped = crypto::SecretBytes::copy_of(key.bytes());
  flipped.data()[0] ^= 1;
  EXPECT_THROW(open_encrypted(dir / "a.db", flipped), StoreError);
  EXPECT_NO_THROW(open_encrypted(dir / "a.db", key));
}

TEST_F(EncryptedDbTest, PragmasOfTheDesign) {
  auto db = open_encrypted(dir / "p.db", crypto::new_master_key());
  db->exec("CREATE TABLE t(x)");
  const auto pragma = [&](const char* name) {
    auto st = db->prepare(std::string("PRAGMA ") + name);
    st.step();
    return st.text(0);
  };
  EXPECT_EQ(pragma("journal_mode"), "wal");
  EXPECT_EQ(pragma("secure_delete"), "1");
  EXPECT_EQ(pragma("auto_vacuum"), "1");  // FULL
  EXPECT_EQ(pragma("synchronous"), "1");  // NORMAL
  EXPECT_EQ(pragma("foreign_keys"), "1");
  EXPECT_EQ(pragma("temp_store"), "2");  // MEMORY: see SortsAndVacuumWriteNoTemporaryFile
  EXPECT_EQ(pragma("encoding"), "UTF-8");
}

// SQLite3 Multiple Ciphers encrypts the database, its WAL and journals, but not temporary files:
// a sort that spills, a temporary B-tree or VACUUM's copy would write plaintext rows. Temporary
// data must stay in memory whatever the connection's pragmas say (SQLITE_TEMP_STORE=3).
TEST_F(EncryptedDbTest, SortsAndVacuumWriteNoTemporaryFile) {
  const auto tmp = dir / "tmp";
  std::filesystem::create_directories(tmp);
  sqlite3_temp_directory = sqlite3_mprintf("%s", tmp.c_str());  // where temporary files would go
  const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, tmp.c_str(), IN_CREATE | IN_MODIFY), 0);
  {
    auto db = open_encrypted(dir / "t.db", crypto::new_master_key());
    db->exec("CREATE TABLE t(k, marker)");
    // About 8 MiB of rows, with a page cache of 256 KiB: the sort and VACUUM cannot stay in it.
    db->exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
        "INSERT INTO t SELECT randomblob(300), 'TEMPFILE-MARKER-' || i FROM n");
    db->exec("PRAGMA cache_size = -256; PRAGMA temp_store = FILE");  // ask for files: refused
    {
      auto sorted = db->prepare("SELECT marker FROM t ORDER BY k");
      std::size_t rows = 0;
      while (sorted.step()) ++rows;
      EXPECT_EQ(rows, 20000U);
      auto grouped = db->prepare("SELECT count(DISTINCT marker) FROM t");
      ASSERT_TRUE(grouped.step());
      EXPECT_EQ(grouped.integer(0), 20000);
    }
    db->exec("DELETE FROM t WHERE rowid % 2 = 0");
    db->exec("VACUUM");
  }
  char events[4096];
  const ssize_t n = ::read(watch, events, sizeof events);
  ::close(watch);
  sqlite3_free(sqlite3_temp_directory);
  sqlite3_temp_directory = nullptr;
  EXPECT_LE(n, 0) << "a temporary file was written in " << tmp;
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
}

}  // namespace
}  // namespace sealpost::store::mailbox

#include "store/sqlite/database.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "testing/temp_dir.hpp"

namespace sealpost::store::sqlite {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-sqlite");
    db = std::make_unique<Database>((dir / "t.db").string());
    db->exec(
        "PRAGMA journal_mode = WAL; CREATE TABLE t(x INTEGER);"
        "INSERT INTO t VALUES(1), (2), (3);");
  }
  void TearDown() override {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  // The statements the connection holds, cached or running.
  int statements() {
    int n = 0;
    for (auto* s = sqlite3_next_stmt(db->handle(), nullptr); s != nullptr;
         s = sqlite3_next_stmt(db->handle(), s)) {
      ++n;
    }
    return n;
  }

  std::filesystem::path dir;
  std::unique_ptr<Database> db;
};

constexpr const char* kSelect = "SELECT x FROM t WHERE x >= ? ORDER BY x";

TEST_F(DatabaseTest, AStatementIsCompiledOnceAndComesBackReset) {
  {
    auto st = db->prepare(kSelect);
    st.bind(1, std::int64_t{2});
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), 2);
  }  // given back in the middle of its rows
  EXPECT_EQ(statements(), 1);
  {
    auto st = db->prepare(kSelect);
    EXPECT_EQ(statements(), 1) << "the same statement, not a second one";
    EXPECT_FALSE(st.step()) << "no binding left over: x >= NULL matches nothing";
  }
  auto st = db->prepare(kSelect);
  st.bind(1, std::int64_t{1});
  for (std::int64_t want = 1; want <= 3; ++want) {
    ASSERT_TRUE(st.step()) << "from the first row again";
    EXPECT_EQ(st.integer(0), want);
  }
  EXPECT_FALSE(st.step());
}

TEST_F(DatabaseTest, TheSameSqlRunsTwiceAtOnce) {
  auto outer = db->prepare(kSelect);
  outer.bind(1, std::int64_t{1});
  int pairs = 0;
  while (outer.step()) {
    auto inner = db->prepare(kSelect);
    inner.bind(1, outer.integer(0));
    while (inner.step()) ++pairs;
  }
  EXPECT_EQ(pairs, 3 + 2 + 1);
  EXPECT_LE(statements(), 2);
}

TEST_F(DatabaseTest, AGivenBackStatementHoldsNoSnapshot) {
  {
    auto st = db->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), 3);
  }
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
  Database other((dir / "t.db").string());
  other.exec("INSERT INTO t VALUES(4)");
  auto st = db->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.integer(0), 4) << "the cached statement reads the other connection's commit";
}

TEST_F(DatabaseTest, ACachedStatementFollowsASchemaChange) {
  {
    auto st = db->prepare("SELECT * FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), 1);
  }
  db->exec("ALTER TABLE t ADD COLUMN y TEXT DEFAULT 'new'");
  auto st = db->prepare("SELECT * FROM t");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.text(1), "new");
}

TEST_F(DatabaseTest, TheCacheIsBounded) {
  for (int i = 0; i < 500; ++i) {
    auto st = db->prepare("SELECT " + std::to_string(i));
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), i);
  }
  EXPECT_LE(statements(), 64 * 2);
}

}  // namespace
}  // namespace sealpost::store::sqlite

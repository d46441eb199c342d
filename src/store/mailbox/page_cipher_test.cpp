#include "store/mailbox/page_cipher.hpp"

#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "crypto/mailbox_keys.hpp"
#include "store/mailbox/encrypted_db.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store::mailbox {
namespace {

// RFC 8439 2.3, written out plainly, with the 32-bit block counter wrapping as SQLite3MC's does:
// what chacha20_xor must equal.
std::vector<unsigned char> reference_keystream(const std::array<unsigned char, 32>& key,
                                               const std::array<unsigned char, 12>& nonce,
                                               std::uint32_t counter, std::size_t length) {
  const auto load = [](const unsigned char* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
  };
  const auto rotl = [](std::uint32_t v, int n) { return (v << n) | (v >> (32 - n)); };
  std::vector<unsigned char> out;
  while (out.size() < length) {
    std::array<std::uint32_t, 16> s{0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
    for (std::size_t i = 0; i < 8; ++i) s[4 + i] = load(key.data() + 4 * i);
    s[12] = counter++;
    for (std::size_t i = 0; i < 3; ++i) s[13 + i] = load(nonce.data() + 4 * i);
    auto x = s;
    const auto qr = [&](int a, int b, int c, int d) {
      x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 16);
      x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 12);
      x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 8);
      x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 7);
    };
    for (int round = 0; round < 10; ++round) {
      qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15);
      qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14);
    }
    for (int i = 0; i < 16 && out.size() < length; ++i) {
      const std::uint32_t w = x[i] + s[i];
      for (int b = 0; b < 4 && out.size() < length; ++b) out.push_back((w >> (8 * b)) & 0xff);
    }
  }
  return out;
}

std::array<unsigned char, 32> test_key() {
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  return key;
}

TEST(PageCipherTest, ChaCha20MatchesRfc8439) {
  // RFC 8439 2.4.2: the "Ladies and Gentlemen" sunscreen example, counter 1.
  const std::array<unsigned char, 12> nonce{0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0};
  std::string text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  std::vector<unsigned char> data(text.begin(), text.end());
  chacha20_xor(data, test_key(), nonce, 1);
  const std::array<unsigned char, 16> expected_start{0x6e, 0x2e, 0x35, 0x9a, 0x25, 0x68,
                                                     0xf9, 0x80, 0x41, 0xba, 0x07, 0x28,
                                                     0xdd, 0x0d, 0x69, 0x81};
  EXPECT_TRUE(std::equal(expected_start.begin(), expected_start.end(), data.begin()));
  EXPECT_EQ(data.back(), 0x4d) << "the RFC's last ciphertext byte";
  const auto stream = reference_keystream(test_key(), nonce, 1, text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    ASSERT_EQ(data[i], static_cast<unsigned char>(text[i]) ^ stream[i]) << i;
  }
}

TEST(PageCipherTest, TheBlockCounterWrapsWithoutCarry) {
  // A page's counter is random: near 2^32 its keystream runs past the wrap, where SQLite3MC's
  // counter goes back to 0 and the nonce stays; libsodium alone would refuse or carry.
  const std::array<unsigned char, 12> nonce{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0xff, 0xee};
  for (const std::uint32_t counter : {0U, 7U, 0xfffffffeU, 0xffffffffU}) {
    for (const std::size_t length : {1UL, 64UL, 65UL, 200UL, 4064UL}) {
      std::vector<unsigned char> data(length, 0);
      chacha20_xor(data, test_key(), nonce, counter);
      EXPECT_EQ(data, reference_keystream(test_key(), nonce, counter, length))
          << "counter " << counter << ", " << length << " bytes";
    }
  }
}

class PageCipherFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir = sealpost::testing::fresh_test_dir("sealpost-cipher"); }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // A connection with SQLite3MC's own "chacha20" cipher and the raw key.
  static sqlite3* open_builtin(const std::filesystem::path& file, const crypto::SecretBytes& key) {
    sqlite3* h = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &h), SQLITE_OK);
    EXPECT_EQ(sqlite3mc_config(h, "cipher", CODEC_TYPE_CHACHA20), CODEC_TYPE_CHACHA20);
    std::string raw = "raw:";
    raw.append(reinterpret_cast<const char*>(key.data()), key.size());
    EXPECT_EQ(sqlite3_key(h, raw.data(), static_cast<int>(raw.size())), SQLITE_OK);
    return h;
  }
  static void exec(sqlite3* h, const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(h, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
  }
  static std::int64_t count(sqlite3* h, const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(h, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
    const std::int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }

  std::filesystem::path dir;
};

// Enough rows for overflow pages, interior pages and several WAL frames.
constexpr const char* kFill =
    "CREATE TABLE t(x TEXT);"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) "
    "INSERT INTO t SELECT printf('%d-%s', i, hex(randomblob(600))) FROM n;";

TEST_F(PageCipherFileTest, SQLite3MultipleCiphersOpensWhatItWrites) {
  const auto key = crypto::new_master_key();
  {
    auto db = open_encrypted(dir / "ours.db", key);
    db->exec(kFill);
  }  // closed: checkpointed into the file
  sqlite3* h = open_builtin(dir / "ours.db", key);
  EXPECT_EQ(count(h, "SELECT count(*) FROM t"), 300);
  EXPECT_EQ(count(h, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
            1);
  exec(h, "INSERT INTO t VALUES('written by SQLite3MC')");
  sqlite3_close(h);
  auto again = open_encrypted(dir / "ours.db", key);
  auto st = again->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.integer(0), 301);
}

TEST_F(PageCipherFileTest, ItOpensWhatSQLite3MultipleCiphersWrites) {
  const auto key = crypto::new_master_key();
  sqlite3* h = open_builtin(dir / "theirs.db", key);
  exec(h, "PRAGMA journal_mode = WAL;");
  exec(h, kFill);
  sqlite3_close(h);
  auto db = open_encrypted(dir / "theirs.db", key);
  auto st = db->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.integer(0), 300);
  auto check = db->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
}

TEST_F(PageCipherFileTest, AChangedByteIsCaught) {
  const auto key = crypto::new_master_key();
  {
    auto db = open_encrypted(dir / "m.db", key);
    db->exec(kFill);
  }
  const auto size = std::filesystem::file_size(dir / "m.db");
  ASSERT_GT(size, 8 * 4096U);
  {
    std::fstream f(dir / "m.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(5 * 4096 + 100);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(5 * 4096 + 100);
    f.write(&c, 1);
  }
  auto db = open_encrypted(dir / "m.db", key);  // page 1 is intact
  EXPECT_THROW(
      {
        auto st = db->prepare("SELECT count(*), total(length(x)) FROM t");
        while (st.step()) {
        }
      },
      StoreError)
      << "Poly1305 refuses the altered page";
}

}  // namespace
}  // namespace sealpost::store::mailbox

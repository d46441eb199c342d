#include "auth/dkim/key_cache.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dns/memory_zone.hpp"
#include "testing/async.hpp"

namespace sealpost::auth::dkim {
namespace {

constexpr std::uint64_t kNow = 1'800'000'000;

std::string ed25519_record() {
  const auto key = SigningKey::generate(Algorithm::kEd25519Sha256);
  return key ? key->dns_record() : "";
}

TEST(DkimKeyCache, ReusesAParsedKeyWithinItsTtl) {
  KeyCache cache;
  const std::string record = ed25519_record();
  const auto first = cache.get("example.com", "sel", record, 300, kNow);
  const auto again = cache.get("example.com", "sel", record, 300, kNow + 299);
  EXPECT_EQ(cache.parses(), 1u);
  EXPECT_EQ(first, again);
  ASSERT_TRUE(first->record);
  EXPECT_TRUE(first->key);
}

TEST(DkimKeyCache, ReparsesAKeyPastItsTtl) {
  KeyCache cache;
  const std::string record = ed25519_record();
  (void)cache.get("example.com", "sel", record, 300, kNow);
  (void)cache.get("example.com", "sel", record, 300, kNow + 300);
  EXPECT_EQ(cache.parses(), 2u);
  // The TTL is capped, as the resolver caps how long it keeps answers.
  (void)cache.get("example.com", "sel", record, 86400, kNow + 1000);
  (void)cache.get("example.com", "sel", record, 86400, kNow + 1000 + KeyCache::kMaxTtl);
  EXPECT_EQ(cache.parses(), 4u);
}

TEST(DkimKeyCache, ReparsesWhenTheRecordTextChanges) {
  KeyCache cache;
  const std::string old_record = ed25519_record();
  const std::string new_record = ed25519_record();  // the selector's key rotated
  const auto old_key = cache.get("example.com", "sel", old_record, 300, kNow);
  const auto new_key = cache.get("example.com", "sel", new_record, 300, kNow + 1);
  EXPECT_EQ(cache.parses(), 2u);
  EXPECT_NE(old_key, new_key);
  // The new text replaced the old: going back to it parses again.
  (void)cache.get("example.com", "sel", old_record, 300, kNow + 2);
  EXPECT_EQ(cache.parses(), 3u);
}

TEST(DkimKeyCache, KeysAreKeptPerDomainAndSelector) {
  KeyCache cache;
  const std::string record = ed25519_record();
  (void)cache.get("example.com", "a", record, 300, kNow);
  (void)cache.get("example.com", "b", record, 300, kNow);
  (void)cache.get("example.net", "a", record, 300, kNow);
  EXPECT_EQ(cache.parses(), 3u);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(DkimKeyCache, KeepsNothingWithoutATtlOrAfterTheClockWentBack) {
  KeyCache cache;
  const std::string record = ed25519_record();
  (void)cache.get("example.com", "sel", record, 0, kNow);
  (void)cache.get("example.com", "sel", record, 0, kNow);
  EXPECT_EQ(cache.parses(), 2u);
  EXPECT_EQ(cache.size(), 0u);
  (void)cache.get("example.com", "sel", record, 300, kNow);
  (void)cache.get("example.com", "sel", record, 300, kNow - 10);
  EXPECT_EQ(cache.parses(), 4u);
}

TEST(DkimKeyCache, StaysWithinItsCapacity) {
  KeyCache cache(2);
  const std::string record = ed25519_record();
  (void)cache.get("example.com", "a", record, 100, kNow);
  (void)cache.get("example.com", "b", record, 300, kNow);
  (void)cache.get("example.com", "c", record, 300, kNow);
  EXPECT_EQ(cache.size(), 2u);
  // The entry nearest its expiry ("a") made room; "b" is still there.
  (void)cache.get("example.com", "b", record, 300, kNow);
  EXPECT_EQ(cache.parses(), 3u);
  (void)cache.get("example.com", "a", record, 100, kNow);
  EXPECT_EQ(cache.parses(), 4u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(DkimKeyCache, RecordsThatDoNotParseAreKeptAsSuch) {
  KeyCache cache;
  const auto bad = cache.get("example.com", "sel", "v=DKIM1; p=!!!", 300, kNow);
  EXPECT_FALSE(bad->record);
  const auto revoked = cache.get("example.com", "old", "v=DKIM1; p=", 300, kNow);
  ASSERT_TRUE(revoked->record);
  EXPECT_FALSE(revoked->key);
  EXPECT_EQ(revoked->problem, "key revoked");
  (void)cache.get("example.com", "old", "v=DKIM1; p=", 300, kNow + 1);
  EXPECT_EQ(cache.parses(), 2u);
}

// The server verifies on several threads with one cache: a parsed key, and the OpenSSL context it
// prepared once, serve them all at the same time.
TEST(DkimKeyCache, OneKeyVerifiesOnManyThreadsAtOnce) {
  KeyCache cache;
  for (const auto algorithm : {Algorithm::kRsaSha256, Algorithm::kEd25519Sha256}) {
    const auto key = SigningKey::generate(algorithm);
    ASSERT_TRUE(key);
    const std::vector<std::uint8_t> hash(32, 0x5a);
    const auto signature = key->sign_hash(hash);
    ASSERT_TRUE(signature);
    const std::string selector = algorithm == Algorithm::kRsaSha256 ? "rsa" : "ed";
    std::atomic<int> passed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          const auto parsed = cache.get("example.com", selector, key->dns_record(), 300, kNow);
          if (parsed->key && parsed->key->verify(hash, *signature)) ++passed;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(passed.load(), 200);
  }
}

// Through verify(): the TTL comes from DNS, and a rotated key is seen at the next message.
TEST(DkimKeyCache, VerificationUsesTheCacheAndSeesARotatedKey) {
  dns::MemoryZone zone;
  auto& node = zone.node("sel._domainkey.example.com");
  node.ttl = 60;
  KeyCache cache;
  VerifyOptions options;
  options.key_cache = &cache;
  options.now = kNow;
  SignOptions sign_options;
  sign_options.domain = "example.com";
  sign_options.selector = "sel";
  sign_options.timestamp = kNow;
  const std::string message = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
  const auto signed_with = [&](const SigningKey& key) {
    return sign(message, key, sign_options).value() + message;
  };
  const auto pass = [&](const std::string& m) {
    const auto r = testing::run_sync(verify(zone, m, options));
    return r.size() == 1 && r[0].status == Status::kPass;
  };

  const auto old_key = SigningKey::generate(Algorithm::kEd25519Sha256);
  ASSERT_TRUE(old_key);
  node.txt = {old_key->dns_record()};
  EXPECT_TRUE(pass(signed_with(*old_key)));
  EXPECT_TRUE(pass(signed_with(*old_key)));
  EXPECT_EQ(cache.parses(), 1u);

  const auto new_key = SigningKey::generate(Algorithm::kEd25519Sha256);
  ASSERT_TRUE(new_key);
  node.txt = {new_key->dns_record()};
  EXPECT_FALSE(pass(signed_with(*old_key)));
  EXPECT_TRUE(pass(signed_with(*new_key)));
  EXPECT_EQ(cache.parses(), 2u);

  options.now = kNow + 60;  // the record's TTL has run out
  EXPECT_TRUE(pass(signed_with(*new_key)));
  EXPECT_EQ(cache.parses(), 3u);
}

}  // namespace
}  // namespace sealpost::auth::dkim

// dkimpy's DKIM test data (../shared/conformance/dkim/, README table A-C): verify the signed
// messages, sign and verify round trips with every canonicalisation pair, and key parsing.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "auth/dkim/dkim.hpp"
#include "core/base64.hpp"
#include "dns/memory_zone.hpp"
#include "testing/async.hpp"
#include "testing/conformance.hpp"
#include "testing/text.hpp"

namespace sealpost::auth::dkim {
namespace {

using testing::crlf;  // the files use LF; signatures were made over CRLF

std::filesystem::path dir() {
  return testing::conformance_dir() / "dkim";
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string data(const std::string& name) {
  return read(dir() / "data" / name);
}
std::string extra(const std::string& name) {
  return read(dir() / "extra" / name);
}

std::string record(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

class DkimConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    SEALPOST_REQUIRE_CONFORMANCE(dir() / "data");
  }

  std::vector<SignatureResult> verify_with(const std::string& message, VerifyOptions o = {}) {
    return testing::run_sync(verify(zone, message, o));
  }
  void publish(const std::string& name, const std::string& txt) {
    zone.node(name).txt = {record(txt)};
  }

  dns::MemoryZone zone;
};

TEST_F(DkimConformance, A1_GmailSignatureWithOddFoldingPasses) {
  publish("20120113._domainkey.gmail.com", extra("20120113._domainkey.gmail.com.txt"));
  const auto r = verify_with(crlf(data("test2.message")));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].status, Status::kPass) << r[0].reason;
}

TEST_F(DkimConformance, A2_A3_Rfc8463ExampleBothSignaturesPass) {
  publish("brisbane._domainkey.football.example.com",
          extra("brisbane._domainkey.football.example.com.txt"));
  publish("test._domainkey.football.example.com", data("test.txt"));
  const auto r = verify_with(crlf(data("rfc6376.signed.msg")));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].algorithm, Algorithm::kEd25519Sha256);
  EXPECT_EQ(r[0].status, Status::kPass) << r[0].reason;
  EXPECT_EQ(r[1].algorithm, Algorithm::kRsaSha256);
  EXPECT_EQ(r[1].status, Status::kPass) << r[1].reason;
}

TEST_F(DkimConformance, A4_RsaSignaturePassesAndTamperingIsDetected) {
  publish("test._domainkey.football.example.com", data("test.txt"));
  const std::string msg = crlf(data("rfc6376.signed.rsa.msg"));
  auto r = verify_with(msg);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kPass) << r[0].reason;
  EXPECT_EQ(r[0].domain, "football.example.com");
  EXPECT_EQ(r[0].selector, "test");

  r = verify_with(msg + "appended\r\n");
  EXPECT_EQ(r[0].status, Status::kFail);
  EXPECT_EQ(r[0].reason, "body hash mismatch");
  r = verify_with("X-Foo: bar\r\n" + msg);
  EXPECT_EQ(r[0].status, Status::kPass) << "an unsigned field may be added";
  const auto body = msg.find("\r\n\r\n");
  r = verify_with(msg.substr(0, body + 2) + "From: attacker@example.net\r\n" +
                  msg.substr(body + 2));
  EXPECT_EQ(r[0].status, Status::kFail) << "From is over-signed: a second one breaks it";
}

TEST_F(DkimConformance, A5_CorruptKeyIsPermError) {
  publish("test._domainkey.football.example.com",
          extra("test._domainkey.football.example.com.corrupt.txt"));
  const auto r = verify_with(crlf(data("rfc6376.signed.rsa.msg")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kPermError);
}

TEST_F(DkimConformance, A6_EximEd25519SignaturePasses) {
  publish("sed._domainkey.test.ex", data("eximtest.dns"));
  const auto r = verify_with(crlf(data("ed25519test2.msg")));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].status, Status::kPass) << r[0].reason;
}

TEST_F(DkimConformance, A7_InvalidDomainIsRefusedWithoutALookup) {
  const auto r = verify_with(crlf(data("test.message.baddomain")));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kPermError);
  EXPECT_EQ(zone.queries(), 0);
}

TEST_F(DkimConformance, A8_UnsignedMessageHasNoResult) {
  EXPECT_TRUE(verify_with(crlf(data("test.message"))).empty());
}

struct RoundTrip {
  const char* id;
  const char* message;
  const char* key;  // file in data/; ".key" Ed25519 files hold a raw seed
  const char* selector;
  const char* domain;
  std::string record;  // served at selector._domainkey.domain
  Status expected;
};

std::optional<SigningKey> load_key(const std::string& file) {
  const std::string text = data(file);
  if (text.find("-----BEGIN") != std::string::npos) return SigningKey::from_pem(text);
  const auto seed = core::base64_decode_bytes(text, core::Base64Mode::kFolded);
  if (!seed) return std::nullopt;
  return SigningKey::from_ed25519_seed(*seed);
}

TEST_F(DkimConformance, B_SignThenVerifyWithEveryCanonicalisation) {
  const std::vector<RoundTrip> cases = {
      {"B1", "test.message", "test.private", "test", "example.com", data("test.txt"),
       Status::kPass},
      {"B2", "test.message", "test.private", "test", "example.com", data("test2.txt"),
       Status::kPass},
      {"B3", "test.message", "test.private", "test", "example.com", data("badversion.txt"),
       Status::kPermError},
      {"B4", "test.message", "test.private", "test", "example.com", data("badk.txt"),
       Status::kPermError},
      {"B5", "test.message", "test.private", "test", "example.com", data("test_tlsrpt.txt"),
       Status::kPermError},
      {"B6", "test.message", "1024_testkey.key", "test", "example.com",
       data("1024_testkey_wo_markers.pub.txt"), Status::kPass},
      {"B7", "test.message", "1024_testkey.key", "test2", "example.com",
       data("1024_testkey_wo_markers.pub.rsa.txt"), Status::kPass},
      {"B8", "test.message", "2048_testkey.key", "test3", "example.com",
       data("2048_testkey_wo_markers.pub.txt"), Status::kPass},
      {"B9", "test.message", "2048_testkey.key", "test4", "example.com",
       data("2048_testkey_wo_markers.pub.rsa.txt"), Status::kPass},
      {"B10", "test.message", "2048_testkey_PKCS8.key", "test5", "example.com",
       data("2048_testkey_PKCS8.key.pub.txt"), Status::kPass},
      {"B11", "ed25519test.msg", "ed25519test.key", "test", "example.net", data("ed25519test.dns"),
       Status::kPass},
      {"B12", "rfc6376.msg", "rfc8032_7_1.key", "brisbane", "football.example.com",
       extra("brisbane._domainkey.football.example.com.txt"), Status::kPass},
      {"B13", "rfc6376.msg", "test.private", "test", "football.example.com", data("test.txt"),
       Status::kPass},
      {"B14", "message.mbox", "test.private", "test", "example.com", data("test.txt"),
       Status::kPass},
      {"B14e", "message.mbox", "ed25519test.key", "test", "example.net", data("ed25519test.dns"),
       Status::kPass},
      {"B16", "rfc6376.w1258.msg", "test.private", "test", "football.example.com", data("test.txt"),
       Status::kPass},
      {"extra", "test_extra.message", "test.private", "test", "example.com", data("test.txt"),
       Status::kPass},
  };
  int checked = 0;
  for (const auto& c : cases) {
    const auto key = load_key(c.key);
    ASSERT_TRUE(key) << c.id << ": cannot load " << c.key;
    const std::string message = crlf(data(c.message));
    for (const Canon hc : {Canon::kSimple, Canon::kRelaxed}) {
      for (const Canon bc : {Canon::kSimple, Canon::kRelaxed}) {
        for (const bool all : {false, true}) {
          SCOPED_TRACE(std::string(c.id) + " header " +
                       (hc == Canon::kSimple ? "simple" : "relaxed") + " body " +
                       (bc == Canon::kSimple ? "simple" : "relaxed") + (all ? " all fields" : ""));
          dns::MemoryZone z;
          z.node(std::string(c.selector) + "._domainkey." + c.domain).txt = {record(c.record)};
          SignOptions o;
          o.domain = c.domain;
          o.selector = c.selector;
          o.header_canon = hc;
          o.body_canon = bc;
          o.sign_all_headers = all;
          auto field = sign(message, *key, o);
          ASSERT_TRUE(field);
          const auto r = testing::run_sync(verify(z, *field + message));
          ASSERT_GE(r.size(), 1u);  // message.mbox carries a signature of its own, below ours
          EXPECT_EQ(r[0].status, c.expected) << r[0].reason << "\n" << *field;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()) * 8);
}

TEST_F(DkimConformance, B5_TlsrptKeyVerifiesReportsOnly) {
  const auto key = load_key("test.private");
  SignOptions o;
  o.domain = "example.com";
  o.selector = "test";
  const std::string message = crlf(data("test.message"));
  const auto field = sign(message, *key, o);
  ASSERT_TRUE(field);
  publish("test._domainkey.example.com", data("test_tlsrpt.txt"));
  VerifyOptions report;
  report.tlsrpt = true;
  EXPECT_EQ(verify_with(*field + message, report)[0].status, Status::kPass);
  EXPECT_EQ(verify_with(*field + message)[0].status, Status::kPermError);
  publish("test._domainkey.example.com", data("test.txt"));
  EXPECT_EQ(verify_with(*field + message, report)[0].status, Status::kPass);
}

TEST_F(DkimConformance, B15_SigningWithoutFromIsRefused) {
  SignOptions o;
  o.domain = "example.com";
  o.selector = "test";
  const auto message = crlf(data("test_nofrom.message"));
  EXPECT_FALSE(sign(message, *load_key("test.private"), o));
  EXPECT_FALSE(sign(message, *load_key("ed25519test.key"), o));
}

TEST_F(DkimConformance, B17_B20_BodyLengthIsFlaggedAndNotHonouredForReports) {
  SignOptions o;
  o.domain = "example.com";
  o.selector = "test";
  o.body_length = true;
  const std::string message = crlf(data("test.message"));
  const auto field = sign(message, *load_key("test.private"), o);
  ASSERT_TRUE(field);
  publish("test._domainkey.example.com", data("test.txt"));
  const std::string appended = *field + message + "Appended by a mailing list\r\n";
  const auto r = verify_with(appended);
  EXPECT_EQ(r[0].status, Status::kPass);
  EXPECT_TRUE(r[0].body_length_limited);
  VerifyOptions report;
  report.tlsrpt = true;
  EXPECT_EQ(verify_with(appended, report)[0].status, Status::kFail);
}

TEST_F(DkimConformance, B18_B19_InvalidSigningDomainsFail) {
  SignOptions o;
  o.selector = "test";
  const std::string message = crlf(data("test.message"));
  o.domain = "example.com\xe9";
  EXPECT_FALSE(sign(message, *load_key("test.private"), o));
  o.domain = "legitimate.com(.attacker.com";
  EXPECT_FALSE(sign(message, *load_key("test.private"), o));
}

TEST_F(DkimConformance, C_KeyParsing) {
  auto k = parse_key_record(record(data("test.txt")));
  ASSERT_TRUE(k);
  std::string problem;
  const auto pub = detail::public_key(k.value(), 1024, problem);
  ASSERT_TRUE(pub) << problem;
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 1024);
  auto bad = parse_key_record(record(data("test_bad.txt")));
  EXPECT_TRUE(!bad || !detail::public_key(bad.value(), 1024, problem));
  EXPECT_TRUE(load_key("test.private"));
  // RFC 8301: RSA keys under 1024 bits are refused.
  EXPECT_FALSE(detail::public_key(k.value(), 2048, problem));
  EXPECT_EQ(problem, "RSA key too short");
}

}  // namespace
}  // namespace sealpost::auth::dkim

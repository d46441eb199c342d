#include "auth/dkim/record.hpp"

#include <gtest/gtest.h>

#include "auth/dkim/canon.hpp"
#include "mime/header.hpp"

namespace sealpost::auth::dkim {
namespace {

// RFC 6376 section 3.4.5's example, both ways.
TEST(DkimCanon, Rfc6376Example) {
  const std::string msg = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
  auto h = mime::split_header(msg);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->fields.size(), 2u);
  std::string relaxed;
  for (const auto& f : h->fields) canonical_header(Canon::kRelaxed, f.name, f.raw, relaxed);
  EXPECT_EQ(relaxed, "a:X\r\nb:Y Z\r\n");
  std::string simple;
  for (const auto& f : h->fields) canonical_header(Canon::kSimple, f.name, f.raw, simple);
  EXPECT_EQ(simple, "A: X\r\nB : Y\t\r\n\tZ  \r\n");
  const auto body = std::string_view(msg).substr(h->body_offset);
  EXPECT_EQ(canonical_body(Canon::kRelaxed, body), " C\r\nD E\r\n");
  EXPECT_EQ(canonical_body(Canon::kSimple, body), " C \r\nD \t E\r\n");
}

TEST(DkimCanon, EmptyBodiesCanonicaliseAsRfc6376Says) {
  EXPECT_EQ(canonical_body(Canon::kSimple, ""), "\r\n");
  EXPECT_EQ(canonical_body(Canon::kSimple, "\r\n\r\n"), "\r\n");
  EXPECT_EQ(canonical_body(Canon::kRelaxed, ""), "");
  EXPECT_EQ(canonical_body(Canon::kRelaxed, " \r\n\t\r\n"), "");
  EXPECT_EQ(canonical_body(Canon::kRelaxed, "no final line end"), "no final line end\r\n");
}

TEST(DkimTags, ParsesWithFoldingAndRefusesDuplicates) {
  auto t = parse_tags(" v = 1 ;\r\n\ta=rsa-sha256; b=ab cd\r\n ef ;");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[0].name, "v");
  EXPECT_EQ((*t)[0].value, "1");
  EXPECT_EQ((*t)[2].value, "ab cd\r\n ef");
  EXPECT_FALSE(parse_tags("a=1; a=2"));
  EXPECT_FALSE(parse_tags("a"));
  EXPECT_FALSE(parse_tags("1a=x"));
  EXPECT_EQ(without_b_value("v=1; b=abc; bh=def"), "v=1; b=; bh=def");
}

TEST(DkimSignature, RefusesWhatRfc6376AndRfc8301Refuse) {
  const std::string ok =
      "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; "
      "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA==";
  auto s = parse_signature(ok);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->identity, "@example.com");
  EXPECT_EQ(s->header_canon, Canon::kSimple);
  EXPECT_EQ(parse_signature("v=2" + ok.substr(3)).error(), SignatureError::kVersion);
  auto sha1 = ok;
  sha1.replace(sha1.find("rsa-sha256"), 10, "rsa-sha1");
  EXPECT_EQ(parse_signature(sha1).error(), SignatureError::kAlgorithm);
  auto nofrom = ok;
  nofrom.replace(nofrom.find("from:to"), 7, "to:cc");
  EXPECT_EQ(parse_signature(nofrom).error(), SignatureError::kFromNotSigned);
  EXPECT_EQ(parse_signature(ok + "; i=user@evil.com").error(), SignatureError::kIdentity);
  EXPECT_TRUE(parse_signature(ok + "; i=user@mail.example.com"));
  EXPECT_EQ(parse_signature(ok + "; t=100; x=50").error(), SignatureError::kExpired);
  EXPECT_EQ(parse_signature(ok + "; q=http/foo").error(), SignatureError::kQueryMethod);
}

TEST(DkimKeyRecord, ReadsFlagsAndServices) {
  auto k = parse_key_record(
      "v=DKIM1; k=ed25519; t=y:s; s=email; p=yi50DjK5O9pqbFpNHklsv9lqaS0ArSYu02qp1S0DW1Y=");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->type, KeyRecord::Type::kEd25519);
  EXPECT_TRUE(k->testing);
  EXPECT_TRUE(k->strict);
  EXPECT_TRUE(k->email);
  EXPECT_FALSE(k->tlsrpt);
  EXPECT_EQ(k->key.size(), 32u);
  EXPECT_TRUE(parse_key_record("p=")->key.empty());  // revoked
  EXPECT_EQ(parse_key_record("k=rsa").error(), KeyError::kNoKey);
  EXPECT_EQ(parse_key_record("k=rsa; v=DKIM1; p=").error(), KeyError::kVersion);
  EXPECT_EQ(parse_key_record("k=dsa; p=").error(), KeyError::kKeyType);
  EXPECT_FALSE(parse_key_record("h=sha1; p=")->sha256);
  EXPECT_FALSE(parse_key_record("p=!!!"));
}

}  // namespace
}  // namespace sealpost::auth::dkim

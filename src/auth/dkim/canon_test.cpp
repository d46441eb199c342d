#include "auth/dkim/canon.hpp"

#include <random>

#include <gtest/gtest.h>

namespace sealpost::auth::dkim {
namespace {

// RFC 6376 section 3.4.4 written the plain way, line by line: what the fast canonicalisation
// (vector instructions, pointer writes) must always agree with.
std::string reference_relaxed_body(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto end = body.find("\r\n", pos);
    const bool last = end == std::string_view::npos;
    if (last) end = body.size();
    bool space = false;
    for (char c : body.substr(pos, end - pos)) {
      if (c == ' ' || c == '\t') {
        space = true;
        continue;
      }
      if (space) out += ' ';
      space = false;
      out += c;
    }
    out += "\r\n";
    pos = last ? body.size() : end + 2;
  }
  while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
  if (out == "\r\n") out.clear();
  return out;
}

// Bodies made of the bytes that matter (WSP, CR, LF) and a letter, long enough to cross several
// 64-byte blocks and end at every offset within one.
TEST(DkimCanon, RelaxedBodyMatchesTheReferenceOnRandomBodies) {
  std::mt19937 rng(6376);
  const char alphabet[] = {' ', '\t', '\r', '\n', 'a', 'b'};
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const std::size_t size = rng() % 300;
    // Some bodies are mostly text with rare whitespace, others mostly whitespace.
    const unsigned text_weight = rng() % 8;
    for (std::size_t i = 0; i < size; ++i) {
      const unsigned pick = rng() % (6 + text_weight);
      body += pick < 6 ? alphabet[pick] : 'x';
    }
    const std::string expected = reference_relaxed_body(body);
    ASSERT_EQ(canonical_body(Canon::kRelaxed, body), expected) << testing::PrintToString(body);
    ASSERT_EQ(detail::canonical_body_portable(Canon::kRelaxed, body), expected)
        << testing::PrintToString(body);
  }
}

// The cases at a block's edge: a run of WSP, or the CRLF after one, split across two blocks.
TEST(DkimCanon, RelaxedBodyRunsAcrossBlockEdges) {
  for (std::size_t at = 56; at < 140; ++at) {
    for (const std::string run : {" ", "  ", "\t \t", "        "}) {
      for (const std::string after : {"x\r\n", "\r\n", "\r\r\n", "\r", ""}) {
        std::string body(at, 'a');
        body += run + after + std::string(70, 'b') + "\r\n";
        const std::string expected = reference_relaxed_body(body);
        ASSERT_EQ(canonical_body(Canon::kRelaxed, body), expected) << at << " " << run.size();
        ASSERT_EQ(detail::canonical_body_portable(Canon::kRelaxed, body), expected);
      }
    }
  }
}

TEST(DkimCanon, RelaxedHeaderUnfoldsAndTrims) {
  std::string out;
  canonical_header(Canon::kRelaxed, "SUBJECT", "SUBJECT:  \t a \r\n\t b\t\r\n  c  \r\n", out);
  EXPECT_EQ(out, "subject:a b c\r\n");
  out.clear();
  canonical_header(Canon::kRelaxed, "X", "X:\r\n \r\n", out);
  EXPECT_EQ(out, "x:\r\n");
  out.clear();
  canonical_header(Canon::kRelaxed, "X", "X: a\rb \r\r\n", out);  // a lone CR is no line end
  EXPECT_EQ(out, "x:a\rb \r\r\n");
}

}  // namespace
}  // namespace sealpost::auth::dkim

#include "filter/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

Finding found(std::string symbol, double score, std::optional<Action> decides = std::nullopt) {
  return Finding{std::move(symbol), score, "why", decides};
}

TEST(FilterVerdictTest, ScoresAddUpAgainstTheThresholds) {
  const Policy p;  // junk at 6, reject at 15
  EXPECT_EQ(decide({}, p).action, Action::kAccept);
  EXPECT_EQ(decide({found("A", 3), found("B", 2.9)}, p).action, Action::kAccept);
  EXPECT_EQ(decide({found("A", 3), found("B", 3)}, p).action, Action::kJunk);
  const Verdict v = decide({found("A", 10), found("B", 5), found("GOOD", -1)}, p);
  EXPECT_EQ(v.action, Action::kJunk);
  EXPECT_DOUBLE_EQ(v.score, 14);
  EXPECT_EQ(decide({found("A", 10), found("B", 5)}, p).action, Action::kReject);
}

TEST(FilterVerdictTest, AFindingThatDecidesOutranksTheScore) {
  const Policy p;
  // A virus is refused even when the rest of the message looks legitimate.
  EXPECT_EQ(decide({found("CLAMAV_VIRUS", 0, Action::kReject), found("GOOD", -20)}, p).action,
            Action::kReject);
  // A scanner that could not answer defers, unless something else refuses.
  EXPECT_EQ(decide({found("CLAMAV_UNAVAILABLE", 0, Action::kTempfail)}, p).action,
            Action::kTempfail);
  EXPECT_EQ(decide({found("CLAMAV_UNAVAILABLE", 0, Action::kTempfail),
                    found("ATTACHMENT_EXECUTABLE", 0, Action::kReject)},
                   p)
                .action,
            Action::kReject);
  // Deciding "accept" is not a thing a finding can do: it only scores.
  EXPECT_EQ(decide({found("A", 20, Action::kAccept)}, p).action, Action::kReject);
}

TEST(FilterVerdictTest, ADomainThatKeepsItsSpamGetsJunkNotARefusal) {
  core::Filter settings;
  settings.spam_action = "junk";
  settings.junk_score = 4;
  settings.reject_score = 8;
  settings.scores["URL_IP_HOST"] = 9;
  const Policy p = policy_from(settings);
  EXPECT_DOUBLE_EQ(p.junk_at, 4);
  EXPECT_DOUBLE_EQ(p.reject_at, 8);
  EXPECT_EQ(decide({found("A", 3)}, p).action, Action::kAccept);
  EXPECT_EQ(decide({found("A", 5)}, p).action, Action::kJunk);
  EXPECT_EQ(decide({found("A", 50)}, p).action, Action::kJunk);
  EXPECT_DOUBLE_EQ(decide({found("URL_IP_HOST", 1)}, p).score, 9);
  // What refuses alone is refused whatever the domain does with spam.
  EXPECT_EQ(decide({found("ATTACHMENT_EXECUTABLE", 0, Action::kReject)}, p).action,
            Action::kReject);
  EXPECT_EQ(decide({found("A", 50)}, policy_from(core::Filter{})).action, Action::kReject);
}

TEST(FilterVerdictTest, EachSymbolCountsOnceWithItsScoresAdded) {
  const Verdict v = decide({found("URIBL", 2), found("URIBL", 2), found("DNSBL", 1)}, Policy{});
  ASSERT_EQ(v.findings.size(), 2U);
  EXPECT_EQ(v.findings[0].symbol, "URIBL");
  EXPECT_DOUBLE_EQ(v.findings[0].score, 4);
  EXPECT_EQ(v.findings[1].symbol, "DNSBL");
}

TEST(FilterVerdictTest, TheOperatorsScoresReplaceTheChecks) {
  Policy p;
  p.scores["DNSBL_CLIENT"] = 20;
  p.scores["HTML_ONLY"] = 0;
  EXPECT_EQ(decide({found("DNSBL_CLIENT", 1)}, p).action, Action::kReject);
  EXPECT_EQ(decide({found("HTML_ONLY", 9)}, p).action, Action::kAccept);
  p.junk_at = 2;
  EXPECT_EQ(decide({found("OTHER", 2)}, p).action, Action::kJunk);
}

TEST(FilterVerdictTest, HeaderNamesSymbolsAndScoresOnly) {
  const Verdict v = decide({found("PHISH_HOMOGRAPH", 12.5), found("DNSBL_CLIENT", 5)}, Policy{});
  EXPECT_EQ(
      status_header(v),
      "Yes, score=17.5 required=6.0 action=reject tests=PHISH_HOMOGRAPH=12.5,DNSBL_CLIENT=5.0");
  EXPECT_EQ(status_header(decide({}, Policy{})),
            "No, score=0.0 required=6.0 action=accept tests=NONE");
  EXPECT_EQ(status_header(decide({found("GOOD", -0.04)}, Policy{})),
            "No, score=0.0 required=6.0 action=accept tests=GOOD=0.0");
  EXPECT_EQ(symbol_list(v), "PHISH_HOMOGRAPH,DNSBL_CLIENT");
}

TEST(FilterVerdictTest, TheHeaderFieldIsFoldedIntoShortLines) {
  std::vector<Finding> many;
  for (int i = 0; i < 60; ++i) many.push_back(found("SYMBOL_NUMBER_" + std::to_string(i), 0.5));
  const Verdict v = decide(many, Policy{});
  const std::string field = status_field(v);
  ASSERT_TRUE(field.starts_with("X-Spam-Status: Yes, score=30.0 required=6.0 action=reject"));
  ASSERT_TRUE(field.ends_with("\r\n"));
  std::size_t lines = 0;
  std::string unfolded;
  for (std::size_t pos = 0; pos < field.size();) {
    const auto eol = field.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos);
    const std::string line = field.substr(pos, eol - pos);
    EXPECT_LE(line.size(), 78U) << line;
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos);
    if (lines > 0) {
      ASSERT_FALSE(line.empty());
      EXPECT_EQ(line[0], '\t') << "a continuation line starts with white space";
    }
    unfolded += lines > 0 && unfolded.back() != ',' ? " " + line.substr(1) : line.substr(lines > 0);
    ++lines;
    pos = eol + 2;
  }
  EXPECT_GT(lines, 10U);
  // Unfolded, it is the header's value: nothing lost or added.
  EXPECT_EQ(unfolded, "X-Spam-Status: " + status_header(v));
  // A short verdict fits one line.
  EXPECT_EQ(status_field(decide({}, Policy{})),
            "X-Spam-Status: No, score=0.0 required=6.0 action=accept tests=NONE\r\n");
}

TEST(FilterVerdictTest, SymbolsAreFixedNamesAndScoresFinite) {
  // A check's symbol is a constant; one that is not (a bug) cannot carry text into a header.
  const Verdict v =
      decide({found("bad symbol\r\nX-Injected: 1", 7), found(std::string(kMaxSymbol + 1, 'A'), 1),
              found("NAN", std::nan("")), found("INF", HUGE_VAL)},
             Policy{});
  EXPECT_EQ(v.findings[0].symbol, "INVALID_SYMBOL");
  EXPECT_DOUBLE_EQ(v.findings[0].score, 8);
  EXPECT_DOUBLE_EQ(v.score, 8);
  EXPECT_EQ(status_header(v).find('\n'), std::string::npos);
}

TEST(FilterVerdictTest, TheReplyNamesWhatCountedWithinOneLine) {
  const auto reject = smtp_reply(
      decide({found("PHISH_HOMOGRAPH", 16), found("GOOD", -1), found("EMPTY", 0)}, Policy{}));
  ASSERT_TRUE(reject);
  EXPECT_EQ(reject->code, 550);
  EXPECT_EQ(reject->enhanced, "5.7.1");
  EXPECT_EQ(reject->text, "Message refused by the content filter: PHISH_HOMOGRAPH");
  const auto later = smtp_reply(decide(
      {found("CLAMAV_UNAVAILABLE", 0, Action::kTempfail), found("DNSBL_CLIENT", 3)}, Policy{}));
  ASSERT_TRUE(later);
  EXPECT_EQ(later->code, 451);
  EXPECT_EQ(later->enhanced, "4.7.1");
  EXPECT_EQ(later->text, "Message deferred, try again later: CLAMAV_UNAVAILABLE");
  EXPECT_FALSE(smtp_reply(decide({found("A", 7)}, Policy{})));  // junk is kept, not refused

  std::vector<Finding> many;
  for (int i = 0; i < 200; ++i) many.push_back(found("SYMBOL_NUMBER_" + std::to_string(i), 1));
  const Verdict v = decide(many, Policy{});
  EXPECT_EQ(v.findings.size(), kMaxFindings);
  EXPECT_DOUBLE_EQ(v.score, 200);  // all counted, the first kMaxFindings listed
  const auto bounded = smtp_reply(v);
  ASSERT_TRUE(bounded);
  EXPECT_LE(bounded->text.size(), 404U);
  EXPECT_TRUE(bounded->text.ends_with(" ...")) << bounded->text;
}

TEST(FilterVerdictTest, WhatDecidedIsKeptPastTheBound) {
  std::vector<Finding> many;
  for (int i = 0; i < 100; ++i) many.push_back(found("HIGH_" + std::to_string(i), 5));
  many.push_back(found("ATTACHMENT_EXECUTABLE", 0, Action::kReject));
  const Verdict v = decide(many, Policy{});
  ASSERT_EQ(v.findings.size(), kMaxFindings);
  EXPECT_TRUE(std::any_of(v.findings.begin(), v.findings.end(),
                          [](const Finding& f) { return f.symbol == "ATTACHMENT_EXECUTABLE"; }));
}

TEST(FilterVerdictTest, ASendersOwnSpamFieldsAreCleared) {
  const std::string forged =
      "X-Spam-Status: No, score=-5.0\r\nFrom: a@example.test\r\nX-Spam-Flag: NO\r\n"
      "x-spam-level:\r\n  *****\r\nSubject: X-Spam-Status: in a subject stays\r\n\r\n"
      "X-Spam-Status: in the body stays\r\n";
  EXPECT_EQ(without_spam_fields(forged),
            "From: a@example.test\r\nSubject: X-Spam-Status: in a subject stays\r\n\r\n"
            "X-Spam-Status: in the body stays\r\n");
  // Nothing to clear: no copy.
  EXPECT_EQ(without_spam_fields("From: a@example.test\r\nX-Spamd-Bar: +\r\n\r\nbody\r\n"),
            std::nullopt);
}

}  // namespace
}  // namespace sealpost::filter

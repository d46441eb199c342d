#include "pop3/server/maildrop.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sealpost::pop3::server {
namespace {

Maildrop three() {
  return Maildrop(1700000000,
                  {{.uid = 3, .size = 100}, {.uid = 7, .size = 250}, {.uid = 9, .size = 5}});
}

std::string stuffed(std::string_view message, std::size_t piece = std::string::npos) {
  DotStuffer stuffer;
  std::string out;
  for (std::size_t i = 0; i < message.size(); i += piece) {
    stuffer.append(message.substr(i, piece), out);
  }
  stuffer.finish(out);
  return out;
}

TEST(Pop3MaildropTest, NumbersStayFixedWhileMessagesAreMarked) {
  Maildrop drop = three();
  EXPECT_EQ(drop.size(), 3U);
  EXPECT_EQ(drop.live_count(), 3U);
  EXPECT_EQ(drop.live_octets(), 355U);
  ASSERT_TRUE(drop.mark_deleted(2));
  EXPECT_FALSE(drop.mark_deleted(2)) << "already marked";
  EXPECT_EQ(drop.find(2), nullptr);
  ASSERT_NE(drop.find(3), nullptr);
  EXPECT_EQ(drop.find(3)->uid, 9U) << "message 3 is still message 3";
  EXPECT_EQ(drop.live_count(), 2U);
  EXPECT_EQ(drop.live_octets(), 105U);
  EXPECT_EQ(drop.size(), 3U);
}

TEST(Pop3MaildropTest, OutOfRangeNumbersFindNothing) {
  Maildrop drop = three();
  EXPECT_EQ(drop.find(0), nullptr);
  EXPECT_EQ(drop.find(4), nullptr);
  EXPECT_FALSE(drop.mark_deleted(0));
  EXPECT_FALSE(drop.mark_deleted(4));
  EXPECT_EQ(Maildrop().find(1), nullptr);
}

TEST(Pop3MaildropTest, RsetUnmarksEverything) {
  Maildrop drop = three();
  drop.mark_deleted(1);
  drop.mark_deleted(3);
  drop.reset();
  EXPECT_EQ(drop.live_count(), 3U);
  EXPECT_EQ(drop.live_octets(), 355U);
  EXPECT_TRUE(drop.deleted_uids().empty());
}

TEST(Pop3MaildropTest, QuitDeletesMarkedAndSeesRetrievedKept) {
  Maildrop drop = three();
  drop.mark_retrieved(1);
  drop.mark_retrieved(2);
  drop.mark_deleted(2);
  drop.mark_deleted(3);
  EXPECT_EQ(drop.deleted_uids(), (std::vector<std::uint32_t>{7, 9}));
  EXPECT_EQ(drop.retrieved_kept_uids(), (std::vector<std::uint32_t>{3}));
}

TEST(Pop3MaildropTest, UniqueIdsAreUidvalidityDotUidInPrintableAscii) {
  const Maildrop drop = three();
  EXPECT_EQ(drop.unique_id(1), "1700000000.3");
  EXPECT_EQ(drop.unique_id(3), "1700000000.9");
  const std::string longest = Maildrop(UINT32_MAX, {{.uid = UINT32_MAX}}).unique_id(1);
  EXPECT_LE(longest.size(), 70U);
  for (char c : longest) EXPECT_TRUE(c >= 0x21 && c <= 0x7E);
}

TEST(Pop3DotStufferTest, DoublesLeadingDotsAndTerminates) {
  EXPECT_EQ(stuffed("a\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(stuffed(".first\r\n"), "..first\r\n.\r\n");
  EXPECT_EQ(stuffed(".\r\n"), "..\r\n.\r\n") << "a lone dot in the message is not the end";
}

TEST(Pop3DotStufferTest, PiecesSplitAnywhereGiveTheSameBytes) {
  const std::string message = "H: v\r\n\r\n.x\r\n\r\n.\r\nlast .line\r\n";
  for (std::size_t piece = 1; piece <= message.size(); ++piece) {
    EXPECT_EQ(stuffed(message, piece), stuffed(message)) << piece;
  }
}

TEST(Pop3DotStufferTest, AddsTheMissingFinalLineEnd) {
  EXPECT_EQ(stuffed("no end"), "no end\r\n.\r\n");
  EXPECT_EQ(stuffed("a\r\n.b"), "a\r\n..b\r\n.\r\n");
  EXPECT_EQ(stuffed(""), ".\r\n");
  EXPECT_EQ(stuffed("x\r"), "x\r\r\n.\r\n");
}

TEST(Pop3DotStufferTest, BareLfStartsALineSoNoMessageEndsTheResponseEarly) {
  // A client splitting at LF must not see a lone "." line before the real end.
  EXPECT_EQ(stuffed("a\n.\r\nforged\r\n"), "a\n..\r\nforged\r\n.\r\n");
  EXPECT_EQ(stuffed("a\n"), "a\n\r\n.\r\n");
}

TEST(Pop3TopTest, HeaderBlankLineAndBodyLines) {
  const std::string m = "A: 1\r\nB: 2\r\n\r\nline1\r\nline2\r\nline3\r\n";
  EXPECT_EQ(top_of(m, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(top_of(m, 1), "A: 1\r\nB: 2\r\n\r\nline1\r\n");
  EXPECT_EQ(top_of(m, 3), m);
  EXPECT_EQ(top_of(m, 100), m);
}

TEST(Pop3TopTest, MessagesWithoutBodyOrHeader) {
  EXPECT_EQ(top_of("A: 1\r\nB: 2\r\n", 0), "A: 1\r\nB: 2\r\n") << "all header";
  EXPECT_EQ(top_of("A: 1", 5), "A: 1");
  EXPECT_EQ(top_of("\r\nbody\r\n", 0), "\r\n") << "empty header";
  EXPECT_EQ(top_of("A: 1\r\n\r\nunterminated", 1), "A: 1\r\n\r\nunterminated");
  EXPECT_EQ(top_of("A: 1\n\nbare\nlf\n", 1), "A: 1\n\nbare\n");
  EXPECT_EQ(top_of("", 3), "");
}

}  // namespace
}  // namespace sealpost::pop3::server

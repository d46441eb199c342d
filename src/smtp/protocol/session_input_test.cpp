#include "smtp/protocol/session_input.hpp"

#include <cstring>
#include <limits>

#include <gtest/gtest.h>

namespace sealpost::smtp::protocol {
namespace {

constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();

void receive(SessionInput& in, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto room = in.prepare();
    const std::size_t n = std::min(room.size(), bytes.size());
    std::memcpy(room.data(), bytes.data(), n);
    in.commit(n);
    bytes.remove_prefix(n);
  }
}

TEST(PlanChunk, ComparesWithoutASumThatCouldWrap) {
  EXPECT_EQ(plan_chunk(0, 100, 100), ChunkPlan::kKeep);
  EXPECT_EQ(plan_chunk(40, 60, 100), ChunkPlan::kKeep);
  EXPECT_EQ(plan_chunk(41, 60, 100), ChunkPlan::kReadAndRefuse);
  // 1 + (2^64 - 1) is 0 in 64 bits: the chunk used to be taken as fitting.
  EXPECT_EQ(plan_chunk(1, kMax, 100), ChunkPlan::kRefuseAndHangUp);
  EXPECT_EQ(plan_chunk(0, 101, 100), ChunkPlan::kRefuseAndHangUp);
  EXPECT_EQ(plan_chunk(kMax, 1, 100), ChunkPlan::kReadAndRefuse);
}

TEST(SessionInput, CutsCommandLinesAndKeepsWhatFollows) {
  SessionInput in(1000);
  receive(in, "EHLO a\r\nNOOP\nMAIL");
  std::string line;
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "EHLO a");
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kBareLineEnding);
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kNeedMore);
  receive(in, " FROM:<a@b>\r\n");
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "MAIL FROM:<a@b>");
}

TEST(SessionInput, AnEndlessLineHoldsAtMostOneLineAndARead) {
  SessionInput in(1000);
  std::string line;
  for (int i = 0; i < 1000; ++i) {  // 16 MiB without a line end
    receive(in, std::string(SessionInput::kReadSize, 'x'));
    EXPECT_EQ(in.next_line(line), SessionInput::Line::kNeedMore);
    ASSERT_LE(in.held(), 2 * (1000 + SessionInput::kReadSize));
  }
  receive(in, "yyy\r\nNOOP\r\n");
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kTooLong);
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "NOOP");
}

TEST(SessionInput, TakesChunksAndDataFromWhatIsBuffered) {
  SessionInput in(1000);
  receive(in, "abcdefNOOP\r\n");
  std::uint64_t remaining = 4;
  std::string content;
  EXPECT_EQ(in.take_chunk(remaining, &content), 4U);
  EXPECT_EQ(remaining, 0U);
  EXPECT_EQ(content, "abcd");
  remaining = 2;
  EXPECT_EQ(in.take_chunk(remaining, nullptr), 2U);  // read to stay in step, not kept
  std::string line;
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "NOOP");

  receive(in, "body\r\n.\r\nQUIT\r\n");
  DataReader reader(1 << 20);
  std::string message;
  EXPECT_TRUE(in.feed_data(reader, message));
  EXPECT_EQ(message, "body\r\n");
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "QUIT");
}

TEST(SessionInput, ScrubbingZeroesWhatWasReadAndKeepsWhatFollows) {
  SessionInput in(1000);
  receive(in, "AUTH PLAIN c2VjcmV0LXBhc3N3b3Jk\r\nNOOP\r\n");
  std::string line;
  ASSERT_EQ(in.next_line(line), SessionInput::Line::kLine);
  line.assign(line.size(), '\0');
  EXPECT_TRUE(in.holds_anywhere("c2VjcmV0"));
  in.scrub_consumed();
  EXPECT_FALSE(in.holds_anywhere("c2VjcmV0"));
  EXPECT_EQ(in.next_line(line), SessionInput::Line::kLine);
  EXPECT_EQ(line, "NOOP");
}

}  // namespace
}  // namespace sealpost::smtp::protocol

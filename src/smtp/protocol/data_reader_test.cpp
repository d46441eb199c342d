#include "smtp/protocol/data_reader.hpp"

#include <gtest/gtest.h>

#include "smtp/protocol/data_writer.hpp"

namespace sealpost::smtp::protocol {
namespace {

struct Read {
  std::string content;
  std::size_t consumed;
  bool done;
  bool bare;
  bool oversize;
};

Read read_all(std::string_view input, std::size_t limit = 1 << 20, std::size_t piece = 0) {
  DataReader reader(limit);
  Read r{{}, 0, false, false, false};
  if (piece == 0) piece = input.size() + 1;
  while (r.consumed < input.size() && !reader.done()) {
    r.consumed += reader.feed(input.substr(r.consumed, piece), r.content);
  }
  r.done = reader.done();
  r.bare = reader.bare_line_ending();
  r.oversize = reader.oversize();
  return r;
}

TEST(DataReaderTest, EndsAtCrLfDotCrLfAndLeavesPipelinedCommands) {
  const Read r = read_all("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.bare);
  EXPECT_EQ(r.content, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(r.consumed, std::string_view("Subject: x\r\n\r\nbody\r\n.\r\n").size());
}

TEST(DataReaderTest, EmptyMessage) {
  const Read r = read_all(".\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.content, "");
}

TEST(DataReaderTest, RemovesDotStuffing) {
  const Read r = read_all("..leading\r\n...two\r\n.\r\n");
  EXPECT_EQ(r.content, ".leading\r\n..two\r\n");
}

TEST(DataReaderTest, SmugglingEndMarkersNeitherEndNorSplit) {
  // Each fake end marker is followed by what would be a second, smuggled transaction.
  for (std::string_view marker : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\r\n", "\r\n.\r",
                                  "\n.\r", "\r.\n", "\n.\r\r\n"}) {
    std::string input = "first";
    input += marker;
    input += "MAIL FROM:<evil@example.com>\r\nDATA\r\nsmuggled\r\n.\r\n";
    const Read r = read_all(input);
    EXPECT_TRUE(r.done) << testing::PrintToString(marker);
    EXPECT_TRUE(r.bare) << testing::PrintToString(marker);
    EXPECT_EQ(r.consumed, input.size()) << testing::PrintToString(marker);
  }
}

TEST(DataReaderTest, RejectsBareLfAndBareCrInBody) {
  EXPECT_TRUE(read_all("a\nb\r\n.\r\n").bare);
  EXPECT_TRUE(read_all("a\rb\r\n.\r\n").bare);
  EXPECT_FALSE(read_all("a\r\nb\r\n.\r\n").bare);
}

TEST(DataReaderTest, SameResultAtEverySplit) {
  const std::string input = "Subject: s\r\n\r\n..x\r\nline\r\n\r\n.\r\nNOOP\r\n";
  const Read whole = read_all(input);
  for (std::size_t piece = 1; piece <= input.size(); ++piece) {
    const Read split = read_all(input, 1 << 20, piece);
    EXPECT_EQ(split.content, whole.content) << piece;
    EXPECT_EQ(split.consumed, whole.consumed) << piece;
  }
}

TEST(DataReaderTest, OversizeStillFindsTheEnd) {
  const Read r = read_all(std::string(100, 'x') + "\r\n.\r\nQUIT\r\n", 10);
  EXPECT_TRUE(r.done);
  EXPECT_TRUE(r.oversize);
  EXPECT_EQ(r.content.size(), 10U);
}

TEST(DataWriterTest, StuffingRoundTrips) {
  const std::string content = ".a\r\nb\r\n.\r\n..c\r\n";
  std::string wire;
  append_dot_stuffed(content, true, wire);
  wire += end_of_data(content);
  EXPECT_EQ(wire, "..a\r\nb\r\n..\r\n...c\r\n.\r\n");
  EXPECT_EQ(read_all(wire).content, content);
  EXPECT_EQ(end_of_data("no newline"), "\r\n.\r\n");
}

}  // namespace
}  // namespace sealpost::smtp::protocol

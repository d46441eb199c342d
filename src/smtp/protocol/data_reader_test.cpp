#include "smtp/protocol/data_reader.hpp"

#include <gtest/gtest.h>

#include "smtp/protocol/data_writer.hpp"

namespace sealpost::smtp::protocol {
namespace {

struct Read {
  std::string content;
  std::size_t consumed;
  bool done;
  bool bare_cr;
  std::size_t bare_lf;
  bool oversize;
};

Read read_all(std::string_view input, std::size_t limit = 1 << 20, std::size_t piece = 0) {
  DataReader reader(limit);
  Read r{{}, 0, false, false, 0, false};
  if (piece == 0) piece = input.size() + 1;
  while (r.consumed < input.size() && !reader.done()) {
    r.consumed += reader.feed(input.substr(r.consumed, piece), r.content);
  }
  r.done = reader.done();
  r.bare_cr = reader.bare_cr();
  r.bare_lf = reader.bare_lf_count();
  r.oversize = reader.oversize();
  return r;
}

TEST(DataReaderTest, EndsAtCrLfDotCrLfAndLeavesPipelinedCommands) {
  const Read r = read_all("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.bare_cr);
  EXPECT_EQ(r.bare_lf, 0U);
  EXPECT_EQ(r.content, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(r.consumed, std::string_view("Subject: x\r\n\r\nbody\r\n.\r\n").size());
}

TEST(DataReaderTest, ALoneDotIsAnEmptyMessage) {
  const Read r = read_all(".\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.content, "");
}

TEST(DataReaderTest, RemovesDotStuffing) {
  const Read r = read_all("..leading\r\n...two\r\n.\r\n");
  EXPECT_EQ(r.content, ".leading\r\n..two\r\n");
}

TEST(DataReaderTest, SmugglingEndMarkersNeitherEndNorSplit) {
  // Each fake end marker is followed by what would be a second, smuggled transaction: the reader
  // reads on to the real end, so it all stays one message.
  for (std::string_view marker : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\r\n", "\r\n.\r",
                                  "\n.\r", "\r.\n", "\n.\r\r\n"}) {
    std::string input = "first";
    input += marker;
    input += "MAIL FROM:<evil@example.com>\r\nDATA\r\nsmuggled\r\n.\r\n";
    const Read r = read_all(input);
    EXPECT_TRUE(r.done) << testing::PrintToString(marker);
    EXPECT_EQ(r.consumed, input.size()) << testing::PrintToString(marker);
    // Markers with a bare CR are refused; the others hold only bare LFs, kept as line ends.
    EXPECT_EQ(r.bare_cr, has_bare_cr(std::string(marker) + "M")) << testing::PrintToString(marker);
    EXPECT_NE(r.content.find("MAIL FROM:<evil@example.com>\r\n"), std::string::npos);
  }
}

TEST(DataReaderTest, BareLfEndsALineAndIsKeptAsCrLf) {
  const Read r = read_all("Subject: s\n\nline one\nline two\r\n.\r\n");
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.bare_cr);
  EXPECT_EQ(r.bare_lf, 3U);
  EXPECT_EQ(r.content, "Subject: s\r\n\r\nline one\r\nline two\r\n");
}

TEST(DataReaderTest, ADotLineAfterABareLfIsDataNeverTheEnd) {
  // "<LF>.<LF>" and "<LF>.<CRLF>": the dot is unstuffed like any leading dot, and the message
  // goes on to the real <CRLF>.<CRLF>.
  for (std::string_view tail : {"\n.\nafter\r\n.\r\n", "\n.\r\nafter\r\n.\r\n"}) {
    std::string input = "before";
    input += tail;
    const Read r = read_all(input);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.consumed, input.size());
    EXPECT_EQ(r.content, "before\r\n\r\nafter\r\n") << testing::PrintToString(tail);
  }
  // A sender that stuffs the lines it ends with LF (smtplib does) gets its dots back.
  EXPECT_EQ(read_all("a\n..b\n..\r\n.\r\n").content, "a\r\n.b\r\n.\r\n");
}

TEST(DataReaderTest, RefusesBareCrAndToleratesBareLf) {
  EXPECT_EQ(read_all("a\nb\r\n.\r\n").bare_lf, 1U);
  EXPECT_FALSE(read_all("a\nb\r\n.\r\n").bare_cr);
  EXPECT_TRUE(read_all("a\rb\r\n.\r\n").bare_cr);
  EXPECT_FALSE(read_all("a\r\nb\r\n.\r\n").bare_cr);
}

TEST(DataReaderTest, BdatContentIsNormalisedTheSameWay) {
  std::string content = "a\nb\r\n\nc";
  EXPECT_EQ(normalize_bare_lf(content), 2U);
  EXPECT_EQ(content, "a\r\nb\r\n\r\nc");
  EXPECT_EQ(normalize_bare_lf(content), 0U);
  EXPECT_TRUE(has_bare_cr("a\rb"));
  EXPECT_TRUE(has_bare_cr("a\r"));
  EXPECT_FALSE(has_bare_cr("a\r\nb\n"));
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

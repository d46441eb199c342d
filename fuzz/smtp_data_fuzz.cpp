// The DATA reader on arbitrary input, fed whole and in pieces. Invariants a mail server depends
// on: the result does not depend on how the bytes arrived; it ends only at <CRLF>.<CRLF>; it
// never consumes more than it was given; it never keeps more than its limit; and what it keeps
// has no bare LF, so relayed (every line CRLF, dot-stuffed) it reads back unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "smtp/protocol/data_reader.hpp"
#include "smtp/protocol/data_writer.hpp"

namespace {

struct Run {
  std::string out;
  std::size_t consumed = 0;
  bool done = false;
  bool bare_cr = false;
  std::size_t bare_lf = 0;
  bool oversize = false;
};

Run feed_in_pieces(std::string_view input, std::size_t limit, std::size_t piece) {
  sealpost::smtp::protocol::DataReader reader(limit);
  Run r;
  while (r.consumed < input.size() && !reader.done()) {
    const auto chunk = input.substr(r.consumed, piece);
    const std::size_t n = reader.feed(chunk, r.out);
    if (n > chunk.size()) __builtin_trap();
    r.consumed += n;
    if (n < chunk.size() && !reader.done()) __builtin_trap();  // stops early only at the end
  }
  r.done = reader.done();
  r.bare_cr = reader.bare_cr();
  r.bare_lf = reader.bare_lf_count();
  r.oversize = reader.oversize();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = data[0] * 16;
  const std::size_t piece = data[1] % 17 + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  const Run whole = feed_in_pieces(input, limit, input.size() + 1);
  const Run split = feed_in_pieces(input, limit, piece);
  if (whole.out != split.out || whole.consumed != split.consumed || whole.done != split.done ||
      whole.bare_cr != split.bare_cr || whole.bare_lf != split.bare_lf ||
      whole.oversize != split.oversize) {
    __builtin_trap();
  }
  if (whole.out.size() > limit) __builtin_trap();
  // Bare LFs are stored as CRLF: the content never holds one.
  for (std::size_t i = 0; i < whole.out.size(); ++i) {
    if (whole.out[i] == '\n' && (i == 0 || whole.out[i - 1] != '\r')) __builtin_trap();
  }
  if (whole.done) {
    const std::string_view used = input.substr(0, whole.consumed);
    // Only CRLF.CRLF ends a message (or ".CRLF" as its very first line).
    if (!(used == ".\r\n" || (used.size() >= 5 && used.substr(used.size() - 5) == "\r\n.\r\n"))) {
      __builtin_trap();
    }
    // A clean message survives the sending side's stuffing and reading it back unchanged.
    if (!whole.bare_cr && !whole.oversize) {
      std::string wire;
      sealpost::smtp::protocol::append_dot_stuffed(whole.out, true, wire);
      wire += sealpost::smtp::protocol::end_of_data(whole.out);
      const Run again = feed_in_pieces(wire, limit + 2, wire.size() + 1);
      std::string expected = whole.out;
      if (!expected.empty() && expected.size() >= 2 &&
          expected.substr(expected.size() - 2) != "\r\n") {
        expected += "\r\n";
      }
      if (!again.done || again.bare_cr || again.bare_lf != 0 || again.consumed != wire.size() ||
          (!again.oversize && again.out != expected)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}

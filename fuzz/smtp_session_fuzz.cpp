// The SMTP server session's input side driven as a client would drive it: arbitrary octets,
// arriving in arbitrary pieces, cut into command lines, parsed, and, for DATA and BDAT, read as
// message content under the session's rules (plan_chunk for chunk sizes, DataReader for DATA,
// bare-LF normalisation at the last chunk). The session's transaction bookkeeping is modelled
// in a few lines; every octet held goes through the real SessionInput.
//
// The memory ceiling a session depends on, whatever its commands and chunk sizes: the input
// buffer never holds more than a command line and a read (with std::string's growth), and a
// message never more than the limit (twice it after bare LFs become CRLF, which the session then
// refuses).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtp/protocol/command.hpp"
#include "smtp/protocol/data_reader.hpp"
#include "smtp/protocol/session_input.hpp"

namespace {

using sealpost::smtp::protocol::ChunkPlan;
using sealpost::smtp::protocol::DataReader;
using sealpost::smtp::protocol::kMaxCommandLine;
using sealpost::smtp::protocol::SessionInput;
using sealpost::smtp::protocol::Verb;

struct Model {
  explicit Model(std::uint64_t message_limit) : limit(message_limit) {}

  std::uint64_t limit;
  SessionInput input{kMaxCommandLine};
  bool transaction = false;
  unsigned recipients = 0;
  bool chunk_failed = false;
  std::string content;
  std::optional<DataReader> data;     // inside DATA
  std::uint64_t chunk_remaining = 0;  // inside a BDAT chunk
  bool chunk_keep = false;
  bool chunk_last = false;
  bool in_chunk = false;
  bool closed = false;

  void reset() {
    transaction = false;
    recipients = 0;
    chunk_failed = false;
    std::string().swap(content);
  }

  void check() const {
    const std::size_t ceiling = 2 * (kMaxCommandLine + SessionInput::kReadSize) + 64;
    if (input.held() > ceiling) __builtin_trap();
    if (content.size() > limit) __builtin_trap();
  }

  void command(std::string_view line) {
    auto parsed = sealpost::smtp::protocol::parse_command(line, false);
    if (!parsed) return;
    const auto& cmd = parsed.value();
    switch (cmd.verb) {
      case Verb::kMail:
        if (!transaction) {
          reset();
          transaction = true;
        }
        break;
      case Verb::kRcpt:
        if (transaction) ++recipients;
        break;
      case Verb::kRset:
        reset();
        break;
      case Verb::kData:
        if (transaction && recipients > 0 && content.empty()) data.emplace(limit);
        break;
      case Verb::kBdat: {
        const bool allowed = transaction && recipients > 0 && !chunk_failed;
        const ChunkPlan plan = sealpost::smtp::protocol::plan_chunk(allowed ? content.size() : 0,
                                                                    cmd.chunk_size, limit);
        if (plan == ChunkPlan::kRefuseAndHangUp) {
          closed = true;
          return;
        }
        // What plan_chunk lets through fits: held + size cannot pass the limit.
        if (plan == ChunkPlan::kKeep && content.size() + cmd.chunk_size > limit) __builtin_trap();
        chunk_keep = allowed && plan == ChunkPlan::kKeep;
        if (allowed && !chunk_keep) {
          chunk_failed = true;
          std::string().swap(content);
        }
        chunk_remaining = cmd.chunk_size;
        chunk_last = cmd.last_chunk;
        in_chunk = true;
        break;
      }
      case Verb::kQuit:
        closed = true;
        break;
      default:
        break;
    }
  }

  // Consumes what is buffered as far as it goes.
  void drain() {
    std::string line;
    while (!closed) {
      check();
      if (data) {
        if (!input.feed_data(*data, content)) return;
        if (data->bare_cr() || data->oversize()) {
          std::string().swap(content);
        }
        for (std::size_t i = 0; i < content.size(); ++i) {
          if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r')) __builtin_trap();
        }
        data.reset();
        reset();
        continue;
      }
      if (in_chunk) {
        input.take_chunk(chunk_remaining, chunk_keep ? &content : nullptr);
        if (chunk_remaining > 0) return;
        in_chunk = false;
        if (chunk_last && chunk_keep) {
          if (!sealpost::smtp::protocol::has_bare_cr(content)) {
            const std::size_t before = content.size();
            const std::size_t added = sealpost::smtp::protocol::normalize_bare_lf(content);
            if (content.size() != before + added || content.size() > 2 * limit) __builtin_trap();
          }
          reset();
        }
        continue;
      }
      switch (input.next_line(line)) {
        case SessionInput::Line::kNeedMore:
          return;
        case SessionInput::Line::kLine:
          if (line.size() + 2 > kMaxCommandLine) __builtin_trap();
          command(line);
          break;
        case SessionInput::Line::kTooLong:
        case SessionInput::Line::kBareLineEnding:
          break;
      }
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Model model((std::uint64_t{data[0]} + 1) * 64);
  const std::size_t piece = data[1] % 64 + 1;
  std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);
  while (!stream.empty() && !model.closed) {
    const auto room = model.input.prepare();
    const std::size_t n = std::min({room.size(), piece, stream.size()});
    stream.copy(room.data(), n);
    model.input.commit(n);
    stream.remove_prefix(n);
    model.drain();
    model.check();
  }
  return 0;
}

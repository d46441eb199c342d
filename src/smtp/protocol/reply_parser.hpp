// Parses replies from another SMTP server (RFC 5321 section 4.2): "NNN-text" continuation lines
// and a final "NNN text" line, all with the same code. The remote is hostile input: lines and
// line counts are bounded, and anything malformed is an error, not a guess.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::smtp::protocol {

inline constexpr std::size_t kMaxReplyLine = 2048;
inline constexpr std::size_t kMaxReplyLines = 64;

struct ServerReply {
  int code = 0;
  std::string enhanced;            // from the first line, when present
  std::vector<std::string> lines;  // text after "NNN-"/"NNN ", with enhanced codes kept

  [[nodiscard]] bool positive() const noexcept { return code >= 200 && code < 400; }
  [[nodiscard]] bool transient() const noexcept { return code >= 400 && code < 500; }
  [[nodiscard]] bool permanent() const noexcept { return code >= 500; }
  // All lines joined by a space, for diagnostics.
  [[nodiscard]] std::string text() const;
  // True when some line after the first equals `keyword` or starts with "keyword ".
  [[nodiscard]] bool has_extension(std::string_view keyword) const;
};

enum class ReplyParse { kNeedMore, kComplete, kMalformed };

// Looks for one complete reply at the front of `buffer`. On kComplete, `consumed` says how many
// octets it took; the caller drops them and may call again for the next (pipelined) reply.
ReplyParse parse_reply(std::string_view buffer, ServerReply& reply, std::size_t& consumed);

// Extracts an RFC 3463 enhanced code ("4.2.2") at the start of `text`, or returns empty.
std::string_view leading_enhanced_code(std::string_view text) noexcept;

}  // namespace sealpost::smtp::protocol

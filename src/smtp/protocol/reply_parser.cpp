#include "smtp/protocol/reply_parser.hpp"

#include "core/strings.hpp"

namespace sealpost::smtp::protocol {

std::string ServerReply::text() const {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

bool ServerReply::has_extension(std::string_view keyword) const {
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view l = lines[i];
    if (iequals(l, keyword) ||
        (l.size() > keyword.size() && istarts_with(l, keyword) && l[keyword.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

std::string_view leading_enhanced_code(std::string_view text) noexcept {
  // class "." subject "." detail ; class = 2/4/5, subject and detail 1-3 digits
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') {
    return {};
  }
  std::size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = i;
    while (i < text.size() && is_ascii_digit(text[i]) && i - start < 3) ++i;
    if (i == start) return {};
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return {};
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') return {};
  return text.substr(0, i);
}

ReplyParse parse_reply(std::string_view buffer, ServerReply& reply, std::size_t& consumed) {
  reply = ServerReply{};
  std::size_t pos = 0;
  while (true) {
    const auto nl = buffer.find('\n', pos);
    if (nl == std::string_view::npos) {
      return buffer.size() - pos > kMaxReplyLine ? ReplyParse::kMalformed : ReplyParse::kNeedMore;
    }
    std::string_view line = buffer.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxReplyLine || line.size() < 3) return ReplyParse::kMalformed;
    for (int k = 0; k < 3; ++k) {
      if (!is_ascii_digit(line[k])) return ReplyParse::kMalformed;
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599) return ReplyParse::kMalformed;
    if (reply.lines.empty()) {
      reply.code = code;
    } else if (code != reply.code) {
      return ReplyParse::kMalformed;
    }
    const bool last = line.size() == 3 || line[3] == ' ';
    if (!last && line[3] != '-') return ReplyParse::kMalformed;
    const std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (reply.lines.empty()) reply.enhanced = std::string(leading_enhanced_code(text));
    if (reply.lines.size() >= kMaxReplyLines) return ReplyParse::kMalformed;
    reply.lines.emplace_back(text);
    pos = nl + 1;
    if (last) {
      consumed = pos;
      return ReplyParse::kComplete;
    }
  }
}

}  // namespace sealpost::smtp::protocol

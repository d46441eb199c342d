#include "smtp/protocol/data_writer.hpp"

namespace sealpost::smtp::protocol {

bool needs_dot_stuffing(std::string_view content) noexcept {
  if (!content.empty() && content.front() == '.') return true;
  return content.find("\n.") != std::string_view::npos;
}

void append_dot_stuffed(std::string_view content, bool at_line_start, std::string& out) {
  out.reserve(out.size() + content.size() + content.size() / 64);
  std::size_t pos = 0;
  if (at_line_start && !content.empty() && content.front() == '.') out += '.';
  while (true) {
    const auto nl = content.find("\n.", pos);
    if (nl == std::string_view::npos) {
      out.append(content.substr(pos));
      return;
    }
    out.append(content.substr(pos, nl + 1 - pos));
    out += '.';
    pos = nl + 1;
  }
}

std::string_view end_of_data(std::string_view content) noexcept {
  const bool ends_with_crlf = content.size() >= 2 && content.substr(content.size() - 2) == "\r\n";
  return ends_with_crlf || content.empty() ? std::string_view(".\r\n")
                                           : std::string_view("\r\n.\r\n");
}

}  // namespace sealpost::smtp::protocol

#include "smtp/protocol/reply.hpp"

#include <string_view>

namespace sealpost::smtp::protocol {

void Reply::append_to(std::string& out) const {
  const std::string code_str = std::to_string(code);
  std::string_view rest = text;
  while (true) {
    const auto nl = rest.find('\n');
    const bool last = nl == std::string_view::npos;
    out += code_str;
    out += last ? ' ' : '-';
    if (!enhanced.empty()) {
      out += enhanced;
      out += ' ';
    }
    out += last ? rest : rest.substr(0, nl);
    out += "\r\n";
    if (last) break;
    rest.remove_prefix(nl + 1);
  }
}

std::string Reply::serialize() const {
  std::string out;
  append_to(out);
  return out;
}

}  // namespace sealpost::smtp::protocol

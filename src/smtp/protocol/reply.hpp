// An SMTP reply as a value: decided where the rule lives, written by the session.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sealpost::smtp::protocol {

struct Reply {
  int code = 250;
  std::string enhanced;  // RFC 3463 "class.subject.detail", empty when not applicable
  std::string text;

  [[nodiscard]] bool positive() const noexcept { return code >= 200 && code < 400; }
  [[nodiscard]] bool transient() const noexcept { return code >= 400 && code < 500; }
  [[nodiscard]] bool permanent() const noexcept { return code >= 500; }

  // "CODE ENH TEXT\r\n"; multi-line when `text` holds '\n'-separated lines.
  [[nodiscard]] std::string serialize() const;
  void append_to(std::string& out) const;
};

inline Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  return Reply{code, std::string(enhanced), std::string(text)};
}

}  // namespace sealpost::smtp::protocol

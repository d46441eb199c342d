// RFC 5321 section 4.1.2 paths: "<" [ A-d-l ":" ] Mailbox ">", with RFC 6531 UTF-8 when the
// transaction declared SMTPUTF8. Syntax only: whether an address is routable is routing's call.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealpost::smtp::protocol {

// RFC 5321 section 4.5.3.1: size limits on the parts of a path.
inline constexpr std::size_t kMaxLocalPart = 64;
inline constexpr std::size_t kMaxDomain = 255;
inline constexpr std::size_t kMaxPath = 256;

struct Mailbox {
  std::string local;   // unquoted form (quoted-pairs resolved)
  std::string domain;  // as sent; empty only for the bare "<Postmaster>" recipient
  bool local_quoted = false;
  bool domain_is_literal = false;  // "[192.0.2.1]" or "[IPv6:...]"
  bool has_utf8 = false;

  [[nodiscard]] std::string to_string() const;  // local@domain, re-quoting the local part if needed
};

struct Path {
  bool null = false;  // "<>"
  bool had_source_route = false;
  Mailbox mailbox;
};

enum class PathError {
  kSyntax,          // not a path at all
  kTooLong,         // a part over its RFC 5321 limit
  kUtf8NotAllowed,  // 8-bit octets without SMTPUTF8
};

Result<Path, PathError> parse_path(std::string_view text, bool allow_utf8);

// True when the local part is a plain RFC 5321 Dot-string (no quoting needed).
bool is_dot_string(std::string_view local, bool allow_utf8) noexcept;

}  // namespace sealpost::smtp::protocol

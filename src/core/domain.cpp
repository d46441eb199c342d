#include "core/domain.hpp"

#include <cstdlib>

#include <idn2.h>

#include "core/strings.hpp"

namespace sealpost::core {
namespace {

bool is_ldh_name(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : d) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (is_ascii_alpha(c) || is_ascii_digit(c) || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

}  // namespace

std::optional<std::string> to_a_label(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 1024) return std::nullopt;
  bool ascii = true;
  for (unsigned char c : domain) {
    if (c >= 0x80) ascii = false;
  }
  std::string result;
  if (ascii) {
    result = to_lower_ascii(domain);
  } else {
    const std::string input(domain);
    char* out = nullptr;
    const int rc = idn2_to_ascii_8z(input.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK || out == nullptr) return std::nullopt;
    result = to_lower_ascii(out);
    idn2_free(out);
  }
  if (!is_ldh_name(result)) return std::nullopt;
  return result;
}

std::optional<std::string> to_u_label(std::string_view domain) {
  if (domain.empty() || domain.size() > 253 || domain.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string input = to_lower_ascii(domain);
  if (input.find("xn--") == std::string::npos) return input;
  char* out = nullptr;
  const int rc = idn2_to_unicode_8z8z(input.c_str(), &out, 0);
  if (rc != IDN2_OK || out == nullptr) return std::nullopt;
  std::string result(out);
  idn2_free(out);
  return result;
}

std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view a) {
  const auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return std::nullopt;
  return std::make_pair(a.substr(0, at), a.substr(at + 1));
}

std::optional<std::string> normalize_address(std::string_view address) {
  const auto parts = split_address(address);
  if (!parts) return std::nullopt;
  auto domain = to_a_label(parts->second);
  if (!domain) return std::nullopt;
  return to_lower_ascii(parts->first) + "@" + *domain;
}

}  // namespace sealpost::core

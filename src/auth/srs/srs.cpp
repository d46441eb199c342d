#include "auth/srs/srs.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.hpp"
#include "core/secret_file.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::srs {
namespace {

constexpr std::string_view kSeparators = "=+-";
constexpr char kSeparator = '=';  // the only one we write; any of kSeparators is read
constexpr std::string_view kTimeChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kHashChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::size_t kHashLength = 4;
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kTimeSlots = 1024;         // two base32 characters of day number
constexpr int kMaxAgeLimitDays = kTimeSlots - 2;  // keeps "one day ahead" distinguishable

bool is_separator(char c) noexcept {
  return kSeparators.find(c) != std::string_view::npos;
}

bool has_tag(std::string_view local, char digit) noexcept {
  return local.size() >= 5 && istarts_with(local, "SRS") && local[3] == digit &&
         is_separator(local[4]);
}

bool has_control(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// RFC 5321 atext, plus RFC 6531's UTF-8 octets.
bool is_atext(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80 || is_ascii_alpha(c) || is_ascii_digit(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_dot_string(std::string_view s) noexcept {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

std::string quote_if_needed(std::string_view local) {
  if (is_dot_string(local)) return std::string(local);
  std::string out = "\"";
  for (const char c : local) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// The content of a quoted local part ("a b" -> a b); an unquoted one as it is; nullopt for a
// broken quoted string or control characters, which no rewritten address may carry.
std::optional<std::string> unquote(std::string_view local) {
  if (has_control(local)) return std::nullopt;
  if (local.size() < 2 || local.front() != '"' || local.back() != '"') return std::string(local);
  std::string out;
  const std::string_view inner = local.substr(1, local.size() - 2);
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '"') return std::nullopt;
    if (inner[i] == '\\') {
      if (++i == inner.size()) return std::nullopt;
    }
    out.push_back(inner[i]);
  }
  return out;
}

std::string encode_stamp(std::int64_t day) {
  const auto slot = static_cast<std::size_t>(((day % kTimeSlots) + kTimeSlots) % kTimeSlots);
  return {kTimeChars[slot >> 5], kTimeChars[slot & 31]};
}

std::optional<std::int64_t> decode_stamp(std::string_view stamp) noexcept {
  if (stamp.size() != 2) return std::nullopt;
  std::int64_t slot = 0;
  for (const char c : stamp) {
    const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const auto pos = kTimeChars.find(upper);
    if (pos == std::string_view::npos) return std::nullopt;
    slot = (slot << 5) | static_cast<std::int64_t>(pos);
  }
  return slot;
}

struct Srs0Fields {
  std::string_view hash, stamp, host, local;
};

// SRS0<sep>HASH=TT=HOST=LOCAL: split on the first three '=' after the tag, so LOCAL keeps any
// '=' of its own.
std::optional<Srs0Fields> split_srs0(std::string_view local) {
  std::string_view rest = local.substr(5);
  std::array<std::string_view, 3> field;
  for (auto& f : field) {
    const auto eq = rest.find(kSeparator);
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    f = rest.substr(0, eq);
    rest.remove_prefix(eq + 1);
  }
  if (rest.empty()) return std::nullopt;
  return Srs0Fields{field[0], field[1], field[2], rest};
}

struct Srs1Fields {
  std::string_view hash, host, rest;  // rest starts with the wrapped SRS0's separator
};

std::optional<Srs1Fields> split_srs1(std::string_view local) {
  const std::string_view body = local.substr(5);
  const auto first = body.find(kSeparator);
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = body.find(kSeparator, first + 1);
  if (second == std::string_view::npos || second == first + 1 || second + 1 == body.size()) {
    return std::nullopt;
  }
  return Srs1Fields{body.substr(0, first), body.substr(first + 1, second - first - 1),
                    body.substr(second + 1)};
}

std::int64_t system_unix_seconds() {
  return core::unix_now();
}

}  // namespace

std::string_view describe(ReverseError error) noexcept {
  switch (error) {
    case ReverseError::kNotSrs:
      return "not an SRS address of this server";
    case ReverseError::kMalformed:
      return "malformed SRS address";
    case ReverseError::kBadHash:
      return "SRS hash does not match";
    case ReverseError::kExpired:
      return "SRS address has expired";
  }
  return "unknown SRS error";
}

bool is_srs_local_part(std::string_view local) noexcept {
  return has_tag(local, '0') || has_tag(local, '1');
}

Srs::Srs(std::span<const unsigned char> key, std::string_view domain, int max_age_days, Clock clock)
    : Srs(core::SecretBytes::copy_of(key), domain, max_age_days, std::move(clock)) {}

Srs::Srs(core::SecretBytes key, std::string_view domain, int max_age_days, Clock clock)
    : key_(std::move(key)),
      domain_(to_lower_ascii(domain)),
      max_age_days_(max_age_days),
      clock_(clock ? std::move(clock) : Clock(system_unix_seconds)) {
  if (key_.size() < kMinKeyBytes || key_.size() > kMaxKeyBytes) {
    throw std::invalid_argument("SRS key must be " + std::to_string(kMinKeyBytes) + " to " +
                                std::to_string(kMaxKeyBytes) + " bytes");
  }
  if (domain_.empty() || domain_.find_first_of("@=\"\\ ") != std::string::npos ||
      has_control(domain_)) {
    throw std::invalid_argument("SRS domain is not a host name");
  }
  if (max_age_days_ < 1 || max_age_days_ > kMaxAgeLimitDays) {
    throw std::invalid_argument("SRS max age must be 1 to " + std::to_string(kMaxAgeLimitDays) +
                                " days");
  }
  // sodium_memcmp below; idempotent and thread-safe.
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium failed to initialise");
  }
}

Srs::~Srs() = default;

std::int64_t Srs::today() const {
  const std::int64_t now = clock_();
  // Floor division, so a clock before 1970 still maps to a slot.
  return now >= 0 ? now / kSecondsPerDay : -((-now + kSecondsPerDay - 1) / kSecondsPerDay);
}

std::string Srs::hash(std::string_view a, std::string_view b, std::string_view c) const {
  std::string data;
  data.reserve(a.size() + b.size() + c.size());
  for (const std::string_view part : {a, b, c}) {
    for (const char ch : part) data.push_back(ascii_lower(ch));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (HMAC(EVP_sha1(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(),
           &md_len) == nullptr ||
      md_len < 3) {
    throw std::runtime_error("SRS: HMAC-SHA1 failed");
  }
  // The first kHashLength characters of standard base64, as libsrs2 writes them.
  return {kHashChars[md[0] >> 2], kHashChars[((md[0] & 0x03) << 4) | (md[1] >> 4)],
          kHashChars[((md[1] & 0x0f) << 2) | (md[2] >> 6)], kHashChars[md[2] & 0x3f]};
}

bool Srs::hash_matches(std::string_view given, std::string_view a, std::string_view b,
                       std::string_view c) const {
  if (given.size() != kHashLength) return false;
  const std::string expected = hash(a, b, c);
  std::array<unsigned char, kHashLength> x{};
  std::array<unsigned char, kHashLength> y{};
  for (std::size_t i = 0; i < kHashLength; ++i) {
    x[i] = static_cast<unsigned char>(ascii_lower(given[i]));
    y[i] = static_cast<unsigned char>(ascii_lower(expected[i]));
  }
  return sodium_memcmp(x.data(), y.data(), kHashLength) == 0;
}

std::string Srs::forward(std::string_view sender) const {
  const auto unchanged = [&] { return std::string(sender); };
  if (sender.empty()) return unchanged();
  const auto at = sender.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == sender.size()) return unchanged();
  const std::string_view host = sender.substr(at + 1);
  // Ours already (libsrs2 without alwaysrewrite): SPF passes for it as it is.
  if (iequals(host, domain_)) return unchanged();
  if (host.find(kSeparator) != std::string_view::npos || has_control(host)) return unchanged();
  const auto local = unquote(sender.substr(0, at));
  if (!local || local->empty()) return unchanged();

  std::string rewritten;
  if (has_tag(*local, '1')) {
    // Keep the first hop's host and what it wrapped; only the hash becomes ours.
    if (const auto f = split_srs1(*local)) {
      rewritten = "SRS1=" + hash(f->host, f->rest) + "=" + std::string(f->host) + "=" +
                  std::string(f->rest);
    }
  } else if (has_tag(*local, '0')) {
    // Wrap instead of nesting, so the address does not grow with every hop. `rest` keeps the
    // separator after "SRS0" so reverse can give back the exact SRS0 address.
    const std::string_view rest = std::string_view(*local).substr(4);
    rewritten = "SRS1=" + hash(host, rest) + "=" + std::string(host) + "=" + std::string(rest);
  }
  if (rewritten.empty()) {  // an ordinary sender, or an SRS1 too broken to keep
    const std::string stamp = encode_stamp(today());
    rewritten =
        "SRS0=" + hash(stamp, host, *local) + "=" + stamp + "=" + std::string(host) + "=" + *local;
  }
  return quote_if_needed(rewritten) + "@" + domain_;
}

Result<std::string, ReverseError> Srs::reverse(std::string_view address) const {
  if (address.size() > kMaxAddressBytes) return unexpected(ReverseError::kMalformed);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || !iequals(address.substr(at + 1), domain_)) {
    return unexpected(ReverseError::kNotSrs);
  }
  const auto local = unquote(address.substr(0, at));
  if (!local) return unexpected(ReverseError::kMalformed);
  if (!is_srs_local_part(*local)) return unexpected(ReverseError::kNotSrs);

  if (has_tag(*local, '1')) {
    const auto f = split_srs1(*local);
    if (!f || f->hash.size() != kHashLength) return unexpected(ReverseError::kMalformed);
    if (!hash_matches(f->hash, f->host, f->rest)) return unexpected(ReverseError::kBadHash);
    return quote_if_needed("SRS0" + std::string(f->rest)) + "@" + std::string(f->host);
  }

  const auto f = split_srs0(*local);
  if (!f || f->hash.size() != kHashLength) return unexpected(ReverseError::kMalformed);
  const auto then = decode_stamp(f->stamp);
  if (!then) return unexpected(ReverseError::kMalformed);
  // Hash before age, so kExpired is only ever said about an address we really made.
  if (!hash_matches(f->hash, f->stamp, f->host, f->local)) {
    return unexpected(ReverseError::kBadHash);
  }
  const std::int64_t age = (((today() - *then) % kTimeSlots) + kTimeSlots) % kTimeSlots;
  // A stamp one day ahead is clock skew between us and the bounce's arrival; further ahead is
  // indistinguishable from very old, since the day number wraps every 1024 days.
  if (age > max_age_days_ && age != kTimeSlots - 1) return unexpected(ReverseError::kExpired);
  return quote_if_needed(f->local) + "@" + std::string(f->host);
}

core::SecretBytes load_or_create_key(const std::filesystem::path& file) {
  return core::load_or_create_secret(file, kMinKeyBytes, kMaxKeyBytes);
}

}  // namespace sealpost::auth::srs

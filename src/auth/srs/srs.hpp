// Sender Rewriting Scheme (Shevek's SRS, as libsrs2 and postsrsd implement it), so a message we
// forward keeps passing SPF at its next hop and a bounce for it can find its way back.
//
//   forward  alice@example.com             -> SRS0=HHHH=TT=example.com=alice@SRSDOMAIN
//   forward  SRS0=hhhh=tt=a.org=bob@b.org  -> SRS1=HHHH=b.org==hhhh=tt=a.org=bob@SRSDOMAIN
//   forward  SRS1=hhhh=a.org==rest@c.org   -> SRS1=HHHH=a.org==rest@SRSDOMAIN
//   reverse  does one hop back: SRS0 -> the original sender, SRS1 -> the SRS0 address it wrapped.
//
// TT is the day number (unix time / 86400) mod 1024 in two base32 characters; HHHH is the first
// four base64 characters of HMAC-SHA1(key, lowercase(fields concatenated)) -- TT+host+local for
// SRS0, host+rest for SRS1, where rest keeps the separator that followed the wrapped "SRS0" (that
// is where SRS1's "==" comes from, and how reverse restores an "SRS0+" or "SRS0-" address). Hashes
// are compared case-insensitively because some MTAs lowercase the addresses they relay.
//
// Length: the SRS0 local part is the original local part plus 14 octets plus the sender's domain,
// so a long sender gives a local part over RFC 5321's 64-octet limit. We still produce it, as
// libsrs2 does and real MTAs accept it; the alternative, keeping state to shorten it, would store
// who wrote to whom, which this server does not do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/secret_bytes.hpp"

namespace sealpost::auth::srs {

inline constexpr int kDefaultMaxAgeDays = 21;
inline constexpr std::size_t kMinKeyBytes = 16;
inline constexpr std::size_t kMaxKeyBytes = 1024;
// reverse() refuses longer input before parsing it. Generous: a forward() result can exceed
// the 256-octet RFC 5321 path limit, but never the 1000-octet SMTP command line.
inline constexpr std::size_t kMaxAddressBytes = 1000;

enum class ReverseError {
  kNotSrs,     // not at our SRS domain, or the local part has no SRS0/SRS1 tag
  kMalformed,  // tagged, but the fields do not parse (or the input is over kMaxAddressBytes)
  kBadHash,    // not an address we made: the hash does not match
  kExpired,    // ours, but older than max_age_days (or more than one day in the future)
};

std::string_view describe(ReverseError error) noexcept;

// True when `local` starts with "SRS0" or "SRS1" (any case) and one of the separators "=+-".
// For routing: such a local part at our SRS domain is a bounce to reverse, not a mailbox.
bool is_srs_local_part(std::string_view local) noexcept;

// forward() and reverse() are const and may be called from any thread at once (given a
// thread-safe clock).
class Srs {
 public:
  // Unix time in seconds; tests pass a fixed clock.
  using Clock = std::function<std::int64_t()>;

  // `key` is the HMAC secret, kMinKeyBytes..kMaxKeyBytes bytes (std::invalid_argument otherwise);
  // it is wiped when this object dies. `domain` is the SRS domain (stored ASCII-lowercased).
  // `max_age_days` is 1..1022: libsrs2's rule, a stamp is valid while
  // (today - stamp) mod 1024 <= max_age_days, plus one day ahead for clock skew. An empty
  // `clock` means the system clock.
  Srs(core::SecretBytes key, std::string_view domain, int max_age_days = kDefaultMaxAgeDays,
      Clock clock = {});
  // The same with a copy of `key`.
  Srs(std::span<const unsigned char> key, std::string_view domain,
      int max_age_days = kDefaultMaxAgeDays, Clock clock = {});
  ~Srs();
  Srs(const Srs&) = delete;
  Srs& operator=(const Srs&) = delete;
  Srs(Srs&&) = delete;
  Srs& operator=(Srs&&) = delete;

  [[nodiscard]] const std::string& domain() const noexcept { return domain_; }
  [[nodiscard]] int max_age_days() const noexcept { return max_age_days_; }

  // The envelope sender to use when relaying mail from `sender` ("local@domain", the local part
  // possibly quoted). Returned unchanged: the null sender (""), a sender already at our SRS
  // domain, and a sender that cannot be rewritten reversibly (no '@', an empty side, '=' or
  // control characters in the domain, controls or a broken quoted string in the local part).
  // The result's local part is quoted when it is not a plain dot-string.
  [[nodiscard]] std::string forward(std::string_view sender) const;

  // The address a bounce to `address` (an SRS address at our domain; local part quoted or not)
  // should go to. Bounded: input over kMaxAddressBytes is kMalformed before any parsing.
  [[nodiscard]] Result<std::string, ReverseError> reverse(std::string_view address) const;

 private:
  [[nodiscard]] std::string hash(std::string_view a, std::string_view b,
                                 std::string_view c = {}) const;
  [[nodiscard]] bool hash_matches(std::string_view given, std::string_view a, std::string_view b,
                                  std::string_view c = {}) const;
  [[nodiscard]] std::int64_t today() const;

  core::SecretBytes key_;
  std::string domain_;
  int max_age_days_;
  Clock clock_;
};

// Loads the SRS key from `file`, or creates it (32 random bytes, mode 0600, written to a temporary
// file, fsync'd, renamed into place without replacing a key another process wrote meanwhile) when
// it does not exist. Throws std::runtime_error naming the file when it is not a regular file, is
// accessible by group or others (whoever reads the key can mint SRS addresses that make us relay
// to anyone; whoever writes it can replace it), is shorter than kMinKeyBytes or longer than
// kMaxKeyBytes.
core::SecretBytes load_or_create_key(const std::filesystem::path& file);

}  // namespace sealpost::auth::srs

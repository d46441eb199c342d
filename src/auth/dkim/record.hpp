// DKIM's text formats (RFC 6376): tag=value lists (section 3.2), the DKIM-Signature header field
// (section 3.5) and key records (section 3.6.1). All come from strangers: parsing is bounded and
// returns either a checked value or an error, never a half-read one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::auth::dkim {

struct Tag {
  std::string_view name;
  std::string_view value;       // surrounding whitespace removed
  std::size_t value_begin = 0;  // offsets of the value's region in the input: from after "=" to
  std::size_t value_end = 0;    // the next ";" or the end (the raw span, whitespace included)
};

enum class TagError { kSyntax, kDuplicate, kTooMany };

Result<std::vector<Tag>, TagError> parse_tags(std::string_view text);

enum class Algorithm { kRsaSha256, kEd25519Sha256 };
enum class Canon { kSimple, kRelaxed };

std::string_view to_string(Algorithm a) noexcept;

struct Signature {
  Algorithm algorithm = Algorithm::kRsaSha256;
  std::vector<std::uint8_t> b;
  std::vector<std::uint8_t> bh;
  Canon header_canon = Canon::kSimple;
  Canon body_canon = Canon::kSimple;
  std::string domain;                       // d=, lowercase
  std::string selector;                     // s=
  std::vector<std::string> headers;         // h=, lowercase, in order
  std::string identity;                     // i=; "@" + d when absent
  std::optional<std::uint64_t> length;      // l=
  std::optional<std::uint64_t> timestamp;   // t=
  std::optional<std::uint64_t> expiration;  // x=
  std::string b_prefix;  // the first characters of b= as written (RFC 6008 header.b)
  // b='s value region in the parsed text (Tag::value_begin, value_end): what without_b_value
  // empties.
  std::size_t b_begin = 0;
  std::size_t b_end = 0;
};

enum class SignatureError {
  kSyntax,         // not a tag list, or a required tag missing or malformed
  kVersion,        // v= is not 1
  kAlgorithm,      // a= we do not accept (rsa-sha1 is refused, RFC 8301)
  kDomain,         // d= is not a domain name
  kIdentity,       // i= is not in d= or a subdomain of it
  kFromNotSigned,  // h= lacks From (section 5.4)
  kQueryMethod,    // q= has no dns/txt
  kExpired,        // x= before t=
};

Result<Signature, SignatureError> parse_signature(std::string_view value);

// The DKIM-Signature value with b='s value emptied, as it enters the header hash (section 3.7).
std::string without_b_value(std::string_view value);

struct KeyRecord {
  enum class Type { kRsa, kEd25519 } type = Type::kRsa;
  std::vector<std::uint8_t> key;  // p=, decoded; empty: revoked
  bool testing = false;           // t=y
  bool strict = false;            // t=s: i= must be exactly in d=, not a subdomain
  bool email = true;              // s= allows email ("*" or "email")
  bool tlsrpt = false;            // s= allows TLS reports (RFC 8460)
  bool sha256 = true;             // h= allows sha256
};

enum class KeyError { kSyntax, kVersion, kKeyType, kNoKey, kBase64 };

Result<KeyRecord, KeyError> parse_key_record(std::string_view txt);

// Lowercase LDH labels, no empty label, at least two labels (RFC 6376 section 3.5 "d=").
bool valid_signing_domain(std::string_view d) noexcept;

}  // namespace sealpost::auth::dkim

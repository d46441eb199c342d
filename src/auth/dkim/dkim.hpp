// DKIM verification and signing (RFC 6376; ed25519-sha256 from RFC 8463; RFC 8301: rsa-sha1 and
// RSA keys under 1024 bits refused). Messages are complete, with CRLF line ends.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/dkim/record.hpp"
#include "core/result.hpp"
#include "dns/lookup.hpp"
#include "mime/header.hpp"

using EVP_PKEY = struct evp_pkey_st;

namespace sealpost::auth::dkim {

class KeyCache;  // auth/dkim/key_cache.hpp

namespace detail {
// A key with OpenSSL's set-up for one operation done once: fetching the algorithm and setting RSA's
// padding and digest cost about a fifth of an RSA-2048 verification. Each use works on a copy of
// the prepared context (a context serves one thread at a time), and copying is cheap.
class PreparedKey {
 public:
  enum class Operation { kSign, kVerify };
  PreparedKey(std::shared_ptr<EVP_PKEY> key, Operation operation);
  ~PreparedKey();
  PreparedKey(const PreparedKey&) = delete;
  PreparedKey& operator=(const PreparedKey&) = delete;

  // RSA keys sign and verify PKCS#1 v1.5 with SHA-256, Ed25519 keys PureEdDSA (RFC 8463) over
  // `hash`. False or nullopt also when the key was made for the other operation.
  [[nodiscard]] bool verify(const std::vector<std::uint8_t>& hash,
                            const std::vector<std::uint8_t>& signature) const;
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> sign(
      const std::vector<std::uint8_t>& hash) const;
  [[nodiscard]] EVP_PKEY* pkey() const { return key_.get(); }

 private:
  struct Context;  // OpenSSL's prepared context; null when OpenSSL refused the key
  std::shared_ptr<EVP_PKEY> key_;
  Operation operation_;
  std::unique_ptr<Context> prepared_;
};
}  // namespace detail

enum class Status { kNone, kPass, kFail, kNeutral, kTempError, kPermError, kPolicy };
std::string_view to_string(Status s) noexcept;  // as RFC 8601 spells it

struct SignatureResult {
  Status status = Status::kNone;
  std::string domain;    // header.d
  std::string selector;  // header.s
  std::string identity;  // header.i
  std::string b_prefix;  // header.b (RFC 6008)
  Algorithm algorithm = Algorithm::kRsaSha256;
  bool body_length_limited = false;  // l= was used: part of the body may be unsigned
  bool testing = false;              // the key says t=y
  std::string reason;                // why it did not pass, naming no address
};

struct VerifyOptions {
  std::size_t max_signatures = 8;  // the rest are not looked at (each costs a DNS query)
  std::uint64_t now = 0;           // for x=; 0: the clock
  bool tlsrpt = false;             // verify as a TLS report (RFC 8460): s=tlsrpt keys, no l=
  unsigned min_rsa_bits = 1024;
  // Parsed keys kept across messages (the server keeps one); nullptr: every key record is parsed
  // for the message at hand.
  KeyCache* key_cache = nullptr;
};

// Every DKIM-Signature of the message, top down; empty when there is none.
boost::asio::awaitable<std::vector<SignatureResult>> verify(dns::Lookup& dns,
                                                            std::string_view message,
                                                            VerifyOptions options = {});

// A private key for signing: RSA (PEM, PKCS#1 or PKCS#8) or Ed25519 (PEM, or the raw 32-byte seed
// as RFC 8463 publishes it).
class SigningKey {
 public:
  static std::optional<SigningKey> from_pem(std::string_view pem);
  static std::optional<SigningKey> from_ed25519_seed(const std::vector<std::uint8_t>& seed);
  static std::optional<SigningKey> generate(Algorithm algorithm);  // RSA-2048 or Ed25519

  [[nodiscard]] Algorithm algorithm() const { return algorithm_; }
  // The key record to publish: "v=DKIM1; k=rsa; p=..." (SubjectPublicKeyInfo for RSA, the raw key
  // for Ed25519).
  [[nodiscard]] std::string dns_record() const;
  [[nodiscard]] std::string private_pem() const;  // PKCS#8
  [[nodiscard]] EVP_PKEY* pkey() const { return key_.get(); }
  // The signature of a SHA-256 hash (b=), with the signing context prepared once per key.
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> sign_hash(
      const std::vector<std::uint8_t>& hash) const {
    return prepared_->sign(hash);
  }

 private:
  SigningKey(std::shared_ptr<EVP_PKEY> key, Algorithm algorithm)
      : key_(key),
        algorithm_(algorithm),
        prepared_(std::make_shared<const detail::PreparedKey>(
            std::move(key), detail::PreparedKey::Operation::kSign)) {}
  std::shared_ptr<EVP_PKEY> key_;
  Algorithm algorithm_;
  std::shared_ptr<const detail::PreparedKey> prepared_;
};

struct SignOptions {
  std::string domain;
  std::string selector;
  Canon header_canon = Canon::kRelaxed;
  Canon body_canon = Canon::kRelaxed;
  // Fields to sign, lowercase; empty: the default set, those present in the message.
  std::vector<std::string> headers;
  bool sign_all_headers = false;  // every field present, each instance (repeated ones bottom up)
  bool oversign = true;           // name From, Subject... once more so none can be added
  bool body_length = false;       // add l= (not recommended; for tests)
  std::uint64_t timestamp = 0;    // t=; 0: the clock
  std::optional<std::uint64_t> expiration;  // x=
  std::string identity;                     // i=; empty: none
};

enum class SignError { kBadMessage, kNoFrom, kBadDomain, kCrypto };

// The DKIM-Signature header field (name to final CRLF) to put on top of the message.
Result<std::string, SignError> sign(std::string_view message, const SigningKey& key,
                                    const SignOptions& options);

// Building blocks shared with ARC (RFC 8617 uses DKIM's hashing for its signatures).
namespace detail {
// The data the header hash covers: the named fields, each name taking the next instance from the
// bottom up, canonicalised, then the signature's own field (its value given without b=) without
// its final CRLF.
std::string header_hash_input(const mime::Header& header, const std::vector<std::string>& names,
                              Canon canon, std::string_view signature_name,
                              std::string_view signature_raw_without_b);
std::vector<std::uint8_t> sha256(std::string_view data);
bool verify_hash(EVP_PKEY* key, Algorithm algorithm, const std::vector<std::uint8_t>& hash,
                 const std::vector<std::uint8_t>& signature);
std::optional<std::vector<std::uint8_t>> sign_hash(EVP_PKEY* key, Algorithm algorithm,
                                                   const std::vector<std::uint8_t>& hash);
// The public key in a key record's p=, checked against the record's k= and a minimum size.
std::shared_ptr<EVP_PKEY> public_key(const KeyRecord& record, unsigned min_rsa_bits,
                                     std::string& problem);
// The same without the size check (see rsa_bits), for keys kept across messages.
std::shared_ptr<EVP_PKEY> public_key(const KeyRecord& record, std::string& problem);
// The modulus size of an RSA key; 0 for other keys.
unsigned rsa_bits(EVP_PKEY* key);
// Folds a header field at spaces so no line passes 78 octets; base64 runs break anywhere.
std::string fold(std::string_view field);
}  // namespace detail

}  // namespace sealpost::auth::dkim

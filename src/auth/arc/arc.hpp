// ARC (RFC 8617): validating the chain of ARC sets a message arrives with, and sealing it with a
// new set (ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal) when we forward it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/arc/sets.hpp"
#include "auth/dkim/dkim.hpp"
#include "core/result.hpp"
#include "dns/lookup.hpp"

namespace sealpost::auth::arc {

enum class ChainStatus { kNone, kPass, kFail };
std::string_view to_string(ChainStatus s) noexcept;

struct Validation {
  ChainStatus status = ChainStatus::kNone;
  int instances = 0;         // the highest i= present
  bool sealed_fail = false;  // the newest ARC-Seal already said cv=fail
  std::string reason;        // for fail, naming no address
};

// `keys`: parsed keys kept across messages (the server shares its DKIM cache: ARC signers publish
// DKIM key records); nullptr: every key record is parsed for the message at hand.
boost::asio::awaitable<Validation> validate(dns::Lookup& dns, std::string_view message,
                                            dkim::KeyCache* keys = nullptr);

struct SealOptions {
  std::string domain;
  std::string selector;
  std::string authserv_id;
  std::string results;               // the Authentication-Results methods, after "authserv-id;"
  std::vector<std::string> headers;  // AMS h=; empty: the default set present in the message
  std::uint64_t timestamp = 0;       // 0: the clock
};

enum class SealError { kBadMessage, kChainFailed, kTooManyInstances, kCrypto, kBadKey };

// The three header fields to put on top of the message (ARC-Seal first), given the chain's
// validation. Refuses when the newest set already says cv=fail or 50 sets exist.
Result<std::string, SealError> seal(std::string_view message, const Validation& chain,
                                    const dkim::SigningKey& key, const SealOptions& options);

}  // namespace sealpost::auth::arc

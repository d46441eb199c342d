// Inbound authentication on the MX: SPF (MAIL FROM and HELO), DKIM, DMARC, summed up in an
// Authentication-Results header field (RFC 8601) and a decision: accept, quarantine or reject.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "auth/arc/arc.hpp"
#include "auth/dkim/dkim.hpp"
#include "auth/dkim/key_cache.hpp"
#include "auth/dmarc/evaluate.hpp"
#include "auth/dmarc/report.hpp"
#include "auth/spf/check.hpp"
#include "dns/lookup.hpp"

namespace sealpost::auth {

struct InboundFacts {
  boost::asio::ip::address client;
  std::string helo;
  std::string mail_from;     // empty for <>
  std::string_view message;  // CRLF, as received
};

enum class Action { kAccept, kQuarantine, kReject };

struct InboundVerdict {
  Action action = Action::kAccept;
  std::string reject_text;             // for 550 5.7.1
  std::string authentication_results;  // the whole field, CRLF-terminated
  // Byte ranges of header fields to drop from the message: Authentication-Results fields that
  // claim our authserv-id (RFC 8601 section 5), forged by someone else.
  std::vector<std::pair<std::size_t, std::size_t>> remove;
  spf::Verdict spf;
  std::vector<dkim::SignatureResult> dkim;
  dmarc::Verdict dmarc;
  arc::Validation arc;
  std::string from_domain;
  std::string results;  // the methods of authentication_results, for an ARC-Authentication-Results
};

class Authenticator {
 public:
  struct Options {
    std::string authserv_id;
    bool reject_on_dmarc_reject = true;            // false: quarantine instead
    dmarc::AggregateReporter* reporter = nullptr;  // counts for the domains that asked (rua=)
  };
  Authenticator(dns::Lookup& dns, const dmarc::PublicSuffixList& psl, Options options);

  boost::asio::awaitable<InboundVerdict> check(const InboundFacts& facts) const;

  // Test hook: the pct= sampler (default: uniformly random).
  std::function<unsigned()> sample;

 private:
  dns::Lookup& dns_;
  const dmarc::PublicSuffixList& psl_;
  Options options_;
  // Senders' DKIM (and ARC) keys, parsed once per TTL rather than once per message (thread-safe).
  std::unique_ptr<dkim::KeyCache> dkim_keys_ = std::make_unique<dkim::KeyCache>();
};

// The message with the given byte ranges removed.
std::string without_ranges(std::string_view message,
                           const std::vector<std::pair<std::size_t, std::size_t>>& ranges);

}  // namespace sealpost::auth

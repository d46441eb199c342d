// One outbound SMTP transaction to one host (RFC 5321 client side): greeting, EHLO, STARTTLS
// when offered (opportunistic, RFC 3207/7435), PIPELINING (RFC 2920), and BDAT (RFC 3030) when
// the server supports CHUNKING, else DATA with dot-stuffing. Every reply of the remote is parsed
// by the bounded reply parser; every step has a deadline.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include "dns/lookup.hpp"
#include "smtp/protocol/reply_parser.hpp"

namespace sealpost::smtp::client {

struct RelayTarget {
  boost::asio::ip::address address;
  std::uint16_t port = 25;
  std::string host_name;  // the MX name (SNI), or the address text for transport-map hosts
  // The host's DNSSEC-secure, usable TLSA records (RFC 7672): non-empty means DANE applies.
  std::vector<dns::TlsaRecord> tlsa;
};

struct RelayEnvelope {
  std::string mail_from;  // empty for the null sender
  std::vector<std::string> recipients;
  bool smtputf8 = false;
  bool eightbit = false;
};

struct RelayMessage {
  std::string_view trace;    // our Received: header, CRLF-terminated
  std::string_view content;  // the message as received, CRLF line endings
  [[nodiscard]] std::size_t size() const noexcept { return trace.size() + content.size(); }
};

// How a transaction uses TLS.
enum class TlsMode {
  kNone,           // plaintext (after an opportunistic handshake failed)
  kOpportunistic,  // STARTTLS when offered, no certificate checks (RFC 7435)
  // STARTTLS required, the chain verified and the MX host named by the certificate (MTA-STS
  // "enforce", RFC 8461 section 4.2): otherwise the host is not used.
  kVerified,
  // DANE (RFC 7672): STARTTLS required, the certificate matched against the target's TLSA
  // records; no plaintext fallback.
  kDane,
};

struct RelaySettings {
  std::string helo_name;
  boost::asio::ssl::context* tls = nullptr;           // null: never STARTTLS
  boost::asio::ssl::context* verified_tls = nullptr;  // for TlsMode::kVerified; null: refused
  boost::asio::ssl::context* dane_tls = nullptr;      // for TlsMode::kDane; null: refused
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds command_timeout{120};
  // How long a connection is kept after a transaction for the next message to the same host
  // (Postfix's smtp_connection_cache_time_limit); zero closes it at once.
  std::chrono::seconds reuse_for{5};
  std::size_t max_idle_per_host = 64;
};

struct RelayOutcome {
  // True when the host could not be used at all (no connection, bad greeting, timeout before
  // any recipient was answered): the caller tries the next host.
  bool try_next_host = false;
  // The TLS handshake failed: opportunistic TLS may retry the same host in plaintext.
  bool tls_failed = false;
  bool tls = false;  // the transaction ran under TLS
  // Why TLS could not be used as required, in TLS-RPT's words (RFC 8460 section 4.3:
  // "starttls-not-supported", "certificate-host-mismatch"...); empty when it could.
  std::string tls_failure;
  std::vector<protocol::ServerReply> per_recipient;  // one per envelope recipient
};

// Relays transactions to other servers, keeping finished connections open briefly so the next
// message to the same host skips the connect, greeting, EHLO and TLS handshake.
class RelayClient {
 public:
  RelayClient(boost::asio::any_io_executor executor, RelaySettings settings);
  ~RelayClient();
  RelayClient(const RelayClient&) = delete;
  RelayClient& operator=(const RelayClient&) = delete;

  boost::asio::awaitable<RelayOutcome> relay(const RelayTarget& target,
                                             const RelayEnvelope& envelope,
                                             const RelayMessage& message, TlsMode tls);

  [[nodiscard]] const RelaySettings& settings() const noexcept { return settings_; }

 private:
  class Pool;
  boost::asio::any_io_executor executor_;
  RelaySettings settings_;
  std::unique_ptr<Pool> pool_;
};

// A reply made up locally (no answer from the remote), in the remote reply type.
protocol::ServerReply local_reply(int code, std::string_view enhanced, std::string_view text);

}  // namespace sealpost::smtp::client

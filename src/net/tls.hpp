// TLS contexts: TLS 1.2 and 1.3 only, everywhere (RFC 8996 deprecated 1.0 and 1.1).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "dns/lookup.hpp"

namespace sealpost::net {

// For our listeners. Throws std::runtime_error naming the file when cert or key cannot be used.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(const std::filesystem::path& cert,
                                                           const std::filesystem::path& key);

// For connections to other servers: opportunistic (RFC 7435), so no certificate verification
// here; MTA-STS and DANE verify where the destination asks for it.
std::unique_ptr<boost::asio::ssl::context> make_client_tls();

// For connections that must verify their peer (MTA-STS policy hosts, MX hosts under an
// MTA-STS "enforce" policy): the WebPKI chain against the system's CAs plus `extra_ca_file`. The
// host name is checked per connection (Stream::handshake_client with verify_host).
std::unique_ptr<boost::asio::ssl::context> make_verifying_client_tls(
    const std::optional<std::filesystem::path>& extra_ca_file);

// Per connection, for make_verifying_client_tls: the certificate must name `host` (RFC 6125;
// no partial wildcards such as "m*.example.com").
bool require_host_name(SSL* ssl, const std::string& host);

// For DANE (RFC 7672): a context that can carry TLSA records (SSL_CTX_dane_enable), and per
// connection the records of the MX host. Only DANE-TA(2) and DANE-EE(3) records are usable for
// SMTP (section 3.1); DANE-EE skips name checks (3.1.1), DANE-TA checks the MX host name and the
// next-hop domain (3.2.2). False when no record could be added.
std::unique_ptr<boost::asio::ssl::context> make_dane_client_tls();
bool require_dane(SSL* ssl, const std::string& mx_host, const std::string& next_hop_domain,
                  const std::vector<dns::TlsaRecord>& records);

// Why a verified handshake failed, from OpenSSL's verification result (X509_V_*), in the words of
// TLS-RPT (RFC 8460 section 4.3): "certificate-host-mismatch", "certificate-expired",
// "certificate-not-trusted" or "validation-failure".
std::string_view verify_failure_kind(long verify_result);

// Writes a self-signed certificate and key (EC P-256) for `hostname`, for the demo and tests.
void write_self_signed(const std::string& hostname, const std::filesystem::path& cert,
                       const std::filesystem::path& key);

}  // namespace sealpost::net

// TLS contexts: TLS 1.2 and 1.3 only, everywhere (RFC 8996 deprecated 1.0 and 1.1).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace sealpost::net {

// For our listeners. Throws std::runtime_error naming the file when cert or key cannot be used.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(const std::filesystem::path& cert,
                                                           const std::filesystem::path& key);

// For connections to other servers: opportunistic (RFC 7435), so no certificate verification
// here; MTA-STS and DANE verify where the destination asks for it.
std::unique_ptr<boost::asio::ssl::context> make_client_tls();

// Writes a self-signed certificate and key (EC P-256) for `hostname`, for the demo and tests.
void write_self_signed(const std::string& hostname, const std::filesystem::path& cert,
                       const std::filesystem::path& key);

}  // namespace sealpost::net

// One POP3 session (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 SASL) over the INBOX of a
// sealed mailbox.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "access/context.hpp"
#include "net/admission.hpp"

namespace sealpost::pop3::server {

// Starts a session on the socket's strand; it keeps itself alive until it ends. With
// `implicit_tls` (port 995) the TLS handshake comes first.
void start_session(access::AccessContext& context, boost::asio::ip::tcp::socket socket,
                   net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls);

}  // namespace sealpost::pop3::server

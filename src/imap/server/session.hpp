// One IMAP session (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1 with the extensions of
// CAPABILITY) over a sealed mailbox.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "access/context.hpp"
#include "net/admission.hpp"

namespace sealpost::imap::server {

// Starts a session on the socket's strand; it keeps itself alive until it ends. With
// `implicit_tls` (port 993) the TLS handshake comes first.
void start_session(access::AccessContext& context, boost::asio::ip::tcp::socket socket,
                   net::ConnectionLimiter::Ticket ticket, std::string client_ip, bool implicit_tls);

}  // namespace sealpost::imap::server

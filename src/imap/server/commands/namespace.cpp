// NAMESPACE (RFC 9051 section 6.3.10): one personal namespace, "/" its delimiter.
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;

asio::awaitable<void> Session::on_namespace(const Command& cmd) {
  out_ += "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n";
  tagged(cmd, "OK", "NAMESPACE completed");
  co_return;
}

}  // namespace sealpost::imap::server

// ID (RFC 2971).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_id(const Command& cmd) {
  // RFC 2971: the client's fields are not logged (they can identify a person's device).
  out_ += "* ID (\"name\" \"Sealpost\" \"vendor\" \"Sealpost\")\r\n";
  tagged(cmd, "OK", "ID completed");
  co_return;
}

}  // namespace sealpost::imap::server

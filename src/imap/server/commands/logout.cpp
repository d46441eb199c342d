// LOGOUT (RFC 9051 section 6.1.3).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_logout(const Command& cmd) {
  out_ += "* BYE Logging out\r\n";
  tagged(cmd, "OK", "LOGOUT completed");
  closing_ = true;
  end_reason_ = "logout";
  state_ = State::kLogout;
  co_return;
}

}  // namespace sealpost::imap::server

// NOOP and CHECK (RFC 9051 section 6.1.2; CHECK is IMAP4rev1's): what changed in the selected
// folder is told.
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

using namespace protocol;
namespace asio = boost::asio;

asio::awaitable<void> Session::on_noop(const Command& cmd) {
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", cmd.name == CommandName::kCheck ? "CHECK completed" : "NOOP completed");
}

}  // namespace sealpost::imap::server

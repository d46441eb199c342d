// SUBSCRIBE and UNSUBSCRIBE (RFC 9051 sections 6.3.7 and 6.3.8).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_subscribe(const Command& cmd) {
  const bool subscribe = cmd.name == CommandName::kSubscribe;
  const auto name = decode_name(std::get<MailboxArgument>(cmd.arguments).mailbox);
  if (!name) {
    tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
    co_return;
  }
  bool found = true;
  co_await with_store([&](MessageStore& s) {
    if (!s.folder(*name)) {
      found = false;
      return;
    }
    s.set_subscribed(*name, subscribe);
  });
  // RFC 9051 6.3.7: subscribing to a name that does not exist may be refused; UNSUBSCRIBE of a
  // folder that is gone succeeds (there is nothing left to unsubscribe).
  if (!found && subscribe) {
    tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
    co_return;
  }
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", subscribe ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

}  // namespace sealpost::imap::server

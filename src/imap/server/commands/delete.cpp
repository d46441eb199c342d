// DELETE (RFC 9051 section 6.3.5).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_delete(const Command& cmd) {
  const auto name = decode_name(std::get<MailboxArgument>(cmd.arguments).mailbox);
  if (!name) {
    tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
    co_return;
  }
  std::string error;
  co_await with_store([&](MessageStore& s) {
    try {
      s.delete_folder(*name);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) {
    tagged(cmd, "NO", std::string(store_error_code(error)) + "Cannot delete: " + error);
    co_return;
  }
  mailbox_->changed();
  // Deleting the selected mailbox is allowed (RFC 9051 6.3.5 does not forbid it); its view is
  // gone, so the refresh ends the session with BYE, as Dovecot does.
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", "DELETE completed");
}

}  // namespace sealpost::imap::server

// CLOSE (RFC 9051 section 6.4.1) and UNSELECT (RFC 3691; IMAP4rev2 section 6.4.2).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_close(const Command& cmd) {
  if (cmd.name == CommandName::kClose && !sel_->read_only) {
    // CLOSE expunges silently (RFC 9051 6.4.1): no EXPUNGE responses.
    const auto id = sel_->folder_id;
    const auto gone = co_await with_store([id](MessageStore& s) { return s.expunge(id); });
    if (!gone.empty()) mailbox_->changed();
  }
  deselect();
  tagged(cmd, "OK", cmd.name == CommandName::kClose ? "CLOSE completed" : "UNSELECT completed");
}

}  // namespace sealpost::imap::server

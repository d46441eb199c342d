// EXPUNGE (RFC 9051 section 6.4.3) and UIDPLUS's UID EXPUNGE (RFC 4315).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_expunge(const Command& cmd) {
  if (sel_->read_only) {
    tagged(cmd, "NO", "[READ-ONLY] The mailbox is read-only");
    co_return;
  }
  std::vector<std::uint32_t> only;
  if (cmd.uid) {
    std::string error;
    resolve(std::get<Expunge>(cmd.arguments).set, true, only, error);
  }
  const auto id = sel_->folder_id;
  const bool by_uid = cmd.uid;
  const auto gone = co_await with_store([&, id](MessageStore& s) {
    return by_uid ? s.expunge(id, std::span<const std::uint32_t>(only)) : s.expunge(id);
  });
  if (!gone.empty()) mailbox_->changed();
  co_await refresh(true);
  tagged(cmd, "OK", highest_modseq_code() + "EXPUNGE completed");
}

}  // namespace sealpost::imap::server

// COPY and MOVE (RFC 9051 sections 6.4.7 and 6.4.8), UID forms, UIDPLUS's COPYUID (RFC 4315).
#include <algorithm>

#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_copy(const Command& cmd) {
  const auto& args = std::get<CopyMove>(cmd.arguments);
  const bool move = cmd.name == CommandName::kMove;
  if (move && sel_->read_only) {
    tagged(cmd, "NO", "[READ-ONLY] The mailbox is read-only");
    co_return;
  }
  std::vector<std::uint32_t> uids;
  std::string error;
  if (!resolve_or_refuse(cmd, args.set, uids)) co_return;
  const auto target = decode_name(args.mailbox);
  const auto id = sel_->folder_id;
  std::optional<Folder> folder;
  bool over_quota = false;
  MessageStore::CopyResult result;
  co_await with_store([&, id](MessageStore& s) {
    if (target) folder = s.folder(*target);
    if (!folder) return;
    // A copy shares the bodies: it takes no space, but the quota counts messages' bytes once.
    try {
      result = s.copy(id, uids, folder->id, move);
    } catch (const store::mailbox::QuotaExceeded&) {
      over_quota = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (refused_write(cmd, folder.has_value(), over_quota, error)) co_return;
  if (!result.target.empty()) mailbox_->changed();
  std::string copyuid;
  if (!result.target.empty()) {
    copyuid = "[COPYUID " + std::to_string(result.uidvalidity) + " ";
    append_sequence_set(copyuid, result.source);
    copyuid += ' ';
    append_sequence_set(copyuid, result.target);
    copyuid += "] ";
  }
  if (move) {
    if (!copyuid.empty()) out_ += "* OK " + copyuid + "Moved\r\n";
    co_await refresh(true);
    tagged(cmd, "OK", highest_modseq_code() + "MOVE completed");
    co_return;
  }
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", copyuid + "COPY completed");
}

}  // namespace sealpost::imap::server

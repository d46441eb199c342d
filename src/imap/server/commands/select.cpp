// SELECT and EXAMINE (RFC 9051 sections 6.3.2 and 6.3.3) with CONDSTORE and QRESYNC (RFC 7162).
#include <algorithm>

#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_select(const Command& cmd) {
  const auto& args = std::get<Select>(cmd.arguments);
  const bool examine = cmd.name == CommandName::kExamine;
  if (args.qresync && !qresync_) {
    tagged(cmd, "BAD", "QRESYNC is not enabled (ENABLE QRESYNC first)");
    count_error();
    co_return;
  }
  if (sel_) {
    deselect();
    // RFC 9051 section 7.1 (and RFC 7162 for QRESYNC): the boundary between the responses of
    // the old mailbox and the new one. Sent always, as Dovecot does: RFC 3501 clients ignore
    // response codes they do not know.
    out_ += "* OK [CLOSED] Previous mailbox closed\r\n";
  }
  if (args.condstore) condstore_ = true;
  const auto name = decode_name(args.mailbox);
  struct Snapshot {
    std::optional<Folder> folder;
    std::vector<std::uint32_t> uids;
    std::uint32_t first_unseen = 0;
    std::vector<std::uint32_t> vanished;
    std::vector<MessageInfo> changed;
    std::vector<std::string> keywords;
  };
  const auto* qr = args.qresync ? &*args.qresync : nullptr;
  const std::uint64_t version = mailbox_->version();
  Snapshot snap;
  if (name) {
    snap = co_await read_store([&](MessageStore& s) {
      Snapshot out;
      out.folder = s.folder(*name);
      if (!out.folder) return out;
      out.uids = s.uids(out.folder->id);
      out.first_unseen = s.first_unseen(out.folder->id);
      out.keywords = s.keywords(out.folder->id, kListedKeywords);
      if (qr && qr->uidvalidity == out.folder->uidvalidity) {
        out.vanished = s.expunged_since(out.folder->id, qr->modseq);
        out.changed = s.changed_since(out.folder->id, qr->modseq, MessageStore::Detail::kFlags);
      }
      return out;
    });
  }
  if (!snap.folder) {
    tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
    co_return;
  }
  const Folder& f = *snap.folder;
  sel_ = Selected{};
  sel_->folder_id = f.id;
  sel_->name = f.name;
  sel_->read_only = examine;
  sel_->uidvalidity = f.uidvalidity;
  sel_->uids = std::move(snap.uids);
  sel_->keywords = std::move(snap.keywords);
  sel_->modseq = f.highest_modseq;
  seen_version_ = version;
  state_ = State::kSelected;
  co_await take_recent(f.recent_uid, sel_->uids);

  append_flags_responses();
  out_ += "* " + std::to_string(sel_->uids.size()) + " EXISTS\r\n";
  if (!rev2_) {
    out_ += "* " + std::to_string(recent_count()) + " RECENT\r\n";
    if (snap.first_unseen) {
      const auto seq = sequence_of(snap.first_unseen);
      if (seq) out_ += "* OK [UNSEEN " + std::to_string(seq) + "] First unseen\r\n";
    }
  }
  out_ += "* OK [UIDVALIDITY " + std::to_string(f.uidvalidity) + "] UIDs valid\r\n";
  out_ += "* OK [UIDNEXT " + std::to_string(f.uidnext) + "] Predicted next UID\r\n";
  out_ += "* OK [HIGHESTMODSEQ " + std::to_string(f.highest_modseq) + "] Highest\r\n";
  if (rev2_) {
    out_ += "* LIST () \"/\" ";
    append_name(out_, f.name);
    out_ += "\r\n";
  }
  if (qr) {
    // RFC 7162 section 3.2.5.1: what the client missed, limited to the UIDs it knows.
    std::vector<std::uint32_t> vanished;
    for (const auto u : snap.vanished) {
      if (u >= f.uidnext) continue;
      if (qr->known_uids && !qr->known_uids->contains(u, f.uidnext - 1)) continue;
      vanished.push_back(u);
    }
    if (!vanished.empty()) {
      out_ += "* VANISHED (EARLIER) ";
      append_sequence_set(out_, vanished);
      out_ += "\r\n";
    }
    for (const auto& m : snap.changed) {
      if (qr->known_uids && !qr->known_uids->contains(m.uid, f.uidnext - 1)) continue;
      const auto seq = sequence_of(m.uid);
      if (!seq) continue;
      out_ += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m.uid) + " FLAGS ";
      append_flags(out_, m.flags, m.keywords, is_recent(m.uid));
      out_ += " MODSEQ (" + std::to_string(m.modseq) + "))\r\n";
    }
  }
  tagged(cmd, "OK", examine ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

}  // namespace sealpost::imap::server

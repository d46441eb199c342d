// STORE and UID STORE (RFC 9051 section 6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162).
#include <algorithm>

#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_store(const Command& cmd) {
  const auto& args = std::get<Store>(cmd.arguments);
  if (sel_->read_only) {
    tagged(cmd, "NO", "[READ-ONLY] The mailbox is read-only");
    co_return;
  }
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;
  std::string error;
  if (!parse_flags(args.flags, flags, keywords, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
  std::vector<std::uint32_t> uids;
  if (!resolve_or_refuse(cmd, args.set, uids)) co_return;
  if (args.unchanged_since) condstore_ = true;
  const auto change = args.mode == StoreMode::kAdd      ? MessageStore::FlagChange::kAdd
                      : args.mode == StoreMode::kRemove ? MessageStore::FlagChange::kRemove
                                                        : MessageStore::FlagChange::kReplace;
  const auto id = sel_->folder_id;
  const bool want_all = !args.silent;
  std::vector<MessageInfo> infos;
  const auto result = co_await with_store([&, id](MessageStore& s) {
    auto r = s.store_flags(id, uids, change, flags, keywords, args.unchanged_since);
    if (want_all && !uids.empty()) {
      infos = s.messages(id, uid_intervals(uids), MessageStore::Detail::kFlags);
    }
    return r;
  });
  for (const auto& c : result.changed) own_modseqs_.insert(c.modseq);
  if (!result.changed.empty()) mailbox_->changed();
  if (change != MessageStore::FlagChange::kRemove && !result.changed.empty()) {
    learn_keywords(keywords);
  }
  const std::set<std::uint32_t> modified(result.modified.begin(), result.modified.end());
  if (want_all) {
    for (const auto& m : infos) {
      if (modified.count(m.uid)) continue;
      const auto seq = sequence_of(m.uid);
      if (!seq) continue;
      out_ += "* " + std::to_string(seq) + " FETCH (FLAGS ";
      append_flags(out_, m.flags, m.keywords, is_recent(m.uid));
      if (cmd.uid || qresync_) out_ += " UID " + std::to_string(m.uid);
      if (condstore_) out_ += " MODSEQ (" + std::to_string(m.modseq) + ")";
      out_ += ")\r\n";
    }
  } else if (condstore_) {
    // RFC 7162 section 3.1.3: with CONDSTORE, STORE .SILENT still reports the new MODSEQ.
    for (const auto& c : result.changed) {
      const auto seq = sequence_of(c.uid);
      if (!seq) continue;
      out_ += "* " + std::to_string(seq) + " FETCH (";
      if (cmd.uid || qresync_) out_ += "UID " + std::to_string(c.uid) + " ";
      out_ += "MODSEQ (" + std::to_string(c.modseq) + "))\r\n";
    }
  }
  co_await refresh(cmd.uid);
  if (!modified.empty()) {
    std::vector<std::uint32_t> numbers;
    for (const auto u : result.modified) {
      const auto n = cmd.uid ? u : sequence_of(u);
      if (n) numbers.push_back(n);
    }
    std::sort(numbers.begin(), numbers.end());
    std::string text = "[MODIFIED ";
    append_sequence_set(text, numbers);
    tagged(cmd, "OK", text + "] Conditional STORE failed for some messages");
    co_return;
  }
  tagged(cmd, "OK", "STORE completed");
}

}  // namespace sealpost::imap::server

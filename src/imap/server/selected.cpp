// The selected folder: SELECT/EXAMINE (CONDSTORE, QRESYNC), the session's view of it (sequence
// numbers, what it has been told) and the updates other sessions and deliveries cause, IDLE,
// STORE (CONDSTORE UNCHANGEDSINCE), COPY/MOVE (UIDPLUS), EXPUNGE/UID EXPUNGE, CLOSE/UNSELECT.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/strings.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

namespace {

// The system flags a message keeps as bits, in the order answers list them. \Recent is not
// among them: it is the session's to report (RFC 3501 2.3.2) and no client may set it.
struct SystemFlag {
  std::string_view name;
  std::uint32_t bit;
};
constexpr SystemFlag kSystemFlags[] = {{"\\Seen", store::mailbox::kSeen},
                                       {"\\Answered", store::mailbox::kAnswered},
                                       {"\\Flagged", store::mailbox::kFlagged},
                                       {"\\Deleted", store::mailbox::kDeleted},
                                       {"\\Draft", store::mailbox::kDraft}};

}  // namespace

void append_flags(std::string& out, std::uint32_t flags, const std::vector<std::string>& keywords,
                  bool recent) {
  out += '(';
  bool first = true;
  const auto add = [&](std::string_view f) {
    if (!first) out += ' ';
    first = false;
    out += f;
  };
  for (const auto& f : kSystemFlags) {
    if (flags & f.bit) add(f.name);
  }
  if (recent) add("\\Recent");
  for (const auto& k : keywords) add(k);
  out += ')';
}

bool parse_flags(const std::vector<std::string>& given, std::uint32_t& flags,
                 std::vector<std::string>& keywords, std::string& error) {
  for (const auto& f : given) {
    if (!f.starts_with('\\')) {
      if (std::find(keywords.begin(), keywords.end(), f) == keywords.end()) keywords.push_back(f);
      continue;
    }
    const auto* known = std::find_if(std::begin(kSystemFlags), std::end(kSystemFlags),
                                     [&](const SystemFlag& s) { return iequals(f, s.name); });
    if (known == std::end(kSystemFlags)) {
      // \Recent included: the server's to set (RFC 3501 2.3.2; gone in IMAP4rev2), refused
      // like any unknown system flag, as Dovecot does.
      error = "Invalid system flag " + f;
      return false;
    }
    flags |= known->bit;
  }
  return true;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> uid_intervals(
    const std::vector<std::uint32_t>& uids) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto u : uids) {
    if (!out.empty() && out.back().second + 1 == u) {
      out.back().second = u;
    } else {
      out.emplace_back(u, u);
    }
  }
  return out;
}

bool Session::refused_write(const Command& cmd, bool folder_found, bool over_quota,
                            const std::string& error) {
  if (!folder_found) {
    tagged(cmd, "NO", "[TRYCREATE] No such mailbox");
  } else if (over_quota) {
    tagged(cmd, "NO", "[OVERQUOTA] The mailbox is full");
  } else if (!error.empty()) {
    tagged(cmd, "NO", "[CANNOT] " + error);
  } else {
    return false;
  }
  return true;
}

void Session::watch_mailbox() {
  std::weak_ptr<Session> weak = shared_from_this();
  auto ex = stream_.socket().get_executor();
  watcher_ = mailbox_->watch([weak, ex] {
    asio::post(ex, [weak] {
      if (auto self = weak.lock()) self->wake_.cancel();
    });
  });
}

std::uint32_t Session::sequence_of(std::uint32_t uid) const {
  const auto& u = sel_->uids;
  const auto it = std::lower_bound(u.begin(), u.end(), uid);
  if (it == u.end() || *it != uid) return 0;
  return static_cast<std::uint32_t>(it - u.begin() + 1);
}

void Session::append_flags_responses() {
  std::string flags = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
  for (const auto& k : sel_->keywords) {
    flags += ' ';
    flags += k;
  }
  out_ += "* FLAGS (" + flags + ")\r\n";
  if (sel_->read_only) {
    out_ += "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n";
  } else {
    out_ += "* OK [PERMANENTFLAGS (" + flags + " \\*)] Flags permitted\r\n";
  }
}

void Session::learn_keywords(const std::vector<std::string>& keywords) {
  auto& known = sel_->keywords;
  bool added = false;
  for (const auto& k : keywords) {
    if (known.size() >= kListedKeywords) break;
    if (std::any_of(known.begin(), known.end(), [&](const auto& x) { return iequals(x, k); })) {
      continue;
    }
    known.push_back(k);
    added = true;
  }
  if (added) append_flags_responses();
}

bool Session::is_recent(std::uint32_t uid) const {
  return sel_ && std::binary_search(sel_->recent.begin(), sel_->recent.end(), uid);
}

std::size_t Session::recent_count() const {
  return static_cast<std::size_t>(
      std::count_if(sel_->recent.begin(), sel_->recent.end(), [this](std::uint32_t u) {
        return std::binary_search(sel_->uids.begin(), sel_->uids.end(), u);
      }));
}

asio::awaitable<void> Session::take_recent(std::uint32_t recent_uid,
                                           const std::vector<std::uint32_t>& candidates) {
  if (rev2_ || !sel_ || candidates.empty() || candidates.back() < recent_uid) co_return;
  std::vector<std::uint32_t> got;
  const auto id = sel_->folder_id;
  if (sel_->read_only) {
    std::copy_if(candidates.begin(), candidates.end(), std::back_inserter(got),
                 [recent_uid](std::uint32_t u) { return u >= recent_uid; });
  } else {
    // Possibly more than the candidates (mail that arrived since they were read): the session
    // is told of those later, and they are its \Recent then.
    got = co_await with_store([id](MessageStore& s) { return s.claim_recent(id); });
  }
  if (!sel_ || sel_->folder_id != id || got.empty()) co_return;
  auto& recent = sel_->recent;
  const auto middle = recent.insert(recent.end(), got.begin(), got.end());
  std::inplace_merge(recent.begin(), middle, recent.end());
  recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
}

bool Session::resolve(const SequenceSet& set, bool uid, std::vector<std::uint32_t>& out,
                      std::string& error) const {
  out.clear();
  const auto& uids = sel_->uids;
  if (set.saved) {
    for (const auto u : sel_->saved) {
      if (std::binary_search(uids.begin(), uids.end(), u)) out.push_back(u);
    }
    return true;
  }
  if (uids.empty()) {
    if (uid || set.has_star()) return true;
    error = "No messages";  // no sequence number is valid in an empty folder
    return false;
  }
  if (uid) {
    for (const auto& [first, last] : set.intervals(uids.back())) {
      auto it = std::lower_bound(uids.begin(), uids.end(), first);
      for (; it != uids.end() && *it <= last; ++it) out.push_back(*it);
    }
    return true;
  }
  const auto count = static_cast<std::uint32_t>(uids.size());
  for (const auto& [first, last] : set.intervals(count)) {
    if (first > count) {
      error = "Invalid message sequence number";
      return false;
    }
    for (std::uint32_t n = first; n <= std::min(last, count); ++n) out.push_back(uids[n - 1]);
  }
  return true;
}

std::string Session::highest_modseq_code() const {
  // RFC 7162 section 3.2.10: with QRESYNC the client learns the mailbox's new HIGHESTMODSEQ
  // after its expunges (EXPUNGE, UID EXPUNGE, MOVE), as Dovecot tells it.
  if (!qresync_ || !sel_) return {};
  return "[HIGHESTMODSEQ " + std::to_string(sel_->modseq) + "] ";
}

void Session::deselect() {
  sel_.reset();
  own_modseqs_.clear();
  state_ = State::kAuthenticated;
}

asio::awaitable<void> Session::refresh(bool allow_expunge) {
  if (!sel_ || !allow_expunge) co_return;
  const std::uint64_t version = mailbox_->version();
  if (version == seen_version_) co_return;
  seen_version_ = version;
  struct Delta {
    bool folder_gone = false;
    std::uint64_t highest = 0;
    std::uint32_t recent_uid = 0;
    std::vector<MessageInfo> changed;
    std::vector<std::uint32_t> gone;
  };
  const std::int64_t id = sel_->folder_id;
  const std::uint64_t since = sel_->modseq;
  Delta d = co_await read_store([id, since](MessageStore& s) {
    Delta out;
    const auto folders = s.folders();
    const auto f =
        std::find_if(folders.begin(), folders.end(), [id](const Folder& x) { return x.id == id; });
    if (f == folders.end()) {
      out.folder_gone = true;
      return out;
    }
    out.highest = f->highest_modseq;
    out.recent_uid = f->recent_uid;
    if (out.highest > since) {
      out.changed = s.changed_since(id, since, MessageStore::Detail::kFlags);
      out.gone = s.expunged_since(id, since);
    }
    return out;
  });
  if (!sel_ || sel_->folder_id != id) co_return;
  if (d.folder_gone) {
    // Deleted or renamed away by another session: the view cannot go on (RFC 9051 7.1 BYE is
    // for the connection; Dovecot closes the session too). Tell the client and end.
    out_ += "* BYE The selected mailbox was deleted\r\n";
    closing_ = true;
    end_reason_ = "mailbox_deleted";
    co_return;
  }
  auto& uids = sel_->uids;
  std::vector<std::uint32_t> vanished;
  for (const auto u : d.gone) {
    const auto it = std::lower_bound(uids.begin(), uids.end(), u);
    if (it == uids.end() || *it != u) continue;
    if (qresync_) {
      vanished.push_back(u);
    } else {
      out_ += "* " + std::to_string(it - uids.begin() + 1) + " EXPUNGE\r\n";
      if (!co_await flush_if_large()) {
        closing_ = true;
        co_return;
      }
    }
    uids.erase(it);
    const auto r = std::lower_bound(sel_->recent.begin(), sel_->recent.end(), u);
    if (r != sel_->recent.end() && *r == u) sel_->recent.erase(r);
  }
  if (!vanished.empty()) {
    out_ += "* VANISHED ";
    append_sequence_set(out_, vanished);
    out_ += "\r\n";
  }
  std::vector<std::uint32_t> added;
  std::vector<const MessageInfo*> flag_changes;
  for (const auto& m : d.changed) {
    if (uids.empty() || m.uid > uids.back()) {
      uids.push_back(m.uid);
      added.push_back(m.uid);
      continue;
    }
    if (own_modseqs_.count(m.modseq)) continue;
    flag_changes.push_back(&m);
  }
  co_await take_recent(d.recent_uid, added);
  if (!sel_ || sel_->folder_id != id) co_return;
  for (const auto& m : d.changed) learn_keywords(m.keywords);
  // Only growth needs EXISTS: the EXPUNGEs above already told the client the new count
  // (RFC 9051 section 7.5.1), and Dovecot sends none after them either. IMAP4rev1 clients are
  // told the new count of \Recent with it (RFC 3501 7.3.2).
  if (!added.empty()) {
    out_ += "* " + std::to_string(sel_->uids.size()) + " EXISTS\r\n";
    if (!rev2_) out_ += "* " + std::to_string(recent_count()) + " RECENT\r\n";
  }
  for (const auto* m : flag_changes) {
    const auto seq = sequence_of(m->uid);
    if (!seq) continue;
    out_ += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(m->uid) + " FLAGS ";
    append_flags(out_, m->flags, m->keywords, is_recent(m->uid));
    if (condstore_) out_ += " MODSEQ (" + std::to_string(m->modseq) + ")";
    out_ += ")\r\n";
    if (!co_await flush_if_large()) {
      closing_ = true;
      co_return;
    }
  }
  if (d.highest > sel_->modseq) sel_->modseq = d.highest;
  own_modseqs_.erase(own_modseqs_.begin(), own_modseqs_.upper_bound(sel_->modseq));
}

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
  if (!resolve(args.set, cmd.uid, uids, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
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

asio::awaitable<void> Session::on_copy(const Command& cmd) {
  const auto& args = std::get<CopyMove>(cmd.arguments);
  const bool move = cmd.name == CommandName::kMove;
  if (move && sel_->read_only) {
    tagged(cmd, "NO", "[READ-ONLY] The mailbox is read-only");
    co_return;
  }
  std::vector<std::uint32_t> uids;
  std::string error;
  if (!resolve(args.set, cmd.uid, uids, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
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

asio::awaitable<void> Session::on_idle(const Command& cmd) {
  out_ += "+ idling\r\n";
  reader_.next();
  reader_advanced_ = true;
  reader_.expect_line();
  idle_done_ = false;
  idle_failed_ = false;
  bool bad_line = false;
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  idle_reading_ = true;
  asio::co_spawn(stream_.socket().get_executor(), idle_reader(shared_from_this()), asio::detached);
  while (true) {
    co_await refresh(true);
    if (!co_await flush()) {
      closing_ = true;
      break;
    }
    if (idle_done_ || idle_failed_ || closing_) break;
    // A change that came while refresh ran has bumped the version: look again before waiting.
    if (sel_ && mailbox_->version() != seen_version_) continue;
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Wait for the reader to finish (it cancels the timer when it does).
  while (!idle_done_ && !idle_failed_) {
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  idle_reading_ = false;
  if (idle_failed_) {
    closing_ = true;
    co_return;
  }
  bad_line = !is_idle_done(reader_.command());
  reader_.next();
  if (bad_line) {
    tagged(cmd, "BAD", "Expected DONE");
    count_error();
    co_return;
  }
  tagged(cmd, "OK", "IDLE terminated");
}

asio::awaitable<void> Session::idle_reader(std::shared_ptr<Session> self) {
  const auto status = co_await self->next_unit();
  if (!status || *status != ReadStatus::kReady) {
    self->idle_failed_ = true;
  } else {
    self->idle_done_ = true;
  }
  self->wake_.cancel();
}

}  // namespace sealpost::imap::server

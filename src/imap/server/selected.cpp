// The selected folder as the session sees it: sequence numbers, \Recent, the keywords and
// changes it has told the client of, and the updates other sessions and deliveries cause
// (refresh), which the commands on the selected folder (commands/select.cpp, fetch.cpp,
// store.cpp, copy.cpp, expunge.cpp, idle.cpp...) share. And message flags as IMAP writes them.
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
  auto ex = conn_.stream().socket().get_executor();
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

bool Session::resolve_or_refuse(const Command& cmd, const SequenceSet& set,
                                std::vector<std::uint32_t>& uids) {
  std::string error;
  if (resolve(set, cmd.uid, uids, error)) return true;
  tagged(cmd, "BAD", error);
  count_error();
  return false;
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

}  // namespace sealpost::imap::server

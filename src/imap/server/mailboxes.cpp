// Commands on mailboxes (folders) as a whole: names, LIST/LSUB (LIST-EXTENDED, LIST-STATUS,
// SPECIAL-USE), CREATE (CREATE-SPECIAL-USE), DELETE, RENAME, SUBSCRIBE, STATUS (STATUS=SIZE),
// NAMESPACE, APPEND (UIDPLUS, APPENDLIMIT) and QUOTA (RFC 9208).
#include <algorithm>
#include <map>

#include "core/clock.hpp"
#include "core/strings.hpp"
#include "imap/protocol/fetch_body.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageStore;
using store::mailbox::SpecialUse;

namespace {

constexpr char kDelimiter = '/';

// LIST's wildcards (RFC 9051 section 6.3.9): "*" matches anything, "%" anything but the
// hierarchy delimiter. Iterative with backtracking over the last "*": linear-ish, no recursion.
bool wildcard_match(std::string_view pattern, std::string_view name) {
  // Dynamic programming over positions keeps it O(pattern * name) in the worst case.
  std::vector<char> prev(name.size() + 1, 0);
  std::vector<char> cur(name.size() + 1, 0);
  prev[0] = 1;
  for (std::size_t i = 1; i <= name.size(); ++i) prev[i] = 0;
  for (const char p : pattern) {
    cur.assign(name.size() + 1, 0);
    if (p == '*') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= name.size(); ++j)
        cur[j] = static_cast<char>(prev[j] || cur[j - 1]);
    } else if (p == '%') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= name.size(); ++j) {
        cur[j] = static_cast<char>(prev[j] || (cur[j - 1] && name[j - 1] != kDelimiter));
      }
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j) {
        cur[j] = static_cast<char>(prev[j - 1] && name[j - 1] == p);
      }
    }
    std::swap(prev, cur);
  }
  return prev[name.size()] != 0;
}

// INBOX is case-insensitive, also as the first level of a pattern ("inbox/%").
std::string canonical_inbox(std::string name) {
  if (name.size() >= 5 && iequals(std::string_view(name).substr(0, 5), "INBOX") &&
      (name.size() == 5 || name[5] == kDelimiter)) {
    name.replace(0, 5, "INBOX");
  }
  return name;
}

std::optional<SpecialUse> parse_special_use(std::string_view s) {
  static const std::pair<std::string_view, SpecialUse> kUses[] = {
      {"\\Sent", SpecialUse::kSent},
      {"\\Drafts", SpecialUse::kDrafts},
      {"\\Junk", SpecialUse::kJunk},
      {"\\Trash", SpecialUse::kTrash},
      {"\\Archive", SpecialUse::kArchive}};
  for (const auto& [name, use] : kUses) {
    if (iequals(name, s)) return use;
  }
  return std::nullopt;
}

void append_status_items(std::string& out, const std::vector<StatusItem>& items, const Folder& f,
                         const MessageStore::Counts& c, std::uint64_t appendlimit, bool rev2) {
  out += '(';
  bool first = true;
  const auto item = [&](std::string_view name, std::uint64_t value) {
    if (!first) out += ' ';
    first = false;
    out += name;
    out += ' ';
    out += std::to_string(value);
  };
  for (const StatusItem i : items) {
    switch (i) {
      case StatusItem::kMessages:
        item("MESSAGES", c.messages);
        break;
      case StatusItem::kUidNext:
        item("UIDNEXT", f.uidnext);
        break;
      case StatusItem::kUidValidity:
        item("UIDVALIDITY", f.uidvalidity);
        break;
      case StatusItem::kUnseen:
        item("UNSEEN", c.unseen);
        break;
      case StatusItem::kDeleted:
        item("DELETED", c.deleted);
        break;
      case StatusItem::kSize:
        item("SIZE", c.size);
        break;
      case StatusItem::kRecent:
        if (!rev2) item("RECENT", c.recent);
        break;
      case StatusItem::kHighestModSeq:
        item("HIGHESTMODSEQ", f.highest_modseq);
        break;
      case StatusItem::kAppendLimit:
        item("APPENDLIMIT", appendlimit);
        break;
    }
  }
  out += ')';
}

std::string_view store_error_code(std::string_view what) {
  if (what.find("exists") != std::string_view::npos) return "[ALREADYEXISTS] ";
  if (what.find("no such") != std::string_view::npos) return "[NONEXISTENT] ";
  if (what.find("INBOX") != std::string_view::npos) return "[CANNOT] ";
  return "[CANNOT] ";
}

}  // namespace

std::optional<std::string> Session::decode_name(std::string_view name) const {
  std::optional<std::string> decoded;
  if (utf8_) {
    decoded = std::string(name);
  } else {
    decoded = decode_mutf7(name);
  }
  if (!decoded || decoded->empty()) return std::nullopt;
  return canonical_inbox(std::move(*decoded));
}

void Session::append_name(std::string& out, std::string_view stored) const {
  if (utf8_) {
    append_astring(out, stored, true);
    return;
  }
  const auto encoded = encode_mutf7(stored);
  append_astring(out, encoded ? *encoded : std::string(stored));
}

asio::awaitable<void> Session::on_create(const Command& cmd) {
  const auto& args = std::get<Create>(cmd.arguments);
  auto name = decode_name(args.mailbox);
  if (name && !name->empty() && name->back() == kDelimiter) name->pop_back();  // "a/" creates "a"
  if (!name || name->empty()) {
    tagged(cmd, "NO", "[CANNOT] Invalid mailbox name");
    co_return;
  }
  SpecialUse use = SpecialUse::kNone;
  for (const auto& u : args.special_use) {
    const auto parsed = parse_special_use(u);
    if (!parsed || use != SpecialUse::kNone) {
      tagged(cmd, "NO", "[USEATTR] Unsupported special-use attribute");
      co_return;
    }
    use = *parsed;
  }
  std::string error;
  co_await with_store([&](MessageStore& s) {
    try {
      s.create_folder(*name, use);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) {
    tagged(cmd, "NO", std::string(store_error_code(error)) + "Cannot create: " + error);
    co_return;
  }
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", "CREATE completed");
}

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

asio::awaitable<void> Session::on_rename(const Command& cmd) {
  const auto& args = std::get<Rename>(cmd.arguments);
  const auto from = decode_name(args.from);
  const auto to = decode_name(args.to);
  if (!from || !to) {
    tagged(cmd, "NO", "[CANNOT] Invalid mailbox name");
    co_return;
  }
  std::string error;
  co_await with_store([&](MessageStore& s) {
    try {
      s.rename_folder(*from, *to);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) {
    tagged(cmd, "NO", std::string(store_error_code(error)) + "Cannot rename: " + error);
    co_return;
  }
  if (sel_ && sel_->name != "INBOX" &&
      (sel_->name == *from || sel_->name.starts_with(*from + kDelimiter))) {
    sel_->name = *to + sel_->name.substr(from->size());
  }
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", "RENAME completed");
}

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

asio::awaitable<void> Session::on_namespace(const Command& cmd) {
  out_ += "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n";
  tagged(cmd, "OK", "NAMESPACE completed");
  co_return;
}

asio::awaitable<void> Session::on_list(const Command& cmd) {
  const auto& args = std::get<List>(cmd.arguments);
  const bool lsub = cmd.name == CommandName::kLsub;
  // LIST "" "": the hierarchy delimiter and root (RFC 9051 6.3.9).
  if (!lsub && args.patterns.size() == 1 && args.patterns[0].empty() && !args.extended) {
    out_ += "* LIST (\\Noselect) \"/\" \"\"\r\n";
    tagged(cmd, "OK", "LIST completed");
    co_return;
  }
  struct Row {
    Folder folder;
    MessageStore::Counts counts;
  };
  std::vector<Row> rows;
  const bool want_status = args.returns.status;
  co_await read_store([&](MessageStore& s) {
    for (auto& f : s.folders()) {
      rows.push_back({std::move(f), {}});
    }
    if (want_status) {
      for (auto& r : rows) r.counts = s.counts(r.folder.id);
    }
  });
  std::map<std::string, const Row*> by_name;
  for (const auto& r : rows) by_name[r.folder.name] = &r;
  // Names that exist only as parents of others ("a" when only "a/b" exists).
  std::set<std::string> implied;
  for (const auto& [name, row] : by_name) {
    for (std::size_t p = name.find(kDelimiter); p != std::string::npos;
         p = name.find(kDelimiter, p + 1)) {
      const std::string parent = name.substr(0, p);
      if (!by_name.count(parent)) implied.insert(parent);
    }
  }
  const auto has_children = [&](const std::string& name) {
    const std::string prefix = name + kDelimiter;
    const auto it = by_name.lower_bound(prefix);
    if (it != by_name.end() && it->first.starts_with(prefix)) return true;
    const auto jt = implied.lower_bound(prefix);
    return jt != implied.end() && jt->starts_with(prefix);
  };
  const bool subscribed_only = lsub || args.selection.subscribed;
  const bool show_subscribed = args.returns.subscribed || args.selection.subscribed;
  const bool special_only = args.selection.special_use;

  const bool recursive = args.selection.recursive_match && subscribed_only && !lsub;
  // Per pattern: the names it matches that have a subscribed descendant it does not match
  // ("%" matches "a" but not "a/b"). LSUB lists such a name as \Noselect when it is not
  // subscribed itself (RFC 3501 section 6.3.9, a MUST); LIST (SUBSCRIBED RECURSIVEMATCH) gives
  // it CHILDINFO (RFC 5258 section 3.5). As Dovecot does.
  std::set<std::string> child_subscribed;

  std::set<std::string> listed;
  const auto emit = [&](const std::string& name, const Row* row) {
    const bool subscribed = row && row->folder.subscribed;
    const bool parent_only = subscribed_only && !subscribed;
    const bool childinfo = (lsub || recursive) && child_subscribed.count(name) > 0;
    if (parent_only && !childinfo) return;
    if (!listed.insert(name).second) return;
    if (special_only && (!row || row->folder.special_use == SpecialUse::kNone ||
                         row->folder.special_use == SpecialUse::kInbox)) {
      return;
    }
    std::vector<std::string> attrs;
    if (lsub && parent_only) {
      attrs.emplace_back("\\Noselect");
    } else if (!row) {
      attrs.emplace_back(rev2_ || args.extended ? "\\NonExistent" : "\\Noselect");
    }
    if (!lsub) attrs.emplace_back(has_children(name) ? "\\HasChildren" : "\\HasNoChildren");
    if (subscribed && show_subscribed && !lsub) attrs.emplace_back("\\Subscribed");
    if (row && !(lsub && parent_only)) {
      const auto use = store::mailbox::to_string(row->folder.special_use);
      if (!use.empty()) attrs.emplace_back(use);
    }
    out_ += lsub ? "* LSUB " : "* LIST ";
    append_flag_list(out_, attrs);
    out_ += " \"/\" ";
    append_name(out_, name);
    if (recursive && childinfo) out_ += " (\"CHILDINFO\" (\"SUBSCRIBED\"))";
    out_ += "\r\n";
    if (want_status && row) {
      out_ += "* STATUS ";
      append_name(out_, name);
      out_ += ' ';
      append_status_items(out_, args.returns.status_items, row->folder, row->counts,
                          ctx_.config.limits.max_message_size, rev2_);
      out_ += "\r\n";
    }
  };
  std::optional<std::string> reference = decode_name(args.reference);
  if (args.reference.empty()) reference = std::string();
  if (!reference) {
    tagged(cmd, "OK", lsub ? "LSUB completed" : "LIST completed");
    co_return;
  }
  // One walk in name order, the implied parents among the rest ("a" before "a/b").
  std::map<std::string, const Row*> everything(by_name);
  for (const auto& name : implied) everything.emplace(name, nullptr);
  for (const auto& raw_pattern : args.patterns) {
    auto pattern_text = decode_name(raw_pattern);
    if (raw_pattern.empty()) continue;
    if (!pattern_text) pattern_text = std::string(raw_pattern);
    std::string pattern =
        pattern_text->front() == kDelimiter ? *pattern_text : *reference + *pattern_text;
    pattern = canonical_inbox(std::move(pattern));
    child_subscribed.clear();
    if (lsub || recursive) {
      for (const auto& [name, row] : by_name) {
        if (!row->folder.subscribed || wildcard_match(pattern, name)) continue;
        for (std::size_t p = name.find(kDelimiter); p != std::string::npos;
             p = name.find(kDelimiter, p + 1)) {
          std::string parent = name.substr(0, p);
          if (wildcard_match(pattern, parent)) child_subscribed.insert(std::move(parent));
        }
      }
    }
    for (const auto& [name, row] : everything) {
      if (!wildcard_match(pattern, name)) continue;
      emit(name, row);
      if (!co_await flush_if_large()) {
        closing_ = true;
        co_return;
      }
    }
  }
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", lsub ? "LSUB completed" : "LIST completed");
}

asio::awaitable<void> Session::on_status(const Command& cmd) {
  const auto& args = std::get<Status>(cmd.arguments);
  const auto name = decode_name(args.mailbox);
  std::optional<Folder> folder;
  MessageStore::Counts counts;
  if (name) {
    co_await read_store([&](MessageStore& s) {
      folder = s.folder(*name);
      if (folder) counts = s.counts(folder->id);
    });
  }
  if (!folder) {
    tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
    co_return;
  }
  if (state_ == State::kSelected) co_await refresh(true);
  out_ += "* STATUS ";
  append_name(out_, folder->name);
  out_ += ' ';
  append_status_items(out_, args.items, *folder, counts, ctx_.config.limits.max_message_size,
                      rev2_);
  out_ += "\r\n";
  tagged(cmd, "OK", "STATUS completed");
}

asio::awaitable<void> Session::on_append(const Command& cmd) {
  const auto& args = std::get<Append>(cmd.arguments);
  const auto name = decode_name(args.mailbox);
  if (args.utf8 && !utf8_) {
    // RFC 6855 section 4: the UTF8 data item only after ENABLE UTF8=ACCEPT.
    tagged(cmd, "BAD", "APPEND UTF8 needs ENABLE UTF8=ACCEPT");
    count_error();
    co_return;
  }
  if (args.message.empty()) {
    tagged(cmd, "NO", "Cannot save an empty message");
    co_return;
  }
  if (args.message.size() > ctx_.config.limits.max_message_size) {
    tagged(cmd, "NO", "[TOOBIG] The message is larger than APPENDLIMIT");
    co_return;
  }
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;
  if (std::string error; !parse_flags(args.flags, flags, keywords, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
  const std::int64_t date = args.date_time ? args.date_time->unix_time() : core::unix_now();
  std::optional<Folder> folder;
  store::mailbox::Appended appended;
  std::string error;
  bool over_quota = false;
  const auto& facts_of = ctx_.mailboxes.facts();
  co_await net::run_blocking(ctx_.blocking, [&] {
    const auto crlf = to_crlf(args.message);
    const std::string_view raw = crlf ? std::string_view(*crlf) : args.message;
    const auto facts = facts_of ? facts_of(raw) : std::nullopt;
    mailbox_->with([&](MessageStore& s) {
      if (name) folder = s.folder(*name);
      if (!folder) return;
      store::mailbox::NewMessage m;
      m.raw = raw;
      m.internal_date = date;
      m.flags = flags;
      m.keywords = keywords;
      m.facts = facts ? &*facts : nullptr;
      try {
        appended = s.append(folder->id, m);
      } catch (const store::mailbox::QuotaExceeded&) {
        over_quota = true;
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  });
  if (refused_write(cmd, folder.has_value(), over_quota, error)) co_return;
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK",
         "[APPENDUID " + std::to_string(folder->uidvalidity) + " " + std::to_string(appended.uid) +
             "] APPEND completed");
}

asio::awaitable<void> Session::on_quota(const Command& cmd) {
  std::uint64_t used = 0;
  const std::uint64_t limit = co_await with_store([&](MessageStore& s) {
    used = s.usage_bytes();
    return s.quota_bytes();
  });
  // One quota root, "", for the whole mailbox (RFC 9208); no root when there is no quota.
  const auto quota_line = [&] {
    out_ += "* QUOTA \"\" (STORAGE " + std::to_string((used + 1023) / 1024) + " " +
            std::to_string(limit / 1024) + ")\r\n";
  };
  if (state_ == State::kSelected) co_await refresh(true);
  switch (cmd.name) {
    case CommandName::kGetQuotaRoot: {
      const auto name = decode_name(std::get<MailboxArgument>(cmd.arguments).mailbox);
      bool exists = false;
      if (name) co_await with_store([&](MessageStore& s) { exists = s.folder(*name).has_value(); });
      if (!exists) {
        tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
        co_return;
      }
      out_ += "* QUOTAROOT ";
      append_name(out_, *name);
      out_ += limit ? " \"\"\r\n" : "\r\n";
      if (limit) quota_line();
      tagged(cmd, "OK", "GETQUOTAROOT completed");
      co_return;
    }
    case CommandName::kGetQuota:
      if (!limit || !std::get<GetQuota>(cmd.arguments).root.empty()) {
        tagged(cmd, "NO", "[NONEXISTENT] No such quota root");
        co_return;
      }
      quota_line();
      tagged(cmd, "OK", "GETQUOTA completed");
      co_return;
    default:
      tagged(cmd, "NO", "[NOPERM] The quota is set by the administrator (sealpost mailbox quota)");
      co_return;
  }
}

}  // namespace sealpost::imap::server

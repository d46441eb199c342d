// LIST (RFC 9051 section 6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
// SPECIAL-USE (RFC 6154) and CHILDREN; IMAP4rev1's LSUB.
#include <algorithm>
#include <map>

#include "core/strings.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageStore;
using store::mailbox::SpecialUse;

namespace {

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

}  // namespace

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

}  // namespace sealpost::imap::server

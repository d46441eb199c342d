// SEARCH (RFC 9051 section 6.4.4; ESEARCH RFC 4731, SEARCHRES RFC 5182, CONDSTORE MODSEQ),
// SORT and THREAD=REFERENCES (RFC 5256).
//
// Text keys use the mailbox's full-text index (a case-insensitive substring match over the
// decoded text: IMAP's SEARCH semantics); header keys (FROM, SUBJECT, HEADER...) are checked
// against the decoded header fields of the messages the index proposes, so they match that
// field only. Everything else is evaluated over the folder's message list. The whole search runs
// on the worker pool with the mailbox to itself.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/strings.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"
#include "mime/content.hpp"
#include "mime/encoded_word.hpp"
#include "mime/header.hpp"
#include "mime/imap_structure.hpp"
#include "mime/message.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageFacts;
using store::mailbox::MessageInfo;
using store::mailbox::MessageStore;

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t day_of(std::int64_t unix_time) {
  return unix_time >= 0 ? unix_time / kDay : (unix_time - kDay + 1) / kDay;
}

std::int64_t day_of(const Date& d) {
  DateTime t;
  t.date = d;
  return day_of(t.unix_time());
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  const std::string h = to_lower_ascii(haystack);
  const std::string n = to_lower_ascii(needle);
  return h.find(n) != std::string::npos;
}

// What the evaluation of one message may need, loaded once and only when a key asks.
struct Lazy {
  MessageStore& store;
  std::int64_t folder;
  std::uint32_t uid = 0;
  std::optional<std::string> raw;
  std::optional<mime::Message> parsed;
  std::optional<MessageFacts> facts;
  bool raw_loaded = false;
  bool facts_loaded = false;

  const mime::Message* message() {
    if (!raw_loaded) {
      raw_loaded = true;
      raw = store.raw(folder, uid);
      if (raw) {
        auto p = mime::parse_message(*raw);
        if (p) parsed = std::move(p.value());
      }
    }
    return parsed ? &*parsed : nullptr;
  }
  const MessageFacts* message_facts() {
    if (!facts_loaded) {
      facts_loaded = true;
      facts = store.facts(folder, uid);
    }
    return facts ? &*facts : nullptr;
  }
  void reset(std::uint32_t u) {
    uid = u;
    raw.reset();
    parsed.reset();
    facts.reset();
    raw_loaded = facts_loaded = false;
  }
};

class Evaluator {
 public:
  Evaluator(MessageStore& store, std::int64_t folder, const std::vector<std::uint32_t>& view,
            const std::vector<std::uint32_t>& saved)
      : store_(store), folder_(folder), view_(view), saved_(saved), lazy_{store, folder, 0,
                                                                          {},    {},     {}} {}

  // Runs the full-text queries the criteria need, once each.
  void prepare(const SearchKey& key) {
    switch (key.type) {
      case SearchKeyType::kBody:
      case SearchKeyType::kText:
      case SearchKeyType::kFrom:
      case SearchKeyType::kTo:
      case SearchKeyType::kCc:
      case SearchKeyType::kBcc:
      case SearchKeyType::kSubject:
        if (!key.text.empty() && !hits_.count(&key)) {
          const auto uids = store_.search_text(folder_, key.text);
          hits_[&key] = std::set<std::uint32_t>(uids.begin(), uids.end());
        }
        break;
      case SearchKeyType::kModSeq:
        uses_modseq_ = true;
        break;
      default:
        break;
    }
    for (const auto& c : key.children) prepare(c);
  }

  bool matches(const SearchKey& key, const MessageInfo& m, std::uint32_t seq) {
    if (lazy_.uid != m.uid) lazy_.reset(m.uid);
    return eval(key, m, seq);
  }
  [[nodiscard]] bool uses_modseq() const { return uses_modseq_; }

 private:
  bool header_has(std::string_view field, std::string_view text) {
    const auto* msg = lazy_.message();
    if (!msg) return false;
    for (const auto& f : msg->root.fields) {
      if (!iequals(f.name, field)) continue;
      if (text.empty()) return true;
      if (contains_ci(mime::decode_header_value(f.value), text)) return true;
    }
    return false;
  }

  bool eval(const SearchKey& key, const MessageInfo& m, std::uint32_t seq) {
    using T = SearchKeyType;
    switch (key.type) {
      case T::kAll:
      case T::kOld:
        return true;
      case T::kNew:
      case T::kRecent:
        return false;  // \Recent is not kept (it is gone from IMAP4rev2)
      case T::kAnswered:
        return (m.flags & store::mailbox::kAnswered) != 0;
      case T::kDeleted:
        return (m.flags & store::mailbox::kDeleted) != 0;
      case T::kDraft:
        return (m.flags & store::mailbox::kDraft) != 0;
      case T::kFlagged:
        return (m.flags & store::mailbox::kFlagged) != 0;
      case T::kSeen:
        return (m.flags & store::mailbox::kSeen) != 0;
      case T::kUnanswered:
        return (m.flags & store::mailbox::kAnswered) == 0;
      case T::kUndeleted:
        return (m.flags & store::mailbox::kDeleted) == 0;
      case T::kUndraft:
        return (m.flags & store::mailbox::kDraft) == 0;
      case T::kUnflagged:
        return (m.flags & store::mailbox::kFlagged) == 0;
      case T::kUnseen:
        return (m.flags & store::mailbox::kSeen) == 0;
      case T::kKeyword:
      case T::kUnkeyword: {
        const bool has = std::any_of(m.keywords.begin(), m.keywords.end(),
                                     [&](const std::string& k) { return iequals(k, key.text); });
        return key.type == T::kKeyword ? has : !has;
      }
      case T::kBody:
      case T::kText:
        if (key.text.empty()) return true;
        return hits_[&key].count(m.uid) != 0;
      case T::kFrom:
      case T::kTo:
      case T::kCc:
      case T::kBcc:
      case T::kSubject: {
        if (!key.text.empty() && !hits_[&key].count(m.uid)) return false;
        const std::string_view field = key.type == T::kFrom  ? "From"
                                       : key.type == T::kTo  ? "To"
                                       : key.type == T::kCc  ? "Cc"
                                       : key.type == T::kBcc ? "Bcc"
                                                             : "Subject";
        return header_has(field, key.text);
      }
      case T::kHeader:
        return header_has(key.text, key.value);
      case T::kBefore:
        return day_of(m.internal_date) < day_of(key.date);
      case T::kOn:
        return day_of(m.internal_date) == day_of(key.date);
      case T::kSince:
        return day_of(m.internal_date) >= day_of(key.date);
      case T::kSentBefore:
      case T::kSentOn:
      case T::kSentSince: {
        const auto* f = lazy_.message_facts();
        const std::int64_t sent = f && f->sent_date ? f->sent_date : m.internal_date;
        const auto d = day_of(sent);
        const auto k = day_of(key.date);
        return key.type == T::kSentBefore ? d < k : key.type == T::kSentOn ? d == k : d >= k;
      }
      case T::kLarger:
        return m.size > key.number;
      case T::kSmaller:
        return m.size < key.number;
      case T::kModSeq:
        return m.modseq >= key.number;
      case T::kUid:
        if (key.set.saved) return std::binary_search(saved_.begin(), saved_.end(), m.uid);
        return key.set.contains(m.uid, view_.empty() ? 0 : view_.back());
      case T::kSequenceSet:
        if (key.set.saved) return std::binary_search(saved_.begin(), saved_.end(), m.uid);
        return key.set.contains(seq, static_cast<std::uint32_t>(view_.size()));
      case T::kNot:
        return !eval(key.children.front(), m, seq);
      case T::kOr:
        return eval(key.children[0], m, seq) || eval(key.children[1], m, seq);
      case T::kAnd:
        for (const auto& c : key.children) {
          if (!eval(c, m, seq)) return false;
        }
        return true;
    }
    return false;
  }

  MessageStore& store_;
  std::int64_t folder_;
  const std::vector<std::uint32_t>& view_;
  const std::vector<std::uint32_t>& saved_;
  Lazy lazy_;
  std::map<const SearchKey*, std::set<std::uint32_t>> hits_;
  bool uses_modseq_ = false;
};

struct Match {
  std::uint32_t seq = 0;
  MessageInfo info;
};

// The messages of the session's view that meet `criteria`, in sequence order.
std::vector<Match> run_search(MessageStore& s, std::int64_t folder,
                              const std::vector<std::uint32_t>& view,
                              const std::vector<std::uint32_t>& saved, const SearchKey& criteria,
                              bool& uses_modseq) {
  Evaluator ev(s, folder, view, saved);
  ev.prepare(criteria);
  uses_modseq = ev.uses_modseq();
  std::vector<Match> out;
  if (view.empty()) return out;
  for (auto& m : s.messages(folder, uid_intervals(view))) {
    const auto it = std::lower_bound(view.begin(), view.end(), m.uid);
    if (it == view.end() || *it != m.uid) continue;
    const auto seq = static_cast<std::uint32_t>(it - view.begin() + 1);
    if (ev.matches(criteria, m, seq)) out.push_back({seq, std::move(m)});
  }
  return out;
}

bool charset_ok(const std::optional<std::string>& charset) {
  return !charset || charset->empty() || iequals(*charset, "US-ASCII") ||
         iequals(*charset, "UTF-8");
}

// RFC 5256 section 2.1: the subject without "Re:", "Fwd:", "[list]" prefixes, "(fwd)"
// trailers and "[Fwd: ...]" wrappers, lowercased for comparison.
std::string base_subject(std::string_view raw) {
  std::string s = to_lower_ascii(mime::decode_header_value(raw));
  for (auto& c : s) {
    if (c == '\t') c = ' ';
  }
  bool changed = true;
  while (changed) {
    changed = false;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.ends_with("(fwd)")) {
      s.resize(s.size() - 5);
      changed = true;
      continue;
    }
    std::size_t i = 0;
    while (i < s.size() && s[i] == ' ') ++i;
    s.erase(0, i);
    // subj-blob: "[...]" before a "re:"/"fw:"/"fwd:" or before more text
    std::size_t p = 0;
    while (p < s.size() && s[p] == '[') {
      const auto close = s.find(']', p);
      if (close == std::string::npos) break;
      std::size_t q = close + 1;
      while (q < s.size() && s[q] == ' ') ++q;
      if (q >= s.size()) break;
      p = q;
    }
    for (const std::string_view prefix : {"re", "fwd", "fw"}) {
      if (s.compare(p, prefix.size(), prefix) != 0) continue;
      std::size_t q = p + prefix.size();
      while (q < s.size() && s[q] == ' ') ++q;
      if (q < s.size() && s[q] == '[') {
        const auto close = s.find(']', q);
        if (close == std::string::npos) continue;
        q = close + 1;
      }
      if (q < s.size() && s[q] == ':') {
        s.erase(0, q + 1);
        changed = true;
        break;
      }
    }
    if (changed) continue;
    if (p > 0 && p < s.size()) {
      s.erase(0, p);
      changed = true;
      continue;
    }
    if (s.starts_with("[fwd:") && s.ends_with("]")) {
      s = s.substr(5, s.size() - 6);
      changed = true;
    }
  }
  return s;
}

struct SortFields {
  std::string subject;
  std::string from;
  std::string to;
  std::string cc;
  std::int64_t date = 0;
};

std::string first_mailbox(const mime::Part& root, std::string_view field) {
  const auto* f = mime::find_field(root, field);
  if (!f) return {};
  const auto addrs = mime::parse_envelope_addresses(mime::unfold(f->value), 4);
  for (const auto& a : addrs) {
    if (a.mailbox && a.host) return to_lower_ascii(*a.mailbox);
  }
  return {};
}

SortFields sort_fields(MessageStore& s, std::int64_t folder, const MessageInfo& m,
                       const std::vector<SortCriterion>& order) {
  SortFields f;
  f.date = m.internal_date;
  bool need_header = false;
  bool need_date = false;
  for (const auto& c : order) {
    if (c.key == SortKey::kSubject || c.key == SortKey::kFrom || c.key == SortKey::kTo ||
        c.key == SortKey::kCc) {
      need_header = true;
    }
    if (c.key == SortKey::kDate) need_date = true;
  }
  if (need_date) {
    const auto facts = s.facts(folder, m.uid);
    if (facts && facts->sent_date) f.date = facts->sent_date;
  }
  if (need_header) {
    const auto raw = s.raw(folder, m.uid);
    if (raw) {
      const auto parsed = mime::parse_message(*raw);
      if (parsed) {
        const auto& root = parsed->root;
        if (const auto* subj = mime::find_field(root, "Subject"))
          f.subject = base_subject(subj->value);
        f.from = first_mailbox(root, "From");
        f.to = first_mailbox(root, "To");
        f.cc = first_mailbox(root, "Cc");
      }
    }
  }
  return f;
}

// THREAD=REFERENCES (RFC 5256 section 2.2), over the stored Message-ID and parents: each
// message hangs under its nearest ancestor present among the results; roots and siblings by
// date.
struct Node {
  std::uint32_t number = 0;
  std::int64_t date = 0;
  std::vector<std::size_t> children;
};

void render_chain(std::string& out, const std::vector<Node>& nodes, std::size_t index,
                  std::size_t depth) {
  // A chain of single children is written flat: "(1 2 3)"; a branch point nests its children.
  std::size_t i = index;
  while (true) {
    out += std::to_string(nodes[i].number);
    const auto& kids = nodes[i].children;
    if (kids.empty()) return;
    if (kids.size() == 1 || depth > 200) {
      // Past 200 nested branches the rest is written as a chain: bounded recursion.
      for (std::size_t k = 1; k < kids.size(); ++k) {
        out += ' ';
        render_chain(out, nodes, kids[k], depth + 1);
      }
      out += ' ';
      i = kids.front();
      continue;
    }
    out += ' ';
    for (const auto k : kids) {
      out += '(';
      render_chain(out, nodes, k, depth + 1);
      out += ')';
    }
    return;
  }
}

}  // namespace

asio::awaitable<void> Session::on_search(const Command& cmd) {
  const auto& args = std::get<Search>(cmd.arguments);
  if (!charset_ok(args.charset)) {
    tagged(cmd, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    co_return;
  }
  const auto id = sel_->folder_id;
  bool uses_modseq = false;
  const auto matches = co_await with_store([&, id](MessageStore& s) {
    return run_search(s, id, sel_->uids, sel_->saved, args.criteria, uses_modseq);
  });
  if (uses_modseq) condstore_ = true;
  std::vector<std::uint32_t> numbers;
  std::uint64_t highest = 0;
  for (const auto& m : matches) {
    numbers.push_back(cmd.uid ? m.info.uid : m.seq);
    highest = std::max(highest, m.info.modseq);
  }
  const auto& r = args.returns;
  if (r.save) {
    std::vector<std::uint32_t> saved;
    if ((r.min || r.max) && !r.all && !r.count) {
      // RFC 5182 section 2.4: with MIN and/or MAX alone only those are saved.
      if (!matches.empty() && r.min) saved.push_back(matches.front().info.uid);
      if (!matches.empty() && r.max && (saved.empty() || saved.back() != matches.back().info.uid)) {
        saved.push_back(matches.back().info.uid);
      }
    } else {
      for (const auto& m : matches) saved.push_back(m.info.uid);
    }
    std::sort(saved.begin(), saved.end());
    sel_->saved = std::move(saved);
  }
  if (args.esearch || rev2_) {
    const bool only_save = r.save && !r.min && !r.max && !r.all && !r.count;
    if (!only_save) {
      const bool all = r.all || (!r.min && !r.max && !r.count);
      out_ += "* ESEARCH (TAG ";
      append_string(out_, cmd.tag);
      out_ += ')';
      if (cmd.uid) out_ += " UID";
      if (!numbers.empty()) {
        if (r.min) out_ += " MIN " + std::to_string(numbers.front());
        if (r.max) out_ += " MAX " + std::to_string(numbers.back());
      }
      if (r.count) out_ += " COUNT " + std::to_string(numbers.size());
      if (all && !numbers.empty()) {
        out_ += " ALL ";
        append_sequence_set(out_, numbers);
      }
      if (uses_modseq && !numbers.empty()) out_ += " MODSEQ " + std::to_string(highest);
      out_ += "\r\n";
    }
  } else {
    out_ += "* SEARCH";
    for (const auto n : numbers) out_ += ' ' + std::to_string(n);
    if (uses_modseq && !numbers.empty()) out_ += " (MODSEQ " + std::to_string(highest) + ")";
    out_ += "\r\n";
  }
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "SEARCH completed");
}

asio::awaitable<void> Session::on_sort(const Command& cmd) {
  const auto& args = std::get<Sort>(cmd.arguments);
  if (!charset_ok(args.charset)) {
    tagged(cmd, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    co_return;
  }
  const auto id = sel_->folder_id;
  const auto sorted = co_await with_store([&, id](MessageStore& s) {
    bool uses_modseq = false;
    auto matches = run_search(s, id, sel_->uids, sel_->saved, args.criteria, uses_modseq);
    std::vector<std::pair<SortFields, Match>> rows;
    rows.reserve(matches.size());
    for (auto& m : matches) rows.emplace_back(sort_fields(s, id, m.info, args.order), std::move(m));
    std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      for (const auto& c : args.order) {
        int cmp = 0;
        switch (c.key) {
          case SortKey::kArrival:
            cmp = a.second.info.internal_date < b.second.info.internal_date   ? -1
                  : a.second.info.internal_date > b.second.info.internal_date ? 1
                                                                              : 0;
            break;
          case SortKey::kDate:
            cmp = a.first.date < b.first.date ? -1 : a.first.date > b.first.date ? 1 : 0;
            break;
          case SortKey::kSize:
            cmp = a.second.info.size < b.second.info.size   ? -1
                  : a.second.info.size > b.second.info.size ? 1
                                                            : 0;
            break;
          case SortKey::kSubject:
            cmp = a.first.subject.compare(b.first.subject);
            break;
          case SortKey::kFrom:
            cmp = a.first.from.compare(b.first.from);
            break;
          case SortKey::kTo:
            cmp = a.first.to.compare(b.first.to);
            break;
          case SortKey::kCc:
            cmp = a.first.cc.compare(b.first.cc);
            break;
        }
        if (cmp != 0) return c.reverse ? cmp > 0 : cmp < 0;
      }
      return a.second.seq < b.second.seq;
    });
    std::vector<std::uint32_t> out;
    for (const auto& r : rows) out.push_back(cmd.uid ? r.second.info.uid : r.second.seq);
    return out;
  });
  out_ += "* SORT";
  for (const auto n : sorted) out_ += ' ' + std::to_string(n);
  out_ += "\r\n";
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "SORT completed");
}

asio::awaitable<void> Session::on_thread(const Command& cmd) {
  const auto& args = std::get<Thread>(cmd.arguments);
  if (args.algorithm != ThreadAlgorithm::kReferences) {
    tagged(cmd, "NO", "Only THREAD=REFERENCES is supported");
    co_return;
  }
  if (!charset_ok(args.charset)) {
    tagged(cmd, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    co_return;
  }
  const auto id = sel_->folder_id;
  std::string rendered = co_await with_store([&, id](MessageStore& s) {
    bool uses_modseq = false;
    const auto matches = run_search(s, id, sel_->uids, sel_->saved, args.criteria, uses_modseq);
    std::vector<Node> nodes(matches.size());
    std::vector<std::vector<std::string>> parents(matches.size());
    std::unordered_map<std::string, std::size_t> by_id;
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const auto& m = matches[i];
      nodes[i].number = cmd.uid ? m.info.uid : m.seq;
      nodes[i].date = m.info.internal_date;
      if (const auto facts = s.facts(id, m.info.uid)) {
        if (facts->sent_date) nodes[i].date = facts->sent_date;
        if (!facts->message_id.empty()) by_id.emplace(facts->message_id, i);
        parents[i] = facts->parents;
      }
    }
    std::vector<std::size_t> parent_of(nodes.size(), SIZE_MAX);
    const auto is_ancestor = [&](std::size_t maybe_ancestor, std::size_t node) {
      for (std::size_t p = node, steps = 0; p != SIZE_MAX && steps <= nodes.size();
           p = parent_of[p], ++steps) {
        if (p == maybe_ancestor) return true;
      }
      return false;
    };
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      // The nearest ancestor present: In-Reply-To is last, then References from the end.
      for (auto it = parents[i].rbegin(); it != parents[i].rend(); ++it) {
        const auto found = by_id.find(*it);
        if (found == by_id.end() || found->second == i) continue;
        if (is_ancestor(i, found->second)) continue;  // would make a loop
        parent_of[i] = found->second;
        break;
      }
    }
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (parent_of[i] == SIZE_MAX) {
        roots.push_back(i);
      } else {
        nodes[parent_of[i]].children.push_back(i);
      }
    }
    const auto by_date = [&](std::size_t a, std::size_t b) {
      return nodes[a].date != nodes[b].date ? nodes[a].date < nodes[b].date
                                            : nodes[a].number < nodes[b].number;
    };
    for (auto& n : nodes) std::sort(n.children.begin(), n.children.end(), by_date);
    std::sort(roots.begin(), roots.end(), by_date);
    std::string out;
    for (const auto r : roots) {
      out += '(';
      render_chain(out, nodes, r, 0);
      out += ')';
    }
    return out;
  });
  out_ += "* THREAD " + rendered + "\r\n";
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "THREAD completed");
}

}  // namespace sealpost::imap::server

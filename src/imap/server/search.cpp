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

// Whether this key itself (not its children) is answered from the full-text index.
bool uses_full_text(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kBody:
    case SearchKeyType::kText:
    case SearchKeyType::kFrom:
    case SearchKeyType::kTo:
    case SearchKeyType::kCc:
    case SearchKeyType::kBcc:
    case SearchKeyType::kSubject:
      return !key.text.empty();
    default:
      return false;
  }
}

constexpr std::int64_t kDay = 86400;
// As much body text as the full-text index holds of a message (store/mailbox/facts.cpp).
constexpr std::size_t kMaxSearchText = std::size_t{1} << 20;

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
  Lazy(MessageStore& s, std::int64_t f) : store(s), folder(f) {}

  MessageStore& store;
  std::int64_t folder;
  std::uint32_t uid = 0;
  std::optional<std::string> raw;
  std::optional<mime::Message> parsed;
  std::optional<MessageFacts> facts;
  std::optional<std::string> text;  // the body text BODY and TEXT look through
  // The header alone, for header keys (FROM, SUBJECT, HEADER, TEXT's fields): a few hundred
  // bytes read instead of the whole message.
  std::optional<std::string> header_raw;
  std::optional<mime::Message> header_parsed;
  bool raw_loaded = false;
  bool header_loaded = false;
  bool facts_loaded = false;

  const mime::Message* header_message() {
    if (raw_loaded) return message();
    if (!header_loaded) {
      header_loaded = true;
      header_raw = store.header(folder, uid);
      if (header_raw) {
        auto p = mime::parse_message(*header_raw);
        if (p) header_parsed = std::move(p.value());
      }
    }
    return header_parsed ? &*header_parsed : nullptr;
  }

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
    text.reset();
    header_parsed.reset();
    header_raw.reset();
    raw_loaded = header_loaded = facts_loaded = false;
  }
};

class Evaluator {
 public:
  Evaluator(MessageStore& store, std::int64_t folder, const std::vector<std::uint32_t>& view,
            const std::vector<std::uint32_t>& saved, const std::vector<std::uint32_t>& recent)
      : store_(store),
        folder_(folder),
        view_(view),
        saved_(saved),
        recent_(recent),
        lazy_(store, folder) {}

  // Runs the full-text queries the criteria need, once each.
  void prepare(const SearchKey& key) {
    if (uses_full_text(key) && !hits_.count(&key)) {
      const auto uids = store_.search_text(folder_, key.text);
      hits_[&key] = std::set<std::uint32_t>(uids.begin(), uids.end());
    }
    if (key.type == SearchKeyType::kModSeq) uses_modseq_ = true;
    for (const auto& c : key.children) prepare(c);
  }

  bool matches(const SearchKey& key, const MessageInfo& m, std::uint32_t seq) {
    if (lazy_.uid != m.uid) lazy_.reset(m.uid);
    return eval(key, m, seq);
  }
  [[nodiscard]] bool uses_modseq() const { return uses_modseq_; }

 private:
  [[nodiscard]] bool recent(std::uint32_t uid) const {
    return std::binary_search(recent_.begin(), recent_.end(), uid);
  }
  bool header_has(std::string_view field, std::string_view text) {
    const auto* msg = lazy_.header_message();
    if (!msg) return false;
    for (const auto& f : msg->root.fields) {
      if (!iequals(f.name, field)) continue;
      if (text.empty()) return true;
      if (contains_ci(mime::decode_header_value(f.value), text)) return true;
    }
    return false;
  }

  // The index matches each word anywhere in the message (subject and addresses included);
  // BODY wants the string, as written, in the body text.
  bool body_has(std::string_view text) {
    const auto* msg = lazy_.message();
    if (!msg) return false;
    if (!lazy_.text) lazy_.text = mime::searchable_text(*msg, kMaxSearchText);
    return contains_ci(*lazy_.text, text);
  }

  // TEXT also looks through every header field ("X-Project: apollo"), which the index does not
  // hold: each message is read for it.
  bool header_text_has(std::string_view text) {
    const auto* msg = lazy_.header_message();
    if (!msg) return false;
    for (const auto& f : msg->root.fields) {
      std::string line(f.name);
      line += ": ";
      line += mime::decode_header_value(f.value);
      if (contains_ci(line, text)) return true;
    }
    return false;
  }

  bool eval(const SearchKey& key, const MessageInfo& m, std::uint32_t seq) {
    using T = SearchKeyType;
    switch (key.type) {
      case T::kAll:
        return true;
      // IMAP4rev1's \Recent: none under IMAP4rev2, whose sessions hold no recent UIDs.
      case T::kOld:
        return !recent(m.uid);
      case T::kRecent:
        return recent(m.uid);
      case T::kNew:
        return recent(m.uid) && (m.flags & store::mailbox::kSeen) == 0;
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
        if (key.text.empty()) return true;
        return hits_[&key].count(m.uid) != 0 && body_has(key.text);
      case T::kText:
        if (key.text.empty()) return true;
        return (hits_[&key].count(m.uid) != 0 && body_has(key.text)) || header_text_has(key.text);
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
  const std::vector<std::uint32_t>& recent_;
  Lazy lazy_;
  std::map<const SearchKey*, std::set<std::uint32_t>> hits_;
  bool uses_modseq_ = false;
};

struct Match {
  std::uint32_t seq = 0;
  MessageInfo info;
};

// Whether the criteria compare sizes (LARGER, SMALLER).
bool uses_size(const SearchKey& key) {
  if (key.type == SearchKeyType::kLarger || key.type == SearchKeyType::kSmaller) return true;
  return std::any_of(key.children.begin(), key.children.end(),
                     [](const SearchKey& c) { return uses_size(c); });
}

// The messages of the session's view that meet `criteria`, in sequence order. `need_size`: the
// caller reads their sizes (SORT SIZE).
std::vector<Match> run_search(MessageStore& s, std::int64_t folder,
                              const std::vector<std::uint32_t>& view,
                              const std::vector<std::uint32_t>& saved,
                              const std::vector<std::uint32_t>& recent, const SearchKey& criteria,
                              bool& uses_modseq, bool need_size = false) {
  Evaluator ev(s, folder, view, saved, recent);
  ev.prepare(criteria);
  uses_modseq = ev.uses_modseq();
  std::vector<Match> out;
  if (view.empty()) return out;
  const auto detail =
      need_size || uses_size(criteria) ? MessageStore::Detail::kAll : MessageStore::Detail::kFlags;
  for (auto& m : s.messages(folder, uid_intervals(view), detail)) {
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
// `reply` (when given) tells whether a reply or forward marker was removed (section 2.1), which
// THREAD=REFERENCES needs.
std::string base_subject(std::string_view raw, bool* reply = nullptr) {
  std::string s;
  for (char c : to_lower_ascii(mime::decode_header_value(raw))) {
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;  // runs of blanks are one space
    s += c;
  }
  bool is_reply = false;
  bool changed = true;
  while (changed) {
    changed = false;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.ends_with("(fwd)")) {
      s.resize(s.size() - 5);
      is_reply = changed = true;
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
        is_reply = changed = true;
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
      is_reply = changed = true;
    }
  }
  if (reply) *reply = is_reply;
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

// THREAD=REFERENCES (RFC 5256 section 2.2) over the stored Message-ID and parents (References,
// then In-Reply-To): containers for every id named, dummies for those not among the messages,
// the dummies pruned, roots with the same base subject gathered, siblings sorted by sent date
// (ties by sequence). Everything is iterative: a chain of a hundred thousand replies nests
// nothing on the stack.
class Threader {
 public:
  static constexpr std::size_t kNone = SIZE_MAX;

  struct Input {
    std::uint32_t number = 0;  // sequence number or UID
    std::int64_t date = 0;     // sent date, else INTERNALDATE
    std::string message_id;
    std::vector<std::string> parents;
  };

  // Threads the input; write() then gives the answer. `subject_of(i)`: the raw Subject of input
  // i (read only for the roots that need it).
  template <typename SubjectOf>
  void run(std::vector<Input> input, SubjectOf subject_of) {
    link_all(input);
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].parent == kNone) roots.push_back(i);
    }
    roots = prune(roots);
    std::sort(roots.begin(), roots.end(),
              [&](std::size_t a, std::size_t b) { return before(a, b); });
    roots = gather_subjects(roots, subject_of);
    sort_siblings(roots);
    roots_ = std::move(roots);
  }

  [[nodiscard]] bool empty() const { return roots_.empty(); }

  // Appends the threads, "(...)" each, until `out` holds `limit` octets (or a little more) or
  // all are written; false once all are. A session flushes between the calls, so even one thread
  // of a hundred thousand replies is never held as one string.
  bool write(std::string& out, std::size_t limit) {
    while (next_root_ < roots_.size()) {
      if (stack_.empty()) {
        out += '(';
        stack_.push_back({roots_[next_root_], SIZE_MAX, false});
      }
      if (!render(out, limit)) return true;
      out += ')';
      ++next_root_;
      if (out.size() >= limit) return next_root_ < roots_.size();
    }
    return false;
  }

 private:
  struct Node {
    std::size_t message = kNone;  // index into the input; kNone: a dummy
    std::uint32_t number = 0;
    std::int64_t date = 0;
    std::size_t parent = kNone;
    std::vector<std::size_t> children;
    bool subject_known = false;
    bool reply = false;
    std::string subject;
  };

  std::size_t container(const std::string& id) {
    const auto [it, added] = by_id_.emplace(id, nodes_.size());
    if (added) nodes_.emplace_back();
    return it->second;
  }

  // Whether `ancestor` is `node` or above it.
  bool above(std::size_t ancestor, std::size_t node) const {
    for (std::size_t p = node, steps = 0; p != kNone && steps <= nodes_.size();
         p = nodes_[p].parent, ++steps) {
      if (p == ancestor) return true;
    }
    return false;
  }

  void unlink(std::size_t child) {
    const std::size_t p = nodes_[child].parent;
    if (p == kNone) return;
    auto& kids = nodes_[p].children;
    kids.erase(std::find(kids.begin(), kids.end(), child));
    nodes_[child].parent = kNone;
  }

  // parent -> child, unless that would make a loop.
  void link(std::size_t parent, std::size_t child) {
    if (above(child, parent) || above(parent, child)) return;
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 1.
  void link_all(std::vector<Input>& input) {
    for (std::size_t i = 0; i < input.size(); ++i) {
      auto& m = input[i];
      std::size_t self = kNone;
      if (!m.message_id.empty()) {
        self = container(m.message_id);
        if (nodes_[self].message != kNone) self = kNone;  // a duplicate id: one of its own
      }
      if (self == kNone) {
        self = nodes_.size();
        nodes_.emplace_back();
      }
      nodes_[self].message = i;
      nodes_[self].number = m.number;
      nodes_[self].date = m.date;
      // (B) each reference the parent of the next, where no link exists yet.
      std::size_t previous = kNone;
      for (const auto& ref : m.parents) {
        if (ref == m.message_id) continue;
        const std::size_t c = container(ref);
        if (previous != kNone && nodes_[c].parent == kNone) link(previous, c);
        previous = c;
      }
      // (C) the last reference is the parent, whatever was presumed before.
      unlink(self);
      if (previous != kNone) link(previous, self);
    }
  }

  // Step 3: dummies without children go; a dummy's children take its place, except that a root
  // dummy stays when it holds several. Children are pruned before their parents.
  std::vector<std::size_t> prune(const std::vector<std::size_t>& roots) {
    std::vector<std::size_t> order;
    std::vector<std::size_t> stack(roots.rbegin(), roots.rend());
    while (!stack.empty()) {
      const std::size_t n = stack.back();
      stack.pop_back();
      order.push_back(n);
      for (const auto k : nodes_[n].children) stack.push_back(k);
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      auto& node = nodes_[*it];
      std::vector<std::size_t> kept;
      for (const auto k : node.children) {
        if (nodes_[k].message != kNone) {
          kept.push_back(k);
          continue;
        }
        for (const auto g : nodes_[k].children) {
          nodes_[g].parent = *it;
          kept.push_back(g);
        }
        nodes_[k].children.clear();
      }
      node.children = std::move(kept);
    }
    std::vector<std::size_t> out;
    for (const auto r : roots) {
      auto& node = nodes_[r];
      if (node.message != kNone || node.children.size() > 1) {
        out.push_back(r);
      } else if (node.children.size() == 1) {
        const std::size_t only = node.children.front();
        nodes_[only].parent = kNone;
        node.children.clear();
        out.push_back(only);
      }
    }
    return out;
  }

  // The date a node sorts by, and its sequence for ties: a dummy's first child's.
  const Node& sort_key(std::size_t n) const {
    while (nodes_[n].message == kNone && !nodes_[n].children.empty())
      n = nodes_[n].children.front();
    return nodes_[n];
  }
  bool before(std::size_t a, std::size_t b) const {
    const Node& x = sort_key(a);
    const Node& y = sort_key(b);
    return x.date != y.date ? x.date < y.date : x.message < y.message;
  }

  template <typename SubjectOf>
  std::string thread_subject(std::size_t n, SubjectOf& subject_of) {
    if (nodes_[n].message == kNone) n = nodes_[n].children.front();
    Node& node = nodes_[n];
    if (!node.subject_known) {
      node.subject_known = true;
      node.subject = base_subject(subject_of(node.message), &node.reply);
    }
    return node.subject;
  }
  bool is_reply(std::size_t n) const { return nodes_[n].message != kNone && nodes_[n].reply; }
  bool is_dummy(std::size_t n) const { return nodes_[n].message == kNone; }

  void adopt(std::size_t parent, std::size_t child) {
    nodes_[child].parent = parent;
    nodes_[parent].children.push_back(child);
  }

  // Step 5: roots with the same base subject become one thread.
  template <typename SubjectOf>
  std::vector<std::size_t> gather_subjects(std::vector<std::size_t> roots, SubjectOf& subject_of) {
    std::unordered_map<std::string, std::size_t> table;
    for (const auto r : roots) {
      std::string subject = thread_subject(r, subject_of);
      if (subject.empty()) continue;
      const auto [it, added] = table.emplace(std::move(subject), r);
      if (added) continue;
      const std::size_t t = it->second;
      if (!is_dummy(t) && (is_dummy(r) || (is_reply(t) && !is_reply(r)))) it->second = r;
    }
    std::vector<bool> gone(nodes_.size(), false);
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const std::size_t r = roots[i];
      if (gone[r]) continue;
      const std::string subject = thread_subject(r, subject_of);
      if (subject.empty()) continue;
      std::size_t& t = table[subject];
      if (t == r) continue;
      if (is_dummy(t) && is_dummy(r)) {
        for (const auto k : nodes_[r].children) adopt(t, k);
        nodes_[r].children.clear();
      } else if (is_dummy(t) || (is_reply(r) && !is_reply(t))) {
        adopt(t, r);
      } else {
        const std::size_t d = nodes_.size();
        nodes_.emplace_back();
        gone.push_back(false);
        const auto pos = std::find(roots.begin(), roots.end(), t);
        adopt(d, t);
        adopt(d, r);
        if (pos != roots.end()) *pos = d;
        t = d;
      }
      gone[r] = true;
    }
    std::vector<std::size_t> out;
    for (const auto r : roots) {
      if (!gone[r]) out.push_back(r);
    }
    return out;
  }

  // Step 6, children before parents, then the roots.
  void sort_siblings(std::vector<std::size_t>& roots) {
    std::vector<std::size_t> order;
    std::vector<std::size_t> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      const std::size_t n = stack.back();
      stack.pop_back();
      order.push_back(n);
      for (const auto k : nodes_[n].children) stack.push_back(k);
    }
    const auto by_date = [&](std::size_t a, std::size_t b) { return before(a, b); };
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      auto& kids = nodes_[*it].children;
      std::sort(kids.begin(), kids.end(), by_date);
    }
    std::sort(roots.begin(), roots.end(), by_date);
  }

  // RFC 5256 section 4: a chain of only children is written flat ("1 2 3"), a branch point
  // nests each child ("1 (2)(3 4)"), a dummy is only its children ("(2)(3)"). Continues the
  // thread on `stack_` until it is written (true) or `out` reaches `limit` (false).
  bool render(std::string& out, std::size_t limit) {
    auto& stack = stack_;
    while (!stack.empty()) {
      if (out.size() >= limit) return false;
      Frame& f = stack.back();
      const Node& n = nodes_[f.node];
      if (f.next_child == SIZE_MAX) {
        f.next_child = 0;
        f.nested = n.message == kNone || n.children.size() > 1;
        if (n.message != kNone) {
          out += std::to_string(n.number);
          if (!n.children.empty()) out += ' ';
        }
      }
      if (f.next_child > 0 && f.nested) out += ')';
      if (f.next_child == n.children.size()) {
        stack.pop_back();
        continue;
      }
      const std::size_t k = n.children[f.next_child++];
      if (f.nested) out += '(';
      stack.push_back({k, SIZE_MAX, false});
    }
    return true;
  }

  struct Frame {
    std::size_t node;
    std::size_t next_child;  // SIZE_MAX: the node itself is still to be written
    bool nested;             // its children are each in parentheses
  };

  std::vector<Node> nodes_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::vector<std::size_t> roots_;  // in answer order
  std::size_t next_root_ = 0;       // the thread write() is at
  std::vector<Frame> stack_;        // where in it
};

}  // namespace

bool needs_full_text(const SearchKey& key) {
  return uses_full_text(key) || std::any_of(key.children.begin(), key.children.end(),
                                            [](const SearchKey& c) { return needs_full_text(c); });
}

asio::awaitable<void> Session::on_search(const Command& cmd) {
  const auto& args = std::get<Search>(cmd.arguments);
  if (!charset_ok(args.charset)) {
    tagged(cmd, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    co_return;
  }
  const auto id = sel_->folder_id;
  bool uses_modseq = false;
  const auto matches = co_await search_store(args.criteria, [&, id](MessageStore& s) {
    return run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria, uses_modseq);
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
        // In pieces: a run that spans two of them is written as two ranges, still one set.
        constexpr std::size_t kPiece = 16 * 1024;
        const std::span<const std::uint32_t> all_numbers(numbers);
        for (std::size_t i = 0; i < numbers.size(); i += kPiece) {
          if (i > 0) out_ += ',';
          append_sequence_set(out_, all_numbers.subspan(i, std::min(kPiece, numbers.size() - i)));
          if (!co_await flush_if_large()) {
            closing_ = true;
            co_return;
          }
        }
      }
      if (uses_modseq && !numbers.empty()) out_ += " MODSEQ " + std::to_string(highest);
      out_ += "\r\n";
    }
  } else {
    out_ += "* SEARCH";
    if (!co_await send_numbers(numbers)) {
      closing_ = true;
      co_return;
    }
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
  const auto sorted = co_await search_store(args.criteria, [&, id](MessageStore& s) {
    bool uses_modseq = false;
    const bool by_size =
        std::any_of(args.order.begin(), args.order.end(),
                    [](const SortCriterion& c) { return c.key == SortKey::kSize; });
    auto matches = run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria,
                              uses_modseq, by_size);
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
  if (!co_await send_numbers(sorted)) {
    closing_ = true;
    co_return;
  }
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
  Threader threader;
  co_await search_store(args.criteria, [&, id](MessageStore& s) {
    bool uses_modseq = false;
    const auto matches =
        run_search(s, id, sel_->uids, sel_->saved, sel_->recent, args.criteria, uses_modseq);
    std::vector<Threader::Input> input(matches.size());
    for (std::size_t i = 0; i < matches.size(); ++i) {
      const auto& m = matches[i];
      input[i].number = cmd.uid ? m.info.uid : m.seq;
      input[i].date = m.info.internal_date;
      if (auto facts = s.facts(id, m.info.uid)) {
        if (facts->sent_date) input[i].date = facts->sent_date;
        input[i].message_id = std::move(facts->message_id);
        input[i].parents = std::move(facts->parents);
      }
    }
    const auto subject_of = [&](std::size_t i) {
      const auto raw = s.raw(id, matches[i].info.uid);
      if (!raw) return std::string();
      const auto parsed = mime::parse_message(*raw);
      if (!parsed) return std::string();
      const auto* f = mime::find_field(parsed->root, "Subject");
      return f ? std::string(f->value) : std::string();
    };
    threader.run(std::move(input), subject_of);
    return true;
  });
  out_ += threader.empty() ? "* THREAD" : "* THREAD ";
  while (threader.write(out_, kOutputHigh)) {
    if (!co_await flush_if_large()) {
      closing_ = true;
      co_return;
    }
  }
  out_ += "\r\n";
  co_await refresh(cmd.uid);
  tagged(cmd, "OK", "THREAD completed");
}

}  // namespace sealpost::imap::server

// SEARCH criteria evaluated over the selected folder, for SEARCH, SORT and THREAD.
//
// Text keys use the mailbox's full-text index (a case-insensitive substring match over the
// decoded text: IMAP's SEARCH semantics); header keys (FROM, SUBJECT, HEADER...) are checked
// against the decoded header fields of the messages the index proposes, so they match that
// field only. Everything else is evaluated over the folder's message list. The whole search runs
// on the worker pool with the mailbox to itself.
#include "imap/server/search_program.hpp"

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

// Whether the criteria compare sizes (LARGER, SMALLER).
bool uses_size(const SearchKey& key) {
  if (key.type == SearchKeyType::kLarger || key.type == SearchKeyType::kSmaller) return true;
  return std::any_of(key.children.begin(), key.children.end(),
                     [](const SearchKey& c) { return uses_size(c); });
}

}  // namespace

std::vector<Match> run_search(MessageStore& s, std::int64_t folder,
                              const std::vector<std::uint32_t>& view,
                              const std::vector<std::uint32_t>& saved,
                              const std::vector<std::uint32_t>& recent, const SearchKey& criteria,
                              bool& uses_modseq, bool need_size) {
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

bool Session::refused_charset(const Command& cmd, const std::optional<std::string>& charset) {
  if (charset_ok(charset)) return false;
  tagged(cmd, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
  return true;
}

bool charset_ok(const std::optional<std::string>& charset) {
  return !charset || charset->empty() || iequals(*charset, "US-ASCII") ||
         iequals(*charset, "UTF-8");
}

std::string base_subject(std::string_view raw, bool* reply) {
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

bool needs_full_text(const SearchKey& key) {
  return uses_full_text(key) || std::any_of(key.children.begin(), key.children.end(),
                                            [](const SearchKey& c) { return needs_full_text(c); });
}

}  // namespace sealpost::imap::server

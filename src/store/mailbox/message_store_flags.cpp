// Flags and keywords: STORE, and the keywords in use that FLAGS lists.
#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr std::size_t kMaxKeywords = 64;
constexpr std::size_t kMaxKeywordLength = 100;

// IMAP keywords are atoms: no spaces, parentheses, wildcards, quotes, backslashes or controls.
bool valid_keyword(std::string_view k) {
  if (k.empty() || k.size() > kMaxKeywordLength) return false;
  return std::none_of(k.begin(), k.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' ||
           c == '"' || c == '\\' || c == ']';
  });
}

}  // namespace

std::string keywords_text(const std::vector<std::string>& keywords) {
  std::vector<std::string> kept;
  for (const auto& k : keywords) {
    if (kept.size() >= kMaxKeywords) break;
    if (!valid_keyword(k)) throw StoreError("invalid keyword");
    if (!has_keyword(kept, k)) kept.push_back(k);
  }
  return join(kept, ' ');
}

std::vector<std::string> MessageStore::keywords(std::int64_t folder_id, std::size_t limit) {
  std::vector<std::string> out;
  auto st =
      db_->prepare("SELECT DISTINCT keywords FROM messages WHERE folder = ? AND keywords <> ''");
  st.bind(1, folder_id);
  while (st.step() && out.size() < limit) {
    for (auto& k : split(st.text(0), ' ')) {
      if (out.size() < limit && !has_keyword(out, k)) out.push_back(std::move(k));
    }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return to_lower_ascii(a) < to_lower_ascii(b);
  });
  return out;
}

std::uint64_t MessageStore::set_flags(std::int64_t folder_id, std::uint32_t uid,
                                      std::uint32_t flags,
                                      const std::vector<std::string>& keywords) {
  const std::string kw = keywords_text(keywords);
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) return 0;
  const auto modseq = f.integer(0) + 1;
  auto st = db_->prepare(
      "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE folder = ? AND uid = ?");
  st.bind(1, static_cast<std::int64_t>(flags & 0x1f))
      .bind(2, kw)
      .bind(3, modseq)
      .bind(4, folder_id)
      .bind(5, static_cast<std::int64_t>(uid))
      .run();
  if (db_->changes() == 0) return 0;
  db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
      .bind(1, modseq)
      .bind(2, folder_id)
      .run();
  tx.commit();
  return static_cast<std::uint64_t>(modseq);
}

MessageStore::StoreResult MessageStore::store_flags(std::int64_t folder_id,
                                                    std::span<const std::uint32_t> uids,
                                                    FlagChange change, std::uint32_t flags,
                                                    const std::vector<std::string>& keywords,
                                                    std::optional<std::uint64_t> unchanged_since) {
  StoreResult result;
  const std::string given = keywords_text(keywords);  // validates
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) throw StoreError("no such folder");
  const auto modseq = static_cast<std::uint64_t>(f.integer(0)) + 1;
  auto read =
      db_->prepare("SELECT flags, keywords, modseq FROM messages WHERE folder = ? AND uid = ?");
  auto write = db_->prepare(
      "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE folder = ? AND uid = ?");
  const auto given_words = split(given, ' ');
  for (const auto uid : uids) {
    read.reset();
    read.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid));
    if (!read.step()) continue;
    const auto old_flags = static_cast<std::uint32_t>(read.integer(0));
    const auto old_words = split(read.text(1), ' ');
    if (unchanged_since && static_cast<std::uint64_t>(read.integer(2)) > *unchanged_since) {
      result.modified.push_back(uid);
      continue;
    }
    std::uint32_t new_flags = old_flags;
    std::vector<std::string> words = old_words;
    switch (change) {
      case FlagChange::kReplace:
        new_flags = flags;
        words = given_words;
        break;
      case FlagChange::kAdd:
        new_flags |= flags;
        for (const auto& w : given_words) {
          if (!has_keyword(words, w)) words.push_back(w);
        }
        break;
      case FlagChange::kRemove:
        new_flags &= ~flags;
        std::erase_if(words, [&](const std::string& w) { return has_keyword(given_words, w); });
        break;
    }
    new_flags &= 0x1f;
    if (new_flags == old_flags && words == old_words) continue;
    const std::string text = keywords_text(words);
    write.reset();
    write.bind(1, static_cast<std::int64_t>(new_flags))
        .bind(2, text)
        .bind(3, static_cast<std::int64_t>(modseq))
        .bind(4, folder_id)
        .bind(5, static_cast<std::int64_t>(uid))
        .run();
    result.changed.push_back({uid, modseq, new_flags, split(text, ' ')});
  }
  if (!result.changed.empty()) {
    db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
        .bind(1, static_cast<std::int64_t>(modseq))
        .bind(2, folder_id)
        .run();
  }
  tx.commit();
  return result;
}

}  // namespace sealpost::store::mailbox

// The full-text index (FTS5, trigram, contentless) and SEARCH on it; the members of a thread.
#include <zstd.h>

#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

void MessageStore::index_pending() {
  if (!db_->prepare("SELECT 1 FROM fts_pending LIMIT 1").step()) return;
  sqlite::Transaction tx(*db_);
  index_pending_locked();
  tx.commit();
}

void MessageStore::index_pending_locked() {
  auto pending = db_->prepare("SELECT body, text FROM fts_pending ORDER BY body");
  auto index = db_->prepare(
      "INSERT INTO fts(rowid, subject, hfrom, hto, hcc, hbcc, body) VALUES(?, ?, ?, ?, ?, ?, ?)");
  std::size_t n = 0;
  while (pending.step()) {
    const auto packed = pending.blob_view(1);
    const std::size_t size = ZSTD_getFrameContentSize(packed.data(), packed.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) continue;
    const std::string text = decompress(packed, size);
    std::array<std::string_view, 6> fields{};
    std::string_view rest = text;
    for (auto& f : fields) {
      const auto nul = rest.find('\0');
      f = rest.substr(0, nul);
      rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
    }
    index.reset();
    index.bind(1, pending.integer(0));
    for (int i = 0; i < 6; ++i) index.bind(i + 2, fields[static_cast<std::size_t>(i)]);
    index.run();
    ++n;
  }
  if (n > 0) db_->exec("DELETE FROM fts_pending");
}

std::vector<std::uint32_t> MessageStore::search_text(std::int64_t folder_id,
                                                     std::string_view query) {
  // The trigram index finds substrings of 3 characters or more (IMAP SEARCH is a substring
  // match), each word one quoted FTS5 phrase. The index holds no copy of the text (contentless),
  // so words of one or two characters are looked for in the messages themselves.
  std::string match;
  std::vector<std::string> short_words;
  for (const auto& word : split(query, ' ')) {
    if (word.size() < 3) {
      short_words.push_back(to_lower_ascii(word));
      continue;
    }
    if (!match.empty()) match += " AND ";
    match += '"';
    for (char c : word) {
      if (c == '"') match += '"';
      match += c;
    }
    match += '"';
  }
  if (!match.empty() && role_ == Role::kWriter) index_pending();
  std::vector<std::uint32_t> out;
  auto st = match.empty() ? db_->prepare("SELECT uid FROM messages WHERE folder = ? ORDER BY uid")
                          : db_->prepare(
                                "SELECT m.uid FROM messages m JOIN fts ON fts.rowid = m.body "
                                "WHERE m.folder = ? AND fts MATCH ? ORDER BY m.uid");
  st.bind(1, folder_id);
  if (!match.empty()) st.bind(2, match);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  if (short_words.empty()) return out;
  std::erase_if(out, [&](std::uint32_t uid) {
    const auto bytes = raw(folder_id, uid);
    if (!bytes) return true;
    const std::string lower = to_lower_ascii(*bytes);
    return std::any_of(short_words.begin(), short_words.end(),
                       [&](const std::string& w) { return lower.find(w) == std::string::npos; });
  });
  return out;
}

std::vector<std::uint32_t> MessageStore::thread_members(std::int64_t folder_id,
                                                        std::int64_t thread) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare(
      "SELECT m.uid FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ? AND "
      "b.thread = ? ORDER BY m.uid");
  st.bind(1, folder_id).bind(2, thread);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

}  // namespace sealpost::store::mailbox

// Messages leaving a folder or joining one other than by append: COPY and MOVE (the bodies are
// shared), EXPUNGE, and the expunge log QRESYNC reads.
#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

MessageStore::CopyResult MessageStore::copy(std::int64_t from_folder,
                                            std::span<const std::uint32_t> uids,
                                            std::int64_t to_folder, bool move) {
  CopyResult result;
  sqlite::Transaction tx(*db_);
  auto target =
      db_->prepare("SELECT uidnext, highest_modseq, uidvalidity FROM folders WHERE id = ?");
  target.bind(1, to_folder);
  if (!target.step()) throw StoreError("no such folder");
  auto next = static_cast<std::uint32_t>(target.integer(0));
  const auto modseq = target.integer(1) + 1;
  result.uidvalidity = static_cast<std::uint32_t>(target.integer(2));
  auto source = db_->prepare(
      "SELECT body, flags, keywords, internal_date FROM messages WHERE folder = ? AND uid = ?");
  auto insert = db_->prepare(
      "INSERT INTO messages(folder, uid, body, modseq, flags, keywords, internal_date) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  for (const auto uid : uids) {
    source.reset();
    source.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid));
    if (!source.step()) continue;
    if (next == 0xffffffffU) throw StoreError("the folder has run out of UIDs");
    insert.reset();
    insert.bind(1, to_folder)
        .bind(2, static_cast<std::int64_t>(next))
        .bind(3, source.integer(0))
        .bind(4, modseq)
        .bind(5, source.integer(1))
        .bind(6, source.text(2))
        .bind(7, source.integer(3))
        .run();
    result.source.push_back(uid);
    result.target.push_back(next++);
  }
  if (!result.target.empty()) {
    db_->prepare("UPDATE folders SET uidnext = ?, highest_modseq = ? WHERE id = ?")
        .bind(1, static_cast<std::int64_t>(next))
        .bind(2, modseq)
        .bind(3, to_folder)
        .run();
  }
  if (move && !result.source.empty()) {
    auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
    f.bind(1, from_folder);
    f.step();
    const auto gone = f.integer(0) + 1;
    auto remove = db_->prepare("DELETE FROM messages WHERE folder = ? AND uid = ?");
    auto log = db_->prepare("INSERT OR REPLACE INTO expunged VALUES(?, ?, ?)");
    for (const auto uid : result.source) {
      remove.reset();
      remove.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid)).run();
      log.reset();
      log.bind(1, from_folder).bind(2, static_cast<std::int64_t>(uid)).bind(3, gone).run();
    }
    db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
        .bind(1, gone)
        .bind(2, from_folder)
        .run();
  }
  tx.commit();
  return result;
}

std::vector<std::uint32_t> MessageStore::expunge(
    std::int64_t folder_id, std::optional<std::span<const std::uint32_t>> only) {
  std::vector<std::uint32_t> uids;
  sqlite::Transaction tx(*db_);
  auto f = db_->prepare("SELECT highest_modseq FROM folders WHERE id = ?");
  f.bind(1, folder_id);
  if (!f.step()) return uids;
  const auto modseq = f.integer(0) + 1;
  if (only) {
    auto st = db_->prepare(
        "DELETE FROM messages WHERE folder = ? AND uid = ? AND (flags & ?) != 0 RETURNING uid");
    for (const auto uid : *only) {
      st.reset();
      st.bind(1, folder_id).bind(2, std::int64_t{uid}).bind(3, static_cast<std::int64_t>(kDeleted));
      while (st.step()) uids.push_back(static_cast<std::uint32_t>(st.integer(0)));
    }
  } else {
    auto st =
        db_->prepare("DELETE FROM messages WHERE folder = ? AND (flags & ?) != 0 RETURNING uid");
    st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(kDeleted));
    while (st.step()) uids.push_back(static_cast<std::uint32_t>(st.integer(0)));
  }
  if (uids.empty()) return uids;
  std::sort(uids.begin(), uids.end());
  auto log = db_->prepare("INSERT OR REPLACE INTO expunged VALUES(?, ?, ?)");
  for (const auto uid : uids) {
    log.reset();
    log.bind(1, folder_id).bind(2, static_cast<std::int64_t>(uid)).bind(3, modseq).run();
  }
  db_->prepare("UPDATE folders SET highest_modseq = ? WHERE id = ?")
      .bind(1, modseq)
      .bind(2, folder_id)
      .run();
  tx.commit();
  return uids;
}

std::vector<std::uint32_t> MessageStore::expunged_since(std::int64_t folder_id,
                                                        std::uint64_t modseq) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare("SELECT uid FROM expunged WHERE folder = ? AND modseq > ? ORDER BY uid");
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(modseq));
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

}  // namespace sealpost::store::mailbox

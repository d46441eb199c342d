// What a folder holds: its messages' UIDs, flags, sizes and threads, its counts, and \Recent.
#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

constexpr const char* kMessageColumns =
    "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, b.size, b.thread "
    "FROM messages m JOIN bodies b ON b.id = m.body ";
// The same columns without the join (size and thread 0), for Detail::kFlags.
constexpr const char* kFlagColumns =
    "SELECT m.uid, m.modseq, m.flags, m.keywords, m.internal_date, 0, 0 FROM messages m ";

std::string message_query(MessageStore::Detail detail, std::string_view where) {
  return (detail == MessageStore::Detail::kAll ? kMessageColumns : kFlagColumns) +
         std::string(where);
}

void read_infos(sqlite::Statement& st, std::vector<MessageInfo>& out) {
  while (st.step()) {
    MessageInfo i;
    i.uid = static_cast<std::uint32_t>(st.integer(0));
    i.modseq = static_cast<std::uint64_t>(st.integer(1));
    i.flags = static_cast<std::uint32_t>(st.integer(2));
    i.keywords = split(st.text(3), ' ');
    i.internal_date = st.integer(4);
    i.size = static_cast<std::uint64_t>(st.integer(5));
    i.thread = st.integer(6);
    out.push_back(std::move(i));
  }
}

}  // namespace

std::vector<MessageInfo> MessageStore::messages(std::int64_t folder_id) {
  std::vector<MessageInfo> out;
  auto st = db_->prepare(std::string(kMessageColumns) + "WHERE m.folder = ? ORDER BY m.uid");
  st.bind(1, folder_id);
  read_infos(st, out);
  return out;
}

std::vector<MessageInfo> MessageStore::messages(
    std::int64_t folder_id, std::span<const std::pair<std::uint32_t, std::uint32_t>> uids,
    Detail detail) {
  std::vector<MessageInfo> out;
  auto st = db_->prepare(
      message_query(detail, "WHERE m.folder = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid"));
  for (const auto& [first, last] : uids) {
    st.reset();
    st.bind(1, folder_id).bind(2, std::int64_t{first}).bind(3, std::int64_t{last});
    read_infos(st, out);
  }
  return out;
}

std::vector<MessageInfo> MessageStore::changed_since(std::int64_t folder_id, std::uint64_t modseq,
                                                     Detail detail) {
  std::vector<MessageInfo> out;
  auto st =
      db_->prepare(message_query(detail, "WHERE m.folder = ? AND m.modseq > ? ORDER BY m.uid"));
  st.bind(1, folder_id).bind(2, static_cast<std::int64_t>(modseq));
  read_infos(st, out);
  return out;
}

MessageStore::Counts MessageStore::counts(std::int64_t folder_id) {
  auto st = db_->prepare(
      "SELECT count(*), total((m.flags & 1) = 0), total((m.flags & 8) != 0), total(b.size), "
      "total(m.uid >= (SELECT recent_uid FROM folders WHERE id = ?1)) "
      "FROM messages m JOIN bodies b ON b.id = m.body WHERE m.folder = ?1");
  st.bind(1, folder_id);
  Counts c;
  if (st.step()) {
    c.messages = static_cast<std::uint32_t>(st.integer(0));
    c.unseen = static_cast<std::uint32_t>(st.integer(1));
    c.deleted = static_cast<std::uint32_t>(st.integer(2));
    c.size = static_cast<std::uint64_t>(st.integer(3));
    c.recent = static_cast<std::uint32_t>(st.integer(4));
  }
  return c;
}

std::vector<std::uint32_t> MessageStore::claim_recent(std::int64_t folder_id) {
  const auto unclaimed = [&] {
    auto st = db_->prepare("SELECT recent_uid < uidnext FROM folders WHERE id = ?");
    st.bind(1, folder_id);
    return st.step() && st.integer(0) != 0;
  };
  std::vector<std::uint32_t> out;
  if (!unclaimed()) return out;  // the common case: no write transaction
  sqlite::Transaction tx(*db_);
  if (!unclaimed()) return out;  // another session claimed them first
  auto st = db_->prepare(
      "SELECT m.uid FROM messages m JOIN folders f ON f.id = m.folder "
      "WHERE m.folder = ? AND m.uid >= f.recent_uid ORDER BY m.uid");
  st.bind(1, folder_id);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  db_->prepare("UPDATE folders SET recent_uid = uidnext WHERE id = ?").bind(1, folder_id).run();
  tx.commit();
  return out;
}

std::uint32_t MessageStore::first_unseen(std::int64_t folder_id) {
  auto st = db_->prepare("SELECT min(uid) FROM messages WHERE folder = ? AND (flags & 1) = 0");
  st.bind(1, folder_id);
  return st.step() && !st.is_null(0) ? static_cast<std::uint32_t>(st.integer(0)) : 0;
}

std::vector<std::uint32_t> MessageStore::uids(std::int64_t folder_id) {
  std::vector<std::uint32_t> out;
  auto st = db_->prepare("SELECT uid FROM messages WHERE folder = ? ORDER BY uid");
  st.bind(1, folder_id);
  while (st.step()) out.push_back(static_cast<std::uint32_t>(st.integer(0)));
  return out;
}

}  // namespace sealpost::store::mailbox

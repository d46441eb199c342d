// Folders: their IMAP identities (UIDVALIDITY, SPECIAL-USE), names and subscriptions.
#include "core/clock.hpp"
#include "store/mailbox/message_store_impl.hpp"

namespace sealpost::store::mailbox {

namespace {

Folder read_folder(const sqlite::Statement& st) {
  Folder f;
  f.id = st.integer(0);
  f.name = st.text(1);
  f.special_use = static_cast<SpecialUse>(st.integer(2));
  f.uidvalidity = static_cast<std::uint32_t>(st.integer(3));
  f.uidnext = static_cast<std::uint32_t>(st.integer(4));
  f.highest_modseq = static_cast<std::uint64_t>(st.integer(5));
  f.subscribed = st.integer(6) != 0;
  f.recent_uid = static_cast<std::uint32_t>(st.integer(7));
  return f;
}

constexpr const char* kFolderColumns =
    "SELECT id, name, special_use, uidvalidity, uidnext, highest_modseq, subscribed, recent_uid "
    "FROM folders ";

// A folder name: UTF-8 without controls, '/' separated non-empty levels, bounded.
bool valid_folder_name(std::string_view name) {
  if (name.empty() || name.size() > 500 || name.front() == '/' || name.back() == '/') return false;
  if (name.find("//") != std::string_view::npos) return false;
  return std::none_of(name.begin(), name.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::string_view to_string(SpecialUse use) {
  switch (use) {
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kArchive:
      return "\\Archive";
    case SpecialUse::kNone:
    case SpecialUse::kInbox:
      break;
  }
  return "";
}

std::vector<Folder> MessageStore::folders() {
  std::vector<Folder> out;
  auto st = db_->prepare(std::string(kFolderColumns) + "ORDER BY id");
  while (st.step()) out.push_back(read_folder(st));
  return out;
}

std::optional<Folder> MessageStore::folder(std::string_view name) {
  // INBOX is case-insensitive (RFC 9051 5.1); other names are exact.
  const bool inbox = iequals(name, "INBOX");
  auto st = db_->prepare(std::string(kFolderColumns) + "WHERE name = ?");
  st.bind(1, inbox ? std::string_view("INBOX") : name);
  if (!st.step()) return std::nullopt;
  return read_folder(st);
}

Folder MessageStore::special_folder(SpecialUse use) {
  {
    auto st =
        db_->prepare(std::string(kFolderColumns) + "WHERE special_use = ? ORDER BY id LIMIT 1");
    st.bind(1, static_cast<std::int64_t>(use));
    if (st.step()) return read_folder(st);
  }
  // Deleted by its owner: delivery (Junk) and submission (Sent) still need it.
  for (const auto& f : kStandardFolders) {
    if (f.use != use) continue;
    std::string name = f.name;
    for (int n = 1; folder(name); ++n) name = std::string(f.name) + "-" + std::to_string(n);
    return create_folder(name, use);
  }
  throw StoreError("no standard folder for this special use");
}

Folder MessageStore::create_folder(std::string_view name, SpecialUse use) {
  if (!valid_folder_name(name)) throw StoreError("invalid folder name");
  if (folder(name)) throw StoreError("the folder exists");
  sqlite::Transaction tx(*db_);
  insert_folder(name, use);
  tx.commit();
  return *folder(name);
}

void MessageStore::insert_folder(std::string_view name, SpecialUse use) {
  // UIDVALIDITY: the creation time, but always above every earlier one (RFC 9051 2.3.1.1: a
  // name created again must not reuse it), even for folders created in the same second.
  auto last = db_->prepare("SELECT value FROM meta WHERE key = 'last_uidvalidity'");
  const auto previous = last.step() ? std::stoll(last.text(0)) : 0;
  const auto validity =
      static_cast<std::uint32_t>(std::max<std::int64_t>(core::unix_now(), previous + 1));
  db_->prepare("INSERT INTO folders(name, special_use, uidvalidity) VALUES(?, ?, ?)")
      .bind(1, name)
      .bind(2, static_cast<std::int64_t>(use))
      .bind(3, static_cast<std::int64_t>(validity))
      .run();
  db_->prepare("INSERT OR REPLACE INTO meta VALUES('last_uidvalidity', ?)")
      .bind(1, std::to_string(validity))
      .run();
}

void MessageStore::rename_folder(std::string_view from, std::string_view to) {
  if (!valid_folder_name(to)) throw StoreError("invalid folder name");
  const auto source = folder(from);
  if (!source) throw StoreError("no such folder");
  if (folder(to)) throw StoreError("the target folder exists");
  const std::string old_name = source->name;
  if (old_name == "INBOX") {
    // RFC 9051 6.3.6: INBOX's messages move to the new name; INBOX stays, empty.
    const auto created = create_folder(to);
    const auto uids = this->uids(source->id);
    (void)copy(source->id, uids, created.id, true);
    return;
  }
  const std::string new_name(to);
  if (new_name.starts_with(old_name + "/")) throw StoreError("cannot move a folder into itself");
  sqlite::Transaction tx(*db_);
  // The folder and its inferiors ("a/b" -> "c/b"), keeping UIDVALIDITY and UIDs: the messages
  // do not change (as Dovecot does).
  auto st = db_->prepare("SELECT id, name FROM folders WHERE name = ? OR substr(name, 1, ?) = ?");
  st.bind(1, old_name)
      .bind(2, static_cast<std::int64_t>(old_name.size() + 1))
      .bind(3, old_name + "/");
  std::vector<std::pair<std::int64_t, std::string>> renames;
  while (st.step())
    renames.emplace_back(st.integer(0), new_name + st.text(1).substr(old_name.size()));
  auto update = db_->prepare("UPDATE folders SET name = ? WHERE id = ?");
  for (const auto& [id, name] : renames) {
    update.reset();
    update.bind(1, name).bind(2, id).run();
  }
  tx.commit();
}

void MessageStore::delete_folder(std::string_view name) {
  const auto f = folder(name);
  if (!f) throw StoreError("no such folder");
  if (f->name == "INBOX") throw StoreError("INBOX cannot be deleted");
  sqlite::Transaction tx(*db_);
  // Messages first (the trigger frees bodies no other folder shares), then the folder and its
  // expunge log.
  db_->prepare("DELETE FROM messages WHERE folder = ?").bind(1, f->id).run();
  db_->prepare("DELETE FROM folders WHERE id = ?").bind(1, f->id).run();
  tx.commit();
}

void MessageStore::set_subscribed(std::string_view name, bool subscribed) {
  const auto f = folder(name);
  if (!f) throw StoreError("no such folder");
  db_->prepare("UPDATE folders SET subscribed = ? WHERE id = ?")
      .bind(1, std::int64_t{subscribed ? 1 : 0})
      .bind(2, f->id)
      .run();
}

}  // namespace sealpost::store::mailbox

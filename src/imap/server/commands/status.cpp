// STATUS (RFC 9051 section 6.3.11) with STATUS=SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162) and
// APPENDLIMIT (RFC 7889).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageStore;

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

}  // namespace sealpost::imap::server

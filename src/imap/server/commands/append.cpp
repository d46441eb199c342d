// APPEND (RFC 9051 section 6.3.12) with UIDPLUS's APPENDUID (RFC 4315), APPENDLIMIT (RFC 7889),
// BINARY literals (RFC 3516) and UTF8 (RFC 6855).
#include "core/clock.hpp"
#include "imap/protocol/fetch_body.hpp"
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::Folder;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_append(const Command& cmd) {
  const auto& args = std::get<Append>(cmd.arguments);
  const auto name = decode_name(args.mailbox);
  if (args.utf8 && !utf8_) {
    // RFC 6855 section 4: the UTF8 data item only after ENABLE UTF8=ACCEPT.
    tagged(cmd, "BAD", "APPEND UTF8 needs ENABLE UTF8=ACCEPT");
    count_error();
    co_return;
  }
  if (args.message.empty()) {
    tagged(cmd, "NO", "Cannot save an empty message");
    co_return;
  }
  if (args.message.size() > ctx_.config.limits.max_message_size) {
    tagged(cmd, "NO", "[TOOBIG] The message is larger than APPENDLIMIT");
    co_return;
  }
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;
  if (std::string error; !parse_flags(args.flags, flags, keywords, error)) {
    tagged(cmd, "BAD", error);
    count_error();
    co_return;
  }
  const std::int64_t date = args.date_time ? args.date_time->unix_time() : core::unix_now();
  std::optional<Folder> folder;
  store::mailbox::Appended appended;
  std::string error;
  bool over_quota = false;
  const auto& facts_of = ctx_.mailboxes.facts();
  co_await net::run_blocking(ctx_.blocking, [&] {
    const auto crlf = to_crlf(args.message);
    const std::string_view raw = crlf ? std::string_view(*crlf) : args.message;
    const auto facts = facts_of ? facts_of(raw) : std::nullopt;
    mailbox_->with([&](MessageStore& s) {
      if (name) folder = s.folder(*name);
      if (!folder) return;
      store::mailbox::NewMessage m;
      m.raw = raw;
      m.internal_date = date;
      m.flags = flags;
      m.keywords = keywords;
      m.facts = facts ? &*facts : nullptr;
      try {
        appended = s.append(folder->id, m);
      } catch (const store::mailbox::QuotaExceeded&) {
        over_quota = true;
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  });
  if (refused_write(cmd, folder.has_value(), over_quota, error)) co_return;
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK",
         "[APPENDUID " + std::to_string(folder->uidvalidity) + " " + std::to_string(appended.uid) +
             "] APPEND completed");
}

}  // namespace sealpost::imap::server

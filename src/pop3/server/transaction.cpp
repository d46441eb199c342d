// The TRANSACTION state (RFC 1939 sections 5 and 7) over the maildrop taken at login, and the
// UPDATE state QUIT enters: the messages marked by DELE get \Deleted and are expunged (those
// UIDs only: another client's \Deleted marks are not ours to act on), the messages retrieved and
// kept get \Seen, as Dovecot does. A session that ends any other way changes nothing.
#include <iterator>
#include <span>

#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/blocking.hpp"
#include "pop3/server/connection.hpp"

namespace sealpost::pop3::server {

namespace asio = boost::asio;
using store::mailbox::MessageStore;

const MaildropMessage* Connection::message_or_err(std::uint32_t number) {
  const MaildropMessage* m = drop_.find(number);
  if (m != nullptr) return m;
  if (number == 0 || number > drop_.size()) {
    err(fmt::format("No such message, only {} in the maildrop", drop_.size()));
  } else {
    err(fmt::format("Message {} is marked deleted", number));
  }
  return nullptr;
}

void Connection::on_stat() {
  ok(fmt::format("{} {}", drop_.live_count(), drop_.live_octets()));
}

// LIST and UIDL, for one message or all that are not marked deleted.
asio::awaitable<void> Connection::on_list(const protocol::Command& cmd, bool uidl) {
  if (cmd.message) {
    const MaildropMessage* m = message_or_err(*cmd.message);
    if (m == nullptr) co_return;
    ok(fmt::format("{} {}", *cmd.message,
                   uidl ? drop_.unique_id(*cmd.message) : fmt::format("{}", m->size)));
    co_return;
  }
  if (uidl) {
    ok("Unique-ID listing follows");
  } else {
    ok(fmt::format("{} messages ({} octets)", drop_.live_count(), drop_.live_octets()));
  }
  for (std::uint32_t n = 1; n <= drop_.size(); ++n) {
    const MaildropMessage* m = drop_.find(n);
    if (m == nullptr) continue;
    if (uidl) {
      fmt::format_to(std::back_inserter(out_), "{} {}\r\n", n, drop_.unique_id(n));
    } else {
      fmt::format_to(std::back_inserter(out_), "{} {}\r\n", n, m->size);
    }
    if (!co_await flush_if_large()) {
      closing_ = true;
      co_return;
    }
  }
  out_ += ".\r\n";
}

// RETR, and TOP (`top`): the message's bytes are read from the store now, one message at a
// time, and sent in pieces.
asio::awaitable<void> Connection::on_retr(const protocol::Command& cmd, bool top) {
  const std::uint32_t number = *cmd.message;
  const MaildropMessage* m = message_or_err(number);
  if (m == nullptr) co_return;
  const std::uint32_t uid = m->uid;
  const std::uint64_t size = m->size;
  std::optional<std::string> raw;
  bool failed = false;
  try {
    raw = co_await net::run_blocking(ctx_.blocking, [&] {
      return login_.mailbox->read(
          [&](MessageStore& message_store) { return message_store.raw(folder_, uid); });
    });
  } catch (const std::exception& e) {
    spdlog::error("pop3 session id={} reading a message: {}", session_id_, e.what());
    failed = true;
  }
  if (failed) {
    err("[SYS/TEMP] The message cannot be read now, try again later");
    co_return;
  }
  if (!raw) {
    err(fmt::format("Message {} was removed by another session", number));
    co_return;
  }
  const std::string_view text = top ? top_of(*raw, cmd.lines) : std::string_view(*raw);
  if (top) {
    ok("Top of message follows");
  } else {
    ok(fmt::format("{} octets", size));
  }
  constexpr std::size_t kPiece = std::size_t{64} * 1024;
  DotStuffer stuffer;
  for (std::size_t at = 0; at < text.size(); at += kPiece) {
    stuffer.append(text.substr(at, kPiece), out_);
    if (!co_await flush_if_large()) {
      closing_ = true;
      co_return;
    }
  }
  stuffer.finish(out_);
  bytes_out_ += text.size();
  if (!top) {
    drop_.mark_retrieved(number);
    ++retrieved_;
  }
}

void Connection::on_dele(const protocol::Command& cmd) {
  if (message_or_err(*cmd.message) == nullptr) return;
  drop_.mark_deleted(*cmd.message);
  ok(fmt::format("Message {} deleted", *cmd.message));
}

void Connection::on_rset() {
  drop_.reset();
  ok(fmt::format("Maildrop has {} messages ({} octets)", drop_.live_count(), drop_.live_octets()));
}

asio::awaitable<void> Connection::on_quit() {
  closing_ = true;
  end_reason_ = "quit";
  const std::vector<std::uint32_t> deleted = drop_.deleted_uids();
  const std::vector<std::uint32_t> seen = drop_.retrieved_kept_uids();
  if (deleted.empty() && seen.empty()) {
    ok("Sealpost POP3 signing off");
    co_return;
  }
  std::size_t removed = 0;
  bool failed = false;
  try {
    co_await net::run_blocking(ctx_.blocking, [&] {
      login_.mailbox->with([&](MessageStore& message_store) {
        using store::mailbox::Flag;
        using FlagChange = MessageStore::FlagChange;
        if (!seen.empty())
          message_store.store_flags(folder_, seen, FlagChange::kAdd, Flag::kSeen, {});
        if (!deleted.empty()) {
          message_store.store_flags(folder_, deleted, FlagChange::kAdd, Flag::kDeleted, {});
          removed = message_store.expunge(folder_, std::span<const std::uint32_t>(deleted)).size();
        }
      });
    });
  } catch (const std::exception& e) {
    spdlog::error("pop3 session id={} updating the maildrop: {}", session_id_, e.what());
    failed = true;
  }
  login_.mailbox->changed();  // wakes the owner's IMAP IDLE sessions
  expunged_ = static_cast<std::uint32_t>(removed);
  if (failed) {
    // RFC 1939 section 6. Not counted as the client's error.
    out_ += "-ERR [SYS/TEMP] Some deleted messages were not removed\r\n";
    end_reason_ = "update_failed";
    co_return;
  }
  ok(removed == 0 ? std::string("Sealpost POP3 signing off")
                  : fmt::format("Sealpost POP3 signing off ({} messages deleted)", removed));
}

}  // namespace sealpost::pop3::server

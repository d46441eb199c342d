// GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208): one root, "", with the mailbox's STORAGE.
#include "imap/protocol/response.hpp"
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_quota(const Command& cmd) {
  std::uint64_t used = 0;
  const std::uint64_t limit = co_await with_store([&](MessageStore& s) {
    used = s.usage_bytes();
    return s.quota_bytes();
  });
  // One quota root, "", for the whole mailbox (RFC 9208); no root when there is no quota.
  const auto quota_line = [&] {
    out_ += "* QUOTA \"\" (STORAGE " + std::to_string((used + 1023) / 1024) + " " +
            std::to_string(limit / 1024) + ")\r\n";
  };
  if (state_ == State::kSelected) co_await refresh(true);
  switch (cmd.name) {
    case CommandName::kGetQuotaRoot: {
      const auto name = decode_name(std::get<MailboxArgument>(cmd.arguments).mailbox);
      bool exists = false;
      if (name) co_await with_store([&](MessageStore& s) { exists = s.folder(*name).has_value(); });
      if (!exists) {
        tagged(cmd, "NO", "[NONEXISTENT] No such mailbox");
        co_return;
      }
      out_ += "* QUOTAROOT ";
      append_name(out_, *name);
      out_ += limit ? " \"\"\r\n" : "\r\n";
      if (limit) quota_line();
      tagged(cmd, "OK", "GETQUOTAROOT completed");
      co_return;
    }
    case CommandName::kGetQuota:
      if (!limit || !std::get<GetQuota>(cmd.arguments).root.empty()) {
        tagged(cmd, "NO", "[NONEXISTENT] No such quota root");
        co_return;
      }
      quota_line();
      tagged(cmd, "OK", "GETQUOTA completed");
      co_return;
    default:
      tagged(cmd, "NO", "[NOPERM] The quota is set by the administrator (sealpost mailbox quota)");
      co_return;
  }
}

}  // namespace sealpost::imap::server

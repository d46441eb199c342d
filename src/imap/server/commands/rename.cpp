// RENAME (RFC 9051 section 6.3.6).
#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;
using store::mailbox::MessageStore;

asio::awaitable<void> Session::on_rename(const Command& cmd) {
  const auto& args = std::get<Rename>(cmd.arguments);
  const auto from = decode_name(args.from);
  const auto to = decode_name(args.to);
  if (!from || !to) {
    tagged(cmd, "NO", "[CANNOT] Invalid mailbox name");
    co_return;
  }
  std::string error;
  co_await with_store([&](MessageStore& s) {
    try {
      s.rename_folder(*from, *to);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) {
    tagged(cmd, "NO", std::string(store_error_code(error)) + "Cannot rename: " + error);
    co_return;
  }
  if (sel_ && sel_->name != "INBOX" &&
      (sel_->name == *from || sel_->name.starts_with(*from + kDelimiter))) {
    sel_->name = *to + sel_->name.substr(from->size());
  }
  mailbox_->changed();
  if (state_ == State::kSelected) co_await refresh(true);
  tagged(cmd, "OK", "RENAME completed");
}

}  // namespace sealpost::imap::server

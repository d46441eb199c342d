// IDLE (RFC 2177; IMAP4rev2 section 6.3.13): updates are sent as they happen until DONE.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "imap/server/session_impl.hpp"

namespace sealpost::imap::server {

namespace asio = boost::asio;
using namespace protocol;

asio::awaitable<void> Session::on_idle(const Command& cmd) {
  out_ += "+ idling\r\n";
  reader_.next();
  reader_advanced_ = true;
  reader_.expect_line();
  idle_done_ = false;
  idle_failed_ = false;
  bool bad_line = false;
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }
  idle_reading_ = true;
  asio::co_spawn(conn_.stream().socket().get_executor(), idle_reader(shared_from_this()),
                 asio::detached);
  while (true) {
    co_await refresh(true);
    if (!co_await flush()) {
      closing_ = true;
      break;
    }
    if (idle_done_ || idle_failed_ || closing_) break;
    // A change that came while refresh ran has bumped the version: look again before waiting.
    if (sel_ && mailbox_->version() != seen_version_) continue;
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // Wait for the reader to finish (it cancels the timer when it does).
  while (!idle_done_ && !idle_failed_) {
    wake_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  idle_reading_ = false;
  if (idle_failed_) {
    closing_ = true;
    co_return;
  }
  bad_line = !is_idle_done(reader_.command());
  reader_.next();
  if (bad_line) {
    tagged(cmd, "BAD", "Expected DONE");
    count_error();
    co_return;
  }
  tagged(cmd, "OK", "IDLE terminated");
}

asio::awaitable<void> Session::idle_reader(std::shared_ptr<Session> self) {
  const auto status = co_await self->next_unit();
  if (!status || *status != ReadStatus::kReady) {
    self->idle_failed_ = true;
  } else {
    self->idle_done_ = true;
  }
  self->wake_.cancel();
}

}  // namespace sealpost::imap::server

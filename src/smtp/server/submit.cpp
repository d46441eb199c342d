// The end of a submitted message (RFC 6409): the submission agent checks, completes, signs and
// queues it; the client hears 250 only once the queue has it durably.
#include <spdlog/spdlog.h>

#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

boost::asio::awaitable<void> Session::finish_submission() {
  const auto started = std::chrono::steady_clock::now();
  SubmissionRequest request;
  request.owner = user_;
  request.sender = tx_->sender;
  request.recipients = tx_->destinations;
  request.smtputf8 = tx_->smtputf8;
  request.eightbit = tx_->eightbit;
  request.content = tx_->content;
  request.mailbox = mailbox_;
  if (!co_await flush()) co_return;
  conn_.watchdog().arm(std::chrono::steady_clock::now() + ctx_.config.limits.relay_timeout * 2);
  const protocol::Reply answer = co_await ctx_.submission->agent.submit(request);
  reply(answer);
  if (answer.positive()) ++messages_;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  spdlog::info("submission session={} size={} rcpts={} reply={} ms={}", session_id_,
               tx_->content.size(), tx_->recipients, answer.code, ms);
}

}  // namespace sealpost::smtp::server

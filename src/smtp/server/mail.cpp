// MAIL (RFC 5321 section 4.1.1.2, RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8).
#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

void Session::on_mail(const protocol::Command& cmd) {
  const auto& limits = ctx_.config.limits;
  if (helo_.empty()) {
    reply(503, "5.5.1", "Send EHLO first");
    count_error();
    return;
  }
  if (tx_) {
    reply(503, "5.5.1", "Sender already specified");
    count_error();
    return;
  }
  const bool has_params = cmd.mail.size || cmd.mail.smtputf8 || cmd.mail.auth ||
                          cmd.mail.body != protocol::BodyType::kSevenBit;
  if (!extended_ && has_params) {
    reply(555, "5.5.4", "MAIL parameters need EHLO");
    count_error();
    return;
  }
  if (cmd.mail.size && *cmd.mail.size > limits.max_message_size) {
    reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    return;
  }
  // Refuse early when the declared size cannot fit in memory right now (RFC 1870 section 6.1).
  if (cmd.mail.size && ctx_.budget.used() + *cmd.mail.size > limits.max_bytes_in_flight) {
    reply(452, "4.3.1", "Insufficient system resources, try again later");
    return;
  }
  if (submission()) {
    if (user_.empty()) {
      reply(530, "5.7.0", "Authentication required");
      count_error();
      return;
    }
    const std::string sender = cmd.path.null ? std::string() : cmd.path.mailbox.to_string();
    if (auto refusal = ctx_.submission->agent.check_sender(user_, sender)) {
      reply(*refusal);
      return;
    }
    if (auto refusal = ctx_.submission->agent.check_rate(user_)) {
      reply(*refusal);
      return;
    }
  }
  tx_.emplace(ctx_.budget);
  // A source route on the reverse-path is ignored (RFC 5321 section 3.3 / appendix C).
  tx_->sender = cmd.path.null ? std::string() : cmd.path.mailbox.to_string();
  tx_->smtputf8 = cmd.mail.smtputf8;
  tx_->eightbit = cmd.mail.body == protocol::BodyType::kEightBitMime;
  reply(250, "2.1.0", "Sender OK");
}

}  // namespace sealpost::smtp::server

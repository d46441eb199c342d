// RCPT (RFC 5321 section 4.1.1.3): routing decides; we count, limit and throttle enumeration.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/domain.hpp"
#include "core/strings.hpp"
#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

void Session::on_rcpt(const protocol::Command& cmd) {
  const auto& limits = ctx_.config.limits;
  if (!tx_) {
    reply(503, "5.5.1", "Need MAIL before RCPT");
    count_error();
    return;
  }
  if (tx_->chunking) {
    reply(503, "5.5.1", "RCPT not allowed during BDAT");
    count_error();
    return;
  }
  if (tx_->recipients >= limits.max_recipients) {
    reply(452, "4.5.3", "Too many recipients");
    return;
  }
  if (submission()) {
    on_rcpt_submission(cmd);
    return;
  }
  const routing::Route route = ctx_.router.route(cmd.path.mailbox, cmd.path.had_source_route);
  if (route.kind == routing::Route::Kind::kRejected) {
    ++recipients_refused_;
    reply(route.rejection);
    if (route.rejection.enhanced == "5.1.1" &&
        ++unknown_recipients_ >= limits.max_unknown_recipients) {
      reply(421, "4.7.0", "Too many unknown recipients, closing connection");
      closing_ = true;
      end_reason_ = "unknown_recipients";
    }
    return;
  }
  if (ctx_.filter) {
    // One verdict answers for the whole message: a recipient whose domain is filtered otherwise
    // than the first one's waits for a transaction of its own (the client sends it next).
    const auto domain = core::to_a_label(cmd.path.mailbox.domain);
    const auto treatment = ctx_.filter->treatment(domain ? *domain : std::string());
    if (!tx_->treatment) {
      tx_->treatment = treatment;
    } else if (*tx_->treatment != treatment) {
      reply(452, "4.5.3",
            "Too many recipients for this message: this domain filters mail differently, send "
            "it in a separate transaction");
      return;
    }
  }
  if (tx_->treatment && tx_->treatment->enabled && refusing_lists_ && !refusing_lists_->empty()) {
    // As Postfix's reject_rbl_client words it: the client sees where it is listed.
    ++recipients_refused_;
    std::string lists;
    for (const auto& zone : *refusing_lists_) {
      if (!lists.empty()) lists += ", ";
      lists += zone;
    }
    reply(550, "5.7.1", "Service unavailable; client [" + client_ip_ + "] blocked using " + lists);
    if (!dnsbl_refusal_logged_) {
      dnsbl_refusal_logged_ = true;
      spdlog::info("session id={} client={} refused=dnsbl lists={}", session_id_,
                   ctx_.client_hasher.hash(client_ip_), refusing_lists_->size());
    }
    return;
  }
  if (ctx_.greylist && tx_->treatment && tx_->treatment->enabled) {
    const auto wait = ctx_.greylist->check(client_ip_, tx_->sender, cmd.path.mailbox.to_string());
    if (wait.count() > 0) {
      reply(451, "4.7.1", "Greylisted: please try again in " + std::to_string(wait.count()) + " s");
      return;
    }
  }
  ++tx_->recipients;
  ++recipients_ok_;
  if (tx_->seal_domain.empty() && route.kind == routing::Route::Kind::kForward &&
      !route.destinations.empty()) {
    tx_->seal_domain = to_lower_ascii(cmd.path.mailbox.domain);
  }
  for (const auto& box : route.mailboxes) {
    if (std::none_of(tx_->mailboxes.begin(), tx_->mailboxes.end(),
                     [&](const auto& m) { return m.address == box.address; })) {
      tx_->mailboxes.push_back(box);
    }
  }
  for (const auto& d : route.destinations) {
    if (std::find(tx_->destinations.begin(), tx_->destinations.end(), d) ==
        tx_->destinations.end()) {
      tx_->destinations.push_back(d);
    }
  }
  reply(250, "2.1.5", "Recipient OK");
}

// Submission relays anywhere for its authenticated user. A recipient in a domain we host must
// exist, though: refusing it now beats a bounce later.
void Session::on_rcpt_submission(const protocol::Command& cmd) {
  if (cmd.path.had_source_route || cmd.path.mailbox.domain.empty()) {
    reply(550, "5.7.1", "Source routes and bare local parts are not accepted");
    return;
  }
  if (cmd.path.mailbox.domain_is_literal) {
    reply(550, "5.7.1", "Address literals are not accepted as recipients");
    return;
  }
  const auto domain = core::to_a_label(cmd.path.mailbox.domain);
  if (!domain) {
    reply(501, "5.1.3", "Bad recipient domain");
    return;
  }
  if (ctx_.router.hosts(*domain)) {
    const routing::Route route = ctx_.router.route(cmd.path.mailbox, false);
    if (route.kind == routing::Route::Kind::kRejected) {
      ++recipients_refused_;
      reply(route.rejection);
      return;
    }
  }
  const std::string address = cmd.path.mailbox.to_string();
  if (std::find(tx_->destinations.begin(), tx_->destinations.end(), address) ==
      tx_->destinations.end()) {
    tx_->destinations.push_back(address);
  }
  ++tx_->recipients;
  ++recipients_ok_;
  reply(250, "2.1.5", "Recipient OK");
}

}  // namespace sealpost::smtp::server

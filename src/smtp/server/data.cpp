// DATA (RFC 5321 section 4.1.1.4) and BDAT (RFC 3030): the content is read into memory under
// the per-message size limit and the global in-flight budget, checked, then handed to delivery.
// The reply comes only after delivery answered: nothing is queued, nothing touches the disk.
#include <algorithm>
#include <array>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "core/strings.hpp"
#include "mime/content.hpp"
#include "smtp/protocol/data_reader.hpp"
#include "smtp/server/session.hpp"

namespace sealpost::smtp::server {

namespace asio = boost::asio;

namespace {

// Room reserved ahead of the content, so the budget is checked once per read, not per byte.
constexpr std::uint64_t kBudgetSlack = std::uint64_t{16} * 1024;
// Postfix's hopcount_limit: more Received: headers than this is a mail loop.
constexpr int kMaxHops = 50;

// The whole inbound authentication (every DNS query of SPF, DKIM, DMARC and ARC) gets this many
// DNS timeouts; past it the sender is asked to retry (451 4.4.3) rather than held.
constexpr int kAuthBudgetTimeouts = 3;

int count_received_headers(std::string_view content) {
  int hops = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    const auto eol = content.find("\r\n", pos);
    const std::string_view line =
        content.substr(pos, eol == std::string_view::npos ? content.npos : eol - pos);
    if (line.empty()) break;  // end of the header section
    if (istarts_with(line, "Received:")) ++hops;
    if (eol == std::string_view::npos) break;
    pos = eol + 2;
  }
  return hops;
}

}  // namespace

std::string Session::received_header() const {
  std::string proto = tx_ && tx_->smtputf8 ? "UTF8SMTP" : (extended_ ? "ESMTP" : "SMTP");
  if (conn_.is_tls()) proto += 'S';  // RFC 3848
  std::string h = "Received: from " + helo_;
  if (ctx_.config.received_client_address) {
    const bool v6 = client_ip_.find(':') != std::string::npos;
    h += v6 ? " ([IPv6:" + client_ip_ + "])" : " ([" + client_ip_ + "])";
  }
  if (conn_.is_tls()) {
    h +=
        "\r\n\t(using " + conn_.tls_version() + " with cipher " + conn_.stream().tls_cipher() + ")";
  }
  h += "\r\n\tby " + ctx_.config.hostname + " (Sealpost) with " + proto + " id " + session_id_ +
       "." + std::to_string(messages_ + 1) + ";\r\n\t" +
       mime::format_rfc5322_date(core::unix_now()) + "\r\n";
  return h;
}

asio::awaitable<void> Session::on_data() {
  if (!tx_) {
    reply(503, "5.5.1", "Need MAIL command");
    count_error();
    co_return;
  }
  if (tx_->chunking) {
    reply(503, "5.5.1", "DATA not allowed after BDAT");
    count_error();
    co_return;
  }
  if (tx_->recipients == 0) {
    reply(554, "5.5.1", "No valid recipients");
    co_return;
  }
  if (!tx_->reservation.ensure(kBudgetSlack)) {
    reply(451, "4.3.1", "Insufficient system resources, try again later");
    reset_transaction();
    co_return;
  }
  reply(354, "", "End data with <CR><LF>.<CR><LF>");
  if (!co_await flush()) {
    closing_ = true;
    co_return;
  }

  protocol::DataReader reader(ctx_.config.limits.max_message_size);
  std::string discard;
  while (true) {
    std::string& sink = tx_->over_budget ? discard : tx_->content;
    const bool done = input_.feed_data(reader, sink);
    discard.clear();
    if (done) break;
    if (!tx_->over_budget && !tx_->reservation.ensure(tx_->content.size() + kBudgetSlack)) {
      tx_->over_budget = true;
      std::string().swap(tx_->content);
    }
    if (!co_await fill()) {
      closing_ = true;  // the client went away mid-message: nothing was accepted
      end_reason_ = "lost_in_data";
      co_return;
    }
  }
  bytes_ += reader.content_size();
  if (reader.oversize()) {
    reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
  } else if (reader.bare_cr()) {
    // RFC 5321 section 2.3.8: lines end with CRLF. A bare LF is taken as a line end (see
    // DataReader); a bare CR is how the remaining SMTP smuggling variants hide a second message,
    // and no mailer sends one by accident: refuse the whole message rather than guess.
    reply(550, "5.6.0", "Message contains bare CR characters; lines must end with CRLF");
  } else if (tx_->over_budget) {
    reply(451, "4.3.1", "Insufficient system resources, try again later");
  } else {
    co_await finish_message();
  }
  reset_transaction();
}

asio::awaitable<void> Session::on_bdat(const protocol::Command& cmd) {
  const std::uint64_t limit = ctx_.config.limits.max_message_size;
  std::optional<protocol::Reply> refusal;
  if (!extended_) {
    refusal = protocol::make_reply(503, "5.5.1", "BDAT needs EHLO");
  } else if (!tx_) {
    refusal = protocol::make_reply(503, "5.5.1", "Need MAIL command");
  } else if (tx_->recipients == 0) {
    refusal = protocol::make_reply(554, "5.5.1", "No valid recipients");
  } else if (tx_->chunk_failed) {
    refusal = protocol::make_reply(503, "5.5.1", "Earlier BDAT failed; send RSET");
  } else if (!tx_->chunking && !tx_->content.empty()) {
    refusal = protocol::make_reply(503, "5.5.1", "BDAT not allowed after DATA");
  }
  const bool keep = !refusal;
  if (keep) {
    tx_->chunking = true;
    // The chunk size is the client's number: plan_chunk compares without forming a sum that
    // could wrap (1 + 2^64 - 1 is 0, which used to pass and let the chunk grow without bound).
    if (protocol::plan_chunk(tx_->content.size(), cmd.chunk_size, limit) !=
        protocol::ChunkPlan::kKeep) {
      tx_->oversize = true;
    } else if (!tx_->over_budget &&
               !tx_->reservation.ensure(tx_->content.size() + cmd.chunk_size + kBudgetSlack)) {
      tx_->over_budget = true;
    }
    if (tx_->oversize || tx_->over_budget) std::string().swap(tx_->content);
  }

  if (protocol::plan_chunk(0, cmd.chunk_size, limit) == protocol::ChunkPlan::kRefuseAndHangUp) {
    // No message may be that large, and staying in step would mean reading up to 2^64 octets:
    // answer now and hang up (reading and dropping what the client still sends, briefly, so the
    // reply is not lost to a reset).
    if (refusal) {
      reply(*refusal);
    } else {
      reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    }
    end_reason_ = "chunk_too_large";
    co_await hang_up();
    co_return;
  }

  // The chunk's octets follow the command whatever we answer: read them all to stay in step.
  std::uint64_t remaining = cmd.chunk_size;
  while (remaining > 0) {
    if (input_.pending() == 0 && !co_await fill()) {
      closing_ = true;
      end_reason_ = "lost_in_data";
      co_return;
    }
    const bool kept = keep && !tx_->oversize && !tx_->over_budget;
    bytes_ += input_.take_chunk(remaining, kept ? &tx_->content : nullptr);
  }

  if (refusal) {
    reply(*refusal);
    count_error();
    co_return;
  }
  if (tx_->oversize) {
    reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    tx_->chunk_failed = true;
    co_return;
  }
  if (!cmd.last_chunk) {
    reply(250, "2.0.0", std::to_string(cmd.chunk_size) + " octets received");
    co_return;
  }
  if (!tx_->over_budget && protocol::has_bare_cr(tx_->content)) {
    reply(550, "5.6.0", "Message contains bare CR characters; lines must end with CRLF");
    reset_transaction();
    co_return;
  }
  if (!tx_->over_budget && protocol::normalize_bare_lf(tx_->content) > 0) {
    // Each bare LF became CRLF (as DATA does): the message grew, so check it again.
    if (tx_->content.size() > limit) {
      reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
      reset_transaction();
      co_return;
    }
    if (!tx_->reservation.ensure(tx_->content.size() + kBudgetSlack)) tx_->over_budget = true;
  }
  if (tx_->over_budget) {
    reply(451, "4.3.1", "Insufficient system resources, try again later");
  } else {
    co_await finish_message();
  }
  reset_transaction();
}

asio::awaitable<void> Session::hang_up() {
  closing_ = true;
  input_.clear();
  co_await conn_.hang_up(out_);
}

asio::awaitable<void> Session::finish_message() {
  const auto started = std::chrono::steady_clock::now();
  if (count_received_headers(tx_->content) > kMaxHops) {
    reply(554, "5.4.6", "Too many hops: mail loop detected");
    co_return;
  }
  if (submission()) {
    co_await finish_submission();
    co_return;
  }
  std::string trace = received_header();
  DeliveryRequest request;
  request.sender = tx_->sender;
  request.destinations = tx_->destinations;
  request.mailboxes = tx_->mailboxes;
  request.received = core::unix_now();
  request.smtputf8 = tx_->smtputf8;
  request.eightbit = tx_->eightbit;
  request.content = tx_->content;

  // Tell the client nothing until every destination answered; it waits (RFC 5321 allows the
  // client 10 minutes for the reply to the end of data).
  if (!co_await flush()) co_return;
  const auto& limits = ctx_.config.limits;
  std::string auth_summary = "off";
  std::string cleaned;  // the message without forged Authentication-Results, when it had some
  std::optional<auth::InboundVerdict> verdict;
  boost::system::error_code bad_address;  // never: the peer's address as the socket gave it
  const auto client = asio::ip::make_address(client_ip_, bad_address);
  if (ctx_.authenticator) {
    conn_.watchdog().arm(std::chrono::steady_clock::now() + limits.relay_timeout * 2);
    auth::InboundFacts facts;
    facts.client = client;
    facts.helo = helo_;
    facts.mail_from = tx_->sender;
    facts.message = tx_->content;
    using namespace boost::asio::experimental::awaitable_operators;
    asio::steady_timer deadline(co_await asio::this_coro::executor,
                                ctx_.config.dns_timeout * kAuthBudgetTimeouts);
    auto outcome =
        co_await (ctx_.authenticator->check(facts) || deadline.async_wait(asio::use_awaitable));
    if (outcome.index() != 0) {
      reply(451, "4.4.3", "Could not check the sender's authentication in time, try again later");
      spdlog::info("message session={} size={} rcpts={} auth=timeout reply=451", session_id_,
                   tx_->content.size(), tx_->recipients);
      co_return;
    }
    verdict = std::move(std::get<0>(outcome));
    auth_summary = std::string("spf=") + std::string(auth::spf::to_string(verdict->spf.result)) +
                   " dkim=" + std::to_string(verdict->dkim.size()) + "/" +
                   std::to_string(std::count_if(
                       verdict->dkim.begin(), verdict->dkim.end(),
                       [](const auto& d) { return d.status == auth::dkim::Status::kPass; })) +
                   " dmarc=" + std::string(auth::dmarc::to_string(verdict->dmarc.result));
    if (verdict->action == auth::Action::kReject) {
      reply(550, "5.7.1", verdict->reject_text);
      spdlog::info("message session={} size={} rcpts={} {} reply=550", session_id_,
                   tx_->content.size(), tx_->recipients, auth_summary);
      co_return;
    }
    request.quarantine = verdict->action == auth::Action::kQuarantine;
    trace += verdict->authentication_results;
    if (!verdict->remove.empty()) {
      cleaned = auth::without_ranges(tx_->content, verdict->remove);
      request.content = cleaned;
    }
  }

  // The content filter, in memory, before anything is relayed or stored: a refusal is the reply
  // to the sending server, never a bounce of ours.
  std::string filter_summary = "off";
  if (ctx_.filter && tx_->treatment && tx_->treatment->enabled) {
    const auto& f = ctx_.config.filter;
    conn_.watchdog().arm(std::chrono::steady_clock::now() +
                         std::max(f.dns_budget, f.clamd_timeout) + limits.relay_timeout);
    filter::MessageFacts facts;
    facts.content = request.content;
    if (!bad_address) facts.client = client;
    facts.envelope_sender = tx_->sender;
    facts.dmarc_failed = verdict && verdict->dmarc.result == auth::dmarc::Result::kFail;
    const filter::Verdict checked = co_await ctx_.filter->check(facts, *tx_->treatment);
    filter_summary = std::string(filter::action_name(checked.action));
    if (!checked.findings.empty()) filter_summary += ":" + filter::symbol_list(checked);
    if (const auto refusal = filter::smtp_reply(checked)) {
      reply(refusal->code, refusal->enhanced, refusal->text);
      spdlog::info("message session={} size={} rcpts={} {} filter={} reply={}", session_id_,
                   tx_->content.size(), tx_->recipients, auth_summary, filter_summary,
                   refusal->code);
      co_return;
    }
    request.quarantine = request.quarantine || checked.action == filter::Action::kJunk;
    trace += filter::status_field(checked);
    // Ours is the only one: a sender's own X-Spam-* fields go, as SpamAssassin clears them.
    if (auto without = filter::without_spam_fields(request.content)) {
      cleaned = std::move(*without);
      request.content = cleaned;
    }
  }

  // ARC-seal what we forward (RFC 8617), with the forwarding domain's RSA key, so the
  // destination can trust our results when SPF or DKIM no longer pass after forwarding.
  if (verdict && ctx_.keyring && !tx_->seal_domain.empty()) {
    const auto ring = ctx_.keyring->get();
    for (const auto& k : ring->keys(tx_->seal_domain)) {
      if (k.key.algorithm() != auth::dkim::Algorithm::kRsaSha256) continue;
      auth::arc::SealOptions o;
      o.domain = tx_->seal_domain;
      o.selector = k.selector;
      o.authserv_id = ctx_.config.authserv_id;
      o.results = verdict->results;
      std::string whole = trace;
      whole += request.content;
      auto fields = auth::arc::seal(whole, verdict->arc, k.key, o);
      if (fields) {
        trace.insert(0, fields.value());
        auth_summary +=
            " arc=" + std::string(auth::arc::to_string(verdict->arc.status)) + "+sealed";
      }
      break;
    }
  }
  request.trace = trace;
  conn_.watchdog().arm(std::chrono::steady_clock::now() + limits.relay_connect_timeout +
                       limits.relay_timeout * 12);
  const DeliveryReport report = co_await ctx_.delivery.deliver(request);
  reply(report.reply);
  if (report.reply.positive()) ++messages_;

  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  spdlog::info(
      "message session={} size={} rcpts={} destinations={} {} filter={} accepted={} deferred={} "
      "rejected={} already_delivered={} reply={} ms={}",
      session_id_, tx_->content.size(), tx_->recipients, tx_->destinations.size(), auth_summary,
      filter_summary, report.accepted, report.deferred, report.rejected, report.already_delivered,
      report.reply.code, ms);
}

}  // namespace sealpost::smtp::server

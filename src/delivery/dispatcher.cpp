#include "delivery/dispatcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace sealpost::delivery {

namespace asio = boost::asio;
using smtp::DeliveryReport;
using smtp::DeliveryRequest;
using smtp::protocol::make_reply;

namespace {
constexpr std::size_t kRememberedDeliveries = 100000;
}  // namespace

Dispatcher::Dispatcher(smtp::DeliveryAgent& forwarder, store::mailbox::MailboxDirectory& mailboxes,
                       asio::any_io_executor blocking, std::chrono::seconds remember_for)
    : forwarder_(forwarder),
      mailboxes_(mailboxes),
      blocking_(std::move(blocking)),
      memory_(remember_for, kRememberedDeliveries) {}

std::string stored_form(const DeliveryRequest& request) {
  std::string out;
  out.reserve(request.sender.size() + request.trace.size() + request.content.size() + 20);
  out += "Return-Path: <";
  out += request.sender;
  out += ">\r\n";
  out += request.trace;
  out += request.content;
  return out;
}

// Runs on the worker pool: every mailbox in turn, each durable before the next.
asio::awaitable<DeliveryReport> Dispatcher::store_all(const DeliveryRequest& request) {
  DeliveryReport report;
  const auto digest = memory_.message_digest(request.sender, request.content);
  const std::string message = stored_form(request);
  bool full = false;
  bool failed = false;
  for (const auto& mailbox : request.mailboxes) {
    if (memory_.contains(digest, mailbox.address)) {
      ++report.already_delivered;
      continue;
    }
    try {
      const auto outcome = store::mailbox::deliver_local(mailboxes_, mailbox, message,
                                                         request.quarantine, request.received);
      if (outcome == store::mailbox::LocalOutcome::kFull) {
        full = true;
        ++report.deferred;
        continue;
      }
      memory_.remember(digest, mailbox.address);
      ++report.accepted;
    } catch (const std::exception& e) {
      // The reason names files, never the message or its addresses.
      spdlog::error("mailbox delivery failed: {}", e.what());
      failed = true;
      ++report.deferred;
    }
  }
  if (failed) {
    report.reply = make_reply(451, "4.3.0", "Mailbox temporarily unavailable, please retry");
  } else if (full) {
    report.reply = make_reply(452, "4.2.2", "Mailbox full, please retry later");
  } else {
    report.reply = make_reply(250, "2.0.0", "Message delivered");
  }
  co_return report;
}

asio::awaitable<DeliveryReport> Dispatcher::deliver(const DeliveryRequest& request) {
  DeliveryReport stored;
  if (!request.mailboxes.empty()) {
    stored = co_await asio::co_spawn(blocking_, store_all(request), asio::use_awaitable);
  }
  if (request.destinations.empty()) co_return stored;
  DeliveryReport relayed = co_await forwarder_.deliver(request);
  if (request.mailboxes.empty()) co_return relayed;

  DeliveryReport both = relayed;
  both.accepted += stored.accepted;
  both.deferred += stored.deferred;
  both.already_delivered += stored.already_delivered;
  // A temporary failure wins (the retry skips whoever already took the message); then a
  // permanent one from the relay; else both succeeded.
  if (!stored.reply.positive() && !relayed.reply.transient()) both.reply = stored.reply;
  co_return both;
}

}  // namespace sealpost::delivery

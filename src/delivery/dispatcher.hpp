// The MX's delivery agent: a message goes into the recipients' sealed mailboxes (on the worker
// pool: SQLite, zstd and fsync block) and out to the aliases' destinations (the forwarder), and
// the sender gets one answer for both. A temporary failure anywhere is a 4xx, and the mailboxes
// and destinations that already took the message are remembered, so the retry does not store or
// relay it twice.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "smtp/client/accepted_memory.hpp"
#include "smtp/delivery_agent.hpp"
#include "store/mailbox/local_delivery.hpp"

namespace sealpost::delivery {

class Dispatcher final : public smtp::DeliveryAgent {
 public:
  // `blocking` runs the mailbox work (a bounded thread pool's executor).
  Dispatcher(smtp::DeliveryAgent& forwarder, store::mailbox::MailboxDirectory& mailboxes,
             boost::asio::any_io_executor blocking, std::chrono::seconds remember_for);

  boost::asio::awaitable<smtp::DeliveryReport> deliver(
      const smtp::DeliveryRequest& request) override;

 private:
  boost::asio::awaitable<smtp::DeliveryReport> store_all(const smtp::DeliveryRequest& request);

  smtp::DeliveryAgent& forwarder_;
  store::mailbox::MailboxDirectory& mailboxes_;
  boost::asio::any_io_executor blocking_;
  smtp::client::AcceptedMemory memory_;
};

// The bytes a mailbox stores: Return-Path (RFC 5321 4.4, added at final delivery), our trace
// fields, then the message as received.
std::string stored_form(const smtp::DeliveryRequest& request);

}  // namespace sealpost::delivery

// The queue's delivery workers (DESIGN.md "Submission"): due entries are taken from the store,
// their pending recipients grouped by destination domain and relayed (connections are reused by
// the relay client), with a bound on transactions in all and per destination. Each answer is
// classified (bounce.hpp): delivered, retried later on the schedule, or failed, and a failure
// sends the sender a DSN through the same queue; a message still waiting after [queue]
// delay_notice sends one "delayed" notice. Finished entries keep their sealed content for the
// retention period, then it is replaced by a notice.
//
// Everything runs on one strand; the store is only touched on the worker pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "core/config.hpp"
#include "queue/queue.hpp"
#include "queue/retry_schedule.hpp"
#include "smtp/client/domain_relay.hpp"

namespace sealpost::queue {

// Mail for a domain we host goes straight to its aliases and mailboxes, with no network hop.
class LocalDestination {
 public:
  virtual ~LocalDestination() = default;
  [[nodiscard]] virtual bool hosts(const std::string& domain) const = 0;
  virtual boost::asio::awaitable<smtp::protocol::ServerReply> deliver(const Envelope& envelope,
                                                                      const std::string& recipient,
                                                                      std::string_view content,
                                                                      std::int64_t now) = 0;
};

class Runner {
 public:
  using Clock = std::function<std::int64_t()>;

  Runner(const core::Config& config, Queue& queue, smtp::client::DomainRelay& relay,
         LocalDestination* local, const boost::asio::any_io_executor& io,
         boost::asio::any_io_executor blocking, Clock clock);

  void start();
  // Something was queued or changed (thread-safe): look for due work now.
  void wake();
  void stop();

  // Domains with their own retention (seconds), from the metadata store; thread-safe.
  void set_retentions(std::map<std::string, std::int64_t> per_domain);

 private:
  boost::asio::awaitable<void> loop();
  boost::asio::awaitable<void> process(std::int64_t id);
  boost::asio::awaitable<void> redact_expired(std::int64_t now);
  // Waits for one of the [queue] per_destination slots of `domain`.
  boost::asio::awaitable<void> acquire_destination(const std::string& domain);
  void release_destination(const std::string& domain);
  void notify_sender(const Entry& entry, const std::vector<std::size_t>& which, bool delayed,
                     std::int64_t now);

  const core::Config& config_;
  Queue& queue_;
  smtp::client::DomainRelay& relay_;
  LocalDestination* local_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::any_io_executor blocking_;
  Clock clock_;
  RetrySchedule schedule_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool woken_ = false;
  std::int64_t next_redaction_ = 0;
  std::set<std::int64_t> in_flight_;
  struct Destination {
    std::uint32_t active = 0;
    std::shared_ptr<boost::asio::steady_timer> freed;  // cancelled when a slot frees
  };
  std::map<std::string, Destination> destinations_;
  std::atomic<std::shared_ptr<const std::map<std::string, std::int64_t>>> retentions_{
      std::make_shared<const std::map<std::string, std::int64_t>>()};
};

}  // namespace sealpost::queue

#include "queue/runner.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "crypto/random.hpp"
#include "net/blocking.hpp"
#include "queue/bounce.hpp"
#include "queue/dsn.hpp"

namespace sealpost::queue {

namespace asio = boost::asio;
using smtp::protocol::ServerReply;

namespace {

// Entries looked at per scan, and the longest sleep between scans (the CLI's `queue retry`
// and a test's clock are noticed within it).
constexpr std::size_t kScanBatch = 256;
constexpr auto kMaxSleep = std::chrono::seconds(1);
constexpr std::int64_t kRedactionEvery = 60;

double jitter() {
  return static_cast<double>(randombytes_uniform(1'000'000)) / 1'000'000.0;
}

}  // namespace

Runner::Runner(const core::Config& config, Queue& queue, smtp::client::DomainRelay& relay,
               LocalDestination* local, const asio::any_io_executor& io,
               asio::any_io_executor blocking, Clock clock)
    : config_(config),
      queue_(queue),
      relay_(relay),
      local_(local),
      strand_(asio::make_strand(io)),
      blocking_(std::move(blocking)),
      clock_(std::move(clock)),
      timer_(strand_) {
  schedule_.delays = config.queue.retry_delays;
  schedule_.give_up_after = config.queue.lifetime;
  schedule_.delay_notice_after = config.queue.delay_notice;
}

void Runner::start() {
  asio::co_spawn(strand_, loop(), [](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("queue runner stopped: {}", ex.what());
    }
  });
}

void Runner::wake() {
  asio::post(strand_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

void Runner::stop() {
  asio::post(strand_, [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void Runner::set_retentions(std::map<std::string, std::int64_t> per_domain) {
  retentions_.store(
      std::make_shared<const std::map<std::string, std::int64_t>>(std::move(per_domain)));
}

asio::awaitable<void> Runner::loop() {
  while (!stopped_) {
    woken_ = false;
    const std::int64_t now = clock_();
    try {
      if (in_flight_.size() < config_.queue.max_deliveries) {
        const auto due = co_await net::run_blocking(
            blocking_, [this, now] { return queue_.store().queue_due(now, kScanBatch); });
        for (const auto id : due) {
          if (in_flight_.size() >= config_.queue.max_deliveries) break;
          if (!in_flight_.insert(id).second) continue;
          asio::co_spawn(strand_, process(id), [this, id](const std::exception_ptr& e) {
            if (e) {
              try {
                std::rethrow_exception(e);
              } catch (const std::exception& ex) {
                spdlog::error("queue entry={} attempt failed: {}", id, ex.what());
              }
            }
            in_flight_.erase(id);
            woken_ = true;
            timer_.cancel();
          });
        }
      }
      if (now >= next_redaction_) {
        next_redaction_ = now + kRedactionEvery;
        co_await redact_expired(now);
      }
    } catch (const std::exception& e) {
      spdlog::error("queue scan failed: {}", e.what());
    }
    if (stopped_ || woken_) continue;
    timer_.expires_after(kMaxSleep);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> Runner::redact_expired(std::int64_t now) {
  const std::size_t n = co_await net::run_blocking(blocking_, [this, now] {
    std::size_t count = 0;
    for (const auto id : queue_.store().queue_due_for_redaction(now, 1000)) {
      const auto record = queue_.store().queue_entry(id);
      if (!record) continue;
      queue_.redact(*record);
      ++count;
    }
    return count;
  });
  if (n > 0) spdlog::info("queue redacted count={}", n);
}

asio::awaitable<void> Runner::process(std::int64_t id) {
  auto loaded = co_await net::run_blocking(blocking_, [this, id] { return queue_.load(id); });
  if (!loaded) co_return;
  Entry& entry = *loaded;
  const std::int64_t now = clock_();

  // Due recipients by destination domain.
  std::map<std::string, std::vector<std::size_t>> by_domain;
  for (std::size_t i = 0; i < entry.recipients.size(); ++i) {
    const auto& r = entry.recipients[i];
    if (r.record.state != store::RecipientState::kPending || r.record.next_attempt > now) continue;
    by_domain[domain_of(r.address)].push_back(i);
  }

  std::vector<store::QueueRecipientRecord> changed;
  std::vector<std::size_t> failed_now;
  const auto record_answer = [&](std::size_t i, const ServerReply& reply, const std::string& host) {
    auto& r = entry.recipients[i];
    auto rec = r.record;
    rec.attempts += 1;
    rec.updated = now;
    rec.last_code = reply.code;
    rec.last_enhanced = reply.enhanced;
    r.detail = host + "\n" + reply.text();
    rec.detail_sealed = queue_.seal_detail(entry.record, rec.index, r.detail);
    if (reply.positive()) {
      rec.state = store::RecipientState::kDelivered;
      rec.category.clear();
    } else {
      const auto verdict = classify(reply.code, reply.enhanced, reply.text());
      rec.category = std::string(to_string(verdict.category));
      std::optional<std::int64_t> next;
      if (verdict.action == BounceAction::kDefer) {
        next = next_attempt(schedule_, static_cast<std::uint32_t>(rec.attempts),
                            entry.record.created, now, jitter());
      }
      if (next) {
        rec.next_attempt = *next;
      } else {
        rec.state = store::RecipientState::kFailed;
        failed_now.push_back(i);
      }
    }
    r.record = rec;
    changed.push_back(std::move(rec));
  };

  for (const auto& [domain, indices] : by_domain) {
    co_await acquire_destination(domain);
    try {
      if (local_ && local_->hosts(domain)) {
        for (const auto i : indices) {
          const auto reply = co_await local_->deliver(entry.envelope, entry.recipients[i].address,
                                                      entry.content, now);
          record_answer(i, reply, config_.hostname);
        }
      } else {
        smtp::client::RelayEnvelope envelope;
        envelope.mail_from = entry.envelope.sender;
        envelope.smtputf8 = entry.envelope.smtputf8;
        envelope.eightbit = entry.envelope.eightbit;
        for (const auto i : indices) envelope.recipients.push_back(entry.recipients[i].address);
        const smtp::client::RelayMessage message{{}, entry.content};
        const auto outcome = co_await relay_.deliver(domain, envelope, message);
        for (std::size_t k = 0; k < indices.size(); ++k) {
          const ServerReply reply =
              k < outcome.per_recipient.size()
                  ? outcome.per_recipient[k]
                  : smtp::client::local_reply(451, "4.3.0", "No answer for this recipient");
          record_answer(indices[k], reply, outcome.remote_host);
        }
      }
    } catch (...) {
      release_destination(domain);
      throw;
    }
    release_destination(domain);
  }

  const bool pending = std::any_of(entry.recipients.begin(), entry.recipients.end(), [](auto& r) {
    return r.record.state == store::RecipientState::kPending;
  });
  const bool notify_delay = pending && entry.record.kind == "mail" &&
                            !entry.record.delay_notified &&
                            schedule_.delay_notice_after.count() > 0 &&
                            now - entry.record.created >= schedule_.delay_notice_after.count();
  std::vector<std::size_t> delayed;
  if (notify_delay) {
    for (std::size_t i = 0; i < entry.recipients.size(); ++i) {
      if (entry.recipients[i].record.state == store::RecipientState::kPending) delayed.push_back(i);
    }
  }
  // The sending domain's own retention, else the server's ([queue] retention).
  std::int64_t retention = config_.queue.retention.count();
  {
    const auto own = retentions_.load();
    const auto domain =
        domain_of(entry.envelope.owner.empty() ? entry.envelope.sender : entry.envelope.owner);
    if (const auto it = own->find(domain); it != own->end()) retention = it->second;
  }
  const auto retain_until = now + retention;
  co_await net::run_blocking(blocking_, [&] {
    if (!changed.empty()) queue_.store().queue_update(entry.record.id, changed, retain_until);
    // Bounces go back through the queue; never for a bounce (RFC 3461 section 6.2: no DSN for a
    // DSN) nor for mail from the null sender.
    if (entry.record.kind == "mail" && !entry.envelope.sender.empty()) {
      if (!failed_now.empty()) notify_sender(entry, failed_now, /*delayed=*/false, now);
      if (!delayed.empty()) notify_sender(entry, delayed, /*delayed=*/true, now);
    }
    if (notify_delay) queue_.store().queue_set_delay_notified(entry.record.id);
  });
  std::size_t delivered = 0;
  for (const auto& c : changed) delivered += c.state == store::RecipientState::kDelivered;
  spdlog::info("queue entry={} attempted={} delivered={} failed={} pending={}", entry.record.token,
               changed.size(), delivered, failed_now.size(), pending ? "yes" : "no");
}

asio::awaitable<void> Runner::acquire_destination(const std::string& domain) {
  while (true) {
    auto& d = destinations_[domain];
    if (d.active < config_.queue.max_per_destination) {
      ++d.active;
      co_return;
    }
    if (!d.freed) {
      d.freed = std::make_shared<asio::steady_timer>(strand_);
      d.freed->expires_at(asio::steady_timer::time_point::max());
    }
    const auto freed = d.freed;
    co_await freed->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Runner::release_destination(const std::string& domain) {
  const auto it = destinations_.find(domain);
  if (it == destinations_.end()) return;
  --it->second.active;
  if (it->second.freed) {
    it->second.freed->cancel();  // every waiter looks again; one of them gets the slot
    it->second.freed.reset();
  }
  if (it->second.active == 0) destinations_.erase(it);
}

void Runner::notify_sender(const Entry& entry, const std::vector<std::size_t>& which, bool delayed,
                           std::int64_t now) {
  DsnInput in;
  in.reporting_mta = config_.hostname;
  in.postmaster = "MAILER-DAEMON@" + config_.hostname;
  in.to = entry.envelope.sender;
  in.message_id = crypto::random_hex(16) + "@" + config_.hostname;
  in.arrival = entry.record.created;
  in.now = now;
  in.boundary = "=_sealpost_" + crypto::random_hex(12);
  in.original = entry.content;
  for (const auto i : which) {
    const auto& r = entry.recipients[i];
    DsnRecipient d;
    d.original_recipient = r.address;
    d.failed = !delayed;
    d.status = r.record.last_enhanced;
    if (d.status.empty() && r.record.last_code >= 400) {
      d.status = r.record.last_code >= 500 ? "5.0.0" : "4.0.0";
    }
    const auto nl = r.detail.find('\n');
    d.remote_mta = nl == std::string::npos ? std::string() : r.detail.substr(0, nl);
    if (d.remote_mta == config_.hostname) d.remote_mta.clear();
    if (r.record.last_code > 0) {
      d.diagnostic = std::to_string(r.record.last_code) + " " +
                     (nl == std::string::npos ? r.detail : r.detail.substr(nl + 1));
    }
    d.last_attempt = r.record.updated;
    d.will_retry_until = entry.record.created + config_.queue.lifetime.count();
    in.recipients.push_back(std::move(d));
  }
  Envelope envelope;
  envelope.recipients.push_back(entry.envelope.sender);
  envelope.smtputf8 = entry.envelope.smtputf8;
  envelope.eightbit = true;
  queue_.add(envelope, build_dsn(in), "dsn", now);
}

}  // namespace sealpost::queue

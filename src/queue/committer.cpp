#include "queue/committer.hpp"

#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sealpost::queue {

namespace asio = boost::asio;

namespace {

// One transaction's bounds: a burst of large messages is split over several commits rather than
// held in memory as one.
constexpr std::size_t kMaxEntries = 256;
constexpr std::int64_t kMaxBytes = std::int64_t{64} << 20;
constexpr std::size_t kSealInline = std::size_t{256} << 10;

}  // namespace

Committer::Committer(Queue& queue, asio::any_io_executor pool)
    : queue_(queue), pool_(std::move(pool)) {}

asio::awaitable<Queue::Added> Committer::add(const Envelope& envelope, std::string_view content,
                                             std::string_view kind, std::int64_t now) {
  auto initiate = [this, &envelope, content, kind, now](Handler handler) {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    auto seal_and_enqueue = [this, &envelope, content, kind, now, h = std::move(handler),
                             w = std::move(work)]() mutable {
      Waiting waiting{{}, std::move(h), std::move(w)};
      try {
        waiting.entry = queue_.seal(envelope, content, kind, now);
      } catch (...) {
        // Completed from the pool: never inside the initiation (which may run on the caller).
        asio::post(pool_, [w = std::move(waiting), e = std::current_exception()]() mutable {
          complete(w, e, {});
        });
        return;
      }
      enqueue(std::move(waiting));
    };
    // Sealing a typical message takes microseconds: done here, it spares a trip through the
    // pool's queue. A large one is sealed on the pool, off the I/O thread.
    if (content.size() <= kSealInline) {
      seal_and_enqueue();
    } else {
      asio::post(pool_, std::move(seal_and_enqueue));
    }
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(std::exception_ptr, Queue::Added)>(
      initiate, asio::use_awaitable);
}

Committer::Stats Committer::stats() {
  std::lock_guard lock(mutex_);
  auto s = stats_;
  s.waiting = waiting_.size();
  return s;
}

void Committer::enqueue(Waiting waiting) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(waiting));
    if (flushing_) return;  // the running flush takes it on its next round
    flushing_ = true;
  }
  asio::post(pool_, [this] { flush(); });
}

void Committer::flush() {
  std::vector<Waiting> batch;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) {
        flushing_ = false;
        return;
      }
      std::size_t n = 0;
      std::int64_t bytes = 0;
      while (n < waiting_.size() && n < kMaxEntries && (n == 0 || bytes < kMaxBytes)) {
        bytes += waiting_[n].entry.entry.size;
        ++n;
      }
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(waiting_.front()));
        waiting_.pop_front();
      }
      ++stats_.commits;
      stats_.entries += n;
    }
    std::vector<store::NewQueueEntry> entries;
    entries.reserve(batch.size());
    for (auto& w : batch) entries.push_back(std::move(w.entry));
    try {
      const auto added = queue_.commit(entries);
      for (std::size_t i = 0; i < batch.size(); ++i) complete(batch[i], nullptr, added[i]);
    } catch (...) {
      // All or none: none of them is queued. Each is tried alone, so that one entry the store
      // refuses does not fail the others.
      for (std::size_t i = 0; i < batch.size(); ++i) {
        try {
          const auto added = queue_.commit(std::span(&entries[i], 1));
          complete(batch[i], nullptr, added.front());
        } catch (...) {
          complete(batch[i], std::current_exception(), {});
        }
      }
    }
    batch.clear();
  }
}

void Committer::complete(Waiting& waiting, std::exception_ptr error, Queue::Added added) {
  const auto ex = asio::get_associated_executor(waiting.handler);
  asio::dispatch(ex, [h = std::move(waiting.handler), error, added = std::move(added)]() mutable {
    std::move(h)(error, std::move(added));
  });
  waiting.work.reset();
}

}  // namespace sealpost::queue

// Group commit for the queue: submissions that arrive while a commit is running wait for the next
// one and share its transaction, so one fsync makes many messages durable (what Postfix gets from
// its parallel cleanup processes sharing journal commits). A message is still durable before its
// 250: each waiter resumes only after the commit that holds its entry.
//
// One commit runs at a time, on the worker pool; it never holds a pool thread while waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <vector>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include "queue/queue.hpp"

namespace sealpost::queue {

class Committer {
 public:
  // `pool`: the blocking worker pool (sealing and SQLite run there).
  Committer(Queue& queue, boost::asio::any_io_executor pool);

  // Seals the message and commits it with whatever else is waiting; resumes once it is durable,
  // or with the exception its commit threw. `envelope` and `content` may be read on the pool
  // while the caller is suspended, so the caller's locals may be passed.
  boost::asio::awaitable<Queue::Added> add(const Envelope& envelope, std::string_view content,
                                           std::string_view kind, std::int64_t now);

  // How many commits ran, how many entries they held, and how many wait for the next one.
  struct Stats {
    std::uint64_t commits = 0;
    std::uint64_t entries = 0;
    std::size_t waiting = 0;
  };
  Stats stats();

 private:
  using Handler = boost::asio::any_completion_handler<void(std::exception_ptr, Queue::Added)>;
  struct Waiting {
    store::NewQueueEntry entry;
    Handler handler;
    boost::asio::executor_work_guard<boost::asio::any_completion_executor> work;
  };

  void enqueue(Waiting waiting);
  void flush();  // on the pool, one at a time, until nothing waits
  static void complete(Waiting& waiting, std::exception_ptr error, Queue::Added added);

  Queue& queue_;
  boost::asio::any_io_executor pool_;
  std::mutex mutex_;
  std::deque<Waiting> waiting_;
  bool flushing_ = false;
  Stats stats_;
};

}  // namespace sealpost::queue

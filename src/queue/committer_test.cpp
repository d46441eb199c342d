#include "queue/committer.hpp"

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include "store/sqlite/database.hpp"

namespace sealpost::queue {
namespace {

namespace asio = boost::asio;

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sealpost-committer-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "sealpost.db").string();
    store_ = store::open_sqlite_metadata_store(path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<store::MetadataStore> store_;
  std::vector<unsigned char> server_key_ = std::vector<unsigned char>(32, 7);
};

struct Result {
  std::optional<Queue::Added> added;
  std::string error;
};

asio::awaitable<void> submit(Committer& committer, Envelope envelope, std::string content,
                             Result& out) {
  try {
    out.added = co_await committer.add(envelope, content, "mail", 1796342400);
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

// Polls until `ready` holds (the committer's state changes on other threads); false after 30,000
// polls a millisecond apart, a bound for a stuck test only (no clock is read or asserted).
template <typename F>
bool eventually(F ready) {
  for (int polls = 0; polls < 30'000; ++polls) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ready();
}

// A committer on a pool of 2, its callers' coroutines on an io_context run by a thread of its own.
struct Running {
  explicit Running(Queue& queue) : committer(queue, pool.get_executor()) {}

  // Submits contents[i] (recipient "rcpt<i>@example.net") for each i in [from, to).
  void spawn(const std::vector<std::string>& contents, std::vector<Result>& results,
             std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      Envelope e;
      e.owner = "user@example.com";
      e.sender = "user@example.com";
      e.recipients = {"rcpt" + std::to_string(i) + "@example.net"};
      asio::co_spawn(io, submit(committer, e, contents[i], results[i]), asio::detached);
    }
  }
  // The first submission alone, then the rest while its commit waits for `lock` (a connection
  // holding the write lock), which is then ended with `end_lock`.
  std::vector<Result> submit_behind(store::sqlite::Database& lock, std::string_view end_lock,
                                    const std::vector<std::string>& contents) {
    std::vector<Result> results(contents.size());
    spawn(contents, results, 0, 1);
    EXPECT_TRUE(eventually([&] { return committer.stats().commits == 1; }));
    spawn(contents, results, 1, contents.size());
    EXPECT_TRUE(eventually([&] { return committer.stats().waiting == contents.size() - 1; }))
        << "all but the first wait behind the running commit";
    lock.exec(end_lock);
    guard.reset();
    runner.join();
    pool.join();
    return results;
  }

  asio::thread_pool pool{2};
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  Committer committer;
  std::thread runner{[this] { io.run(); }};
};

// While a commit waits for the disk (here: for another writer's lock), the submissions that
// arrive queue up and the next commit takes them all: 1 + 19 messages, 2 commits, every message
// stored under its own id with its own content and envelope.
TEST_F(CommitterTest, SubmissionsThatArriveDuringACommitShareTheNextOne) {
  Queue queue(*store_, server_key_);
  Running running(queue);
  store::sqlite::Database blocker(path_);
  blocker.exec("BEGIN IMMEDIATE");
  std::vector<std::string> contents;
  contents.reserve(20);
  for (int i = 0; i < 20; ++i) contents.push_back("message " + std::to_string(i) + "\r\n");
  const auto results = running.submit_behind(blocker, "ROLLBACK", contents);

  const auto stats = running.committer.stats();
  EXPECT_EQ(stats.commits, 2U);
  EXPECT_EQ(stats.entries, contents.size());
  EXPECT_EQ(stats.waiting, 0U);
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    ASSERT_TRUE(results[i].added) << results[i].error;
    ids.insert(results[i].added->id);
    const auto entry = queue.load(results[i].added->id);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->content, contents[i]);
    EXPECT_EQ(entry->envelope.recipients,
              std::vector<std::string>{"rcpt" + std::to_string(i) + "@example.net"});
    EXPECT_EQ(entry->record.token, results[i].added->token);
  }
  EXPECT_EQ(ids.size(), contents.size());
}

// One entry the store refuses (here: a trigger refuses content of 13 octets) fails alone: the
// others in its commit are retried one by one and queued; its submitter hears of the failure.
TEST_F(CommitterTest, AnEntryTheStoreRefusesFailsAloneNotItsWholeCommit) {
  Queue queue(*store_, server_key_);
  Running running(queue);
  store::sqlite::Database other(path_);
  other.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON queue WHEN NEW.size = 13 "
      "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  other.exec("BEGIN IMMEDIATE");
  const std::vector<std::string> contents = {"first\r\n", "second\r\n", "refused here\n",
                                             "fourth\r\n", "fifth\r\n"};
  ASSERT_EQ(contents[2].size(), 13U);
  const auto results = running.submit_behind(other, "COMMIT", contents);

  EXPECT_EQ(running.committer.stats().commits, 2U) << "the four shared a commit before the retries";
  for (std::size_t i = 0; i < contents.size(); ++i) {
    if (i == 2) {
      EXPECT_FALSE(results[i].added);
      EXPECT_NE(results[i].error.find("refused"), std::string::npos) << results[i].error;
      continue;
    }
    ASSERT_TRUE(results[i].added) << i << ": " << results[i].error;
    const auto entry = queue.load(results[i].added->id);
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->content, contents[i]);
  }
  EXPECT_EQ(store_->queue_list(10).size(), contents.size() - 1);
}

// The store checkpoints its WAL on a thread of its own (no commit waits for the database file):
// after thousands of pages of queued mail, checkpoints have run and the WAL starts over instead of
// growing with everything ever written.
TEST_F(CommitterTest, TheStoreCheckpointsInTheBackground) {
  Queue queue(*store_, server_key_);
  Envelope e;
  e.recipients = {"a@example.net"};
  const std::string content(8000, 'x');
  int added = 0;
  for (; added < 1500; ++added) queue.add(e, content, "mail", 1796342400);
  EXPECT_TRUE(eventually([&] {
    queue.add(e, content, "mail", 1796342400);
    ++added;
    return store_->wal_state().pages < 100;
  })) << "the WAL started over once the checkpointer copied it all";
  EXPECT_GT(store_->wal_state().checkpoints, 0U);
  EXPECT_EQ(store_->queue_list(5000).size(), static_cast<std::size_t>(added));
}

}  // namespace
}  // namespace sealpost::queue

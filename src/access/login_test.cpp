#include "access/login.hpp"

#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include "crypto/mailbox_keys.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "testing/async.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::access {
namespace {

using store::mailbox::MessageStore;
using store::mailbox::SpecialUse;

// Holds one of the pool's places until `released`. (A plain function, and a lambda that
// captures by reference only: g++ 12 destroys a lambda in a co_await expression twice.)
boost::asio::awaitable<void> hold(KdfPool& kdf, std::shared_future<void> released) {
  const auto wait = [&released] {
    released.wait();
    return 0;
  };
  (void)co_await kdf.run(wait);
}

class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-login");
    meta = store::open_sqlite_metadata_store((dir / "metadata.db").string());
    meta->add_domain("example.com");
    record =
        store::mailbox::create_mailbox(*meta, dir, "alice@example.com", "example.com", "pw", kFast);
    directory = std::make_unique<store::mailbox::MailboxDirectory>(dir, nullptr);
    hasher = std::make_unique<core::ClientHasher>(dir / "log.key");
  }
  void TearDown() override {
    directory.reset();
    std::filesystem::remove_all(dir);
  }

  // The context of a server whose password-hashing pool has `workers` threads and `queue` places.
  AccessContext context(KdfPool& kdf) {
    return AccessContext{config,     *meta,
                         *directory, blocking.get_executor(),
                         nullptr,    throttle,
                         sessions,   *hasher,
                         kdf,        store::mailbox::LoginOptions{kFast}};
  }

  LoginResult login(AccessContext& ctx, const std::string& password,
                    const std::string& client = "192.0.2.1",
                    const std::string& user = "alice@example.com") {
    return sealpost::testing::run_sync(access::login(ctx, client, user, password));
  }

  const crypto::KdfCost kFast = crypto::KdfCost::for_tests();
  std::filesystem::path dir;
  std::unique_ptr<store::MetadataStore> meta;
  store::MailboxRecord record;
  std::unique_ptr<store::mailbox::MailboxDirectory> directory;
  std::unique_ptr<core::ClientHasher> hasher;
  core::Config config;
  boost::asio::thread_pool blocking{2};
  net::LoginThrottle throttle;
  SessionCounter sessions{50};
};

TEST_F(LoginTest, OpensTheMailboxMovesTheSpoolInAndSharesIt) {
  store::mailbox::LocalMailbox target{record.address, record.file_id, record.spool_public_key, 0};
  (void)store::mailbox::deliver_local(
      *directory, target, "From: x@example.org\r\nSubject: s\r\n\r\nwaiting\r\n", false, 1);
  KdfPool kdf(1, 4);
  auto ctx = context(kdf);
  auto first = login(ctx, "pw");
  ASSERT_EQ(first.status, LoginStatus::kOk);
  first.mailbox->with([&](MessageStore& s) {
    EXPECT_EQ(s.messages(s.special_folder(SpecialUse::kInbox).id).size(), 1U)
        << "the login moved the spool in";
  });
  EXPECT_EQ(login(ctx, "wrong").status, LoginStatus::kFailed);
  EXPECT_EQ(login(ctx, "pw", "192.0.2.1", "nobody@example.com").status, LoginStatus::kFailed);
  auto second = login(ctx, "pw");
  EXPECT_EQ(second.mailbox, first.mailbox) << "a second session shares the open mailbox";
}

// The password work never takes the worker pool's threads: with every worker thread held (a slow
// fsync, a big import), a login still gets its answer.
TEST_F(LoginTest, PasswordHashingDoesNotNeedTheWorkerPool) {
  KdfPool kdf(1, 0);
  auto ctx = context(kdf);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> held{0};
  for (int i = 0; i < 2; ++i) {
    boost::asio::post(blocking, [&held, released] {
      ++held;
      released.wait();
    });
  }
  while (held < 2) std::this_thread::yield();
  EXPECT_EQ(login(ctx, "wrong").status, LoginStatus::kFailed);
  release.set_value();
}

// A full pool refuses at once ("try again shortly"), runs nothing and counts nothing against the
// client; once a thread is free the same login goes through.
TEST_F(LoginTest, AFullPasswordPoolRefusesAtOnceAndCountsNothing) {
  KdfPool kdf(1, 0);
  auto ctx = context(kdf);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  boost::asio::io_context other;
  boost::asio::co_spawn(other, hold(kdf, released), boost::asio::detached);
  std::thread runner([&other] { other.run(); });
  while (kdf.in_flight() < 1) std::this_thread::yield();

  EXPECT_EQ(login(ctx, "pw").status, LoginStatus::kBusy);
  EXPECT_EQ(kdf.refused(), 1U);
  EXPECT_EQ(throttle.size(), 0U) << "a refused attempt is not counted";
  release.set_value();
  runner.join();
  EXPECT_EQ(login(ctx, "pw").status, LoginStatus::kOk);
}

// Six wrong guesses from addresses of one IPv6 /64 are six guesses from one client.
TEST_F(LoginTest, IPv6ClientsAreThrottledByTheirSlash64) {
  KdfPool kdf(1, 4);
  auto ctx = context(kdf);
  for (int i = 1; i <= 6; ++i) {
    EXPECT_EQ(login(ctx, "wrong", "2001:db8:1:2::" + std::to_string(i)).status,
              LoginStatus::kFailed);
  }
  EXPECT_EQ(login(ctx, "pw", "2001:db8:1:2:ffff::7").status, LoginStatus::kThrottled);
  EXPECT_EQ(login(ctx, "pw", "2001:db8:1:3::1").status, LoginStatus::kOk) << "another /64";
}

}  // namespace
}  // namespace sealpost::access

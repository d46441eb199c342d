#include "dns/resolver.hpp"

#include <array>
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace sealpost::dns {
namespace {

namespace asio = boost::asio;

// A UDP port on 127.0.0.1 that is ours and never answers: every query must time out.
class SilentServer {
 public:
  explicit SilentServer(asio::io_context& io)
      : socket_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  Endpoint endpoint() const { return Endpoint{"127.0.0.1", socket_.local_endpoint().port()}; }
  // Whether a query came (it is never read): loopback delivers a datagram before send() returns.
  bool received_anything() const { return socket_.available() > 0; }
  // Reads every query waiting and says how many there were (each answered by silence).
  std::size_t drain() {
    std::size_t n = 0;
    std::array<char, 4096> buf{};
    boost::system::error_code ec;
    socket_.non_blocking(true);
    while (socket_.receive(asio::buffer(buf), 0, ec), !ec) ++n;
    return n;
  }

 private:
  asio::ip::udp::socket socket_;
};

TEST(ResolverTest, UnansweredQueriesTimeOutAsTemporaryFailures) {
  asio::io_context io;
  SilentServer silent(io);
  Resolver::Options options;
  options.servers = {silent.endpoint()};
  options.timeout = std::chrono::milliseconds(300);
  auto resolver = Resolver::create(io.get_executor(), options);

  constexpr int kQueries = 50;
  int done = 0;
  int temp_failures = 0;
  std::size_t sent_before_first_answer = 0;
  for (int i = 0; i < kQueries; ++i) {
    asio::co_spawn(io, resolver->mx("host" + std::to_string(i) + ".example.test"),
                   [&](const std::exception_ptr& e, const Answer<MxHost>& a) {
                     if (done == 0) sent_before_first_answer = silent.drain();
                     if (!e && a.status == Status::kTempFail && a.records.empty()) ++temp_failures;
                     if (++done == kQueries)
                       io.stop();  // the resolver itself keeps the context busy
                   });
  }
  io.run_for(std::chrono::seconds(60));
  EXPECT_EQ(done, kQueries);
  EXPECT_EQ(temp_failures, kQueries);
  // Concurrent, each bounded by its own timeout: several queries were on the wire before the
  // first one timed out (one after another, the first would have timed out alone; libunbound
  // keeps a bounded number in flight, 16 here).
  EXPECT_GE(sent_before_first_answer, 2U);
}

TEST(ResolverTest, InvalidNamesAreNotQueried) {
  asio::io_context io;
  SilentServer silent(io);
  Resolver::Options options;
  options.servers = {silent.endpoint()};
  options.timeout = std::chrono::seconds(60);  // a query would hold the answer past run_for
  auto resolver = Resolver::create(io.get_executor(), options);
  Status status = Status::kOk;
  asio::co_spawn(io, resolver->mx("bad..name"),
                 [&](const std::exception_ptr&, const Answer<MxHost>& a) {
                   status = a.status;
                   io.stop();
                 });
  io.run_for(std::chrono::seconds(30));
  // Answered without asking: the silent server, which could only have let it time out, got
  // nothing.
  EXPECT_EQ(status, Status::kNoData);
  EXPECT_FALSE(silent.received_anything());
}

}  // namespace
}  // namespace sealpost::dns

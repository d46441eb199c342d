#include "dns/resolver.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

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

// A UDP port on 127.0.0.1 that answers every query with NXDOMAIN and the SOA of its zone, whose
// minimum gives the negative answer's TTL (RFC 2308 section 5), as a blocklist's server answers
// for an address it does not list.
class NxDomainServer {
 public:
  explicit NxDomainServer(asio::io_context& io)
      : socket_(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    serve();
  }
  Endpoint endpoint() const { return Endpoint{"127.0.0.1", socket_.local_endpoint().port()}; }
  int answered() const { return answered_; }

 private:
  void serve() {
    socket_.async_receive_from(asio::buffer(query_), peer_, [this](auto ec, std::size_t n) {
      if (ec) return;
      // The header (12 octets) and the question (its name, type and class) come back as they
      // came, the flags saying "response, recursion available, NXDOMAIN", one authority record.
      std::size_t end = 12;
      while (end < n && query_[end] != 0) end += query_[end] + 1;
      end += 5;
      if (n >= 12 && end <= n) {
        std::vector<std::uint8_t> reply(query_.begin(), query_.begin() + end);
        reply[2] = 0x81;  // QR, RD
        reply[3] = 0x83;  // RA, rcode 3
        reply[6] = reply[7] = reply[8] = reply[10] = reply[11] = 0;
        reply[9] = 1;  // NSCOUNT
        // test. SOA (a pointer to "test" in the question's name is not worth it: written out)
        const std::uint8_t soa[] = {
            4, 't', 'e', 's', 't', 0,   0,   6,   0,   1, 0,  0,   1, 44,  // TTL 300
            0, 30,                                                         // RDLENGTH
            2, 'n', 's', 0,   4,   'h', 'o', 's', 't', 0,                  // MNAME, RNAME
            0, 0,   0,   1,                                                // serial
            0, 0,   14,  16,  0,   0,   7,   8,   0,   9, 58, 128,         // refresh, retry, expire
            0, 0,   1,   44};                                              // minimum 300
        reply.insert(reply.end(), std::begin(soa), std::end(soa));
        ++answered_;
        socket_.send_to(asio::buffer(reply), peer_);
      }
      serve();
    });
  }

  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint peer_;
  std::array<std::uint8_t, 512> query_{};
  int answered_ = 0;
};

TEST(ResolverTest, NegativeAnswersAreKeptForTheirTtl) {
  asio::io_context io;
  NxDomainServer server(io);
  Resolver::Options options;
  options.servers = {server.endpoint()};
  auto resolver = Resolver::create(io.get_executor(), options);
  std::vector<Answer<asio::ip::address_v4>> answers;
  EXPECT_EQ(resolver->known_a("2.0.0.127.bl.test"), std::nullopt);  // not asked yet
  // One after another: the second is asked once the first has its answer.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) answers.push_back(co_await resolver->a("2.0.0.127.bl.test"));
      },
      [&](const std::exception_ptr&) { io.stop(); });
  io.run_for(std::chrono::seconds(30));
  ASSERT_EQ(answers.size(), 3U);
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, Status::kNxDomain);
    EXPECT_GT(a.ttl, 0U);
    EXPECT_LE(a.ttl, 300U);
  }
  // Only the first went to libunbound (and to the server); the others came from the cache,
  // which also answers without a wait.
  EXPECT_EQ(resolver->queries_sent(), 1U);
  EXPECT_EQ(server.answered(), 1);
  const auto known = resolver->known_a("2.0.0.127.BL.test");
  ASSERT_TRUE(known);
  EXPECT_EQ(known->status, Status::kNxDomain);
  EXPECT_EQ(resolver->known_a("3.0.0.127.bl.test"), std::nullopt);
  EXPECT_EQ(resolver->known_a("bad..name")->status, Status::kNoData);  // never asked
}

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

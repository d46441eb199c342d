// The client's side of the INSTREAM conversation, against a stand-in for clamd on a unix socket
// and on 127.0.0.1 that does what each test needs, including what a broken daemon does: never
// answer, stop reading, answer without end. tests/integration/test_clamd.py scans with the real
// clamd.
#include "filter/clamd.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Status = ClamdResult::Status;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A directory of its own for a unix socket (short, unlike the test's name: a socket's path is at
// most 107 octets), removed at the end.
class SocketDir {
 public:
  SocketDir() {
    std::string name = (std::filesystem::temp_directory_path() / "clamd-test-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) throw std::system_error(errno, std::generic_category());
    path_ = name;
  }
  ~SocketDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;
  [[nodiscard]] std::string socket(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

enum class Peer : std::uint8_t {
  kAnswers,           // reads the whole stream, then answers
  kAnswersEarly,      // reads the command and one chunk, answers and closes (StreamMaxLength)
  kNeverAnswers,      // reads the whole stream, then waits for the client to go
  kStopsReading,      // takes the connection and reads nothing
  kAnswersEndlessly,  // reads the whole stream, then writes without a NUL
  kCloses,            // closes at once
};

// What the stand-in received.
struct Received {
  std::string command;
  std::vector<std::size_t> chunks;  // each chunk's length, the terminating 0 included
  std::string message;
};

template <class Socket>
asio::awaitable<bool> read_stream(Socket& socket, Received& got, bool one_chunk) {
  std::array<char, 10> command{};
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(command), kNoThrow);
  if (ec) co_return false;
  got.command.assign(command.data(), command.size());
  for (;;) {
    std::array<std::uint8_t, 4> length{};
    std::tie(ec, n) = co_await asio::async_read(socket, asio::buffer(length), kNoThrow);
    if (ec) co_return false;
    const std::size_t size = (std::size_t{length[0]} << 24) | (std::size_t{length[1]} << 16) |
                             (std::size_t{length[2]} << 8) | length[3];
    got.chunks.push_back(size);
    if (size == 0) co_return true;
    std::string data(size, '\0');
    std::tie(ec, n) = co_await asio::async_read(socket, asio::buffer(data), kNoThrow);
    if (ec) co_return false;
    got.message += data;
    if (one_chunk) co_return true;
  }
}

template <class Acceptor>
asio::awaitable<void> stand_in(Acceptor& acceptor, Peer peer, std::string answer, Received& got,
                               std::optional<typename Acceptor::protocol_type::socket>& held) {
  auto [aec, socket] = co_await acceptor.async_accept(kNoThrow);
  if (aec) co_return;
  if (peer == Peer::kCloses) co_return;
  if (peer == Peer::kStopsReading) {
    held.emplace(std::move(socket));  // closed by the test once the client is done
    co_return;
  }
  if (!co_await read_stream(socket, got, peer == Peer::kAnswersEarly)) co_return;
  answer.push_back('\0');
  if (peer == Peer::kAnswers || peer == Peer::kAnswersEarly) {
    co_await asio::async_write(socket, asio::buffer(answer), kNoThrow);
  } else if (peer == Peer::kNeverAnswers) {
    std::array<char, 64> buf{};
    co_await socket.async_read_some(asio::buffer(buf), kNoThrow);  // until the client goes
  } else {
    const std::string text(1000, 'x');
    for (;;) {
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(text), kNoThrow);
      if (ec) break;
    }
  }
}

struct Scan {
  ClamdResult result;
  Received received;
};

// One scan against the stand-in, over TCP or a unix socket.
class ClamdClientTest : public ::testing::TestWithParam<bool> {
 protected:
  Scan scan(Peer peer, std::string_view message, const std::string& answer = "stream: OK",
            std::chrono::milliseconds timeout = 10s) {
    const SocketDir dir;
    asio::io_context io;
    Scan out;
    ClamdSettings settings;
    settings.timeout = timeout;
    std::optional<asio::ip::tcp::socket> held_tcp;
    std::optional<asio::local::stream_protocol::socket> held_local;
    std::optional<asio::ip::tcp::acceptor> tcp;
    std::optional<asio::local::stream_protocol::acceptor> local;
    if (GetParam()) {
      tcp.emplace(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      settings.socket = "127.0.0.1:" + std::to_string(tcp->local_endpoint().port());
      asio::co_spawn(io, stand_in(*tcp, peer, answer, out.received, held_tcp), asio::detached);
    } else {
      settings.socket = dir.socket("clamd.sock");
      local.emplace(io, asio::local::stream_protocol::endpoint(settings.socket));
      asio::co_spawn(io, stand_in(*local, peer, answer, out.received, held_local), asio::detached);
    }
    bool done = false;
    asio::co_spawn(io, scan_with_clamd(settings, message),
                   [&](const std::exception_ptr& e, ClamdResult r) {
                     done = !e;
                     out.result = std::move(r);
                     held_tcp.reset();
                     held_local.reset();
                   });
    io.run_for(60s);
    EXPECT_TRUE(done) << "the scan did not end";
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Sockets, ClamdClientTest, ::testing::Values(false, true),
                         [](const auto& param) { return param.param ? "Tcp" : "Unix"; });

TEST_P(ClamdClientTest, StreamsTheMessageInChunksOfAtMost64KiB) {
  std::string message;
  for (int i = 0; message.size() < 200'000; ++i) message += "line " + std::to_string(i) + "\r\n";
  const auto s = scan(Peer::kAnswers, message);
  EXPECT_EQ(s.result.status, Status::kClean) << s.result.reason;
  EXPECT_EQ(s.received.command, std::string("zINSTREAM\0", 10));
  EXPECT_EQ(s.received.message, message);
  ASSERT_EQ(s.received.chunks.size(), 5U);
  EXPECT_EQ(s.received.chunks.front(), 65536U);
  EXPECT_EQ(s.received.chunks.back(), 0U);
}

TEST_P(ClamdClientTest, AnEmptyMessageIsJustTheEndOfTheStream) {
  const auto s = scan(Peer::kAnswers, "");
  EXPECT_EQ(s.result.status, Status::kClean);
  EXPECT_EQ(s.received.chunks, std::vector<std::size_t>{0});
}

TEST_P(ClamdClientTest, ReportsTheVirusClamdFound) {
  const auto s = scan(Peer::kAnswers, "Subject: x\r\n\r\nbad\r\n", "stream: Test.Sig FOUND");
  EXPECT_EQ(s.result.status, Status::kVirus);
  EXPECT_EQ(s.result.signature, "Test.Sig");
}

TEST_P(ClamdClientTest, ReadsTheAnswerClamdGivesBeforeTheEndOfAnOversizedMessage) {
  const std::string message(std::size_t{4} << 20, 'a');
  const auto s = scan(Peer::kAnswersEarly, message, "INSTREAM size limit exceeded. ERROR");
  EXPECT_EQ(s.result.status, Status::kUnavailable);
  // clamd closes its end while the rest is being sent: the answer, or at least the failure.
  if (s.result.reason != "the message is larger than clamd's StreamMaxLength") {
    EXPECT_EQ(s.result.reason.rfind("clamd closed the connection", 0), 0U) << s.result.reason;
  }
}

TEST_P(ClamdClientTest, GivesUpWhenClamdNeverAnswers) {
  const auto s = scan(Peer::kNeverAnswers, "Subject: x\r\n\r\nhello\r\n", "", 300ms);
  EXPECT_EQ(s.result.status, Status::kUnavailable);
  EXPECT_EQ(s.result.reason, "clamd did not answer within 300 ms");
}

TEST_P(ClamdClientTest, GivesUpWhenClamdStopsReading) {
  // More than the sockets' buffers hold: the client waits to send until its deadline.
  const std::string message(std::size_t{32} << 20, 'a');
  const auto s = scan(Peer::kStopsReading, message, "", 500ms);
  EXPECT_EQ(s.result.status, Status::kUnavailable);
  EXPECT_EQ(s.result.reason, "clamd did not answer within 500 ms");
}

TEST_P(ClamdClientTest, ReadsABoundedAnswer) {
  const auto s = scan(Peer::kAnswersEndlessly, "Subject: x\r\n\r\nhello\r\n");
  EXPECT_EQ(s.result.status, Status::kUnavailable);
  EXPECT_EQ(s.result.reason, "clamd's answer is too long");
}

TEST_P(ClamdClientTest, AConnectionClosedWithoutAnAnswerIsUnavailable) {
  const auto s = scan(Peer::kCloses, "Subject: x\r\n\r\nhello\r\n");
  EXPECT_EQ(s.result.status, Status::kUnavailable);
  EXPECT_EQ(s.result.reason.rfind("clamd closed the connection", 0), 0U) << s.result.reason;
}

ClamdResult scan_alone(const ClamdSettings& settings) {
  asio::io_context io;
  ClamdResult result;
  asio::co_spawn(io, scan_with_clamd(settings, "Subject: x\r\n\r\nhello\r\n"),
                 [&](const std::exception_ptr&, ClamdResult r) { result = std::move(r); });
  io.run_for(60s);
  return result;
}

TEST(ClamdTest, NothingListeningIsUnavailable) {
  const SocketDir dir;
  ClamdSettings settings;
  settings.socket = dir.socket("absent.sock");
  auto r = scan_alone(settings);
  EXPECT_EQ(r.status, Status::kUnavailable);
  EXPECT_EQ(r.reason.rfind("cannot connect to " + settings.socket + ": ", 0), 0U) << r.reason;

  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor closed(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  settings.socket = "127.0.0.1:" + std::to_string(port);
  r = scan_alone(settings);
  EXPECT_EQ(r.status, Status::kUnavailable);
  EXPECT_EQ(r.reason.rfind("cannot connect to 127.0.0.1:", 0), 0U) << r.reason;
}

TEST(ClamdTest, NoSocketMeansNoScan) {
  EXPECT_EQ(scan_alone(ClamdSettings{}).reason, "no clamd socket configured");
  ClamdSettings bad;
  bad.socket = "clamd";
  EXPECT_EQ(scan_alone(bad).reason, "not a socket path or IP:PORT: clamd");
}

TEST(ClamdTest, SettingsComeFromTheFilterSection) {
  core::Filter filter;
  EXPECT_EQ(clamd_settings(filter).socket, "/run/clamav/clamd.ctl");
  EXPECT_EQ(clamd_settings(filter).timeout, 30s);
  EXPECT_TRUE(clamd_settings(filter).tempfail_when_unavailable);
  filter.clamd = "127.0.0.1:3310";
  filter.clamd_timeout = 5s;
  filter.clamd_unavailable = "accept";
  const auto s = clamd_settings(filter);
  EXPECT_EQ(s.socket, "127.0.0.1:3310");
  EXPECT_EQ(s.timeout, 5s);
  EXPECT_FALSE(s.tempfail_when_unavailable);
}

}  // namespace
}  // namespace sealpost::filter

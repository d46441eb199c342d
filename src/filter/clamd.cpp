#include "filter/clamd.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <tuple>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <sys/un.h>

#include "core/endpoint.hpp"

namespace sealpost::filter {
namespace {

namespace asio = boost::asio;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// clamd's own clients (clamdscan) send chunks of this size or less.
constexpr std::size_t kChunk = std::size_t{64} * 1024;

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// The command, the chunks and the terminating empty chunk, then the answer up to its NUL. A
// failure to send is not the end: clamd stops reading and answers when the stream passes its
// StreamMaxLength, and that answer says why.
template <class Socket>
asio::awaitable<ClamdResult> converse(Socket& socket, std::string_view message) {
  static constexpr char kCommand[] = "zINSTREAM";  // with its NUL
  boost::system::error_code ec;
  std::tie(ec, std::ignore) = co_await asio::async_write(socket, asio::buffer(kCommand), kNoThrow);
  for (std::size_t at = 0; !ec;) {
    const std::size_t n = std::min(kChunk, message.size() - at);
    const auto size = static_cast<std::uint32_t>(n);
    const std::array<std::uint8_t, 4> length{
        static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
        static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
    const std::array<asio::const_buffer, 2> chunk{asio::buffer(length),
                                                  asio::buffer(message.data() + at, n)};
    std::tie(ec, std::ignore) = co_await asio::async_write(socket, chunk, kNoThrow);
    if (n == 0) break;
    at += n;
  }
  if (ec == asio::error::operation_aborted) co_return ClamdResult::unavailable("cancelled");

  std::string reply;
  std::array<char, 1024> buf{};
  for (;;) {
    auto [rec, got] = co_await socket.async_read_some(asio::buffer(buf), kNoThrow);
    reply.append(buf.data(), got);
    if (const auto nul = reply.find('\0'); nul != std::string::npos) {
      reply.resize(nul);
      co_return parse_clamd_reply(reply);
    }
    if (reply.size() > kMaxClamdReply) {
      co_return ClamdResult::unavailable("clamd's answer is too long");
    }
    if (rec) {
      if (ec) co_return ClamdResult::unavailable("clamd closed the connection during the message");
      co_return ClamdResult::unavailable(reply.empty()
                                             ? "clamd closed the connection without an answer"
                                             : "clamd's answer was cut short");
    }
  }
}

asio::awaitable<ClamdResult> scan_one(const ClamdSettings& settings, std::string_view message) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string& where = settings.socket;
  if (where.starts_with('/')) {
    if (where.size() >= sizeof(sockaddr_un::sun_path)) {
      co_return ClamdResult::unavailable("the socket path is too long: " + where);
    }
    asio::local::stream_protocol::socket socket(executor);
    auto [ec] =
        co_await socket.async_connect(asio::local::stream_protocol::endpoint(where), kNoThrow);
    if (ec) co_return ClamdResult::unavailable("cannot connect to " + where + ": " + ec.message());
    co_return co_await converse(socket, message);
  }
  const auto endpoint = parse_endpoint(where);
  boost::system::error_code aec;
  const auto address = endpoint ? asio::ip::make_address(endpoint->host, aec) : asio::ip::address();
  if (!endpoint || aec) {
    co_return ClamdResult::unavailable("not a socket path or IP:PORT: " + where);
  }
  asio::ip::tcp::socket socket(executor);
  auto [ec] =
      co_await socket.async_connect(asio::ip::tcp::endpoint(address, endpoint->port), kNoThrow);
  if (ec) co_return ClamdResult::unavailable("cannot connect to " + where + ": " + ec.message());
  co_return co_await converse(socket, message);
}

// One file after another, on a connection of its own each (a unix socket costs little).
asio::awaitable<ClamdResult> scan_all(const ClamdSettings& settings,
                                      const std::vector<std::string_view>& files) {
  for (const auto file : files) {
    ClamdResult result = co_await scan_one(settings, file);
    if (result.status != ClamdResult::Status::kClean) co_return result;
  }
  co_return ClamdResult::clean();
}

}  // namespace

ClamdSettings clamd_settings(const core::Filter& filter) {
  ClamdSettings s;
  s.socket = filter.clamd;
  s.timeout = filter.clamd_timeout;
  s.tempfail_when_unavailable = filter.clamd_unavailable != "accept";
  s.whole_message = filter.clamd_scan == "message";
  return s;
}

std::vector<std::string_view> clamd_input(const ClamdSettings& settings, std::string_view raw,
                                          const MessageScan* scan) {
  if (settings.whole_message || scan == nullptr || !scan->virus_scan_complete) return {raw};
  return {scan->virus_scan.begin(), scan->virus_scan.end()};
}

asio::awaitable<ClamdResult> scan_with_clamd(const ClamdSettings& settings,
                                             std::string_view message) {
  std::vector<std::string_view> files{message};  // (g++ 12 takes no braced list in co_await)
  co_return co_await scan_files_with_clamd(settings, std::move(files));
}

asio::awaitable<ClamdResult> scan_files_with_clamd(const ClamdSettings& settings,
                                                   std::vector<std::string_view> files) {
  if (settings.socket.empty()) co_return ClamdResult::unavailable("no clamd socket configured");
  if (files.empty()) co_return ClamdResult::clean();  // nothing to send
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer deadline(co_await asio::this_coro::executor, settings.timeout);
  std::variant<ClamdResult, std::monostate> outcome;
  bool failed = false;
  try {
    outcome = co_await (scan_all(settings, files) || deadline.async_wait(asio::use_awaitable));
  } catch (...) {
    // Allocation failures, and the timer's wait when the caller cancels the scan.
    failed = true;
  }
  if (failed) co_return ClamdResult::unavailable("the scan failed");
  if (outcome.index() == 0) co_return std::get<0>(std::move(outcome));
  co_return ClamdResult::unavailable("clamd did not answer within " +
                                     duration_text(settings.timeout));
}

}  // namespace sealpost::filter

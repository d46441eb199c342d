#include "smtp/client/relay_client.hpp"

#include <array>
#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/stream.hpp"
#include "net/watchdog.hpp"
#include "smtp/protocol/data_writer.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
using protocol::ServerReply;

ServerReply local_reply(int code, std::string_view enhanced, std::string_view text) {
  ServerReply r;
  r.code = code;
  r.enhanced = std::string(enhanced);
  r.lines.push_back(std::string(enhanced) + " " + std::string(text));
  return r;
}

namespace {

// The connection and its watchdog share ownership so the watchdog can outlive an early return.
struct Connection {
  explicit Connection(const asio::any_io_executor& ex)
      : stream(asio::ip::tcp::socket(ex)), dog(ex) {}
  net::Stream stream;
  net::Watchdog dog;
  std::string in;
  bool broken = false;
  std::string failure;  // why the connection failed, for the local reply

  asio::awaitable<bool> read_reply(ServerReply& reply) {
    while (true) {
      std::size_t used = 0;
      switch (protocol::parse_reply(in, reply, used)) {
        case protocol::ReplyParse::kComplete:
          in.erase(0, used);
          co_return true;
        case protocol::ReplyParse::kMalformed:
          failure = "malformed reply from destination";
          broken = true;
          co_return false;
        case protocol::ReplyParse::kNeedMore:
          break;
      }
      std::array<char, 4096> buf;
      boost::system::error_code ec;
      const std::size_t n = co_await stream.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) {
        failure = dog.expired() ? "timeout waiting for destination" : "connection lost";
        broken = true;
        co_return false;
      }
      in.append(buf.data(), n);
    }
  }

  asio::awaitable<bool> send(std::string_view a, std::string_view b = {}) {
    boost::system::error_code ec;
    if (b.empty()) {
      co_await stream.write(a, ec);
    } else {
      co_await stream.write(a, b, ec);
    }
    if (ec) {
      failure = dog.expired() ? "timeout writing to destination" : "connection lost";
      broken = true;
    }
    co_return !ec;
  }
};

std::string mail_command(const RelayEnvelope& env, const ServerReply& ehlo, std::size_t size) {
  std::string cmd = "MAIL FROM:<" + env.mail_from + ">";
  if (ehlo.has_extension("SIZE")) cmd += " SIZE=" + std::to_string(size);
  if (env.eightbit && ehlo.has_extension("8BITMIME")) cmd += " BODY=8BITMIME";
  if (env.smtputf8) cmd += " SMTPUTF8";
  cmd += "\r\n";
  return cmd;
}

// The largest size the remote declared in "SIZE n", or 0 when it declared none.
std::uint64_t declared_size_limit(const ServerReply& ehlo) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    const std::string& l = ehlo.lines[i];
    if (l.size() > 5 && (l.compare(0, 5, "SIZE ") == 0 || l.compare(0, 5, "size ") == 0)) {
      try {
        return std::stoull(l.substr(5));
      } catch (...) {
        return 0;
      }
    }
  }
  return 0;
}

RelayOutcome all_recipients(const RelayEnvelope& env, const ServerReply& reply, bool next) {
  RelayOutcome out;
  out.try_next_host = next;
  out.per_recipient.assign(env.recipients.size(), reply);
  return out;
}

// Keeps the connection alive while its watchdog runs. (A plain function: g++ 12 mishandles
// capturing lambdas in co_await expressions.)
asio::awaitable<void> watch(std::shared_ptr<Connection> conn) {
  co_await conn->dog.run(conn->stream);
}

}  // namespace

asio::awaitable<RelayOutcome> relay_once(const RelayTarget& target, const RelaySettings& settings,
                                         const RelayEnvelope& env, const RelayMessage& message,
                                         bool use_tls) {
  const auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_shared<Connection>(ex);
  asio::co_spawn(ex, watch(conn), asio::detached);
  struct Stopper {
    std::shared_ptr<Connection> c;
    ~Stopper() {
      c->dog.stop();
      c->stream.close();
    }
  } stopper{conn};

  const auto fail_host = [&](std::string_view text) {
    return all_recipients(env, local_reply(451, "4.4.1", text), /*next=*/true);
  };

  conn->dog.arm_for(settings.connect_timeout);
  const asio::ip::tcp::endpoint ep(target.address, target.port);
  auto [cec] =
      co_await conn->stream.socket().async_connect(ep, asio::as_tuple(asio::use_awaitable));
  if (cec)
    co_return fail_host(conn->dog.expired() ? "Connection to destination timed out"
                                            : "Connection to destination failed");
  conn->stream.socket().set_option(asio::ip::tcp::no_delay(true));

  ServerReply reply;
  conn->dog.arm_for(settings.command_timeout);
  if (!co_await conn->read_reply(reply)) co_return fail_host(conn->failure);
  if (reply.code != 220) co_return fail_host("Destination refused the connection");

  ServerReply ehlo;
  const std::string ehlo_cmd = "EHLO " + settings.helo_name + "\r\n";
  if (!co_await conn->send(ehlo_cmd) || !co_await conn->read_reply(ehlo)) {
    co_return fail_host(conn->failure);
  }
  if (ehlo.code != 250) {
    if (env.smtputf8 || env.eightbit) co_return fail_host("Destination does not speak ESMTP");
    if (!co_await conn->send("HELO " + settings.helo_name + "\r\n") ||
        !co_await conn->read_reply(ehlo)) {
      co_return fail_host(conn->failure);
    }
    if (ehlo.code != 250) co_return fail_host("Destination refused our greeting");
    ehlo.lines.resize(1);  // HELO: no extensions
  }

  if (use_tls && settings.tls && ehlo.has_extension("STARTTLS")) {
    if (!co_await conn->send("STARTTLS\r\n") || !co_await conn->read_reply(reply)) {
      co_return fail_host(conn->failure);
    }
    if (reply.code == 220) {
      if (!conn->in.empty()) co_return fail_host("Destination sent data before TLS");
      boost::system::error_code ec;
      co_await conn->stream.handshake_client(*settings.tls, target.host_name, ec);
      if (ec) {
        RelayOutcome out = fail_host("TLS handshake with destination failed");
        out.tls_failed = true;
        co_return out;
      }
      if (!co_await conn->send(ehlo_cmd) || !co_await conn->read_reply(ehlo)) {
        co_return fail_host(conn->failure);
      }
      if (ehlo.code != 250) co_return fail_host("Destination refused EHLO after STARTTLS");
    }
  }

  if (env.smtputf8 && !ehlo.has_extension("SMTPUTF8")) {
    // RFC 6531 section 3.4: without SMTPUTF8 at the next hop the message cannot go on.
    co_return all_recipients(
        env, local_reply(553, "5.6.7", "Destination does not support internationalised addresses"),
        false);
  }
  const std::uint64_t limit = declared_size_limit(ehlo);
  if (limit > 0 && message.size() > limit) {
    co_return all_recipients(env, local_reply(552, "5.3.4", "Message too large for destination"),
                             false);
  }

  const bool pipelining = ehlo.has_extension("PIPELINING");
  const bool chunking = ehlo.has_extension("CHUNKING");
  const std::string mail = mail_command(env, ehlo, message.size());
  std::vector<std::string> rcpts;
  rcpts.reserve(env.recipients.size());
  for (const auto& r : env.recipients) rcpts.push_back("RCPT TO:<" + r + ">\r\n");

  RelayOutcome out;
  out.per_recipient.resize(env.recipients.size());
  std::size_t accepted = 0;
  bool data_sent = false;

  if (pipelining) {
    std::string batch = mail;
    for (const auto& r : rcpts) batch += r;
    if (!chunking) {
      batch += "DATA\r\n";
      data_sent = true;
    }
    if (!co_await conn->send(batch)) co_return fail_host(conn->failure);
  }
  if (!pipelining && !co_await conn->send(mail)) co_return fail_host(conn->failure);
  ServerReply mail_reply;
  if (!co_await conn->read_reply(mail_reply)) co_return fail_host(conn->failure);
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    if (!pipelining) {
      if (!mail_reply.positive()) break;
      if (!co_await conn->send(rcpts[i])) co_return fail_host(conn->failure);
    }
    if (!co_await conn->read_reply(out.per_recipient[i])) co_return fail_host(conn->failure);
    if (out.per_recipient[i].positive()) ++accepted;
  }
  if (!mail_reply.positive()) {
    if (data_sent) (void)co_await conn->read_reply(reply);
    (void)co_await conn->send("QUIT\r\n");
    // A temporary refusal of the sender may be this host's problem: let the caller try another.
    co_return all_recipients(env, mail_reply, mail_reply.transient());
  }

  if (accepted == 0) {
    if (data_sent) (void)co_await conn->read_reply(reply);
    (void)co_await conn->send("QUIT\r\n");
    co_return out;
  }

  // The transfer itself may take a while for a large message: allow ten command timeouts.
  conn->dog.arm_for(settings.command_timeout * 10);
  ServerReply final_reply;
  if (chunking) {
    const std::string bdat = "BDAT " + std::to_string(message.size()) + " LAST\r\n";
    std::string head = bdat;
    head += message.trace;
    if (!co_await conn->send(head, message.content)) co_return fail_host(conn->failure);
  } else {
    if (!data_sent && !co_await conn->send("DATA\r\n")) co_return fail_host(conn->failure);
    if (!co_await conn->read_reply(reply)) co_return fail_host(conn->failure);
    if (reply.code != 354) {
      (void)co_await conn->send("QUIT\r\n");
      for (auto& r : out.per_recipient) {
        if (r.positive()) r = reply;
      }
      co_return out;
    }
    std::string head(message.trace);
    if (protocol::needs_dot_stuffing(message.content)) {
      std::string stuffed;
      protocol::append_dot_stuffed(message.content, true, stuffed);
      stuffed += protocol::end_of_data(message.content);
      if (!co_await conn->send(head, stuffed)) co_return fail_host(conn->failure);
    } else {
      if (!co_await conn->send(head, message.content) ||
          !co_await conn->send(protocol::end_of_data(message.content))) {
        co_return fail_host(conn->failure);
      }
    }
  }
  conn->dog.arm_for(settings.command_timeout);
  if (!co_await conn->read_reply(final_reply)) {
    // No answer after the data: the message may or may not have been taken. Report a
    // temporary failure so the sender retries (RFC 5321 section 4.1.1.4 / 6.1).
    for (auto& r : out.per_recipient) {
      if (r.positive()) r = local_reply(451, "4.4.2", "Connection lost after data transfer");
    }
    co_return out;
  }
  for (auto& r : out.per_recipient) {
    if (r.positive()) r = final_reply;
  }
  conn->dog.arm_for(std::chrono::seconds(5));
  if (co_await conn->send("QUIT\r\n")) (void)co_await conn->read_reply(reply);
  co_return out;
}

}  // namespace sealpost::smtp::client

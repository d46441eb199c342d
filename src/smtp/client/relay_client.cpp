#include "smtp/client/relay_client.hpp"

#include <array>
#include <mutex>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "net/stream.hpp"
#include "net/tls.hpp"
#include "net/watchdog.hpp"
#include "smtp/protocol/data_writer.hpp"

namespace sealpost::smtp::client {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using protocol::ServerReply;

ServerReply local_reply(int code, std::string_view enhanced, std::string_view text) {
  ServerReply r;
  r.code = code;
  r.enhanced = std::string(enhanced);
  r.lines.push_back(std::string(enhanced) + " " + std::string(text));
  return r;
}

namespace {

// One connection to one host, used by one transaction at a time, on its own strand (a pooled
// connection serves sessions running on other strands).
struct Connection {
  explicit Connection(const asio::any_io_executor& ex)
      : strand(asio::make_strand(ex)), stream(asio::ip::tcp::socket(strand)), dog(strand) {}

  asio::strand<asio::any_io_executor> strand;
  net::Stream stream;
  net::Watchdog dog;
  std::string in;
  ServerReply ehlo;  // the capabilities the host announced
  std::string failure;
  std::string tls_failure;  // TLS-RPT result type when required TLS could not be had

  asio::awaitable<bool> read_reply(ServerReply& reply) {
    while (true) {
      std::size_t used = 0;
      switch (protocol::parse_reply(in, reply, used)) {
        case protocol::ReplyParse::kComplete:
          in.erase(0, used);
          co_return true;
        case protocol::ReplyParse::kMalformed:
          failure = "Malformed reply from destination";
          co_return false;
        case protocol::ReplyParse::kNeedMore:
          break;
      }
      std::array<char, 4096> buf;
      boost::system::error_code ec;
      const std::size_t n = co_await stream.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) {
        failure =
            dog.expired() ? "Timeout waiting for destination" : "Connection to destination lost";
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
    if (ec)
      failure = dog.expired() ? "Timeout writing to destination" : "Connection to destination lost";
    co_return !ec;
  }

  void close() {
    dog.stop();
    stream.close();
  }
};

// Keeps the connection alive while its watchdog runs. (A plain function: g++ 12 double-frees
// the captures of a lambda that appears in a co_await expression.)
asio::awaitable<void> watch(std::shared_ptr<Connection> conn) {
  co_await conn->dog.run(conn->stream);
}

RelayOutcome all_recipients(const RelayEnvelope& env, const ServerReply& reply, bool next) {
  RelayOutcome out;
  out.try_next_host = next;
  out.per_recipient.assign(env.recipients.size(), reply);
  return out;
}

// Failures of required TLS: RFC 3463 X.7.5 ("cryptographic failure"), as Postfix words them;
// temporary, so the message waits for the destination to be fixed.
constexpr std::string_view kTlsRequired = "TLS is required, but was not offered by the host";
constexpr std::string_view kTlsNotVerified = "Server certificate not verified";

RelayOutcome host_failure(const RelayEnvelope& env, std::string_view text) {
  if (text == kTlsRequired || text == kTlsNotVerified) {
    return all_recipients(env, local_reply(451, "4.7.5", text), /*next=*/true);
  }
  return all_recipients(env, local_reply(451, "4.4.1", text), /*next=*/true);
}

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
      std::uint64_t v = 0;
      for (std::size_t k = 5; k < l.size() && k < 25; ++k) {
        if (l[k] < '0' || l[k] > '9') return 0;
        v = v * 10 + static_cast<std::uint64_t>(l[k] - '0');
      }
      return v;
    }
  }
  return 0;
}

// Connect, greeting, EHLO (HELO as a fallback), STARTTLS when offered and wanted. Returns the
// failure text, or empty on success.
asio::awaitable<std::string> establish(Connection& conn, const RelayTarget& target,
                                       const RelaySettings& settings, TlsMode mode,
                                       bool& tls_failed) {
  conn.dog.arm_for(settings.connect_timeout);
  const asio::ip::tcp::endpoint ep(target.address, target.port);
  auto [cec] = co_await conn.stream.socket().async_connect(ep, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    co_return conn.dog.expired() ? "Connection to destination timed out"
                                 : "Connection to destination failed";
  }
  conn.stream.socket().set_option(asio::ip::tcp::no_delay(true));

  ServerReply reply;
  conn.dog.arm_for(settings.command_timeout);
  if (!co_await conn.read_reply(reply)) co_return conn.failure;
  if (reply.code != 220) co_return "Destination refused the connection";

  const std::string ehlo_cmd = "EHLO " + settings.helo_name + "\r\n";
  if (!co_await conn.send(ehlo_cmd) || !co_await conn.read_reply(conn.ehlo)) co_return conn.failure;
  if (conn.ehlo.code != 250) {
    if (!co_await conn.send("HELO " + settings.helo_name + "\r\n") ||
        !co_await conn.read_reply(conn.ehlo)) {
      co_return conn.failure;
    }
    if (conn.ehlo.code != 250) co_return "Destination refused our greeting";
    conn.ehlo.lines.resize(1);  // HELO: no extensions
  }

  // Verified TLS (MTA-STS enforce or DANE) is required TLS: no STARTTLS, no mail.
  const bool required = mode == TlsMode::kVerified || mode == TlsMode::kDane;
  ssl::context* ctx = mode == TlsMode::kVerified ? settings.verified_tls
                      : mode == TlsMode::kDane   ? settings.dane_tls
                                                 : settings.tls;
  if (required && (!ctx || !conn.ehlo.has_extension("STARTTLS"))) {
    conn.tls_failure = "starttls-not-supported";
    co_return std::string(kTlsRequired);
  }
  if (mode != TlsMode::kNone && ctx && conn.ehlo.has_extension("STARTTLS")) {
    if (!co_await conn.send("STARTTLS\r\n") || !co_await conn.read_reply(reply)) {
      co_return conn.failure;
    }
    if (required && reply.code != 220) {
      conn.tls_failure = "starttls-not-supported";
      co_return std::string(kTlsRequired);
    }
    if (reply.code == 220) {
      if (!conn.in.empty()) co_return "Destination sent data before TLS";
      std::function<bool(SSL*)> prepare;
      if (mode == TlsMode::kVerified) {
        prepare = [&target](SSL* s) { return net::require_host_name(s, target.host_name); };
      } else if (mode == TlsMode::kDane) {
        prepare = [&target](SSL* s) {
          return net::require_dane(s, target.host_name, std::string(), target.tlsa);
        };
      }
      boost::system::error_code ec;
      co_await conn.stream.handshake_client(*ctx, target.host_name, ec, prepare);
      if (ec) {
        tls_failed = true;
        if (required) {
          const long v = conn.stream.tls_verify_result();
          conn.tls_failure = v == X509_V_OK
                                 ? (mode == TlsMode::kDane ? "tlsa-invalid" : "validation-failure")
                                 : std::string(net::verify_failure_kind(v));
          co_return std::string(kTlsNotVerified);
        }
        co_return "TLS handshake with destination failed";
      }
      if (!co_await conn.send(ehlo_cmd) || !co_await conn.read_reply(conn.ehlo)) {
        co_return conn.failure;
      }
      if (conn.ehlo.code != 250) co_return "Destination refused EHLO after STARTTLS";
    }
  }
  co_return std::string();
}

struct Transaction {
  RelayOutcome outcome;
  bool reusable = false;  // the transaction ended cleanly: the connection can take another
  bool stale = false;     // a reused connection had gone away before answering anything
};

// MAIL, RCPTs and the content, pipelined when the host allows; BDAT when it offers CHUNKING.
asio::awaitable<Transaction> transact(Connection& conn, const RelaySettings& settings,
                                      const RelayEnvelope& env, const RelayMessage& message,
                                      bool reused) {
  Transaction t;
  const ServerReply& ehlo = conn.ehlo;
  if (env.smtputf8 && !ehlo.has_extension("SMTPUTF8")) {
    // RFC 6531 section 3.4: without SMTPUTF8 at the next hop the message cannot go on.
    t.outcome = all_recipients(
        env, local_reply(553, "5.6.7", "Destination does not support internationalised addresses"),
        false);
    t.reusable = true;
    co_return t;
  }
  const std::uint64_t limit = declared_size_limit(ehlo);
  if (limit > 0 && message.size() > limit) {
    t.outcome =
        all_recipients(env, local_reply(552, "5.3.4", "Message too large for destination"), false);
    t.reusable = true;
    co_return t;
  }

  conn.dog.arm_for(settings.command_timeout);
  const bool pipelining = ehlo.has_extension("PIPELINING");
  const bool chunking = ehlo.has_extension("CHUNKING");
  const std::string mail = mail_command(env, ehlo, message.size());
  std::vector<std::string> rcpts;
  rcpts.reserve(env.recipients.size());
  for (const auto& r : env.recipients) rcpts.push_back("RCPT TO:<" + r + ">\r\n");

  RelayOutcome& out = t.outcome;
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
    if (!co_await conn.send(batch)) {
      t.stale = reused;
      out = host_failure(env, conn.failure);
      co_return t;
    }
  } else if (!co_await conn.send(mail)) {
    t.stale = reused;
    out = host_failure(env, conn.failure);
    co_return t;
  }
  ServerReply mail_reply;
  if (!co_await conn.read_reply(mail_reply)) {
    t.stale = reused;
    out = host_failure(env, conn.failure);
    co_return t;
  }
  if (reused && mail_reply.code == 421) {
    t.stale = true;  // the host is closing the idle connection: nothing was accepted
    co_return t;
  }
  for (std::size_t i = 0; i < rcpts.size(); ++i) {
    if (!pipelining) {
      if (!mail_reply.positive()) break;
      if (!co_await conn.send(rcpts[i])) co_return Transaction{host_failure(env, conn.failure)};
    }
    if (!co_await conn.read_reply(out.per_recipient[i])) {
      co_return Transaction{host_failure(env, conn.failure)};
    }
    if (out.per_recipient[i].positive()) ++accepted;
  }
  ServerReply reply;
  if (!mail_reply.positive() || accepted == 0) {
    if (data_sent) (void)co_await conn.read_reply(reply);
    if (!mail_reply.positive()) {
      // A temporary refusal of the sender may be this host's problem: let the caller try another.
      out = all_recipients(env, mail_reply, mail_reply.transient());
    }
    co_return t;  // not reusable: the transaction state is unclear to us, start afresh
  }

  // The transfer itself may take a while for a large message: allow ten command timeouts.
  conn.dog.arm_for(settings.command_timeout * 10);
  if (chunking) {
    std::string head = "BDAT " + std::to_string(message.size()) + " LAST\r\n";
    head += message.trace;
    if (!co_await conn.send(head, message.content)) {
      co_return Transaction{host_failure(env, conn.failure)};
    }
  } else {
    if (!data_sent && !co_await conn.send("DATA\r\n")) {
      co_return Transaction{host_failure(env, conn.failure)};
    }
    if (!co_await conn.read_reply(reply)) co_return Transaction{host_failure(env, conn.failure)};
    if (reply.code != 354) {
      for (auto& r : out.per_recipient) {
        if (r.positive()) r = reply;
      }
      co_return t;
    }
    bool sent = false;
    if (protocol::needs_dot_stuffing(message.content)) {
      std::string stuffed;
      protocol::append_dot_stuffed(message.content, true, stuffed);
      stuffed += protocol::end_of_data(message.content);
      sent = co_await conn.send(message.trace, stuffed);
    } else {
      sent = co_await conn.send(message.trace, message.content) &&
             co_await conn.send(protocol::end_of_data(message.content));
    }
    if (!sent) co_return Transaction{host_failure(env, conn.failure)};
  }
  conn.dog.arm_for(settings.command_timeout);
  ServerReply final_reply;
  if (!co_await conn.read_reply(final_reply)) {
    // No answer after the data: the message may or may not have been taken. A temporary
    // failure makes the sender retry (RFC 5321 section 6.1 accepts the rare duplicate).
    for (auto& r : out.per_recipient) {
      if (r.positive()) r = local_reply(451, "4.4.2", "Connection lost after data transfer");
    }
    co_return t;
  }
  for (auto& r : out.per_recipient) {
    if (r.positive()) r = final_reply;
  }
  t.reusable = final_reply.code != 421;
  co_return t;
}

asio::awaitable<Transaction> run_on_connection(std::shared_ptr<Connection> conn, bool fresh,
                                               const RelayTarget& target,
                                               const RelaySettings& settings,
                                               const RelayEnvelope& env,
                                               const RelayMessage& message, TlsMode mode) {
  if (fresh) {
    bool tls_failed = false;
    const std::string failure = co_await establish(*conn, target, settings, mode, tls_failed);
    if (!failure.empty()) {
      Transaction t{host_failure(env, failure)};
      t.outcome.tls_failed = tls_failed;
      t.outcome.tls_failure = conn->tls_failure;
      conn->close();
      co_return t;
    }
  }
  Transaction t = co_await transact(*conn, settings, env, message, !fresh);
  t.outcome.tls = conn->stream.is_tls();
  if (t.reusable && settings.reuse_for.count() > 0) {
    conn->dog.arm_for(settings.reuse_for);
  } else {
    if (!t.stale && conn->stream.socket().is_open()) {
      conn->dog.arm_for(std::chrono::seconds(2));
      (void)co_await conn->send("QUIT\r\n");
    }
    conn->close();
    t.reusable = false;
  }
  co_return t;
}

// A connection serves only transactions that asked for the same TLS: one made opportunistically
// never carries mail that requires a verified peer.
std::string pool_key(const RelayTarget& target, TlsMode mode) {
  static constexpr std::string_view kModes[] = {"plain", "tls", "verified", "dane"};
  return target.address.to_string() + "|" + std::to_string(target.port) + "|" +
         std::string(kModes[static_cast<int>(mode)]) + "|" + target.host_name;
}

}  // namespace

class RelayClient::Pool {
 public:
  explicit Pool(std::size_t max_per_host) : max_per_host_(max_per_host) {}
  ~Pool() {
    for (auto& [key, conns] : idle_) {
      for (auto& c : conns) asio::post(c->strand, [c] { c->close(); });
    }
  }

  std::shared_ptr<Connection> take(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& conns = it->second;
    while (!conns.empty()) {
      auto c = std::move(conns.back());
      conns.pop_back();
      if (!c->dog.expired()) return c;
    }
    idle_.erase(it);
    return nullptr;
  }

  void put(const std::string& key, std::shared_ptr<Connection> conn) {
    std::lock_guard lock(mutex_);
    auto& conns = idle_[key];
    std::erase_if(conns, [](const auto& c) { return c->dog.expired(); });
    if (conns.size() >= max_per_host_) {
      asio::post(conn->strand, [conn] { conn->close(); });
      return;
    }
    conns.push_back(std::move(conn));
  }

 private:
  std::size_t max_per_host_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;
};

RelayClient::RelayClient(asio::any_io_executor executor, RelaySettings settings)
    : executor_(std::move(executor)),
      settings_(std::move(settings)),
      pool_(std::make_unique<Pool>(settings_.max_idle_per_host)) {}

RelayClient::~RelayClient() = default;

asio::awaitable<RelayOutcome> RelayClient::relay(const RelayTarget& target,
                                                 const RelayEnvelope& envelope,
                                                 const RelayMessage& message, TlsMode mode) {
  const std::string key = pool_key(target, mode);
  std::shared_ptr<Connection> conn = pool_->take(key);
  while (true) {
    const bool fresh = conn == nullptr;
    if (fresh) {
      conn = std::make_shared<Connection>(executor_);
      asio::co_spawn(conn->strand, watch(conn), asio::detached);
    }
    // The transaction runs on the connection's strand; this coroutine waits for it.
    Transaction t = co_await asio::co_spawn(
        conn->strand, run_on_connection(conn, fresh, target, settings_, envelope, message, mode),
        asio::use_awaitable);
    spdlog::debug("relay fresh={} stale={} reusable={} tls_failed={}", fresh, t.stale, t.reusable,
                  t.outcome.tls_failed);
    if (t.stale && !fresh) {
      conn = nullptr;  // the cached connection had gone away before answering: start afresh
      continue;
    }
    if (t.reusable) pool_->put(key, std::move(conn));
    co_return std::move(t.outcome);
  }
}

}  // namespace sealpost::smtp::client

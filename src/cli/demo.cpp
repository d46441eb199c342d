// `sealpost demo`: the embedded default, on 127.0.0.1 only. A data directory, a self-signed
// certificate, the domain example.test with an alias forwarding to inbox.test, and — standing
// in for the destination's mail server — a small sink in this process that prints what arrives.
#include <fstream>
#include <iostream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/server_runtime.hpp"
#include "core/strings.hpp"
#include "net/tls.hpp"
#include "smtp/protocol/data_reader.hpp"
#include "store/mailbox/mailboxes.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::cli {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::string_view kDemoMailbox = "alice@example.test";
constexpr std::string_view kDemoPassword = "sealpost-demo";
constexpr const char* kDemoUser = "sealpost";

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kSinkLimit = std::size_t{64} * 1024 * 1024;

std::string header_value(std::string_view message, std::string_view name) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto eol = message.find("\r\n", pos);
    const auto line = message.substr(pos, eol == std::string_view::npos ? message.npos : eol - pos);
    if (line.empty()) break;
    if (istarts_with(line, name) && line.size() > name.size() && line[name.size()] == ':') {
      // The value with its folded continuation lines, unfolded.
      std::string value(trim(line.substr(name.size() + 1)));
      while (eol != std::string_view::npos && eol + 2 < message.size() &&
             (message[eol + 2] == ' ' || message[eol + 2] == '\t')) {
        const auto next = message.find("\r\n", eol + 2);
        value += ' ';
        value += trim(message.substr(
            eol + 2, next == std::string_view::npos ? message.npos : next - eol - 2));
        eol = next;
      }
      return value;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 2;
  }
  return {};
}

// A minimal SMTP sink, only for the demo: accepts everything and prints a summary.
asio::awaitable<void> sink_session(tcp::socket socket) {
  std::string in;
  std::string from;
  std::vector<std::string> to;
  const auto send = [&](std::string_view s) -> asio::awaitable<bool> {
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(s), kNoThrow);
    co_return !ec;
  };
  const auto read_more = [&]() -> asio::awaitable<bool> {
    char buf[8192];
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) co_return false;
    in.append(buf, n);
    co_return in.size() < kSinkLimit;
  };
  if (!co_await send("220 inbox.test demo sink\r\n")) co_return;
  while (true) {
    const auto nl = in.find("\r\n");
    if (nl == std::string::npos) {
      if (!co_await read_more()) co_return;
      continue;
    }
    const std::string line = in.substr(0, nl);
    in.erase(0, nl + 2);
    if (istarts_with(line, "EHLO")) {
      co_await send("250-inbox.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n");
    } else if (istarts_with(line, "MAIL FROM:")) {
      from = line.substr(10);
      to.clear();
      co_await send("250 2.1.0 OK\r\n");
    } else if (istarts_with(line, "RCPT TO:")) {
      to.push_back(line.substr(8));
      co_await send("250 2.1.5 OK\r\n");
    } else if (istarts_with(line, "DATA")) {
      co_await send("354 go ahead\r\n");
      smtp::protocol::DataReader reader(kSinkLimit);
      std::string message;
      while (true) {
        in.erase(0, reader.feed(in, message));
        if (reader.done()) break;
        if (!co_await read_more()) co_return;
      }
      std::string rcpts;
      for (const auto& r : to) rcpts += (rcpts.empty() ? "" : ", ") + r;
      std::cout << "\n[demo sink] message arrived for " << rcpts << "\n"
                << "            envelope sender (SRS-rewritten when forwarded): " << from << "\n"
                << "            " << message.size()
                << " bytes, Subject: " << header_value(message, "Subject") << "\n"
                << "            Authentication-Results: "
                << header_value(message, "Authentication-Results") << "\n"
                << "            first header: "
                << message.substr(0, std::min<std::size_t>(message.find("\r\n"), 100)) << "\n"
                << std::flush;
      co_await send("250 2.0.0 stored by the demo sink\r\n");
    } else if (istarts_with(line, "QUIT")) {
      co_await send("221 2.0.0 bye\r\n");
      co_return;
    } else {
      co_await send("250 2.0.0 OK\r\n");
    }
  }
}

asio::awaitable<void> sink_accept(std::shared_ptr<tcp::acceptor> acceptor) {
  while (true) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), sink_session(std::move(socket)), asio::detached);
  }
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

// Started as root, the demo serves as the system user the install step creates (as `serve`, it
// never serves as root).
std::string server_user_line() {
  if (::geteuid() != 0) return {};
  if (::getpwnam(kDemoUser) == nullptr) {
    throw std::runtime_error(
        std::string("run as root, the demo serves as the system user \"") + kDemoUser +
        "\": create it with scripts/install-deps.sh demo (adduser --system --group "
        "--no-create-home " +
        kDemoUser + "), or run the demo as an ordinary user");
  }
  return std::string("user = \"") + kDemoUser + "\"\n";
}

}  // namespace

int demo(const std::filesystem::path& dir_in, const DemoPorts& ports) {
  const std::uint16_t port = ports.smtp;
  const std::uint16_t sink_port = ports.sink;
  const auto dir = std::filesystem::absolute(dir_in);
  std::filesystem::create_directories(dir);
  const auto config_path = dir / "sealpost.toml";
  const std::string hostname = "mx.example.test";
  if (!std::filesystem::exists(dir / "cert.pem")) {
    net::write_self_signed(hostname, dir / "cert.pem", dir / "key.pem");
  }
  write_file(config_path,
             "# Written by `sealpost demo`. Everything listens on 127.0.0.1 only.\n"
             "[server]\nhostname = \"" +
                 hostname + "\"\ndata_dir = \"data\"\n" + server_user_line() +
                 "\n"
                 "[listen]\nsmtp = \"127.0.0.1:" +
                 std::to_string(port) + "\"\nimap = \"127.0.0.1:" + std::to_string(ports.imap) +
                 "\"\npop3 = \"127.0.0.1:" + std::to_string(ports.pop3) +
                 "\"\nsubmission = \"127.0.0.1:" + std::to_string(ports.submission) +
                 "\"\n\n"
                 "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n\n"
                 "# inbox.test stands for a real mailbox provider: the demo's sink.\n"
                 "[transport]\n\"inbox.test\" = \"127.0.0.1:" +
                 std::to_string(sink_port) +
                 "\"\n\n"
                 "# The demo runs no ClamAV: without this line mail would wait for clamd\n"
                 "# (install clamav-daemon and remove it to scan for viruses).\n"
                 "[filter]\nclamd = \"\"\n");
  const auto config = core::load_config(config_path);
  {
    auto store = open_metadata_store(config);
    const auto domains = store->list_domains();
    if (std::find(domains.begin(), domains.end(), "example.test") == domains.end()) {
      store->add_domain("example.test");
      create_domain_keys(config, *store, "example.test");  // so forwarded mail is ARC-sealed
    }
    store->add_alias({"hello", "example.test", {"you@inbox.test"}});
    if (!store->mailbox(std::string(kDemoMailbox))) {
      store::mailbox::create_mailbox(*store, config.data_dir, std::string(kDemoMailbox),
                                     "example.test", kDemoPassword);
    }
  }

  return run_server(config, [&](asio::io_context& io) {
    // Owned by its accept loop, so it goes when the io_context does.
    auto sink = std::make_shared<tcp::acceptor>(
        io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), sink_port));
    asio::co_spawn(io, sink_accept(sink), asio::detached);
    std::cout << "\nSealpost demo is running (Ctrl-C stops it).\n\n"
              << "  SMTP (MX)   127.0.0.1:" << port << ", STARTTLS with a self-signed certificate\n"
              << "  domain      example.test\n"
              << "  alias       hello@example.test -> you@inbox.test\n"
              << "  mailbox     " << kDemoMailbox << ", password '" << kDemoPassword
              << "' (sealed: one encrypted SQLite file)\n"
              << "  IMAP        127.0.0.1:" << ports.imap << ", POP3 127.0.0.1:" << ports.pop3
              << " (STARTTLS/STLS before the password)\n"
              << "  submission  127.0.0.1:" << ports.submission
              << " (STARTTLS, then AUTH with the mailbox's password)\n"
              << "  inbox.test  a sink inside this demo on 127.0.0.1:" << sink_port
              << "; what it receives is printed here\n"
              << "  files       " << dir.string() << " (config: sealpost.toml)\n\n"
              << "Send a message through the alias, from another terminal:\n\n"
              << "  swaks --server 127.0.0.1:" << port
              << " --tls --to hello@example.test --from someone@sender.test\n\n"
              << "Store one in the sealed mailbox and read it back over IMAP:\n\n"
              << "  swaks --server 127.0.0.1:" << port << " --tls --to " << kDemoMailbox
              << " --from someone@sender.test\n"
              << "  curl --insecure --ssl-reqd --user '" << kDemoMailbox << ":" << kDemoPassword
              << "' 'imap://127.0.0.1:" << ports.imap << "/INBOX;MAILINDEX=1'\n\n"
              << "Send as " << kDemoMailbox
              << " (queued encrypted, DKIM-signed, a copy in Sent), to the sink:\n\n"
              << "  swaks --server 127.0.0.1:" << ports.submission << " --tls --auth PLAIN"
              << " --auth-user " << kDemoMailbox << " --auth-password " << kDemoPassword
              << " --from " << kDemoMailbox << " --h-From '<" << kDemoMailbox << ">'"
              << " --to you@inbox.test\n\n"
              << "Manage it with the same config, e.g.:\n\n"
              << "  build/sealpost alias add '*@example.test' --forward you@inbox.test --config "
              << config_path.string() << "\n"
              << std::endl;
  });
}

}  // namespace sealpost::cli

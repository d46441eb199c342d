#include "cli/server_runtime.hpp"

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "access/context.hpp"
#include "auth/dkim/keyring.hpp"
#include "auth/inbound.hpp"
#include "auth/srs/srs.hpp"
#include "cli/commands.hpp"
#include "cli/privileges.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "delivery/dispatcher.hpp"
#include "delivery/local_routes.hpp"
#include "delivery/submitter.hpp"
#include "dns/resolver.hpp"
#include "imap/server/session.hpp"
#include "net/admission.hpp"
#include "net/listener.hpp"
#include "net/login_throttle.hpp"
#include "net/tls.hpp"
#include "pop3/server/session.hpp"
#include "queue/dmarc_reports.hpp"
#include "queue/queue.hpp"
#include "queue/report_outbox.hpp"
#include "queue/runner.hpp"
#include "queue/tls_reports.hpp"
#include "routing/router.hpp"
#include "smtp/client/forwarder.hpp"
#include "smtp/client/sts_policies.hpp"
#include "smtp/client/tls_results.hpp"
#include "smtp/server/session.hpp"
#include "store/mailbox/facts.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::cli {

namespace asio = boost::asio;

namespace {

std::shared_ptr<const routing::RoutingTable> load_table(store::MetadataStore& store) {
  auto table = std::make_shared<routing::RoutingTable>();
  for (auto& d : store.list_domains()) table->domains.insert(std::move(d));
  for (auto& a : store.all_aliases()) table->aliases[a.address()] = std::move(a.forwards);
  for (const auto& domain : table->domains) {
    for (auto& m : store.list_mailboxes(domain)) {
      table->mailboxes[m.address] = store::mailbox::LocalMailbox{
          m.address, m.file_id, m.spool_public_key, static_cast<std::uint64_t>(m.quota_bytes)};
    }
  }
  return table;
}

// Reloads the routing table when the CLI (another process) commits a change. Polling
// PRAGMA data_version once a second is cheap and needs no signal or IPC.
class RoutingReloader {
 public:
  RoutingReloader(store::MetadataStore& store, routing::Router& router,
                  const std::function<void()>& also)
      : thread_([&store, &router, also, this](const std::stop_token& stop) {
          std::uint64_t seen = store.change_marker();
          std::uint64_t ticks = 0;
          std::mutex m;
          std::unique_lock lock(m);
          while (!stop.stop_requested()) {
            cv_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
            if (stop.stop_requested()) break;
            try {
              // Keys waiting for their activation time are picked up within a minute.
              if (++ticks % 60 == 0 && also) also();
              const auto now = store.change_marker();
              if (now != seen) {
                seen = now;
                router.update(load_table(store));
                if (also) also();
                spdlog::info("routing reloaded");
              }
            } catch (const std::exception& e) {
              spdlog::error("routing reload failed: {}", e.what());
            }
          }
        }) {}

 private:
  std::condition_variable_any cv_;
  std::jthread thread_;
};

// The queue's clock. Tests of retention and retries cannot wait days: SEALPOST_TEST_CLOCK_FILE
// names a file holding seconds to add to the real time, read at each use.
queue::Runner::Clock queue_clock() {
  const char* file = std::getenv("SEALPOST_TEST_CLOCK_FILE");
  if (!file || !*file) return [] { return core::unix_now(); };
  spdlog::warn("queue clock offset by the file in SEALPOST_TEST_CLOCK_FILE (tests only)");
  return [path = std::string(file)] {
    std::ifstream in(path);
    std::int64_t offset = 0;
    if (!(in >> offset)) offset = 0;
    return core::unix_now() + offset;
  };
}

// What the MX counted for DMARC aggregate reports since the last take, queued. (Plain functions,
// not capturing lambdas: a lambda's captures die before its coroutine does.)
asio::awaitable<void> queue_dmarc_reports(auth::dmarc::AggregateReporter* reporter,
                                          const auth::dmarc::PublicSuffixList* psl,
                                          std::int64_t now, dns::Resolver& resolver,
                                          queue::ReportOutbox& outbox) {
  if (!reporter || !psl) co_return;
  try {
    co_await queue::send_dmarc_reports(reporter->take(static_cast<std::uint64_t>(now)), resolver,
                                       *psl, outbox);
  } catch (const std::exception& e) {
    spdlog::error("dmarc reports not sent: {}", e.what());
  }
}

// At each UTC midnight (of the queue's clock) the day's reports go out: TLS-RPT for our outbound
// sessions, DMARC aggregate reports for what the MX saw.
asio::awaitable<void> daily_report_loop(queue::Runner::Clock clock,
                                        smtp::client::TlsResults& tls_results,
                                        auth::dmarc::AggregateReporter* dmarc,
                                        const auth::dmarc::PublicSuffixList* psl,
                                        dns::Resolver& resolver, queue::ReportOutbox& outbox,
                                        queue::Runner& runner, asio::ssl::context* https_tls) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::int64_t day = clock() / 86400;
  while (true) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    const std::int64_t today = clock() / 86400;
    if (today == day) continue;
    try {
      co_await queue::send_tls_reports(tls_results.take(), day * 86400, today * 86400, resolver,
                                       outbox, https_tls);
    } catch (const std::exception& e) {
      spdlog::error("tls reports not sent: {}", e.what());
    }
    co_await queue_dmarc_reports(dmarc, psl, clock(), resolver, outbox);
    runner.wake();
    day = today;
  }
}

// A clean shutdown queues what the MX counted since midnight before the process ends, so a
// restart loses no DMARC report; the queue delivers it once the server runs again. Then the
// I/O threads stop.
asio::awaitable<void> stop_after_reports(auth::dmarc::AggregateReporter* dmarc,
                                         const auth::dmarc::PublicSuffixList* psl,
                                         queue::Runner::Clock clock, dns::Resolver& resolver,
                                         queue::ReportOutbox& outbox, asio::io_context& io) {
  co_await queue_dmarc_reports(dmarc, psl, clock(), resolver, outbox);
  io.stop();
}

// How long a stop may wait for the DMARC reports to be queued (their DNS checks).
constexpr std::chrono::seconds kReportsAtStop{20};

}  // namespace

void prepare_data_dir(const core::Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec || !std::filesystem::is_directory(config.data_dir)) {
    throw std::runtime_error(config.data_dir.string() + ": cannot create the data directory");
  }
  ::chmod(config.data_dir.c_str(), 0700);
}

std::unique_ptr<store::MetadataStore> open_metadata_store(const core::Config& config) {
  prepare_data_dir(config);
  return store::open_sqlite_metadata_store((config.data_dir / "metadata.db").string());
}

dns::Resolver::Options resolver_options(const core::Config& config) {
  dns::Resolver::Options o;
  o.servers = config.dns_servers;
  o.trust_anchor_file = config.dns_trust_anchor;
  o.timeout = config.dns_timeout;
  return o;
}

dns::Resolver::Options interactive_resolver_options(const core::Config& config) {
  auto o = resolver_options(config);
  o.timeout = std::min<std::chrono::milliseconds>(o.timeout, std::chrono::seconds(5));
  return o;
}

int run_server(const core::Config& config, const std::function<void(asio::io_context&)>& on_ready) {
  (void)std::signal(SIGPIPE, SIG_IGN);
  core::init_logging(config.log_level);
  for (const auto& w : config.warnings) spdlog::warn("config: {}", w);
  // Earlier versions kept DMARC reports here as plaintext files; nothing reads them any more.
  if (std::error_code ec; std::filesystem::is_directory(config.data_dir / "dmarc-reports", ec)) {
    spdlog::warn(
        "data_dir/dmarc-reports holds DMARC report files of an earlier version (sender metadata "
        "in plaintext): reports are mailed now; remove the directory once you no longer need it");
  }
  auto store = open_metadata_store(config);
  const auth::srs::Srs srs(auth::srs::load_or_create_key(config.data_dir / "srs.key"),
                           config.srs_domain, config.srs_max_age_days);
  const core::ClientHasher hasher(config.data_dir / "log.key");
  routing::Router router(config.hostname, &srs);
  router.update(load_table(*store));

  // Declared before the io_context: sessions still pending when it is destroyed give their
  // connection tickets and memory reservations back to these.
  net::ConnectionLimiter connections(config.limits.max_connections_per_client,
                                     config.limits.max_connections);
  net::ByteBudget budget(config.limits.max_bytes_in_flight);
  net::ConnectionLimiter access_connections(config.access.connections_per_client,
                                            config.access.connections);
  net::LoginThrottle throttle;
  access::SessionCounter user_sessions(config.access.sessions_per_user);

  const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  // Taken over before any port is bound: a SIGTERM that comes once the ports answer (a service
  // manager's stop during startup) waits for the handler below instead of killing the process.
  asio::signal_set signals(io, SIGINT, SIGTERM);

  auto resolver = dns::Resolver::create(io.get_executor(), resolver_options(config));

  std::unique_ptr<asio::ssl::context> server_tls;
  if (config.tls_cert) {
    server_tls = net::make_server_tls(*config.tls_cert, *config.tls_key);
  } else {
    spdlog::warn("tls.cert and tls.key are not set: STARTTLS is not offered");
  }
  const auto client_tls = net::make_client_tls();
  const auto verified_tls = net::make_verifying_client_tls(config.relay_ca_file);
  // DANE needs DNSSEC: without a trust anchor nothing is secure, so nothing would apply.
  std::unique_ptr<asio::ssl::context> dane_tls;
  if (config.dane && !config.dns_trust_anchor.empty()) dane_tls = net::make_dane_client_tls();
  smtp::client::TlsResults tls_results;  // TLS-RPT: counted as mail goes out, reported daily
  std::unique_ptr<smtp::client::StsPolicies> sts;
  if (config.mta_sts) {
    sts = std::make_unique<smtp::client::StsPolicies>(
        io.get_executor(), *resolver,
        smtp::client::StsPolicies::Options{config.mta_sts_port, verified_tls.get(),
                                           std::chrono::seconds(30)});
  }

  smtp::client::Forwarder forwarder(config, io.get_executor(), *resolver, srs, client_tls.get(),
                                    verified_tls.get(), sts.get(), dane_tls.get(), &tls_results);
  // Blocking work (SQLite, zstd, fsync, Argon2id) runs here, never on the I/O threads. Declared
  // after the io_context: destroyed first, it finishes what runs before the sessions go. Twice
  // the cores: much of the work waits for fsync or for a mailbox's writer, and a read should
  // not queue behind two such waits (bench/imap.sh: 1.02-1.03x Dovecot's operations/s with 2
  // threads, 1.07-1.09x with 4).
  asio::thread_pool blocking(std::max(4U, threads * 2));
  store::mailbox::MailboxDirectory mailboxes(config.data_dir, store::mailbox::message_facts);
  delivery::Dispatcher dispatcher(forwarder, mailboxes, blocking.get_executor(),
                                  config.limits.accepted_memory);
  // DKIM keys (sealed under the server key) for ARC sealing; reloaded with the routing table.
  const auto key = server_key(config);
  auth::dkim::KeyringHolder keyring;
  const std::function<void()> reload_keys = [&store, &key, &keyring] {
    keyring.set(auth::dkim::Keyring::load(*store, key, core::unix_now()));
  };
  reload_keys();

  // DMARC aggregate reports: counted in memory only, mailed through the queue at each UTC midnight
  // (of the queue's clock) and at shutdown.
  const auto clock = queue_clock();
  std::unique_ptr<auth::dmarc::AggregateReporter> reporter;
  if (config.auth_enabled && config.dmarc_reports) {
    reporter = std::make_unique<auth::dmarc::AggregateReporter>(
        static_cast<std::uint64_t>(std::max<std::int64_t>(clock(), 0)));
  }

  std::optional<auth::dmarc::PublicSuffixList> psl;
  std::unique_ptr<auth::Authenticator> authenticator;
  if (config.auth_enabled) {
    psl = auth::dmarc::PublicSuffixList::load(config.public_suffix_list.string());
    if (!psl) {
      throw std::runtime_error("auth.public_suffix_list: cannot read " +
                               config.public_suffix_list.string() +
                               " (Debian package publicsuffix), needed for DMARC");
    }
    authenticator = std::make_unique<auth::Authenticator>(
        *resolver, *psl,
        auth::Authenticator::Options{config.authserv_id, config.dmarc_reject_action == "reject",
                                     reporter.get()});
  }
  smtp::server::ServerContext context{config,
                                      router,
                                      dispatcher,
                                      server_tls.get(),
                                      connections,
                                      budget,
                                      hasher,
                                      authenticator.get(),
                                      config.auth_enabled && config.arc_seal ? &keyring : nullptr};

  access::AccessContext access_context{
      config,           *store,   mailboxes,     blocking.get_executor(),
      server_tls.get(), throttle, user_sessions, hasher};

  // The outbound queue: submission puts mail in, the runner delivers it (and our bounces and
  // reports).
  queue::Queue outbound(*store, key);
  smtp::client::DomainRelay queue_relay(config, io.get_executor(), *resolver, client_tls.get(),
                                        verified_tls.get(), sts.get(), dane_tls.get(),
                                        &tls_results);
  delivery::LocalRoutes local_routes(router, dispatcher, config.hostname);
  queue::Runner runner(config, outbound, queue_relay, &local_routes, io.get_executor(),
                       blocking.get_executor(), clock);
  queue::ReportOutbox report_outbox(config, outbound, blocking.get_executor(), keyring);
  delivery::Submitter submitter(
      config, router, outbound, keyring, mailboxes, blocking.get_executor(),
      [&runner] { runner.wake(); }, clock);
  smtp::server::SubmissionContext submission_context{access_context, submitter};
  smtp::server::ServerContext submission_smtp = context;
  submission_smtp.submission = &submission_context;
  submission_smtp.authenticator = nullptr;  // the user authenticated; nothing to verify inbound
  submission_smtp.keyring = nullptr;

  std::vector<std::unique_ptr<net::Listener>> listeners;
  if (config.listen_smtp) {
    listeners.push_back(std::make_unique<net::Listener>(
        io, *config.listen_smtp, connections, hasher,
        "421 4.7.0 " + config.hostname + " Too many connections, try again later\r\n",
        [&context](asio::ip::tcp::socket socket, net::ConnectionLimiter::Ticket ticket,
                   std::string ip) {
          smtp::server::Session::start(std::make_shared<smtp::server::Session>(
              context, std::move(socket), std::move(ticket), std::move(ip)));
        }));
  }
  const auto add_submission = [&](const std::optional<Endpoint>& endpoint, bool tls) {
    if (!endpoint) return;
    listeners.push_back(std::make_unique<net::Listener>(
        io, *endpoint, connections, hasher,
        tls ? std::string()
            : "421 4.7.0 " + config.hostname + " Too many connections, try again later\r\n",
        [&submission_smtp, tls](asio::ip::tcp::socket socket, net::ConnectionLimiter::Ticket ticket,
                                std::string ip) {
          smtp::server::Session::start(std::make_shared<smtp::server::Session>(
              submission_smtp, std::move(socket), std::move(ticket), std::move(ip), tls));
        }));
  };
  add_submission(config.listen_submission, false);
  add_submission(config.listen_submissions, true);
  // IMAP and POP3: the plaintext ports answer "busy" in their protocol; the TLS ports close.
  const auto add_access = [&](const std::optional<Endpoint>& endpoint, std::string busy, bool tls,
                              bool imap) {
    if (!endpoint) return;
    listeners.push_back(std::make_unique<net::Listener>(
        io, *endpoint, access_connections, hasher, tls ? std::string() : std::move(busy),
        [&access_context, tls, imap](asio::ip::tcp::socket socket,
                                     net::ConnectionLimiter::Ticket ticket, std::string ip) {
          if (imap) {
            imap::server::start_session(access_context, std::move(socket), std::move(ticket),
                                        std::move(ip), tls);
          } else {
            pop3::server::start_session(access_context, std::move(socket), std::move(ticket),
                                        std::move(ip), tls);
          }
        }));
  };
  const std::string imap_busy = "* BYE [UNAVAILABLE] Too many connections, try again later\r\n";
  const std::string pop3_busy = "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
  add_access(config.listen_imap, imap_busy, false, true);
  add_access(config.listen_imaps, imap_busy, true, true);
  add_access(config.listen_pop3, pop3_busy, false, false);
  add_access(config.listen_pop3s, pop3_busy, true, false);

  if (listeners.empty()) {
    spdlog::warn("no listener is configured ([listen] smtp = \"IP:PORT\"): nothing to serve");
  }
  // Every privileged thing (binding ports, reading keys and certificates) is done by now.
  drop_privileges(config.user, config.data_dir);
  for (auto& l : listeners) l->start();
  {
    std::string ports;
    const std::pair<const char*, const std::optional<Endpoint>*> endpoints[] = {
        {"smtp", &config.listen_smtp},
        {"imap", &config.listen_imap},
        {"imaps", &config.listen_imaps},
        {"pop3", &config.listen_pop3},
        {"pop3s", &config.listen_pop3s},
        {"submission", &config.listen_submission},
        {"submissions", &config.listen_submissions}};
    for (const auto& [name, ep] : endpoints) {
      if (*ep) ports += fmt::format("{}={} ", name, (*ep)->to_string());
    }
    spdlog::info("listening {}hostname={} threads={}", ports, config.hostname, threads);
  }

  runner.set_retentions(store->domain_retentions());
  runner.start();
  const auth::dmarc::PublicSuffixList* report_psl = psl ? &*psl : nullptr;
  asio::co_spawn(io,
                 daily_report_loop(clock, tls_results, reporter.get(), report_psl, *resolver,
                                   report_outbox, runner, verified_tls.get()),
                 asio::detached);
  // A change by the CLI (a domain, a key, `sealpost queue retry`) reloads and wakes the queue.
  const std::function<void()> on_change = [&reload_keys, &runner, &store] {
    reload_keys();
    runner.set_retentions(store->domain_retentions());
    runner.wake();
  };
  RoutingReloader reloader(*store, router, on_change);

  asio::steady_timer stop_deadline(io);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("stopping on signal {}", sig);
    for (auto& l : listeners) l->stop();
    runner.stop();
    asio::co_spawn(
        io, stop_after_reports(reporter.get(), report_psl, clock, *resolver, report_outbox, io),
        asio::detached);
    // The reports wait for DNS (section 7.1's checks); neither a second signal nor a service
    // manager's stop timeout should: both end the wait, the latter after kReportsAtStop.
    signals.async_wait([&io](const boost::system::error_code& again, int) {
      if (again) return;
      spdlog::warn("stopping now, without waiting for the DMARC reports");
      io.stop();
    });
    stop_deadline.expires_after(kReportsAtStop);
    stop_deadline.async_wait([&io](const boost::system::error_code& cancelled) {
      if (cancelled) return;
      spdlog::warn("stopping now: the DMARC reports took longer than {} s",
                   kReportsAtStop.count());
      io.stop();
    });
  });
  if (on_ready) on_ready(io);

  std::vector<std::jthread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& w : workers) w.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sealpost::cli

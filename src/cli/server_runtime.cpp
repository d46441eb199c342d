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
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "access/context.hpp"
#include "auth/dkim/keyring.hpp"
#include "auth/inbound.hpp"
#include "auth/srs/srs.hpp"
#include "cli/commands.hpp"
#include "cli/hardening.hpp"
#include "cli/privileges.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "delivery/dispatcher.hpp"
#include "delivery/local_routes.hpp"
#include "delivery/submitter.hpp"
#include "dns/resolver.hpp"
#include "filter/content_filter.hpp"
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

namespace {

std::unique_ptr<dns::Resolver> make_family_resolver(asio::io_context& io,
                                                    const core::Config& config) {
  // Made whenever one is named: a domain may turn adult-content protection on for itself.
  if (config.filter.family_resolver.empty()) return nullptr;
  dns::Resolver::Options o;
  o.servers = {*parse_endpoint(config.filter.family_resolver)};
  o.timeout = config.dns_timeout;
  return dns::Resolver::create(io.get_executor(), o);
}

// Before anything is created: the process's own settings, then the checks and warnings a start
// logs first. Returns the user to become once the ports are bound.
// glibc's malloc gives the free top of its heaps back to the kernel past 128 KiB (and serves
// blocks from 128 KiB up with mmap), and a server's buffers come and go with each message: a
// decoded attachment, an archive member, a message's copy. Each message would then fault the
// same pages in again, with brk and madvise calls and TLB shootdowns across the I/O threads
// (bench/filter.sh: about 1 page fault a message more with the filter on, and 3% of its CPU).
// Kept instead up to these sizes; a buffer past them still comes and goes with mmap.
void keep_heap_pages() {
  constexpr int kMmapThreshold = 4 << 20;
  constexpr int kTrimThreshold = 16 << 20;
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  (void)mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
}

std::optional<ServerUser> prepare_process(const core::Config& config) {
  (void)std::signal(SIGPIPE, SIG_IGN);
  keep_heap_pages();
  // Before anything is created as root: started as root, it refuses to go on without a user.
  auto user = server_user(config.user, true);
  core::init_logging(config.log_level);
  for (const auto& w : config.warnings) spdlog::warn("config: {}", w);
  if (const auto files = raise_open_file_limit(config); !files.enough()) {
    spdlog::warn(
        "open files: the hard limit ({}) is below the {} the connection limits can use; raise "
        "it (LimitNOFILE=, ulimit -Hn) or lower [limits] connections and [access] connections",
        files.hard, files.needed);
  }
  // Earlier versions kept DMARC reports here as plaintext files; nothing reads them any more.
  if (std::error_code ec; std::filesystem::is_directory(config.data_dir / "dmarc-reports", ec)) {
    spdlog::warn(
        "data_dir/dmarc-reports holds DMARC report files of an earlier version (sender metadata "
        "in plaintext): reports are mailed now; remove the directory once you no longer need it");
  }
  return user;
}

// The router, holding the metadata store's routing table from the start.
class LoadedRouter : public routing::Router {
 public:
  LoadedRouter(const core::Config& config, const auth::srs::Srs& srs, store::MetadataStore& store)
      : Router(config.hostname, &srs) {
    update(load_table(store));
  }
};

// The DKIM keys (sealed under the server key in the metadata store) ARC sealing, submission and
// the reports sign with: loaded from the start, reloaded with the routing table.
class LoadedKeyring : public auth::dkim::KeyringHolder {
 public:
  LoadedKeyring(store::MetadataStore& store, const core::SecretBytes& key)
      : store_(store), key_(key) {
    reload();
  }
  void reload() { set(auth::dkim::Keyring::load(store_, key_.bytes(), core::unix_now())); }

 private:
  store::MetadataStore& store_;
  const core::SecretBytes& key_;
};

std::unique_ptr<asio::ssl::context> server_tls_context(const core::Config& config) {
  if (config.tls_cert) return net::make_server_tls(*config.tls_cert, *config.tls_key);
  spdlog::warn("tls.cert and tls.key are not set: STARTTLS is not offered");
  return nullptr;
}

std::optional<auth::dmarc::PublicSuffixList> public_suffix_list(const core::Config& config) {
  if (!config.auth_enabled && !config.filter.enabled) return std::nullopt;
  auto psl = auth::dmarc::PublicSuffixList::load(config.public_suffix_list.string());
  if (!psl) {
    throw std::runtime_error("auth.public_suffix_list: cannot read " +
                             config.public_suffix_list.string() +
                             " (Debian package publicsuffix), needed for DMARC and the content "
                             "filter");
  }
  return psl;
}

filter::GreylistSettings greylist_settings(const core::Config& config) {
  filter::GreylistSettings s;
  s.delay = config.filter.greylist_delay;
  return s;
}

// Each domain's own content-filter settings, as the filter reads them.
filter::DomainSettingsMap domain_filter_settings(store::MetadataStore& store) {
  filter::DomainSettingsMap out;
  for (const auto& [domain, record] : store.domain_filters()) {
    filter::DomainSettings& d = out[domain];
    d.enabled = record.enabled;
    d.adult = record.adult;
    if (record.spam_action) {
      d.at_reject_score =
          *record.spam_action == "junk" ? filter::Action::kJunk : filter::Action::kReject;
    }
  }
  return out;
}

// Everything `sealpost serve` runs. The members are in lifetime order: constructed top to bottom
// (the order of the start's log lines, files and errors), destroyed bottom to top, so each one
// sits below what it uses and above what uses it.
struct ServerRuntime {
  explicit ServerRuntime(const core::Config& c) : config(c) {}
  ServerRuntime(const ServerRuntime&) = delete;
  ServerRuntime& operator=(const ServerRuntime&) = delete;

  // Drops privileges, then starts the listeners, the queue, the daily reports and the routing
  // reloader; `on_ready` runs last.
  void start(const std::function<void(asio::io_context&)>& on_ready);
  // Runs the io_context on one thread per core until a stop; the exit status.
  int run();

  std::vector<std::unique_ptr<net::Listener>> bind_listeners();
  smtp::server::ServerContext submission_server_context();
  const auth::dmarc::PublicSuffixList* report_psl() const { return psl ? &*psl : nullptr; }
  void on_change();
  void stop(int sig);

  const core::Config& config;
  // First: logging is set up, and root without a user refused, before anything is created.
  const std::optional<ServerUser> user = prepare_process(config);
  // The data directory's store and keys, which everything below reads or routes with.
  const std::unique_ptr<store::MetadataStore> store = open_metadata_store(config);
  const auth::srs::Srs srs{auth::srs::load_or_create_key(config.data_dir / "srs.key"),
                           config.srs_domain, config.srs_max_age_days};
  const core::ClientHasher hasher{config.data_dir / "log.key"};
  LoadedRouter router{config, srs, *store};

  // Above the io_context: sessions still pending when it is destroyed give their connection
  // tickets and memory reservations back to these.
  net::ConnectionLimiter connections{config.limits.max_connections_per_client,
                                     config.limits.max_connections,
                                     config.limits.ipv6_client_prefix};
  net::ByteBudget budget{config.limits.max_bytes_in_flight};
  net::ConnectionLimiter access_connections{config.access.connections_per_client,
                                            config.access.connections,
                                            config.limits.ipv6_client_prefix};
  net::LoginThrottle throttle;
  access::SessionCounter user_sessions{config.access.sessions_per_user};

  const unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  // Everything below that does I/O runs on it.
  asio::io_context io{static_cast<int>(threads)};
  // Caught from here on, before any port is bound: a stop asked for as soon as a port answers
  // (while the data directory is still being handed over, say) waits in the set and is a clean
  // stop, not the default action's death.
  asio::signal_set signals{io, SIGINT, SIGTERM};

  const std::unique_ptr<dns::Resolver> resolver =
      dns::Resolver::create(io.get_executor(), resolver_options(config));
  // The content filter's family-filter resolver, asked directly (no DNSSEC: it rewrites answers).
  const std::unique_ptr<dns::Resolver> family_resolver = make_family_resolver(io, config);

  // The TLS contexts (keys and certificates read as root, when started as root) of the listeners
  // and of the relays below.
  const std::unique_ptr<asio::ssl::context> server_tls = server_tls_context(config);
  const std::unique_ptr<asio::ssl::context> client_tls = net::make_client_tls();
  const std::unique_ptr<asio::ssl::context> verified_tls =
      net::make_verifying_client_tls(config.relay_ca_file);
  // DANE needs DNSSEC: without a trust anchor nothing is secure, so nothing would apply.
  const std::unique_ptr<asio::ssl::context> dane_tls =
      config.dane && !config.dns_trust_anchor.empty() ? net::make_dane_client_tls() : nullptr;
  smtp::client::TlsResults tls_results;  // TLS-RPT: counted as mail goes out, reported daily
  const std::unique_ptr<smtp::client::StsPolicies> sts =
      config.mta_sts ? std::make_unique<smtp::client::StsPolicies>(
                           io.get_executor(), *resolver,
                           smtp::client::StsPolicies::Options{
                               config.mta_sts_port, verified_tls.get(), std::chrono::seconds(30)})
                     : nullptr;

  // The MX's deliveries: forwarded over the relays' TLS, or into the mailboxes.
  smtp::client::Forwarder forwarder{config,    io.get_executor(), *resolver,
                                    srs,       client_tls.get(),  verified_tls.get(),
                                    sts.get(), dane_tls.get(),    &tls_results};
  // Blocking work (SQLite, zstd, fsync, Argon2id) runs here, never on the I/O threads. Below the
  // io_context: destroyed first, it finishes what runs before the sessions go. Twice the cores:
  // much of the work waits for fsync or for a mailbox's writer, and a read should not queue
  // behind two such waits (bench/imap.sh: 1.02-1.03x Dovecot's operations/s with 2 threads,
  // 1.07-1.09x with 4).
  asio::thread_pool blocking{std::max(4U, threads * 2)};
  store::mailbox::MailboxDirectory mailboxes{config.data_dir, store::mailbox::message_facts,
                                             config.limits.max_spool_size};
  delivery::Dispatcher dispatcher{forwarder, mailboxes, blocking.get_executor(),
                                  config.limits.accepted_memory};
  // The server key seals the DKIM keys and the queue's content; the sessions, the reports and
  // submission below sign with the keyring.
  const core::SecretBytes key = server_key(config);
  LoadedKeyring keyring{*store, key};

  // DMARC aggregate reports: counted in memory only, mailed through the queue at each UTC
  // midnight (of the queue's clock) and at shutdown.
  const queue::Runner::Clock clock = queue_clock();
  const std::unique_ptr<auth::dmarc::AggregateReporter> reporter =
      config.auth_enabled && config.dmarc_reports
          ? std::make_unique<auth::dmarc::AggregateReporter>(
                static_cast<std::uint64_t>(std::max<std::int64_t>(clock(), 0)))
          : nullptr;

  // Inbound SPF, DKIM, DMARC and ARC checks, and the MX sessions' context, which uses all the
  // above.
  const std::optional<auth::dmarc::PublicSuffixList> psl = public_suffix_list(config);
  const std::unique_ptr<auth::Authenticator> authenticator =
      config.auth_enabled
          ? std::make_unique<auth::Authenticator>(
                *resolver, *psl,
                auth::Authenticator::Options{
                    config.authserv_id, config.dmarc_reject_action == "reject", reporter.get()})
          : nullptr;
  // MX connections per network and minute (the MX's listener only).
  net::ConnectionRate mx_connection_rate{config.limits.connection_rate, hasher};
  // The content filter, with each domain's own settings and the hosted domains whose lookalikes
  // it flags (both reloaded on every change).
  filter::ContentFilter content_filter{config.filter,
                                       psl ? &*psl : nullptr,
                                       {resolver.get(), family_resolver.get()},
                                       domain_filter_settings(*store),
                                       store->list_domains()};
  const std::unique_ptr<filter::Greylist> greylist =
      config.filter.greylist ? std::make_unique<filter::Greylist>(greylist_settings(config), hasher)
                             : nullptr;
  smtp::server::ServerContext context{config,
                                      router,
                                      dispatcher,
                                      server_tls.get(),
                                      connections,
                                      budget,
                                      hasher,
                                      authenticator.get(),
                                      (config.auth_enabled && config.arc_seal) ? &keyring : nullptr,
                                      &content_filter,
                                      greylist.get()};

  // Password hashing has threads of its own: a login storm never takes the pool's threads from
  // mailbox reads and deliveries.
  access::KdfPool kdf{config.access.kdf_workers, config.access.kdf_queue};
  access::AccessContext access_context{
      config,        *store, mailboxes, blocking.get_executor(), server_tls.get(), throttle,
      user_sessions, hasher, kdf};

  // The outbound queue: submission puts mail in, the runner delivers it (and our bounces and
  // reports).
  queue::Queue outbound{*store, key.bytes()};
  smtp::client::DomainRelay queue_relay{config,           io.get_executor(),  *resolver,
                                        client_tls.get(), verified_tls.get(), sts.get(),
                                        dane_tls.get(),   &tls_results};
  delivery::LocalRoutes local_routes{router, dispatcher, config.hostname};
  queue::Runner runner{config,        outbound,          queue_relay,
                       &local_routes, io.get_executor(), blocking.get_executor(),
                       clock};
  queue::ReportOutbox report_outbox{config, outbound, blocking.get_executor(), keyring};
  delivery::Submitter submitter{config,
                                router,
                                outbound,
                                keyring,
                                mailboxes,
                                blocking.get_executor(),
                                [this] { runner.wake(); },
                                clock};
  smtp::server::SubmissionContext submission_context{access_context, submitter};
  smtp::server::ServerContext submission_smtp = submission_server_context();

  // Bound last (as root, when started as root): their sessions use everything above.
  std::vector<std::unique_ptr<net::Listener>> listeners = bind_listeners();
  // Started once the privileges are dropped; stopped first, as it reloads the router, the
  // keyring and the runner.
  std::optional<RoutingReloader> reloader;
  asio::steady_timer stop_deadline{io};  // how long a stop waits for the DMARC reports
};

smtp::server::ServerContext ServerRuntime::submission_server_context() {
  smtp::server::ServerContext submission = context;
  submission.submission = &submission_context;
  submission.authenticator = nullptr;  // the user authenticated; nothing to verify inbound
  submission.keyring = nullptr;
  submission.filter = nullptr;  // our own users' mail: rate limits, not content checks
  submission.greylist = nullptr;
  return submission;
}

std::vector<std::unique_ptr<net::Listener>> ServerRuntime::bind_listeners() {
  std::vector<std::unique_ptr<net::Listener>> bound;
  if (config.listen_smtp) {
    bound.push_back(std::make_unique<net::Listener>(
        io, *config.listen_smtp, connections, hasher,
        "421 4.7.0 " + config.hostname + " Too many connections, try again later\r\n",
        [this](asio::ip::tcp::socket socket, net::ConnectionLimiter::Ticket ticket,
               std::string ip) {
          smtp::server::Session::start(std::make_shared<smtp::server::Session>(
              context, std::move(socket), std::move(ticket), std::move(ip)));
        }));
    bound.back()->limit_rate(&mx_connection_rate);
  }
  const auto add_submission = [&](const std::optional<Endpoint>& endpoint, bool tls) {
    if (!endpoint) return;
    bound.push_back(std::make_unique<net::Listener>(
        io, *endpoint, connections, hasher,
        tls ? std::string()
            : "421 4.7.0 " + config.hostname + " Too many connections, try again later\r\n",
        [this, tls](asio::ip::tcp::socket socket, net::ConnectionLimiter::Ticket ticket,
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
    bound.push_back(std::make_unique<net::Listener>(
        io, *endpoint, access_connections, hasher, tls ? std::string() : std::move(busy),
        [this, tls, imap](asio::ip::tcp::socket socket, net::ConnectionLimiter::Ticket ticket,
                          std::string ip) {
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
  return bound;
}

void ServerRuntime::start(const std::function<void(asio::io_context&)>& on_ready) {
  if (listeners.empty()) {
    spdlog::warn("no listener is configured ([listen] smtp = \"IP:PORT\"): nothing to serve");
  }
  const auto& clamd = config.filter.clamd;
  if (config.filter.enabled && !clamd.empty() && clamd.front() == '/' &&
      !std::filesystem::exists(clamd)) {
    // Said once at start: each message deferred for it says only CLAMAV_UNAVAILABLE.
    spdlog::warn(
        "[filter] clamd: no socket at {}: mail waits (451) until clamd runs there (Debian's "
        "clamav-daemon), or set clamd = \"\" to accept mail without a virus scan",
        clamd);
  }
  if (!config.filter.adult_lists.empty()) {
    auto list = filter::DomainList::load(config.filter.adult_lists);
    if (!list) throw std::runtime_error("[filter] adult_lists: " + list.error());
    spdlog::info("[filter] adult_lists: {} domains", list.value().size());
    content_filter.set_adult_list(
        std::make_shared<const filter::DomainList>(std::move(list).value()));
  }
  // Every privileged thing (binding ports, reading keys and certificates, the filter's lists) is
  // done by now.
  drop_privileges(user, config.data_dir);
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
  asio::co_spawn(io,
                 daily_report_loop(clock, tls_results, reporter.get(), report_psl(), *resolver,
                                   report_outbox, runner, verified_tls.get()),
                 asio::detached);
  reloader.emplace(*store, router, [this] { on_change(); });

  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) stop(sig);
  });
  if (on_ready) on_ready(io);
}

// A change by the CLI (a domain, a key, `sealpost queue retry`) reloads and wakes the queue.
void ServerRuntime::on_change() {
  keyring.reload();
  content_filter.set_domains(domain_filter_settings(*store));
  content_filter.set_own_domains(store->list_domains());
  runner.set_retentions(store->domain_retentions());
  runner.wake();
}

void ServerRuntime::stop(int sig) {
  spdlog::info("stopping on signal {}", sig);
  for (auto& l : listeners) l->stop();
  runner.stop();
  asio::co_spawn(
      io, stop_after_reports(reporter.get(), report_psl(), clock, *resolver, report_outbox, io),
      asio::detached);
  // The reports wait for DNS (section 7.1's checks); neither a second signal nor a service
  // manager's stop timeout should: both end the wait, the latter after kReportsAtStop.
  signals.async_wait([this](const boost::system::error_code& again, int) {
    if (again) return;
    spdlog::warn("stopping now, without waiting for the DMARC reports");
    io.stop();
  });
  stop_deadline.expires_after(kReportsAtStop);
  stop_deadline.async_wait([this](const boost::system::error_code& cancelled) {
    if (cancelled) return;
    spdlog::warn("stopping now: the DMARC reports took longer than {} s", kReportsAtStop.count());
    io.stop();
  });
}

int ServerRuntime::run() {
  std::vector<std::jthread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([this] { io.run(); });
  io.run();
  for (auto& w : workers) w.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int run_server(const core::Config& config, const std::function<void(asio::io_context&)>& on_ready) {
  ServerRuntime runtime(config);
  runtime.start(on_ready);
  return runtime.run();
}

}  // namespace sealpost::cli

#include "core/config.hpp"

#include <climits>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>
#include <unistd.h>

#include "core/domain.hpp"
#include "core/duration.hpp"
#include "core/strings.hpp"
#include "core/table_reader.hpp"

namespace sealpost::core {
namespace {

bool is_hostname(std::string_view h) {
  return to_a_label(h).has_value();
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  std::uint64_t mult = 1;
  const char last = ascii_lower(text.back());
  if (last == 'k' || last == 'm' || last == 'g') {
    mult = last == 'k' ? 1024ULL : last == 'm' ? 1024ULL * 1024 : 1024ULL * 1024 * 1024;
    text.remove_suffix(1);
  }
  const auto n = parse_decimal(text, 12);
  if (!n) return std::nullopt;
  return *n * mult;
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(msg.str());
  }

  const std::set<std::string> known_tables{"server", "listen", "tls",     "dns",       "transport",
                                           "relay",  "srs",    "privacy", "log",       "limits",
                                           "auth",   "access", "queue",   "submission"};
  for (const auto& [k, v] : root) {
    if (!known_tables.count(std::string(k.str()))) {
      throw ConfigError(source.string() + ": [" + std::string(k.str()) + "]: unknown section");
    }
    if (!v.is_table()) {
      throw ConfigError(source.string() + ": " + std::string(k.str()) + ": expected a [section]");
    }
  }
  const auto table = [&](std::string_view name) { return root[name].as_table(); };

  Config c;
  c.source = source;

  TableReader server(table("server"), "server", source);
  if (auto h = server.string("hostname")) {
    if (!is_hostname(*h)) server.fail("hostname", "not a valid host name: \"" + *h + "\"");
    c.hostname = *to_a_label(*h);
  } else {
    char buf[HOST_NAME_MAX + 1] = {};
    gethostname(buf, sizeof buf - 1);
    c.hostname = is_hostname(buf) ? *to_a_label(buf) : "localhost";
  }
  if (auto d = server.string("data_dir")) {
    if (d->empty()) server.fail("data_dir", "must not be empty");
    c.data_dir = *d;
  } else {
    c.data_dir = "/var/lib/sealpost";
  }
  if (c.data_dir.is_relative())
    c.data_dir = std::filesystem::absolute(source).parent_path() / c.data_dir;
  if (auto u = server.string("user")) {
    if (u->empty()) server.fail("user", "must not be empty");
    c.user = *u;
  }
  server.reject_unknown();

  TableReader listen(table("listen"), "listen", source);
  c.listen_smtp = listen.endpoint("smtp");
  c.listen_imap = listen.endpoint("imap");
  c.listen_imaps = listen.endpoint("imaps");
  c.listen_pop3 = listen.endpoint("pop3");
  c.listen_pop3s = listen.endpoint("pop3s");
  c.listen_submission = listen.endpoint("submission");
  c.listen_submissions = listen.endpoint("submissions");
  listen.reject_unknown();

  TableReader tls(table("tls"), "tls", source);
  if (auto cert = tls.string("cert")) c.tls_cert = *cert;
  if (auto key = tls.string("key")) c.tls_key = *key;
  if (c.tls_cert.has_value() != c.tls_key.has_value()) {
    tls.fail(c.tls_cert ? "key" : "cert", "tls.cert and tls.key must be set together");
  }
  for (auto* f : {&c.tls_cert, &c.tls_key}) {
    if (*f && (*f)->is_relative()) *f = std::filesystem::absolute(source).parent_path() / **f;
  }
  tls.reject_unknown();

  TableReader dns(table("dns"), "dns", source);
  if (const auto* servers = dns.get("servers")) {
    const auto* arr = servers->as_array();
    if (!arr) dns.fail("servers", "expected a list of \"IP:PORT\"");
    for (const auto& item : *arr) {
      const auto s = item.value<std::string>();
      const auto ep = s ? parse_endpoint(*s) : std::nullopt;
      if (!ep) dns.fail("servers", "expected a list of \"IP:PORT\"");
      c.dns_servers.push_back(*ep);
    }
  }
  if (auto ta = dns.string("trust_anchor")) c.dns_trust_anchor = *ta;
  if (!c.dns_trust_anchor.empty() && !std::filesystem::is_regular_file(c.dns_trust_anchor)) {
    dns.fail("trust_anchor", R"(no such file: ")" + c.dns_trust_anchor +
                                 R"(" (install dns-root-data, or set "" to turn DNSSEC off))");
  }
  if (auto t = dns.integer("timeout", 1, 60)) c.dns_timeout = std::chrono::seconds(*t);
  dns.reject_unknown();

  if (const auto* transport = table("transport")) {
    for (const auto& [k, v] : *transport) {
      const std::string key(k.str());
      const auto domain = to_a_label(key);
      const auto s = v.value<std::string>();
      const auto ep = s ? parse_endpoint(*s) : std::nullopt;
      if (!domain) {
        throw ConfigError(source.string() + ": transport.\"" + key + "\": not a valid domain");
      }
      if (!ep) {
        throw ConfigError(source.string() + ": transport.\"" + key +
                          "\": expected \"IP:PORT\" (IPv6 as \"[addr]:PORT\")");
      }
      c.transport[*domain] = *ep;
    }
  }

  TableReader relay(table("relay"), "relay", source);
  if (auto p = relay.integer("port", 1, 65535)) c.relay_port = static_cast<std::uint16_t>(*p);
  if (auto v = relay.boolean("mta_sts")) c.mta_sts = *v;
  if (auto v = relay.boolean("dane")) c.dane = *v;
  if (auto p = relay.integer("mta_sts_port", 1, 65535)) {
    c.mta_sts_port = static_cast<std::uint16_t>(*p);
  }
  if (auto f = relay.string("ca_file")) {
    if (f->empty()) relay.fail("ca_file", "must not be empty");
    c.relay_ca_file = std::filesystem::path(*f);
    if (c.relay_ca_file->is_relative()) {
      c.relay_ca_file = std::filesystem::absolute(source).parent_path() / *c.relay_ca_file;
    }
  }
  relay.reject_unknown();

  TableReader srs(table("srs"), "srs", source);
  if (auto d = srs.string("domain")) {
    if (!is_hostname(*d)) srs.fail("domain", "not a valid domain: \"" + *d + "\"");
    c.srs_domain = *to_a_label(*d);
  } else {
    c.srs_domain = c.hostname;
  }
  if (auto a = srs.integer("max_age_days", 1, 365)) c.srs_max_age_days = static_cast<int>(*a);
  srs.reject_unknown();

  TableReader auth(table("auth"), "auth", source);
  if (auto b = auth.boolean("enabled")) c.auth_enabled = *b;
  if (auto a = auth.string("dmarc_reject_action")) {
    if (*a != "reject" && *a != "quarantine") {
      auth.fail("dmarc_reject_action", R"(expected "reject" or "quarantine")");
    }
    c.dmarc_reject_action = *a;
  }
  if (auto id = auth.string("authserv_id")) {
    if (!is_hostname(*id)) auth.fail("authserv_id", "not a valid host name: \"" + *id + "\"");
    c.authserv_id = *to_a_label(*id);
  } else {
    c.authserv_id = c.hostname;
  }
  if (auto f = auth.string("public_suffix_list")) c.public_suffix_list = *f;
  if (auto b = auth.boolean("arc_seal")) c.arc_seal = *b;
  const auto reports = auth.boolean("dmarc_reports");
  if (reports) c.dmarc_reports = *reports;
  // Earlier versions wrote the reports as plaintext files into dmarc_report_dir; they are mailed
  // now, and a config that names the directory still loads. "" used to turn reports off, and
  // still does: an operator who chose to send none should not start sending by upgrading.
  if (auto d = auth.string("dmarc_report_dir")) {
    if (d->empty() && !reports) {
      c.dmarc_reports = false;
      c.warnings.emplace_back(
          "auth.dmarc_report_dir is obsolete (reports are mailed, not written); \"\" is read as "
          "auth.dmarc_reports = false");
    } else {
      c.warnings.emplace_back(
          "auth.dmarc_report_dir is obsolete and ignored: DMARC aggregate reports are mailed to "
          "the rua= addresses through the queue and no report file is written (auth.dmarc_reports "
          "turns them off); the files an earlier version wrote there can be deleted");
    }
  }
  auth.reject_unknown();

  TableReader privacy(table("privacy"), "privacy", source);
  if (auto b = privacy.boolean("received_client_address")) c.received_client_address = *b;
  privacy.reject_unknown();

  TableReader log(table("log"), "log", source);
  if (auto l = log.string("level")) {
    static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
    if (!levels.count(*l))
      log.fail("level", "expected one of trace, debug, info, warn, error, off");
    c.log_level = *l;
  }
  log.reject_unknown();

  TableReader limits(table("limits"), "limits", source);
  Limits& l = c.limits;
  constexpr std::uint64_t kGiB = 1024ULL * 1024 * 1024;
  if (auto v = limits.size("message_size", 1024, 2 * kGiB)) l.max_message_size = *v;
  if (auto v = limits.integer("recipients", 1, 100000))
    l.max_recipients = static_cast<std::uint32_t>(*v);
  if (auto v = limits.integer("connections_per_client", 1, 1000000)) {
    l.max_connections_per_client = static_cast<std::uint32_t>(*v);
  }
  if (auto v = limits.integer("connections", 1, 1000000))
    l.max_connections = static_cast<std::uint32_t>(*v);
  if (auto v = limits.size("bytes_in_flight", 1024, 64 * kGiB)) l.max_bytes_in_flight = *v;
  const auto spool_size = limits.size("spool_size", 1024, 1024 * kGiB);
  if (spool_size) l.max_spool_size = *spool_size;
  if (auto v = limits.integer("idle_timeout", 1, 86400)) l.idle_timeout = std::chrono::seconds(*v);
  if (auto v = limits.integer("session_timeout", 1, std::int64_t{7} * 86400))
    l.session_timeout = std::chrono::seconds(*v);
  if (auto v = limits.integer("errors_per_session", 1, 100000))
    l.max_errors = static_cast<std::uint32_t>(*v);
  if (auto v = limits.integer("unknown_recipients_per_session", 1, 100000)) {
    l.max_unknown_recipients = static_cast<std::uint32_t>(*v);
  }
  if (auto v = limits.integer("relay_timeout", 1, 3600)) l.relay_timeout = std::chrono::seconds(*v);
  if (auto v = limits.integer("relay_connect_timeout", 1, 3600)) {
    l.relay_connect_timeout = std::chrono::seconds(*v);
  }
  if (auto v = limits.integer("accepted_memory", 0, std::int64_t{30} * 86400))
    l.accepted_memory = std::chrono::seconds(*v);
  if (auto v = limits.integer("ipv6_client_prefix", 16, 128))
    l.ipv6_client_prefix = static_cast<std::uint32_t>(*v);
  limits.reject_unknown();
  if (l.max_bytes_in_flight < l.max_message_size) {
    limits.fail("bytes_in_flight", "must be at least limits.message_size");
  }
  if (l.max_spool_size < l.max_message_size) {
    // The default must not refuse a config that only raised message_size.
    if (spool_size) limits.fail("spool_size", "must be at least limits.message_size");
    l.max_spool_size = l.max_message_size;
  }

  TableReader access(table("access"), "access", source);
  Access& a = c.access;
  if (auto v = access.boolean("allow_plaintext_on_loopback")) a.allow_plaintext_on_loopback = *v;
  if (auto v = access.integer("sessions_per_user", 1, 100000))
    a.sessions_per_user = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("connections_per_client", 1, 1000000))
    a.connections_per_client = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("connections", 1, 1000000))
    a.connections = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("idle_timeout", 1800, 86400))
    a.idle_timeout = std::chrono::seconds(*v);
  if (auto v = access.integer("login_timeout", 1, 3600)) a.login_timeout = std::chrono::seconds(*v);
  if (auto v = access.integer("pop3_idle_timeout", 600, 86400))
    a.pop3_idle_timeout = std::chrono::seconds(*v);
  if (auto v = access.integer("command_line", 8192, 16 * 1024 * 1024))
    a.max_command_line = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("errors_per_session", 1, 100000))
    a.max_errors = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("kdf_workers", 1, 64)) a.kdf_workers = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("kdf_queue", 0, 100000)) a.kdf_queue = static_cast<std::uint32_t>(*v);
  if (auto v = access.integer("min_password_score", 0, 4))
    a.min_password_score = static_cast<int>(*v);
  access.reject_unknown();
  if ((c.listen_imap || c.listen_imaps || c.listen_pop3 || c.listen_pop3s) && !c.tls_cert &&
      !a.allow_plaintext_on_loopback) {
    throw ConfigError(source.string() +
                      ": [listen] imap/imaps/pop3/pop3s need [tls] cert and key (passwords are "
                      "never accepted in plaintext), or [access] allow_plaintext_on_loopback = "
                      "true for loopback-only use");
  }
  if ((c.listen_imaps || c.listen_pop3s) && !c.tls_cert) {
    throw ConfigError(source.string() + ": [listen] imaps/pop3s need [tls] cert and key");
  }
  if ((c.listen_submission || c.listen_submissions) && !c.tls_cert) {
    // RFC 8314: submission credentials travel only over TLS; there is no plaintext exception.
    throw ConfigError(source.string() +
                      ": [listen] submission/submissions need [tls] cert and key (AUTH is only "
                      "offered over TLS)");
  }

  TableReader queue(table("queue"), "queue", source);
  Queue& qc = c.queue;
  if (auto v = queue.string("retry")) {
    auto delays = core::parse_delays(*v);
    if (!delays) {
      queue.fail("retry", "expected delays such as \"5m,10m,20m,1h,4h\" (each 1s to 7d)");
    }
    qc.retry_delays = std::move(*delays);
  }
  using std::chrono::hours;
  using std::chrono::seconds;
  if (auto v = queue.duration("lifetime", seconds(1), hours(24 * 30))) qc.lifetime = *v;
  if (auto v = queue.duration("delay_notice", seconds(0), hours(24 * 30))) qc.delay_notice = *v;
  if (auto v = queue.duration("retention", seconds(0), hours(24 * 366))) qc.retention = *v;
  if (auto v = queue.integer("deliveries", 1, 10000))
    qc.max_deliveries = static_cast<std::uint32_t>(*v);
  if (auto v = queue.integer("per_destination", 1, 1000))
    qc.max_per_destination = static_cast<std::uint32_t>(*v);
  queue.reject_unknown();

  TableReader submission(table("submission"), "submission", source);
  Submission& sc = c.submission;
  const auto rate = [&submission](std::string_view key, std::uint32_t& into) {
    if (auto v = submission.integer(key, 1, 100'000'000)) into = static_cast<std::uint32_t>(*v);
  };
  rate("messages_per_user_hour", sc.messages_per_user_hour);
  rate("messages_per_user_day", sc.messages_per_user_day);
  rate("messages_per_domain_hour", sc.messages_per_domain_hour);
  rate("messages_per_domain_day", sc.messages_per_domain_day);
  submission.reject_unknown();
  return c;
}

Config load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file);
}

std::string describe_config(const Config& c) {
  std::ostringstream o;
  const auto q = [](const std::string& s) { return "\"" + s + "\""; };
  o << "[server]\nhostname = " << q(c.hostname) << "\ndata_dir = " << q(c.data_dir.string())
    << "\n";
  if (!c.user.empty()) o << "user = " << q(c.user) << "\n";
  o << "\n";
  o << "[listen]\n";
  const std::pair<const char*, const std::optional<Endpoint>*> endpoints[] = {
      {"smtp", &c.listen_smtp},
      {"imap", &c.listen_imap},
      {"imaps", &c.listen_imaps},
      {"pop3", &c.listen_pop3},
      {"pop3s", &c.listen_pop3s},
      {"submission", &c.listen_submission},
      {"submissions", &c.listen_submissions}};
  for (const auto& [name, ep] : endpoints) {
    if (*ep) o << name << " = " << q((*ep)->to_string()) << "\n";
  }
  o << "\n[tls]\n";
  if (c.tls_cert)
    o << "cert = " << q(c.tls_cert->string()) << "\nkey = " << q(c.tls_key->string()) << "\n";
  o << "\n[dns]\nservers = [";
  for (std::size_t i = 0; i < c.dns_servers.size(); ++i) {
    o << (i ? ", " : "") << q(c.dns_servers[i].to_string());
  }
  o << "]" << (c.dns_servers.empty() ? "  # the system resolver" : "") << "\n";
  o << "trust_anchor = " << q(c.dns_trust_anchor)
    << (c.dns_trust_anchor.empty() ? "  # DNSSEC validation off" : "") << "\n"
    << "timeout = " << c.dns_timeout.count() << "\n";
  o << "\n[transport]\n";
  for (const auto& [d, ep] : c.transport) o << q(d) << " = " << q(ep.to_string()) << "\n";
  o << "\n[relay]\nport = " << c.relay_port << "\nmta_sts = " << (c.mta_sts ? "true" : "false")
    << "\ndane = " << (c.dane ? "true" : "false") << "\nmta_sts_port = " << c.mta_sts_port << "\n";
  if (c.relay_ca_file) o << "ca_file = " << q(c.relay_ca_file->string()) << "\n";
  o << "\n[srs]\ndomain = " << q(c.srs_domain) << "\nmax_age_days = " << c.srs_max_age_days << "\n";
  o << "\n[auth]\nenabled = " << (c.auth_enabled ? "true" : "false")
    << "\ndmarc_reject_action = " << q(c.dmarc_reject_action)
    << "\nauthserv_id = " << q(c.authserv_id) << "\narc_seal = " << (c.arc_seal ? "true" : "false")
    << "\ndmarc_reports = " << (c.dmarc_reports ? "true" : "false")
    << "\npublic_suffix_list = " << q(c.public_suffix_list.string()) << "\n";
  o << "\n[privacy]\nreceived_client_address = " << (c.received_client_address ? "true" : "false")
    << "\n";
  o << "\n[log]\nlevel = " << q(c.log_level) << "\n";
  const Limits& l = c.limits;
  o << "\n[limits]\n"
    << "message_size = " << l.max_message_size << "\n"
    << "recipients = " << l.max_recipients << "\n"
    << "connections_per_client = " << l.max_connections_per_client << "\n"
    << "connections = " << l.max_connections << "\n"
    << "bytes_in_flight = " << l.max_bytes_in_flight << "\n"
    << "spool_size = " << l.max_spool_size << "\n"
    << "idle_timeout = " << l.idle_timeout.count() << "\n"
    << "session_timeout = " << l.session_timeout.count() << "\n"
    << "errors_per_session = " << l.max_errors << "\n"
    << "unknown_recipients_per_session = " << l.max_unknown_recipients << "\n"
    << "relay_timeout = " << l.relay_timeout.count() << "\n"
    << "relay_connect_timeout = " << l.relay_connect_timeout.count() << "\n"
    << "accepted_memory = " << l.accepted_memory.count() << "\n"
    << "ipv6_client_prefix = " << l.ipv6_client_prefix << "\n";
  const Access& a = c.access;
  o << "\n[access]\n"
    << "allow_plaintext_on_loopback = " << (a.allow_plaintext_on_loopback ? "true" : "false")
    << "\nsessions_per_user = " << a.sessions_per_user
    << "\nconnections_per_client = " << a.connections_per_client
    << "\nconnections = " << a.connections << "\nidle_timeout = " << a.idle_timeout.count()
    << "\nlogin_timeout = " << a.login_timeout.count()
    << "\npop3_idle_timeout = " << a.pop3_idle_timeout.count()
    << "\ncommand_line = " << a.max_command_line << "\nerrors_per_session = " << a.max_errors
    << "\nkdf_workers = " << a.kdf_workers << "\nkdf_queue = " << a.kdf_queue
    << "\nmin_password_score = " << a.min_password_score << "\n";
  const Queue& qc = c.queue;
  o << "\n[queue]\nretry = \"";
  for (std::size_t i = 0; i < qc.retry_delays.size(); ++i) {
    o << (i ? "," : "") << qc.retry_delays[i].count() << "s";
  }
  o << "\"\nlifetime = " << qc.lifetime.count() << "\ndelay_notice = " << qc.delay_notice.count()
    << "\nretention = " << qc.retention.count() << "\ndeliveries = " << qc.max_deliveries
    << "\nper_destination = " << qc.max_per_destination << "\n";
  const Submission& sc = c.submission;
  o << "\n[submission]\nmessages_per_user_hour = " << sc.messages_per_user_hour
    << "\nmessages_per_user_day = " << sc.messages_per_user_day
    << "\nmessages_per_domain_hour = " << sc.messages_per_domain_hour
    << "\nmessages_per_domain_day = " << sc.messages_per_domain_day << "\n";
  return o.str();
}

}  // namespace sealpost::core

// The typed configuration. The TOML file is read once, here; every other part receives these
// values and never sees TOML. Every setting has a safe default, the member initialiser below; a
// wrong one is a ConfigError that names the key. Which key fills which member, its bounds and its
// documentation are in one table, core/settings.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/endpoint.hpp"

namespace sealpost::core {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// [limits]: every SMTP limit in one place, each with its default.
struct Limits {
  // Largest message accepted, announced in SIZE and enforced while reading.
  std::uint64_t max_message_size = 25ULL * 1024 * 1024;
  // RCPT commands accepted per message (RFC 5321 asks for at least 100).
  std::uint32_t max_recipients = 100;
  // Simultaneous SMTP connections from one client address.
  std::uint32_t max_connections_per_client = 20;
  // Simultaneous SMTP connections in all.
  std::uint32_t max_connections = 2000;
  // MX connections per minute from one network (an IPv4 /24, an IPv6 /64); 0: no limit.
  std::uint32_t connection_rate = 600;
  // Message bytes held in memory across all sessions; past it, 451 4.3.1.
  std::uint64_t max_bytes_in_flight = 512ULL * 1024 * 1024;
  // Seconds a client may stay silent (RFC 5321 section 4.5.3.2: at least 5 min).
  std::chrono::seconds idle_timeout{300};
  // Seconds a whole SMTP session may last.
  std::chrono::seconds session_timeout{1800};
  // Protocol errors before the session is closed with 421.
  std::uint32_t max_errors = 20;
  // Unknown-recipient answers before 421 (stops enumeration).
  std::uint32_t max_unknown_recipients = 10;
  // Seconds to wait for a destination's answer to each command (a DATA
  // transfer may take longer: it gets ten of these at most).
  std::chrono::seconds relay_timeout{120};
  // Seconds to wait for a destination's TCP connection.
  std::chrono::seconds relay_connect_timeout{30};
  // Bytes a locked mailbox's sealed spool may hold (the mailbox's quota, when
  // smaller, instead); past it mail for the mailbox gets 452 4.2.2 until its owner logs in.
  std::uint64_t max_spool_size = 256ULL * 1024 * 1024;
  // Seconds a destination's acceptance is remembered, so the sender's retry
  // after a temporary failure elsewhere does not deliver twice.
  std::chrono::seconds accepted_memory{86400};
  // Clients are told apart by their IPv4 address and by this prefix of their IPv6 address (one
  // host usually holds a whole /64): every per-client connection limit and the login throttle.
  std::uint32_t ipv6_client_prefix = 64;
};

// [access]: how owners reach their sealed mailboxes over IMAP and POP3.
struct Access {
  // Passwords are accepted only over TLS; true also accepts them in plaintext from 127.0.0.0/8
  // and ::1 (a local webmail or a test), never from elsewhere.
  bool allow_plaintext_on_loopback = false;
  // Simultaneous IMAP and POP3 sessions logged in to one mailbox.
  std::uint32_t sessions_per_user = 50;
  // Simultaneous IMAP and POP3 connections from one client address, and in all.
  std::uint32_t connections_per_client = 100;
  std::uint32_t connections = 20000;
  // Seconds a logged-in client may stay silent (RFC 9051 section 5.4: at least 30 minutes; IDLE
  // clients re-issue it every 29). Before login: login_timeout.
  std::chrono::seconds idle_timeout{1800};
  std::chrono::seconds login_timeout{60};
  // POP3's autologout timer (RFC 1939 section 3: at least 10 minutes).
  std::chrono::seconds pop3_idle_timeout{600};
  // Octets of one IMAP command line (outside literals); RFC 7162 asks for at least 8192.
  std::uint32_t max_command_line = 64 * 1024;
  // Protocol errors (BAD, -ERR) before the connection is closed.
  std::uint32_t max_errors = 50;
  // Argon2id runs on a pool of its own (DESIGN.md principle 5): this many threads, and at most
  // kdf_queue logins waiting for one. Past that a login is refused for now (IMAP NO
  // [UNAVAILABLE], SMTP 454 4.7.0, POP3 -ERR [SYS/TEMP]): a login storm costs each login a
  // retry, never the mailbox reads and deliveries their threads.
  std::uint32_t kdf_workers = 2;
  std::uint32_t kdf_queue = 32;
  // The zxcvbn score (0-4) a password set with `mailbox add` or `mailbox passwd` must reach;
  // 3 means more than 10^8 guesses. 0 accepts any password.
  int min_password_score = 3;
};

// [queue]: the encrypted outbound queue (submission, bounces, reports) and how it retries.
struct Queue {
  // Waits after the 1st, 2nd... failed attempt; the last one repeats (Postfix-like backoff).
  std::vector<std::chrono::seconds> retry_delays{std::chrono::minutes(5),  std::chrono::minutes(10),
                                                 std::chrono::minutes(20), std::chrono::minutes(40),
                                                 std::chrono::minutes(80), std::chrono::hours(2),
                                                 std::chrono::hours(3),    std::chrono::hours(4)};
  // How long a message is retried before it bounces (RFC 5321 section 4.5.4.1: 4-5 days).
  std::chrono::seconds lifetime{std::chrono::hours(24 * 5)};
  // A "delayed" notice goes to the sender once a message has waited this long (0: never).
  std::chrono::seconds delay_notice{std::chrono::hours(4)};
  // After delivery the sealed content is kept this long, then replaced by a notice and deleted.
  std::chrono::seconds retention{std::chrono::hours(24 * 30)};
  // Simultaneous outbound transactions in all, and towards one destination domain.
  std::uint32_t max_deliveries = 100;
  std::uint32_t max_per_destination = 10;
};

// [submission]: what authenticated users may send (RFC 6409), per hour and per day.
struct Submission {
  std::uint32_t messages_per_user_hour = 300;
  std::uint32_t messages_per_user_day = 2000;
  std::uint32_t messages_per_domain_hour = 1000;
  std::uint32_t messages_per_domain_day = 10000;
};

// [filter]: the content filter the MX runs on every message before it answers (filter/). A
// domain may turn it off or keep its spam (`sealpost domain filter`).
struct Filter {
  bool enabled = true;
  // The score at which a message is junk (stored in Junk, forwarded with `X-Spam-Status: Yes`)
  // and the score at which it is refused: rspamd's "add header" and "reject".
  double junk_score = 6.0;
  double reject_score = 15.0;
  // What a message scoring reject_score or more gets: "reject" (550 5.7.1) or "junk". A finding
  // that refuses alone (a program, a virus) is refused either way.
  std::string spam_action = "reject";
  // ClamAV's daemon: the absolute path of its unix socket, or "IP:PORT" on a loopback address;
  // empty: no virus scanning. Debian's clamav-daemon listens on /run/clamav/clamd.ctl.
  std::string clamd = "/run/clamav/clamd.ctl";
  // The whole scan of one message, answer included.
  std::chrono::seconds clamd_timeout{30};
  // What a message gets when clamd cannot scan it: "tempfail" (451 4.7.1) or "accept".
  std::string clamd_unavailable = "tempfail";
  // What clamd is given: "attachments" (each decoded attachment but images, as rspamd's
  // antivirus module does; the whole message when it has more than the filter reads) or
  // "message" (the message as received, every part of which clamd decodes and scans).
  std::string clamd_scan = "attachments";
  // [filter.scores] SYMBOL = score: the operator's score for a symbol, in place of the check's.
  std::map<std::string, double> scores;
  // DNS blocklists, zone -> the score of a listing: of the client's address (DNSBL), of the
  // envelope sender's and From: domain (RHSBL), of the links' domains (URIBL).
  std::map<std::string, double> dnsbl{{"zen.spamhaus.org", 7.0}};
  // A client whose DNSBL listings add up to this score or more is refused at RCPT TO, as
  // Postfix's postscreen with postscreen_dnsbl_action = enforce; 0: never (the listings count
  // in each message's score).
  double dnsbl_refuse_score = 0;
  std::map<std::string, double> rhsbl{{"dbl.spamhaus.org", 6.0}};
  std::map<std::string, double> uribl{{"dbl.spamhaus.org", 6.0}, {"multi.surbl.org", 5.0}};
  // Links' domains looked up per message.
  std::uint32_t link_lookups = 20;
  // Forward-confirmed reverse DNS of the client as a signal (RDNS_NONE, RDNS_UNCONFIRMED).
  bool reverse_dns = true;
  // Adult-content protection: the sender's and the links' domains asked of a family-filter
  // resolver ("IP:PORT"; "" turns it off), which answers 0.0.0.0 for those it blocks.
  bool adult = true;
  std::string family_resolver = "1.1.1.3:53";
  // Local adult category lists: files of domains, one per line ("#" comments); a link's or the
  // sender's domain listed there (or under a listed one) is ADULT_DOMAIN, as the family
  // resolver's block is. Read at start.
  std::vector<std::filesystem::path> adult_lists;
  // Domains protected from lookalikes (PHISH_LOOKALIKE_DOMAIN) besides the built-in brands and
  // the hosted domains: the operator's bank, its partners.
  std::vector<std::string> brands;
  // How long the network checks of one message (all at once) may take; what has not answered
  // by then adds nothing.
  std::chrono::seconds dns_budget{8};
  // Greylisting: a new (client network, sender, recipient) triplet is deferred at RCPT until it
  // is retried after greylist_delay (within a day); it then passes for 35 days.
  bool greylist = false;
  std::chrono::seconds greylist_delay{300};
};

// A symbol's name as the filter's checks report it and [filter.scores] names it: A-Z, 0-9 and
// "_", 1 to kMaxFilterSymbol octets.
inline constexpr std::size_t kMaxFilterSymbol = 64;
constexpr bool is_filter_symbol(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxFilterSymbol) return false;
  for (const char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

struct Config {
  std::filesystem::path source;  // the file it came from, for messages
  // Settings that were read but no longer do what they say (kept so an old config still loads):
  // `config check` prints these and the server logs them at start.
  std::vector<std::string> warnings;

  // [server]
  std::string hostname;  // parse_config: the machine's host name
  std::filesystem::path data_dir = "/var/lib/sealpost";
  std::string user;  // started as root: drop to this user once the listeners are bound

  // [listen]
  std::optional<Endpoint> listen_smtp;
  std::optional<Endpoint> listen_imap;         // 143: STARTTLS
  std::optional<Endpoint> listen_imaps;        // 993: TLS from the first byte
  std::optional<Endpoint> listen_pop3;         // 110: STLS
  std::optional<Endpoint> listen_pop3s;        // 995: TLS from the first byte
  std::optional<Endpoint> listen_submission;   // 587: STARTTLS before AUTH (RFC 6409)
  std::optional<Endpoint> listen_submissions;  // 465: TLS from the first byte (RFC 8314)

  // [tls]
  std::optional<std::filesystem::path> tls_cert;
  std::optional<std::filesystem::path> tls_key;

  // [dns]
  std::vector<Endpoint> dns_servers;  // empty: the system resolver
  // DNSSEC trust anchor file (Debian's dns-root-data); "" turns validation off.
  std::string dns_trust_anchor = "/usr/share/dns/root.key";
  std::chrono::seconds dns_timeout{10};  // per query; inbound authentication gets 3 times this

  // [transport] domain (A-label, lowercase) -> host:port, as Postfix's transport(5)
  std::map<std::string, Endpoint> transport;

  // [relay]
  std::uint16_t relay_port = 25;  // port used for MX hosts (tests point it at a sink)
  // Enforce the destinations' MTA-STS policies (RFC 8461): in "enforce" mode only the listed MX
  // hosts, only over TLS with a certificate that verifies, or the message waits.
  bool mta_sts = true;
  // DANE (RFC 7672): where a destination's MX and TLSA records are DNSSEC-secure, TLS is required
  // and the certificate must match them. Needs a DNSSEC trust anchor ([dns] trust_anchor).
  bool dane = true;
  std::uint16_t mta_sts_port = 443;  // where policy hosts answer HTTPS (tests point it elsewhere)
  // Certificate authorities trusted for verified TLS (MTA-STS policy hosts and MX hosts), in
  // addition to the system's (/etc/ssl/certs).
  std::optional<std::filesystem::path> relay_ca_file;

  // [srs]
  std::string srs_domain;  // default: hostname
  int srs_max_age_days = 21;

  // [auth] inbound authentication (SPF, DKIM, DMARC, ARC) on the MX
  bool auth_enabled = true;
  // What a DMARC p=reject failure gets: "reject" (550 5.7.1 at DATA) or "quarantine" (accepted,
  // marked; a mailbox files it as Junk).
  std::string dmarc_reject_action = "reject";
  std::string authserv_id;  // Authentication-Results' name for us; default: hostname
  bool arc_seal = true;     // ARC-seal forwarded mail (two RSA-2048 signatures per message)
  // DMARC aggregate reports (RFC 7489 section 7.2) for the domains that ask (rua=): counted in
  // memory, mailed daily and at shutdown through the outbound queue.
  bool dmarc_reports = true;
  std::filesystem::path public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";

  // [privacy]
  bool received_client_address = true;  // put the client's IP in our Received: header

  // [log]
  std::string log_level = "info";

  // [limits]
  Limits limits;

  // [access]
  Access access;

  // [queue]
  Queue queue;

  // [submission]
  Submission submission;

  // [filter]
  Filter filter;
};

// Reads and validates a config file. Throws ConfigError naming the file and the key.
Config load_config(const std::filesystem::path& file);
Config parse_config(std::string_view toml_text, const std::filesystem::path& source);

// The effective configuration, every value including defaults, as TOML (for `config check`).
std::string describe_config(const Config& config);

// "25M", "512K", "1G" or a plain number of bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace sealpost::core

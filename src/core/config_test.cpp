#include "core/config.hpp"

#include <set>

#include <gtest/gtest.h>

#include "core/settings.hpp"

namespace sealpost::core {
namespace {

Config parse(std::string_view text) {
  return parse_config(text, "/etc/sealpost/test.toml");
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The text is refused with an error that says `what` (an accepted text has no error: it fails).
void expect_refused(const std::string& text, std::string_view what) {
  const std::string error = error_of(text);
  EXPECT_NE(error.find(what), std::string::npos) << text << " gave: \"" << error << "\"";
}

TEST(ConfigTest, DefaultsAreSafe) {
  const Config c = parse("[server]\nhostname = \"mx.example.com\"\n");
  EXPECT_EQ(c.hostname, "mx.example.com");
  EXPECT_EQ(c.data_dir, "/var/lib/sealpost");
  EXPECT_FALSE(c.listen_smtp.has_value());  // a listener that is not configured is not started
  EXPECT_FALSE(c.tls_cert.has_value());
  EXPECT_TRUE(c.dns_servers.empty());
  EXPECT_EQ(c.srs_domain, "mx.example.com");
  EXPECT_EQ(c.limits.max_recipients, 100U);
  EXPECT_EQ(c.limits.max_message_size, 25ULL * 1024 * 1024);
  EXPECT_GE(c.limits.idle_timeout.count(), 300);  // RFC 5321 section 4.5.3.2
  EXPECT_TRUE(c.received_client_address);
}

TEST(ConfigTest, ReadsEveryTable) {
  const Config c = parse(R"(
[server]
hostname = "MX.Bücher.example"
data_dir = "data"
user = "sealpost"
[listen]
smtp = "[::1]:2525"
[tls]
cert = "/etc/ssl/c.pem"
key = "k.pem"
[dns]
servers = ["127.0.0.1:5353", "[::1]:53"]
[transport]
"Bücher.example" = "127.0.0.1:2526"
[relay]
port = 2500
[srs]
domain = "srs.example.com"
max_age_days = 7
[privacy]
received_client_address = false
[log]
level = "debug"
[limits]
message_size = "10M"
recipients = 50
connections_per_client = 5
connections = 100
bytes_in_flight = "1G"
idle_timeout = 60
session_timeout = 600
)");
  EXPECT_EQ(c.hostname, "mx.xn--bcher-kva.example");
  EXPECT_EQ(c.data_dir, "/etc/sealpost/data");
  EXPECT_EQ(c.user, "sealpost");
  ASSERT_TRUE(c.listen_smtp);
  EXPECT_EQ(c.listen_smtp->host, "::1");
  EXPECT_EQ(c.listen_smtp->port, 2525);
  EXPECT_EQ(c.tls_key->string(), "/etc/sealpost/k.pem");
  ASSERT_EQ(c.dns_servers.size(), 2U);
  EXPECT_EQ(c.transport.at("xn--bcher-kva.example").port, 2526);
  EXPECT_EQ(c.relay_port, 2500);
  EXPECT_EQ(c.srs_domain, "srs.example.com");
  EXPECT_EQ(c.srs_max_age_days, 7);
  EXPECT_FALSE(c.received_client_address);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.limits.max_message_size, 10ULL * 1024 * 1024);
  EXPECT_EQ(c.limits.max_recipients, 50U);
  EXPECT_EQ(c.limits.max_bytes_in_flight, 1ULL << 30);
  EXPECT_EQ(c.limits.session_timeout.count(), 600);
}

TEST(ConfigTest, ErrorsNameTheKey) {
  EXPECT_NE(error_of("[server]\nhostname = 5\n").find("server.hostname: expected a string"),
            std::string::npos);
  EXPECT_NE(error_of("[limits]\nrecipients = -1\n").find("limits.recipients"), std::string::npos);
  EXPECT_NE(error_of("[limits]\nmesage_size = 1\n").find("limits.mesage_size: unknown setting"),
            std::string::npos);
  EXPECT_NE(error_of("[listen]\nsmtp = \"mail.example.com:25\"\n").find("listen.smtp"),
            std::string::npos);
  EXPECT_NE(error_of("[listen]\nimapx = \"127.0.0.1:143\"\n").find("listen.imapx"),
            std::string::npos);
  EXPECT_NE(error_of("[limits]\nmessage_size = \"2M\"\nbytes_in_flight = \"1M\"\n")
                .find("limits.bytes_in_flight"),
            std::string::npos);
  EXPECT_NE(error_of("[server]\nhostname = \"bad name\"\n").find("server.hostname"),
            std::string::npos);
  EXPECT_NE(error_of("[log]\nlevel = \"loud\"\n").find("log.level"), std::string::npos);
  EXPECT_NE(error_of("x = 1\n").find("[x]"), std::string::npos);
}

TEST(ConfigTest, SpoolSizeAndPasswordScoreHaveSafeDefaults) {
  const Config d = parse("[server]\nhostname = \"mx.example.com\"\n");
  EXPECT_EQ(d.limits.max_spool_size, 256ULL << 20);
  EXPECT_EQ(d.access.min_password_score, 3);
  const Config c = parse(
      "[server]\nhostname = \"mx.example.com\"\n[limits]\nmessage_size = \"10K\"\n"
      "spool_size = \"64K\"\n[access]\nmin_password_score = 0\n");
  EXPECT_EQ(c.limits.max_spool_size, 64U << 10);
  EXPECT_EQ(c.access.min_password_score, 0);
  EXPECT_EQ(parse(describe_config(c)).limits.max_spool_size, 64U << 10);
  // Raising message_size alone raises the spool's limit with it; setting both wrongly is an error.
  EXPECT_EQ(
      parse("[limits]\nmessage_size = \"512M\"\nbytes_in_flight = \"1G\"\n").limits.max_spool_size,
      512ULL << 20);
  EXPECT_NE(
      error_of("[limits]\nmessage_size = \"2M\"\nspool_size = \"1M\"\n").find("limits.spool_size"),
      std::string::npos);
  EXPECT_NE(error_of("[access]\nmin_password_score = 5\n").find("access.min_password_score"),
            std::string::npos);
}

TEST(ConfigTest, SyntaxErrorsGiveLineAndColumn) {
  EXPECT_NE(error_of("[server]\nhostname = \n").find("test.toml:2:"), std::string::npos);
}

TEST(ConfigTest, ParsesSizes) {
  EXPECT_EQ(parse_size("25M"), 25ULL * 1024 * 1024);
  EXPECT_EQ(parse_size("512k"), 512ULL * 1024);
  EXPECT_EQ(parse_size("1G"), 1ULL << 30);
  EXPECT_EQ(parse_size("1000"), 1000U);
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("1T"));
}

// Every key of the settings table, set to a value other than its default (the table gives one),
// reaches its member, is described, and reads back the same: a row without round-trip support
// fails here.
TEST(ConfigTest, DescribeRoundTrips) {
  std::string text;
  for (const auto section : setting_sections()) {
    text += "[" + std::string(section) + "]\n";
    for (const auto& s : settings()) {
      if (s.section == section) text += s.example;
    }
  }
  const Config defaults = parse("");
  const Config c = parse(text);
  const std::string described = describe_config(c);
  const Config again = parse(described);
  for (const auto& s : settings()) {
    const std::string name = "[" + std::string(s.section) + "] " + s.key;
    if (s.example.empty()) {  // an obsolete key: read, never described
      EXPECT_EQ(s.describe(c), "") << name;
      continue;
    }
    EXPECT_NE(s.describe(c), s.describe(defaults)) << name << ": its example is the default";
    EXPECT_NE(described.find(s.describe(c)), std::string::npos) << name;
    EXPECT_EQ(s.describe(again), s.describe(c)) << name;
  }
  EXPECT_EQ(describe_config(again), described);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ConfigTest, EveryKeyIsDocumented) {
  std::set<std::string> names;
  for (const auto& s : settings()) {
    const std::string name = std::string(s.section) + "." + s.key;
    EXPECT_TRUE(names.insert(name).second) << name << " is in the table twice";
    EXPECT_FALSE(s.doc.empty()) << name;
    EXPECT_FALSE(s.takes.empty()) << name;
    EXPECT_FALSE(s.default_text.empty()) << name;
    for (const auto* cell : {&s.takes, &s.default_text}) {
      EXPECT_EQ(cell->find_first_of("|\n"), std::string::npos) << name;
    }
    EXPECT_EQ(s.doc.find_first_of("|\n"), std::string::npos) << name;
    EXPECT_NE(settings_reference().find("| `[" + std::string(s.section) + "] " + s.key + "` |"),
              std::string::npos)
        << name;
  }
}

TEST(ConfigTest, DmarcReportsAreMailedAndTheOldDirectoryKeyStillLoads) {
  const Config d = parse("[server]\nhostname = \"mx.example.com\"\n");
  EXPECT_TRUE(d.dmarc_reports);
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_NE(describe_config(d).find("\ndmarc_reports = true\n"), std::string::npos);
  EXPECT_FALSE(parse("[auth]\ndmarc_reports = false\n").dmarc_reports);

  // The directory is no longer written: a config naming it loads, with a warning.
  const Config dir = parse("[auth]\ndmarc_report_dir = \"dmarc-reports\"\n");
  EXPECT_TRUE(dir.dmarc_reports);
  ASSERT_EQ(dir.warnings.size(), 1U);
  EXPECT_NE(dir.warnings[0].find("auth.dmarc_report_dir is obsolete and ignored"),
            std::string::npos);
  // "" turned reports off, and still does, unless dmarc_reports says otherwise.
  const Config off = parse("[auth]\ndmarc_report_dir = \"\"\n");
  EXPECT_FALSE(off.dmarc_reports);
  ASSERT_EQ(off.warnings.size(), 1U);
  EXPECT_TRUE(parse("[auth]\ndmarc_report_dir = \"\"\ndmarc_reports = true\n").dmarc_reports);
}

TEST(ConfigTest, FilterSettings) {
  const Config d = parse("");
  EXPECT_TRUE(d.filter.enabled);
  EXPECT_DOUBLE_EQ(d.filter.junk_score, 6);
  EXPECT_DOUBLE_EQ(d.filter.reject_score, 15);
  EXPECT_EQ(d.filter.spam_action, "reject");
  EXPECT_TRUE(d.filter.scores.empty());

  const Config c = parse(
      "[filter]\njunk_score = 4\nreject_score = 9.5\nspam_action = \"junk\"\n"
      "[filter.scores]\nURL_IP_HOST = 3.5\nPHISH_DISPLAY_NAME_DOMAIN = 0\n");
  EXPECT_DOUBLE_EQ(c.filter.junk_score, 4);
  EXPECT_DOUBLE_EQ(c.filter.reject_score, 9.5);
  EXPECT_EQ(c.filter.spam_action, "junk");
  EXPECT_DOUBLE_EQ(c.filter.scores.at("URL_IP_HOST"), 3.5);
  EXPECT_DOUBLE_EQ(c.filter.scores.at("PHISH_DISPLAY_NAME_DOMAIN"), 0);
  EXPECT_NE(describe_config(c).find("scores = { PHISH_DISPLAY_NAME_DOMAIN = 0.0, URL_IP_HOST = "
                                    "3.5 }\n"),
            std::string::npos);

  expect_refused("[filter]\njunk_score = 20\n",
                 "filter.junk_score: filter.reject_score must be more");
  expect_refused("[filter]\nreject_score = 6\n",
                 "filter.reject_score: filter.reject_score must be");
  expect_refused("[filter]\njunk_score = \"high\"\n", "filter.junk_score: expected a number");
  expect_refused("[filter]\njunk_score = nan\n", "filter.junk_score: must be between");
  expect_refused("[filter]\nspam_action = \"drop\"\n", R"(expected "reject" or "junk")");
  expect_refused("[filter.scores]\nurl_ip_host = 1\n", "filter.scores.url_ip_host: a symbol is");
  expect_refused("[filter.scores]\nURL_IP_HOST = \"1\"\n", "filter.scores.URL_IP_HOST: expected a");
  expect_refused("[filter.scores]\nURL_IP_HOST = 1e9\n", "filter.scores.URL_IP_HOST: expected a");
  expect_refused("[filter]\nscores = 3\n", "filter.scores: expected a table");
}

TEST(ConfigTest, ClamdSettings) {
  const Config d = parse("");
  EXPECT_EQ(d.filter.clamd, "/run/clamav/clamd.ctl");  // Debian's clamav-daemon
  EXPECT_EQ(d.filter.clamd_timeout, std::chrono::seconds(30));
  EXPECT_EQ(d.filter.clamd_unavailable, "tempfail");

  const Config tcp = parse(
      "[filter]\nclamd = \"127.0.0.1:3310\"\nclamd_timeout = \"1m\"\n"
      "clamd_unavailable = \"accept\"\n");
  EXPECT_EQ(tcp.filter.clamd, "127.0.0.1:3310");
  EXPECT_EQ(tcp.filter.clamd_timeout, std::chrono::seconds(60));
  EXPECT_EQ(tcp.filter.clamd_unavailable, "accept");
  const Config again = parse(describe_config(tcp));
  EXPECT_EQ(again.filter.clamd, "127.0.0.1:3310");
  EXPECT_EQ(again.filter.clamd_timeout, std::chrono::seconds(60));
  EXPECT_EQ(parse("[filter]\nclamd = \"[::1]:3310\"\n").filter.clamd, "[::1]:3310");
  EXPECT_EQ(parse("[filter]\nclamd = \"/tmp/clamd.sock\"\n").filter.clamd, "/tmp/clamd.sock");
  // "" turns virus scanning off.
  EXPECT_EQ(parse("[filter]\nclamd = \"\"\n").filter.clamd, "");

  // The message is sent to clamd unencrypted: only on this machine.
  expect_refused("[filter]\nclamd = \"192.0.2.1:3310\"\n",
                 "filter.clamd: clamd must be on this machine");
  expect_refused("[filter]\nclamd = \"[2001:db8::1]:3310\"\n", "clamd must be on this machine");
  expect_refused("[filter]\nclamd = \"clamd.sock\"\n", "expected an absolute socket path");
  expect_refused("[filter]\nclamd = \"localhost:3310\"\n", "expected an absolute socket path");
  expect_refused("[filter]\nclamd = \"/" + std::string(120, 'a') + "\"\n", "at most 107 octets");
  expect_refused("[filter]\nclamd = 3310\n", "filter.clamd: expected a string");
  expect_refused("[filter]\nclamd_timeout = 0\n", "filter.clamd_timeout");
  expect_refused("[filter]\nclamd_timeout = \"10m\"\n", "filter.clamd_timeout");
  expect_refused("[filter]\nclamd_unavailable = \"reject\"\n",
                 R"(expected "tempfail" or "accept")");
}

TEST(ConfigTest, QueueAndSubmissionSettings) {
  const Config d = parse("[server]\nhostname = \"mx.example.com\"\n");
  EXPECT_EQ(d.queue.lifetime, std::chrono::hours(24 * 5));  // RFC 5321 4.5.4.1: 4-5 days
  EXPECT_EQ(d.queue.retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(d.queue.retry_delays.front(), std::chrono::minutes(5));
  EXPECT_GT(d.submission.messages_per_user_hour, 0U);

  const Config c = parse(
      "[queue]\nretry = \"1m, 5m,1h30m\"\nlifetime = \"3d\"\nretention = 86400\n"
      "delay_notice = 0\nper_destination = 3\n"
      "[submission]\nmessages_per_user_hour = 5\nmessages_per_domain_day = 50\n");
  EXPECT_EQ(c.queue.retry_delays,
            (std::vector<std::chrono::seconds>{std::chrono::minutes(1), std::chrono::minutes(5),
                                               std::chrono::minutes(90)}));
  EXPECT_EQ(c.queue.lifetime, std::chrono::hours(72));
  EXPECT_EQ(c.queue.retention, std::chrono::hours(24));
  EXPECT_EQ(c.queue.delay_notice.count(), 0);
  EXPECT_EQ(c.queue.max_per_destination, 3U);
  EXPECT_EQ(c.submission.messages_per_user_hour, 5U);
  EXPECT_EQ(c.submission.messages_per_domain_day, 50U);
  const Config again = parse(describe_config(c));
  EXPECT_EQ(again.queue.retry_delays, c.queue.retry_delays);
  EXPECT_EQ(again.queue.retention, c.queue.retention);
  EXPECT_EQ(again.submission.messages_per_user_hour, 5U);

  EXPECT_NE(error_of("[queue]\nretry = \"5x\"\n").find("queue.retry"), std::string::npos);
  EXPECT_NE(error_of("[queue]\nlifetime = \"90d\"\n").find("queue.lifetime"), std::string::npos);
  EXPECT_NE(error_of("[submission]\nmessages_per_user_hour = 0\n")
                .find("submission.messages_per_user_hour"),
            std::string::npos);
  const Config r = parse("[relay]\nmta_sts = false\nmta_sts_port = 8443\nca_file = \"ca.pem\"\n");
  EXPECT_FALSE(r.mta_sts);
  EXPECT_EQ(r.mta_sts_port, 8443);
  EXPECT_EQ(r.relay_ca_file, std::filesystem::path("/etc/sealpost/ca.pem"));
  EXPECT_TRUE(d.mta_sts);  // on by default
  // Credentials never travel in plaintext: the submission ports need TLS.
  EXPECT_NE(error_of("[listen]\nsubmission = \"127.0.0.1:587\"\n").find("need [tls]"),
            std::string::npos);
}

}  // namespace
}  // namespace sealpost::core

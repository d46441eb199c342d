#include "core/settings.hpp"

#include <algorithm>
#include <climits>
#include <concepts>
#include <functional>
#include <initializer_list>
#include <map>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <toml++/toml.h>
#include <unistd.h>

#include "core/domain.hpp"
#include "core/duration.hpp"
#include "core/strings.hpp"
#include "core/table_reader.hpp"

namespace sealpost::core {
namespace {

using std::chrono::seconds;
constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::int64_t kDaySeconds = 86400;
constexpr seconds kDay{kDaySeconds};

const Config& defaults() {
  static const Config config;
  return config;
}

// The struct that holds a section's members: Config itself, or one of its groups.
template <class Group, class C>
auto& group_of(C& config) {
  if constexpr (std::is_same_v<Group, Limits>) {
    return config.limits;
  } else if constexpr (std::is_same_v<Group, Access>) {
    return config.access;
  } else if constexpr (std::is_same_v<Group, Queue>) {
    return config.queue;
  } else if constexpr (std::is_same_v<Group, Submission>) {
    return config.submission;
  } else if constexpr (std::is_same_v<Group, Filter>) {
    return config.filter;
  } else {
    static_assert(std::is_same_v<Group, Config>);
    return config;
  }
}

// The Config member a setting fills, reached from the whole Config.
template <class Group, class T>
struct Member {
  T Group::*ptr;
  T& operator()(Config& c) const { return group_of<Group>(c).*ptr; }
  const T& operator()(const Config& c) const { return group_of<Group>(c).*ptr; }
};

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string code(std::string_view s) {
  return "`" + std::string(s) + "`";
}

std::string line(std::string_view key, std::string_view value) {
  return std::string(key) + " = " + std::string(value) + "\n";
}

// "25M" for 25 MiB: the largest unit that divides the size, as parse_size reads it.
std::string size_text(std::uint64_t n) {
  for (const auto& [unit, suffix] : {std::pair{kGiB, 'G'}, {kMiB, 'M'}, {kKiB, 'K'}}) {
    if (n != 0 && n % unit == 0) return std::to_string(n / unit) + suffix;
  }
  return std::to_string(n);
}

// "1h30m" for 5400 s, as parse_duration reads it.
std::string duration_text(seconds d) {
  if (d.count() == 0) return "0";
  std::string out;
  auto left = d.count();
  for (const auto& [unit, suffix] : {std::pair{kDaySeconds, 'd'},
                                     {std::int64_t{3600}, 'h'},
                                     {std::int64_t{60}, 'm'},
                                     {std::int64_t{1}, 's'}}) {
    if (left >= unit) out += std::to_string(left / unit) + suffix;
    left %= unit;
  }
  return out;
}

// A duration's default as the operator writes it: 0 is an integer, the others a string.
std::string duration_default(seconds d) {
  return code(d.count() == 0 ? "0" : in_quotes(duration_text(d)));
}

// A value other than the default within the bounds, for the round-trip test.
template <class T>
T other_than(T value, T min, T max) {
  return value != min ? min : max;
}

template <class Group>
Setting flag(std::string_view section, std::string_view key, bool Group::*ptr,
             std::string_view doc) {
  const Member<Group, bool> m{ptr};
  const bool d = m(defaults());
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = "true or false",
          .default_text = d ? "true" : "false",
          .doc = doc,
          .read =
              [m, k](TableReader& r, Config& c) {
                if (auto v = r.boolean(k)) m(c) = *v;
              },
          .describe = [m, k](const Config& c) { return line(k, m(c) ? "true" : "false"); },
          .example = line(k, d ? "false" : "true")};
}

template <class Group, std::integral T>
Setting integer(std::string_view section, std::string_view key, T Group::*ptr, std::int64_t min,
                std::int64_t max, std::string_view doc) {
  const Member<Group, T> m{ptr};
  const auto d = static_cast<std::int64_t>(m(defaults()));
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = std::to_string(min) + " to " + std::to_string(max),
          .default_text = std::to_string(d),
          .doc = doc,
          .read =
              [m, k, min, max](TableReader& r, Config& c) {
                if (auto v = r.integer(k, min, max)) m(c) = static_cast<T>(*v);
              },
          .describe =
              [m, k](const Config& c) {
                return line(k, std::to_string(static_cast<std::int64_t>(m(c))));
              },
          .example = line(k, std::to_string(other_than(d, min, max)))};
}

// A number of seconds, written as an integer only.
template <class Group>
Setting whole_seconds(std::string_view section, std::string_view key, seconds Group::*ptr,
                      std::int64_t min, std::int64_t max, std::string_view doc) {
  const Member<Group, seconds> m{ptr};
  const auto d = m(defaults()).count();
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = "seconds, " + std::to_string(min) + " to " + std::to_string(max),
          .default_text = std::to_string(d),
          .doc = doc,
          .read =
              [m, k, min, max](TableReader& r, Config& c) {
                if (auto v = r.integer(k, min, max)) m(c) = seconds(*v);
              },
          .describe = [m, k](const Config& c) { return line(k, std::to_string(m(c).count())); },
          .example = line(k, std::to_string(other_than(d, min, max)))};
}

// A duration: seconds, or a string such as "5d" or "1h30m".
template <class Group>
Setting duration(std::string_view section, std::string_view key, seconds Group::*ptr, seconds min,
                 seconds max, std::string_view doc) {
  const Member<Group, seconds> m{ptr};
  const auto d = m(defaults());
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = "duration, " + duration_text(min) + " to " + duration_text(max),
          .default_text = duration_default(d),
          .doc = doc,
          .read =
              [m, k, min, max](TableReader& r, Config& c) {
                if (auto v = r.duration(k, min, max)) m(c) = *v;
              },
          .describe = [m, k](const Config& c) { return line(k, std::to_string(m(c).count())); },
          .example = line(k, std::to_string(other_than(d, min, max).count()))};
}

// A size: bytes, or a string such as "25M".
template <class Group>
Setting size(std::string_view section, std::string_view key, std::uint64_t Group::*ptr,
             std::uint64_t min, std::uint64_t max, std::string_view doc) {
  const Member<Group, std::uint64_t> m{ptr};
  const auto d = m(defaults());
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = "size, " + size_text(min) + " to " + size_text(max),
          .default_text = code(in_quotes(size_text(d))),
          .doc = doc,
          .read =
              [m, k, min, max](TableReader& r, Config& c) {
                if (auto v = r.size(k, min, max)) m(c) = *v;
              },
          .describe = [m, k](const Config& c) { return line(k, std::to_string(m(c))); },
          .example = line(k, std::to_string(other_than(d, min, max)))};
}

// "6.5", or "6.0" for a whole number, as TOML reads it back as a float.
std::string number_text(double v) {
  auto out = fmt::format("{}", v);
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  return out;
}

// A number, whole or not.
template <class Group>
Setting number(std::string_view section, std::string_view key, double Group::*ptr, double min,
               double max, std::string_view doc) {
  const Member<Group, double> m{ptr};
  const double d = m(defaults());
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = "number, " + number_text(min) + " to " + number_text(max),
          .default_text = number_text(d),
          .doc = doc,
          .read =
              [m, k, min, max](TableReader& r, Config& c) {
                if (auto v = r.number(k, min, max)) m(c) = *v;
              },
          .describe = [m, k](const Config& c) { return line(k, number_text(m(c))); },
          .example = line(k, number_text(other_than(d, min, max)))};
}

// A string that must be one of a few words. The error keeps the wording each key always had:
// "expected "a" or "b"" for two words, "expected one of a, b, c" for more.
template <class Group>
Setting one_of(std::string_view section, std::string_view key, std::string Group::*ptr,
               std::vector<std::string> words, std::string_view doc) {
  const Member<Group, std::string> m{ptr};
  const auto& d = m(defaults());
  std::string k(key);
  std::string takes;
  std::string expected = words.size() == 2
                             ? "expected " + in_quotes(words[0]) + " or " + in_quotes(words[1])
                             : "expected one of ";
  for (std::size_t i = 0; i < words.size(); ++i) {
    takes += (i ? ", " : "") + code(in_quotes(words[i]));
    if (words.size() != 2) expected += (i ? ", " : "") + words[i];
  }
  const auto other = words[0] != d ? words[0] : words[1];
  return {.section = section,
          .key = k,
          .takes = takes,
          .default_text = code(in_quotes(d)),
          .doc = doc,
          .read =
              [m, k, words, expected](TableReader& r, Config& c) {
                if (auto v = r.string(k)) {
                  if (std::find(words.begin(), words.end(), *v) == words.end()) r.fail(k, expected);
                  m(c) = *v;
                }
              },
          .describe = [m, k](const Config& c) { return line(k, in_quotes(m(c))); },
          .example = line(k, in_quotes(other))};
}

// A host name or domain, kept as its lowercase A-label. Absent, it is computed from the rest.
Setting host(std::string_view section, std::string_view key, std::string Config::*ptr,
             std::string what, std::string default_text, std::string example,
             std::string (*absent)(const Config&), std::string_view doc) {
  const Member<Config, std::string> m{ptr};
  std::string k(key);
  return {.section = section,
          .key = k,
          .takes = what,
          .default_text = std::move(default_text),
          .doc = doc,
          .read =
              [m, k, what, absent](TableReader& r, Config& c) {
                if (auto h = r.string(k)) {
                  const auto a_label = to_a_label(*h);
                  if (!a_label) r.fail(k, "not a valid " + what + ": \"" + *h + "\"");
                  m(c) = *a_label;
                } else {
                  m(c) = absent(c);
                }
              },
          .describe = [m, k](const Config& c) { return line(k, in_quotes(m(c))); },
          .example = line(k, in_quotes(example))};
}

// An "IP:PORT" to listen on; absent, that listener is not started.
Setting listener(std::string_view key, std::optional<Endpoint> Config::*ptr, std::string_view doc) {
  const Member<Config, std::optional<Endpoint>> m{ptr};
  std::string k(key);
  return {.section = "listen",
          .key = k,
          .takes = code(in_quotes("IP:PORT")),
          .default_text = "not started",
          .doc = doc,
          .read =
              [m, k](TableReader& r, Config& c) {
                if (auto ep = r.endpoint(k)) m(c) = *ep;
              },
          .describe =
              [m, k](const Config& c) {
                return m(c) ? line(k, in_quotes(m(c)->to_string())) : std::string();
              },
          .example = line(k, in_quotes("127.0.0.1:2525"))};
}

enum PathRule : unsigned {
  kAsWritten = 0,
  kNotEmpty = 1,
  kFromConfigDir = 2,  // a relative path is relative to the config file's directory
};

std::filesystem::path apply(PathRule rule, TableReader& r, std::string_view key,
                            const std::string& text) {
  if ((rule & kNotEmpty) && text.empty()) r.fail(key, "must not be empty");
  std::filesystem::path p(text);
  if ((rule & kFromConfigDir) && p.is_relative()) {
    p = std::filesystem::absolute(r.source()).parent_path() / p;
  }
  return p;
}

template <class T>  // std::filesystem::path, or an optional one (none by default)
Setting path(std::string_view section, std::string_view key, T Config::*ptr, std::string what,
             PathRule rule, std::string_view doc) {
  const Member<Config, T> m{ptr};
  const auto& d = m(defaults());
  constexpr bool kOptional = !std::is_same_v<T, std::filesystem::path>;
  std::string k(key);
  std::string default_text;
  if constexpr (kOptional) {
    default_text = d ? code(in_quotes(d->string())) : "none";
  } else {
    default_text = code(in_quotes(d.string()));
  }
  return {.section = section,
          .key = k,
          .takes = std::move(what),
          .default_text = default_text,
          .doc = doc,
          .read =
              [m, k, rule](TableReader& r, Config& c) {
                if (auto s = r.string(k)) m(c) = apply(rule, r, k, *s);
              },
          .describe =
              [m, k](const Config& c) {
                if constexpr (kOptional) {
                  return m(c) ? line(k, in_quotes(m(c)->string())) : std::string();
                } else {
                  return line(k, in_quotes(m(c).string()));
                }
              },
          .example = line(k, in_quotes("/example/" + k))};
}

std::string machine_host_name(const Config&) {
  char buf[HOST_NAME_MAX + 1] = {};
  gethostname(buf, sizeof buf - 1);
  const auto a_label = to_a_label(buf);
  return a_label ? *a_label : "localhost";
}

std::string our_host_name(const Config& c) {
  return c.hostname;
}

std::string delays_text(const std::vector<seconds>& delays, bool readable) {
  std::string out;
  for (std::size_t i = 0; i < delays.size(); ++i) {
    out += (i ? "," : "") +
           (readable ? duration_text(delays[i]) : std::to_string(delays[i].count()) + "s");
  }
  return out;
}

// A list of texts in [filter], each made into its value by `item` (nullopt: refused with
// `expected`), and shown by `text`.
template <class T>
Setting filter_list(std::string key, std::vector<T> Filter::*ptr, std::string takes,
                    std::string_view doc, std::string expected, std::string example,
                    std::function<std::optional<T>(TableReader&, const std::string&)> item,
                    std::function<std::string(const T&)> text) {
  return {.section = "filter",
          .key = key,
          .takes = std::move(takes),
          .default_text = "none",
          .doc = doc,
          .read =
              [key, ptr, expected, item](TableReader& r, Config& c) {
                const auto* node = r.get(key);
                if (!node) return;
                const auto* arr = node->as_array();
                if (!arr) r.fail(key, expected);
                for (const auto& entry : *arr) {
                  const auto value = entry.template value<std::string>();
                  auto made = value ? item(r, *value) : std::nullopt;
                  if (!made) r.fail(key, expected);
                  (c.filter.*ptr).push_back(std::move(*made));
                }
              },
          .describe =
              [key, ptr, text](const Config& c) {
                std::string list;
                for (const auto& v : c.filter.*ptr) {
                  if (!list.empty()) list += ", ";
                  list += in_quotes(text(v));
                }
                return line(key, "[" + list + "]");
              },
          .example = line(key, example)};
}

// A DNS blocklist table: zone (a domain) -> the score of a listing; `{}` for none.
Setting zone_scores(std::string_view key, std::map<std::string, double> Filter::*ptr,
                    std::string_view doc) {
  const Member<Filter, std::map<std::string, double>> m{ptr};
  std::string k(key);
  std::string default_text;
  for (const auto& [zone, score] : m(defaults())) {
    default_text +=
        (default_text.empty() ? "" : ", ") + in_quotes(zone) + " = " + number_text(score);
  }
  return {.section = "filter",
          .key = k,
          .takes = "`{ \"zone\" = score, ... }`, `{}` for none",
          .default_text = code("{ " + default_text + " }"),
          .doc = doc,
          .read =
              [m, k](TableReader& r, Config& c) {
                const auto* node = r.get(k);
                if (!node) return;
                const auto* table = node->as_table();
                if (!table) r.fail(k, "expected a table of \"zone\" = score");
                auto& zones = m(c);
                zones.clear();
                for (const auto& [name, v] : *table) {
                  const std::string zone(name.str());
                  const auto a_label = to_a_label(zone);
                  if (!a_label || a_label->find('.') == std::string::npos) {
                    r.fail(k, "not a DNS zone: \"" + zone + "\"");
                  }
                  const auto score = v.value<double>();
                  if (!v.is_number() || !score || !(*score >= -1000 && *score <= 1000)) {
                    r.fail(k + ".\"" + zone + "\"", "expected a number between -1000 and 1000");
                  }
                  zones[*a_label] = *score;
                }
              },
          .describe =
              [m, k](const Config& c) {
                std::string list;
                for (const auto& [zone, score] : m(c)) {
                  list += (list.empty() ? "" : ", ") + in_quotes(zone) + " = " + number_text(score);
                }
                return line(k, "{ " + list + (list.empty() ? "}" : " }"));
              },
          .example = line(k, "{ \"bl.example.org\" = 3.5 }")};
}

// Whether an address literal is this machine's loopback (127.0.0.0/8, ::1).
bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// What is wrong with [filter] clamd, or nullopt. clamd is sent each message unencrypted: it
// must be on this machine.
std::optional<std::string> clamd_problem(const std::string& where) {
  if (where.empty()) return std::nullopt;
  if (where.front() == '/') {
    if (where.size() >= sizeof(sockaddr_un::sun_path)) {
      return "a unix socket's path is at most " +
             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " octets";
    }
    return std::nullopt;
  }
  const auto endpoint = parse_endpoint(where);
  if (!endpoint) return R"(expected an absolute socket path, "IP:PORT" or "")";
  if (!is_loopback(endpoint->host)) {
    return "clamd must be on this machine (127.0.0.0/8 or ::1): the message is sent unencrypted";
  }
  return std::nullopt;
}

std::vector<Setting> make_settings() {
  using std::chrono::hours;
  constexpr std::int64_t kMillion = 1'000'000;
  std::vector<Setting> s;
  const auto add = [&s](Setting setting) { s.push_back(std::move(setting)); };

  add(host("server", "hostname", &Config::hostname, "host name", "the machine's host name",
           "mx.example.org", machine_host_name, "our name in greetings, `Received:` and SRS"));
  add(path("server", "data_dir", &Config::data_dir, "directory",
           PathRule(kNotEmpty | kFromConfigDir),
           "metadata store and keys (mode 0700); relative to the config file"));
  add({.section = "server",
       .key = "user",
       .takes = "user name",
       .default_text = "none",
       .doc = "started as root: bind the ports, then run as this user (the data directory is "
              "handed to it, following no link). Required when started as root: `serve` refuses "
              "to run as root, and a user that is root (uid or group 0) is refused. "
              "`scripts/install-deps.sh` creates the system user `sealpost`. CLI subcommands run "
              "as root act as this user too (so what they write belongs to the server; files "
              "they read or write, such as `--password-file` and export outputs, must be "
              "reachable by it)",
       .read =
           [](TableReader& r, Config& c) {
             if (auto u = r.string("user")) {
               if (u->empty()) r.fail("user", "must not be empty");
               c.user = *u;
             }
           },
       .describe =
           [](const Config& c) { return c.user.empty() ? "" : line("user", in_quotes(c.user)); },
       .example = line("user", in_quotes("sealpost"))});

  add(listener("smtp", &Config::listen_smtp, "the MX (SMTP; 25); `\"[::1]:25\"` for IPv6"));
  add(listener("imap", &Config::listen_imap,
               "IMAP with STARTTLS (143); needs `[tls]` (or, loopback only, `[access] "
               "allow_plaintext_on_loopback`)"));
  add(listener("imaps", &Config::listen_imaps, "IMAP over TLS (993); needs `[tls]`"));
  add(listener("pop3", &Config::listen_pop3,
               "POP3 with STLS (110); needs `[tls]` (or, loopback only, `[access] "
               "allow_plaintext_on_loopback`)"));
  add(listener("pop3s", &Config::listen_pop3s, "POP3 over TLS (995); needs `[tls]`"));
  add(listener("submission", &Config::listen_submission,
               "submission with STARTTLS (587); needs `[tls]`"));
  add(listener("submissions", &Config::listen_submissions,
               "submission over TLS (465); needs `[tls]`"));

  add(path("tls", "cert", &Config::tls_cert, "file", kFromConfigDir,
           "PEM certificate chain; absent: STARTTLS is not offered (logged once)"));
  add(path("tls", "key", &Config::tls_key, "file", kFromConfigDir,
           "PEM private key of `cert`, set with it"));

  add({.section = "dns",
       .key = "servers",
       .takes = code(R"(["IP:PORT", ...])"),
       .default_text = "the system resolver",
       .doc = "recursive resolvers to use",
       .read =
           [](TableReader& r, Config& c) {
             const auto* servers = r.get("servers");
             if (!servers) return;
             const auto* arr = servers->as_array();
             if (!arr) r.fail("servers", "expected a list of \"IP:PORT\"");
             for (const auto& item : *arr) {
               const auto text = item.value<std::string>();
               const auto ep = text ? parse_endpoint(*text) : std::nullopt;
               if (!ep) r.fail("servers", "expected a list of \"IP:PORT\"");
               c.dns_servers.push_back(*ep);
             }
           },
       .describe =
           [](const Config& c) {
             std::string list;
             for (const auto& ep : c.dns_servers) {
               list += (list.empty() ? "" : ", ") + in_quotes(ep.to_string());
             }
             return line("servers", "[" + list + "]" +
                                        (c.dns_servers.empty() ? "  # the system resolver" : ""));
           },
       .example = line("servers", R"(["127.0.0.1:5353", "[::1]:53"])")});
  add({.section = "dns",
       .key = "trust_anchor",
       .takes = "file, or `\"\"`",
       .default_text = code(in_quotes(defaults().dns_trust_anchor)),
       .doc = "DNSSEC trust anchor file (Debian `dns-root-data`); `\"\"` turns validation off",
       .read =
           [](TableReader& r, Config& c) {
             if (auto ta = r.string("trust_anchor")) c.dns_trust_anchor = *ta;
             // The default is checked too: a missing anchor would silently turn DNSSEC off.
             if (!c.dns_trust_anchor.empty() &&
                 !std::filesystem::is_regular_file(c.dns_trust_anchor)) {
               r.fail("trust_anchor",
                      R"(no such file: ")" + c.dns_trust_anchor +
                          R"(" (install dns-root-data, or set "" to turn DNSSEC off))");
             }
           },
       .describe =
           [](const Config& c) {
             return line("trust_anchor",
                         in_quotes(c.dns_trust_anchor) +
                             (c.dns_trust_anchor.empty() ? "  # DNSSEC validation off" : ""));
           },
       .example = line("trust_anchor", in_quotes(""))});
  add(whole_seconds("dns", "timeout", &Config::dns_timeout, 1, 60,
                    "seconds per DNS query; inbound authentication gets three of them"));

  add({.section = "transport",
       .key = R"("domain")",
       .takes = code(in_quotes("IP:PORT")),
       .default_text = "none",
       .doc = "send a domain's mail to that host instead of its MX (Postfix's transport map)",
       .read =
           [](TableReader& r, Config& c) {
             if (!r.table()) return;
             for (const auto& [k, v] : *r.table()) {
               const std::string key(k.str());
               r.get(key);
               const auto domain = to_a_label(key);
               const auto text = v.value<std::string>();
               const auto ep = text ? parse_endpoint(*text) : std::nullopt;
               const auto where = r.source().string() + ": transport.\"" + key + "\": ";
               if (!domain) throw ConfigError(where + "not a valid domain");
               if (!ep) throw ConfigError(where + R"(expected "IP:PORT" (IPv6 as "[addr]:PORT"))");
               c.transport[*domain] = *ep;
             }
           },
       .describe =
           [](const Config& c) {
             std::string out;
             for (const auto& [d, ep] : c.transport)
               out += line(in_quotes(d), in_quotes(ep.to_string()));
             return out;
           },
       .example = line(in_quotes("example.net"), in_quotes("127.0.0.1:2526"))});

  add(integer("relay", "port", &Config::relay_port, 1, 65535, "port used for MX hosts"));
  add(flag("relay", "mta_sts", &Config::mta_sts, "enforce destinations' MTA-STS policies"));
  add(flag("relay", "dane", &Config::dane,
           "enforce DANE where TLSA records are DNSSEC-secure (needs `[dns] trust_anchor`)"));
  add(integer("relay", "mta_sts_port", &Config::mta_sts_port, 1, 65535,
              "port of MTA-STS policy hosts (tests only)"));
  add(path("relay", "ca_file", &Config::relay_ca_file, "file", PathRule(kNotEmpty | kFromConfigDir),
           "more CAs to trust for verified TLS to MTA-STS policy hosts and MX hosts (besides the "
           "system's `/etc/ssl/certs`)"));

  add(host("srs", "domain", &Config::srs_domain, "domain", "`[server] hostname`", "srs.example.org",
           our_host_name, "domain of SRS addresses (publish SPF for it)"));
  add(integer("srs", "max_age_days", &Config::srs_max_age_days, 1, 365,
              "days an SRS address stays valid for bounces"));

  add(flag("auth", "enabled", &Config::auth_enabled,
           "SPF, DKIM, DMARC and ARC on the MX, `Authentication-Results:`"));
  add(one_of("auth", "dmarc_reject_action", &Config::dmarc_reject_action, {"reject", "quarantine"},
             "what a DMARC `p=reject` failure gets: refused (550 5.7.1) or accepted and marked "
             "(a mailbox files it as Junk)"));
  add(host("auth", "authserv_id", &Config::authserv_id, "host name", "`[server] hostname`",
           "auth.example.org", our_host_name, "our name in `Authentication-Results:`"));
  add(flag("auth", "arc_seal", &Config::arc_seal,
           "ARC-seal forwarded mail with the alias domain's key"));
  add(flag("auth", "dmarc_reports", &Config::dmarc_reports,
           "mail DMARC aggregate reports to the domains that ask (`rua=`)"));
  add(path("auth", "public_suffix_list", &Config::public_suffix_list, "file", kAsWritten,
           "for DMARC organisational domains"));
  // Earlier versions wrote the reports as plaintext files into dmarc_report_dir; they are mailed
  // now, and a config that names the directory still loads. "" used to turn reports off, and
  // still does: an operator who chose to send none should not start sending by upgrading.
  add({.section = "auth",
       .key = "dmarc_report_dir",
       .takes = "obsolete",
       .default_text = "none",
       .doc = "read with a warning and ignored: reports are mailed, not written (`\"\"` still "
              "means `dmarc_reports = false`)",
       .read =
           [](TableReader& r, Config& c) {
             const auto dir = r.string("dmarc_report_dir");
             if (!dir) return;
             if (dir->empty() && !r.has("dmarc_reports")) {
               c.dmarc_reports = false;
               c.warnings.emplace_back(
                   "auth.dmarc_report_dir is obsolete (reports are mailed, not written); \"\" is "
                   "read as auth.dmarc_reports = false");
             } else {
               c.warnings.emplace_back(
                   "auth.dmarc_report_dir is obsolete and ignored: DMARC aggregate reports are "
                   "mailed to the rua= addresses through the queue and no report file is written "
                   "(auth.dmarc_reports turns them off); the files an earlier version wrote there "
                   "can be deleted");
             }
           },
       .describe = [](const Config&) { return std::string(); },
       .example = ""});

  add(flag("privacy", "received_client_address", &Config::received_client_address,
           "put the client's IP in our `Received:` header"));

  add(one_of("log", "level", &Config::log_level, {"trace", "debug", "info", "warn", "error", "off"},
             "how much the server logs"));

  add(size("limits", "message_size", &Limits::max_message_size, kKiB, 2 * kGiB,
           "largest message (SIZE, and enforced while reading)"));
  add(integer("limits", "recipients", &Limits::max_recipients, 1, 100000,
              "recipients per message (RFC 5321 asks for at least 100)"));
  add(integer("limits", "connections_per_client", &Limits::max_connections_per_client, 1, kMillion,
              "simultaneous SMTP connections from one client"));
  add(integer("limits", "connections", &Limits::max_connections, 1, kMillion,
              "simultaneous SMTP connections in all"));
  add(integer("limits", "connection_rate", &Limits::connection_rate, 0, kMillion,
              "MX connections per minute from one network (an IPv4 /24, an IPv6 /64), as a "
              "bucket that refills at that rate; past it `421 4.7.0`; 0: no limit"));
  add(size("limits", "bytes_in_flight", &Limits::max_bytes_in_flight, kKiB, 64 * kGiB,
           "message bytes held in memory at once; past it `451 4.3.1`; at least `message_size`"));
  add(size("limits", "spool_size", &Limits::max_spool_size, kKiB, 1024 * kGiB,
           "sealed mail waiting for a locked mailbox (its quota if smaller); past it `452 4.2.2` "
           "until the owner logs in; at least `message_size` (raised to it when not set)"));
  add(whole_seconds("limits", "idle_timeout", &Limits::idle_timeout, 1, kDaySeconds,
                    "seconds an SMTP client may stay silent (RFC 5321: at least 5 minutes)"));
  add(whole_seconds("limits", "session_timeout", &Limits::session_timeout, 1, 7 * kDaySeconds,
                    "seconds an SMTP session may last"));
  add(integer("limits", "errors_per_session", &Limits::max_errors, 1, 100000,
              "protocol errors before `421`"));
  add(integer("limits", "unknown_recipients_per_session", &Limits::max_unknown_recipients, 1,
              100000, "unknown recipients before `421` (stops enumeration)"));
  add(whole_seconds("limits", "relay_timeout", &Limits::relay_timeout, 1, 3600,
                    "seconds to wait for a destination's reply to each command (DATA: ten times "
                    "this at most)"));
  add(whole_seconds("limits", "relay_connect_timeout", &Limits::relay_connect_timeout, 1, 3600,
                    "seconds to wait for a destination's connection"));
  add(whole_seconds("limits", "accepted_memory", &Limits::accepted_memory, 0, 30 * kDaySeconds,
                    "seconds an acceptance is remembered to avoid duplicates on retry"));
  add(integer("limits", "ipv6_client_prefix", &Limits::ipv6_client_prefix, 16, 128,
              "IPv6 clients count as one client per this prefix (IPv4: per address), for every "
              "per-client connection limit (SMTP, IMAP, POP3) and the login throttle"));

  add(flag("access", "allow_plaintext_on_loopback", &Access::allow_plaintext_on_loopback,
           "also accept passwords without TLS from 127.0.0.0/8 and ::1"));
  add(integer("access", "sessions_per_user", &Access::sessions_per_user, 1, 100000,
              "simultaneous IMAP/POP3 sessions logged in to one mailbox"));
  add(integer("access", "connections_per_client", &Access::connections_per_client, 1, kMillion,
              "simultaneous IMAP/POP3 connections from one client"));
  add(integer("access", "connections", &Access::connections, 1, kMillion,
              "simultaneous IMAP/POP3 connections in all"));
  add(whole_seconds(
      "access", "idle_timeout", &Access::idle_timeout, 1800, kDaySeconds,
      "seconds of silence allowed after login (IMAP; RFC 9051: at least 30 minutes)"));
  add(whole_seconds("access", "login_timeout", &Access::login_timeout, 1, 3600,
                    "seconds from connecting to logging in (IMAP and POP3: commands before login "
                    "do not extend it)"));
  add(whole_seconds("access", "pop3_idle_timeout", &Access::pop3_idle_timeout, 600, kDaySeconds,
                    "seconds of silence allowed in POP3 (RFC 1939: at least 10 minutes)"));
  add(integer("access", "command_line", &Access::max_command_line, 8192, 16 * 1024 * 1024,
              "octets of one IMAP command line outside literals (APPENDLIMIT is `[limits] "
              "message_size`)"));
  add(integer("access", "errors_per_session", &Access::max_errors, 1, 100000,
              "protocol errors (BAD, -ERR) before the connection is closed"));
  add(integer("access", "kdf_workers", &Access::kdf_workers, 1, 64,
              "threads that run Argon2id for logins (a pool of their own)"));
  add(integer("access", "kdf_queue", &Access::kdf_queue, 0, 100000,
              "logins that may wait for a KDF thread; past that a login is refused for now "
              "(`NO [UNAVAILABLE]`, `454 4.7.0`, `-ERR [SYS/TEMP]`)"));
  add(integer("access", "min_password_score", &Access::min_password_score, 0, 4,
              "zxcvbn score a password set by `mailbox add`/`passwd` must reach (3: more than "
              "10^8 guesses); 0 accepts any"));

  add({.section = "queue",
       .key = "retry",
       .takes = "durations, `\"5m,10m,1h\"`, each 1s to 7d",
       .default_text = code(in_quotes(delays_text(defaults().queue.retry_delays, true))),
       .doc = "waits after each failed attempt; the last repeats",
       .read =
           [](TableReader& r, Config& c) {
             const auto text = r.string("retry");
             if (!text) return;
             auto delays = parse_delays(*text);
             if (!delays) {
               r.fail("retry", "expected delays such as \"5m,10m,20m,1h,4h\" (each 1s to 7d)");
             }
             c.queue.retry_delays = std::move(*delays);
           },
       .describe =
           [](const Config& c) {
             return line("retry", in_quotes(delays_text(c.queue.retry_delays, false)));
           },
       .example = line("retry", in_quotes("1m,1h"))});
  add(duration("queue", "lifetime", &Queue::lifetime, seconds(1), 30 * kDay,
               "how long a message is retried before it bounces (RFC 5321: 4-5 days)"));
  add(duration("queue", "delay_notice", &Queue::delay_notice, seconds(0), 30 * kDay,
               "when the sender hears that a message is delayed (0: never)"));
  add(duration("queue", "retention", &Queue::retention, seconds(0), 366 * kDay,
               "how long a sent message's sealed content is kept before it is redacted"));
  add(integer("queue", "deliveries", &Queue::max_deliveries, 1, 10000,
              "simultaneous outbound transactions in all"));
  add(integer("queue", "per_destination", &Queue::max_per_destination, 1, 1000,
              "simultaneous outbound transactions to one destination domain"));

  constexpr std::int64_t kMaxRate = 100'000'000;
  add(integer("submission", "messages_per_user_hour", &Submission::messages_per_user_hour, 1,
              kMaxRate, "messages one user may send in an hour"));
  add(integer("submission", "messages_per_user_day", &Submission::messages_per_user_day, 1,
              kMaxRate, "messages one user may send in a day"));
  add(integer("submission", "messages_per_domain_hour", &Submission::messages_per_domain_hour, 1,
              kMaxRate, "messages a domain's users may send together in an hour"));
  add(integer("submission", "messages_per_domain_day", &Submission::messages_per_domain_day, 1,
              kMaxRate, "messages a domain's users may send together in a day"));

  add(flag("filter", "enabled", &Filter::enabled,
           "the content filter on the MX: every message is checked before the reply, and refused "
           "(`550 5.7.1`), deferred (`451 4.7.1`) or marked as junk by what it finds; a domain can "
           "turn it off (`sealpost domain filter`)"));
  add(number("filter", "junk_score", &Filter::junk_score, 0.1, 1000,
             "score from which a message is junk: stored in Junk, forwarded with "
             "`X-Spam-Status: Yes`"));
  add(number("filter", "reject_score", &Filter::reject_score, 1, 1000,
             "score from which a message gets `spam_action`; more than `junk_score`"));
  add(one_of("filter", "spam_action", &Filter::spam_action, {"reject", "junk"},
             "what a message at `reject_score` gets (a program or a virus is refused either way); "
             "a domain can choose its own"));
  add({.section = "filter",
       .key = "clamd",
       .takes = "socket path, " + code(in_quotes("IP:PORT")) + " or " + code(in_quotes("")),
       .default_text = code(in_quotes(defaults().filter.clamd)),
       .doc = "ClamAV's daemon, which scans every message for viruses (a virus is refused with "
              "`550 5.7.1`): the absolute path of its `LocalSocket`, or its `TCPSocket` on a "
              "loopback address (the message is sent unencrypted); `\"\"`: no virus scanning. "
              "The default is where Debian's `clamav-daemon` listens, whether or not it is "
              "installed: on a machine without it, set `\"\"`, or every message is deferred "
              "(`clamd_unavailable`)",
       .read =
           [](TableReader& r, Config& c) {
             if (auto where = r.string("clamd")) {
               if (const auto problem = clamd_problem(*where)) r.fail("clamd", *problem);
               c.filter.clamd = *where;
             }
           },
       .describe = [](const Config& c) { return line("clamd", in_quotes(c.filter.clamd)); },
       .example = line("clamd", in_quotes("127.0.0.1:3310"))});
  add(duration("filter", "clamd_timeout", &Filter::clamd_timeout, seconds(1), seconds(300),
               "the whole virus scan of a message (connecting, sending, clamd's answer); a scan "
               "that takes longer counts as not done"));
  add(one_of("filter", "clamd_unavailable", &Filter::clamd_unavailable, {"tempfail", "accept"},
             "what a message gets when clamd cannot scan it (not running, too slow, the message "
             "larger than its `StreamMaxLength`): deferred with `451 4.7.1`, so the sender "
             "retries, or accepted unscanned"));
  add(one_of("filter", "clamd_scan", &Filter::clamd_scan, {"attachments", "message"},
             "what clamd is given: `\"attachments\"`, each decoded attachment but images (as "
             "rspamd's antivirus module; the whole message when it has more attachments than "
             "the filter reads), or `\"message\"`, the message as received (clamd decodes and "
             "scans every part, the text and HTML too)"));
  add({.section = "filter",
       .key = "scores",
       .takes = "`{ SYMBOL = number, ... }`, each -1000 to 1000",
       .default_text = "none",
       .doc = "a symbol's score in place of the check's own, as `[filter.scores]` "
              "`URL_IP_HOST = 3.5` (`sealpost filter explain` shows the symbols)",
       .read =
           [](TableReader& r, Config& c) {
             const auto* node = r.get("scores");
             if (!node) return;
             const auto* table = node->as_table();
             if (!table) r.fail("scores", "expected a table of SYMBOL = number");
             for (const auto& [k, v] : *table) {
               const std::string symbol(k.str());
               if (!is_filter_symbol(symbol)) {
                 r.fail("scores." + symbol, "a symbol is A-Z, 0-9 and _ (at most 64)");
               }
               const auto score = v.value<double>();
               if (!v.is_number() || !score || !(*score >= -1000 && *score <= 1000)) {
                 r.fail("scores." + symbol, "expected a number between -1000 and 1000");
               }
               c.filter.scores[symbol] = *score;
             }
           },
       .describe =
           [](const Config& c) {
             std::string list;
             for (const auto& [symbol, score] : c.filter.scores) {
               list += (list.empty() ? "" : ", ") + symbol + " = " + number_text(score);
             }
             return line("scores", "{ " + list + (list.empty() ? "}" : " }"));
           },
       .example = line("scores", "{ URL_IP_HOST = 3.5, PHISH_DISPLAY_NAME_DOMAIN = 0.0 }")});
  add(zone_scores("dnsbl", &Filter::dnsbl,
                  "DNS blocklists of the client's address (IPv4 and IPv6), and the score of a "
                  "listing (symbol `DNSBL_<ZONE>`); answers outside 127.0.0.0/8, 127.0.0.1 and "
                  "127.255.255.0/24 (a list's errors) are no listing"));
  add(number("filter", "dnsbl_refuse_score", &Filter::dnsbl_refuse_score, 0, 1000,
             "a client whose `dnsbl` listings add up to this score or more is refused at RCPT TO "
             "(`550 5.7.1`, naming the lists), as Postfix's postscreen does; `0`: never, the "
             "listings count in each message's score"));
  add(zone_scores("rhsbl", &Filter::rhsbl,
                  "domain blocklists asked for the envelope sender's and the From: "
                  "organisational domain (`RHSBL_<ZONE>`)"));
  add(zone_scores("uribl", &Filter::uribl,
                  "URI blocklists asked for the organisational domains of the message's links "
                  "(`URIBL_<ZONE>`)"));
  add(integer("filter", "link_lookups", &Filter::link_lookups, 0, 1000,
              "links' domains looked up per message (in each URI list and for adult content)"));
  add(flag("filter", "reverse_dns", &Filter::reverse_dns,
           "score a client without forward-confirmed reverse DNS (`RDNS_NONE` 1.5, "
           "`RDNS_UNCONFIRMED` 1.0)"));
  add(flag("filter", "adult", &Filter::adult,
           "adult-content protection: the sender's and the links' domains are asked of "
           "`family_resolver` (`ADULT_DOMAIN`, 8); a domain can turn it off"));
  add({.section = "filter",
       .key = "family_resolver",
       .takes = "`\"IP:PORT\"`, or `\"\"`",
       .default_text = code(in_quotes(defaults().filter.family_resolver)),
       .doc = "a family-filter resolver that answers 0.0.0.0 for the domains it blocks "
              "(Cloudflare's 1.1.1.3); it sees the domains asked; `\"\"` turns the check off",
       .read =
           [](TableReader& r, Config& c) {
             const auto text = r.string("family_resolver");
             if (!text) return;
             if (!text->empty() && !parse_endpoint(*text)) {
               r.fail("family_resolver", R"(expected "IP:PORT" (IPv6 as "[addr]:PORT"), or "")");
             }
             c.filter.family_resolver = *text;
           },
       .describe =
           [](const Config& c) {
             return line("family_resolver", in_quotes(c.filter.family_resolver));
           },
       .example = line("family_resolver", in_quotes("127.0.0.1:5353"))});
  add(filter_list<std::filesystem::path>(
      "adult_lists", &Filter::adult_lists, code(R"(["file", ...])"),
      "local adult category lists: files of domains, one per line (`#` comments); a link's or the "
      "sender's domain listed there, or under a listed one, is `ADULT_DOMAIN` as "
      "`family_resolver`'s block is (and with `adult`); read at start",
      "expected a list of file names", R"(["/etc/sealpost/adult-domains.txt"])",
      [](TableReader& r, const std::string& text) -> std::optional<std::filesystem::path> {
        // Read (and a missing one refused) when the server starts.
        if (text.empty()) return std::nullopt;
        return apply(kFromConfigDir, r, "adult_lists", text);
      },
      [](const std::filesystem::path& p) { return p.string(); }));
  add(filter_list<std::string>(
      "brands", &Filter::brands, code(R"(["domain", ...])"),
      "more domains protected from lookalikes (`PHISH_LOOKALIKE_DOMAIN`) besides the built-in "
      "brands and the hosted domains: the operator's bank, its partners",
      R"(expected a list of domains ("bank.example"))", R"(["mybank.example"])",
      [](TableReader&, const std::string& text) -> std::optional<std::string> {
        auto domain = to_a_label(text);
        if (!domain || domain->find('.') == std::string::npos) return std::nullopt;
        return domain;
      },
      [](const std::string& d) { return d; }));
  add(duration("filter", "dns_budget", &Filter::dns_budget, seconds(1), seconds(120),
               "how long the network checks of one message (run at once) may take; what has "
               "not answered by then adds nothing"));
  add(flag("filter", "greylist", &Filter::greylist,
           "greylisting: a new (client network, sender, recipient) triplet gets `451 4.7.1` at "
           "RCPT until it is retried after `greylist_delay` (within a day); then it passes for 35 "
           "days. Kept as keyed hashes in memory (a restart forgets them)"));
  add(duration("filter", "greylist_delay", &Filter::greylist_delay, seconds(1), seconds(3600),
               "how long a greylisted sender must wait before its retry passes"));
  return s;
}

}  // namespace

std::span<const Setting> settings() {
  static const std::vector<Setting> table = make_settings();
  return table;
}

std::vector<std::string_view> setting_sections() {
  std::vector<std::string_view> sections;
  for (const auto& s : settings()) {
    if (sections.empty() || sections.back() != s.section) sections.push_back(s.section);
  }
  return sections;
}

std::string settings_reference() {
  std::string out = "| key | value | default | meaning |\n|---|---|---|---|\n";
  for (const auto& s : settings()) {
    out += "| `[" + std::string(s.section) + "] " + s.key + "` | " + s.takes + " | " +
           s.default_text + " | " + std::string(s.doc) + " |\n";
  }
  return out;
}

}  // namespace sealpost::core

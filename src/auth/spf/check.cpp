#include "auth/spf/check.hpp"

#include <chrono>

#include "auth/spf/macro.hpp"
#include "auth/spf/record.hpp"
#include "core/clock.hpp"
#include "core/strings.hpp"

namespace sealpost::auth::spf {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kMaxMxNames = 10;   // section 4.6.4
constexpr std::size_t kMaxPtrNames = 10;  // section 5.5
constexpr int kMaxDepth = 20;             // includes and redirects nested, on top of the limit

enum class Match { kNo, kYes, kTempError, kPermError };

// A domain check_host() may start from (section 4.3): a multi-label name with no empty or
// over-long label. Domain literals and single labels give "none".
bool valid_initial_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '[') return false;
  if (d.back() == '.') d.remove_suffix(1);
  std::size_t label = 0;
  std::size_t dots = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      ++dots;
    } else if (++label > 63 || static_cast<unsigned char>(c) <= 0x20) {
      return false;
    }
  }
  return label > 0 && dots > 0;
}

Ip to_ip(const asio::ip::address& a) {
  Ip ip;
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), ip.bytes.begin());
  } else {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), ip.bytes.begin());
    ip.v6 = true;
  }
  return ip.unmapped();
}

Ip to_ip(const asio::ip::address_v4& a) {
  Ip ip;
  const auto b = a.to_bytes();
  std::copy(b.begin(), b.end(), ip.bytes.begin());
  return ip;
}

Ip to_ip(const asio::ip::address_v6& a) {
  Ip ip;
  const auto b = a.to_bytes();
  std::copy(b.begin(), b.end(), ip.bytes.begin());
  ip.v6 = true;
  return ip;
}

asio::ip::address to_address(const Ip& ip) {
  if (!ip.v6) return asio::ip::address_v4({ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]});
  asio::ip::address_v6::bytes_type b;
  std::copy(ip.bytes.begin(), ip.bytes.end(), b.begin());
  return asio::ip::address_v6(b);
}

class Evaluator {
 public:
  Evaluator(dns::Lookup& dns, const Options& options, Ip ip, std::string helo)
      : dns_(dns), options_(options), ip_(ip), helo_(std::move(helo)) {}

  asio::awaitable<Verdict> run(std::string domain, std::string sender) {
    const auto at = sender.rfind('@');
    local_part_ = at == std::string::npos ? std::string() : sender.substr(0, at);
    sender_domain_ = at == std::string::npos ? sender : sender.substr(at + 1);
    if (local_part_.empty()) local_part_ = "postmaster";
    if (!valid_initial_domain(domain)) co_return Verdict{Outcome::kNone, {}, "no valid domain"};
    if (domain.back() == '.') domain.pop_back();
    co_return co_await check_host(std::move(domain), 0);
  }

 private:
  MacroContext context(const std::string& domain) const {
    MacroContext c;
    c.local_part = local_part_;
    c.sender_domain = sender_domain_;
    c.domain = domain;
    c.ip = ip_;
    c.helo = helo_;
    c.receiver = options_.receiver;
    c.validated = validated_;
    c.timestamp =
        options_.timestamp != 0 ? options_.timestamp : static_cast<std::uint64_t>(core::unix_now());
    return c;
  }

  // Counts a term that queries DNS; false once over the limit (section 4.6.4).
  bool count_lookup() { return ++lookups_ <= options_.lookup_limit; }
  // Counts an answer with no records; false once over the limit.
  bool count_void(dns::Status s) {
    if (s == dns::Status::kNxDomain || s == dns::Status::kNoData) ++voids_;
    return voids_ <= options_.void_lookup_limit;
  }

  // Expands a domain-spec into the name to query; empty when it names no valid domain.
  asio::awaitable<std::optional<std::string>> target(const std::string& spec,
                                                     const std::string& domain) {
    if (spec.empty()) co_return domain;
    if (uses_validated_name(spec)) co_await find_validated(domain);
    auto expanded = expand(spec, context(domain), false);
    if (!expanded) co_return std::nullopt;
    co_return target_name(std::move(expanded).value());
  }

  // The validated domain name of the client (sections 5.5 and 7.3), for %{p}.
  asio::awaitable<void> find_validated(const std::string& domain) {
    if (validated_done_) co_return;
    validated_done_ = true;
    const auto names = co_await validated_names(domain);
    for (const auto& n : names) {
      if (is_same_or_subdomain(n, domain)) {
        validated_ = n;
        co_return;
      }
    }
    if (!names.empty()) validated_ = names.front();
  }

  // The client's PTR names whose addresses include the client (section 5.5).
  asio::awaitable<std::vector<std::string>> validated_names(const std::string& domain) {
    std::vector<std::string> out;
    const auto ptr = co_await dns_.ptr(dns::reverse_name(to_address(ip_)));
    if (ptr.status != dns::Status::kOk) co_return out;
    std::size_t tried = 0;
    for (const auto& name : ptr.records) {
      if (++tried > kMaxPtrNames) break;
      if (co_await has_address(name)) out.push_back(name);
    }
    co_return out;
  }

  asio::awaitable<bool> has_address(const std::string& name) {
    if (ip_.v6) {
      const auto a = co_await dns_.aaaa(name);
      for (const auto& r : a.records) {
        if (to_ip(r).bytes == ip_.bytes) co_return true;
      }
    } else {
      const auto a = co_await dns_.a(name);
      for (const auto& r : a.records) {
        if (to_ip(r).bytes == ip_.bytes) co_return true;
      }
    }
    co_return false;
  }

  // Whether any address of `name` (A for IPv4 clients, AAAA for IPv6) holds the client.
  asio::awaitable<Match> address_match(const std::string& name, unsigned cidr4, unsigned cidr6,
                                       bool count_voids) {
    dns::Status status;
    bool found = false;
    if (ip_.v6) {
      const auto a = co_await dns_.aaaa(name);
      status = a.status;
      for (const auto& r : a.records) found = found || ip_.in_network(to_ip(r), cidr6);
    } else {
      const auto a = co_await dns_.a(name);
      status = a.status;
      for (const auto& r : a.records) found = found || ip_.in_network(to_ip(r), cidr4);
    }
    if (status == dns::Status::kTempFail) co_return Match::kTempError;
    if (count_voids && !count_void(status)) co_return Match::kPermError;
    co_return found ? Match::kYes : Match::kNo;
  }

  asio::awaitable<Match> evaluate(const Directive& d, const std::string& domain, int depth) {
    switch (d.mechanism) {
      case Mechanism::kAll:
        co_return Match::kYes;
      case Mechanism::kIp4:
        co_return (!ip_.v6 && ip_.in_network(d.network, d.cidr4)) ? Match::kYes : Match::kNo;
      case Mechanism::kIp6:
        co_return (ip_.v6 && ip_.in_network(d.network, d.cidr6)) ? Match::kYes : Match::kNo;
      default:
        break;
    }
    if (!count_lookup()) {
      problem_ = "too many DNS lookups";
      co_return Match::kPermError;
    }
    const auto name = co_await target(d.domain_spec, domain);
    if (!name) co_return Match::kPermError;   // the macro could not expand
    if (name->empty()) co_return Match::kNo;  // names no domain that could exist
    switch (d.mechanism) {
      case Mechanism::kA:
        co_return co_await address_match(*name, d.cidr4, d.cidr6, true);
      case Mechanism::kMx: {
        const auto mx = co_await dns_.mx_records(*name);
        if (mx.status == dns::Status::kTempFail) co_return Match::kTempError;
        if (!count_void(mx.status)) co_return Match::kPermError;
        if (mx.records.size() > kMaxMxNames) {
          problem_ = "too many MX names";
          co_return Match::kPermError;
        }
        for (const auto& host : mx.records) {
          if (host.host.empty()) continue;
          const Match m = co_await address_match(host.host, d.cidr4, d.cidr6, false);
          if (m != Match::kNo) co_return m;
        }
        co_return Match::kNo;
      }
      case Mechanism::kPtr: {
        for (const auto& n : co_await validated_names(*name)) {
          if (is_same_or_subdomain(n, *name)) co_return Match::kYes;
        }
        co_return Match::kNo;
      }
      case Mechanism::kExists: {
        const auto a = co_await dns_.a(*name);
        if (a.status == dns::Status::kTempFail) co_return Match::kTempError;
        if (!count_void(a.status)) co_return Match::kPermError;
        co_return a.records.empty() ? Match::kNo : Match::kYes;
      }
      case Mechanism::kInclude: {
        const Verdict v = co_await check_host(*name, depth + 1);
        switch (v.result) {
          case Outcome::kPass:
            co_return Match::kYes;
          case Outcome::kFail:
          case Outcome::kSoftFail:
          case Outcome::kNeutral:
            co_return Match::kNo;
          case Outcome::kTempError:
            co_return Match::kTempError;
          case Outcome::kNone:
            if (problem_.empty()) problem_ = "included domain has no SPF record";
            co_return Match::kPermError;
          case Outcome::kPermError:
            co_return Match::kPermError;
        }
        co_return Match::kPermError;
      }
      default:
        co_return Match::kPermError;
    }
  }

  static Outcome result_of(Qualifier q) {
    switch (q) {
      case Qualifier::kPass:
        return Outcome::kPass;
      case Qualifier::kFail:
        return Outcome::kFail;
      case Qualifier::kSoftFail:
        return Outcome::kSoftFail;
      case Qualifier::kNeutral:
        return Outcome::kNeutral;
    }
    return Outcome::kNeutral;
  }

  Verdict error(Outcome r, std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
    return Verdict{r, {}, problem_};
  }

  asio::awaitable<Verdict> check_host(std::string domain, int depth) {
    if (depth > kMaxDepth) co_return error(Outcome::kPermError, "includes nested too deeply");
    const auto txt = co_await dns_.txt(domain);
    if (txt.status == dns::Status::kTempFail) {
      co_return error(Outcome::kTempError, "DNS error looking up the SPF record");
    }
    if (depth > 0 && !count_void(txt.status)) {
      co_return error(Outcome::kPermError, "too many void DNS lookups");
    }
    const std::string* found = nullptr;
    for (const auto& r : txt.records) {
      if (!is_spf_record(r)) continue;
      if (found) co_return error(Outcome::kPermError, "more than one SPF record");
      found = &r;
    }
    if (!found) co_return Verdict{Outcome::kNone, {}, {}};
    auto record = parse_record(*found);
    if (!record) co_return error(Outcome::kPermError, "SPF record syntax error");

    for (const auto& d : record->directives) {
      const Match m = co_await evaluate(d, domain, depth);
      if (m == Match::kTempError) co_return error(Outcome::kTempError, "DNS error");
      if (m == Match::kPermError) co_return error(Outcome::kPermError, "SPF record error");
      if (m == Match::kYes) {
        Verdict v{result_of(d.qualifier), {}, {}};
        if (v.result == Outcome::kFail) v.explanation = co_await explain(*record, domain);
        co_return v;
      }
    }
    if (record->redirect) {
      if (!count_lookup()) co_return error(Outcome::kPermError, "too many DNS lookups");
      const auto name = co_await target(*record->redirect, domain);
      if (!name || name->empty()) co_return error(Outcome::kPermError, "bad redirect target");
      Verdict v = co_await check_host(*name, depth + 1);
      if (v.result == Outcome::kNone) {
        co_return error(Outcome::kPermError, "redirect target has no SPF record");
      }
      co_return v;
    }
    co_return Verdict{Outcome::kNeutral, {}, {}};
  }

  // The explanation of a "fail" (section 6.2): the exp= TXT record expanded, or the default.
  asio::awaitable<std::string> explain(const Record& record, const std::string& domain) {
    if (!record.exp) co_return options_.default_explanation;
    const auto name = co_await target(*record.exp, domain);
    if (!name || name->empty()) co_return options_.default_explanation;
    const auto txt = co_await dns_.txt(*name);
    if (txt.status != dns::Status::kOk || txt.records.size() != 1) {
      co_return options_.default_explanation;
    }
    const std::string& text = txt.records.front();
    for (char c : text) {
      if (static_cast<unsigned char>(c) >= 0x80) co_return options_.default_explanation;
    }
    if (uses_validated_name(text)) co_await find_validated(domain);
    auto expanded = expand(text, context(domain), true);
    if (!expanded) co_return options_.default_explanation;
    co_return std::move(expanded).value();
  }

  dns::Lookup& dns_;
  const Options& options_;
  Ip ip_;
  std::string helo_;
  std::string local_part_;
  std::string sender_domain_;
  std::string validated_ = "unknown";
  bool validated_done_ = false;
  int lookups_ = 0;
  int voids_ = 0;
  std::string problem_;
};

}  // namespace

std::string_view to_string(Outcome result) noexcept {
  switch (result) {
    case Outcome::kNone:
      return "none";
    case Outcome::kNeutral:
      return "neutral";
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSoftFail:
      return "softfail";
    case Outcome::kTempError:
      return "temperror";
    case Outcome::kPermError:
      return "permerror";
  }
  return "none";
}

asio::awaitable<Verdict> check_mail_from(dns::Lookup& dns, const asio::ip::address& client,
                                         std::string helo, std::string mail_from,
                                         const Options& options) {
  if (mail_from.empty()) co_return co_await check_helo(dns, client, std::move(helo), options);
  const auto at = mail_from.rfind('@');
  std::string domain = at == std::string::npos ? mail_from : mail_from.substr(at + 1);
  Evaluator e(dns, options, to_ip(client), std::move(helo));
  co_return co_await e.run(std::move(domain), std::move(mail_from));
}

asio::awaitable<Verdict> check_helo(dns::Lookup& dns, const asio::ip::address& client,
                                    std::string helo, const Options& options) {
  Evaluator e(dns, options, to_ip(client), helo);
  std::string sender = "postmaster@" + helo;
  co_return co_await e.run(std::move(helo), std::move(sender));
}

}  // namespace sealpost::auth::spf

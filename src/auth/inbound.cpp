#include "auth/inbound.hpp"

#include <random>

#include "core/strings.hpp"
#include "mime/address_list.hpp"
#include "mime/header.hpp"

namespace sealpost::auth {

namespace asio = boost::asio;

namespace {

// RFC 8601 section 2.2: a value is a MIME token (RFC 2045) or else a quoted string.
std::string ptype_value(std::string_view v) {
  bool token = !v.empty();
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f ||
        std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos) {
      token = false;
    }
  }
  if (token) return std::string(v);
  std::string q = "\"";
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;  // no control characters in a header
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return to_lower_ascii(at == std::string_view::npos ? address : address.substr(at + 1));
}

// The authserv-id of an Authentication-Results value: its first token, comments skipped.
std::string authserv_id_of(std::string_view value) {
  std::size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      for (; i < value.size(); ++i) {
        if (value[i] == '(') ++depth;
        if (value[i] == ')' && --depth == 0) break;
      }
      ++i;
    } else {
      break;
    }
  }
  const std::size_t start = i;
  while (i < value.size() && value[i] != ';' && value[i] != ' ' && value[i] != '\t' &&
         value[i] != '\r' && value[i] != '(') {
    ++i;
  }
  return to_lower_ascii(value.substr(start, i - start));
}

}  // namespace

Authenticator::Authenticator(dns::Lookup& dns, const dmarc::PublicSuffixList& psl, Options options)
    : dns_(dns), psl_(psl), options_(std::move(options)) {
  sample = [] {
    thread_local std::mt19937 rng{std::random_device{}()};
    return static_cast<unsigned>(std::uniform_int_distribution<int>(0, 99)(rng));
  };
}

asio::awaitable<InboundVerdict> Authenticator::check(const InboundFacts& facts) const {
  InboundVerdict v;
  spf::Options spf_options;
  spf_options.receiver = options_.authserv_id;
  // MAIL FROM identity, or the HELO identity for the null reverse-path (RFC 7208 section 2.4).
  v.spf =
      co_await spf::check_mail_from(dns_, facts.client, facts.helo, facts.mail_from, spf_options);
  dkim::VerifyOptions dkim_options;
  dkim_options.key_cache = dkim_keys_.get();
  v.dkim = co_await dkim::verify(dns_, facts.message, dkim_options);
  v.arc = co_await arc::validate(dns_, facts.message, dkim_keys_.get());

  const auto header = mime::split_header(facts.message);
  std::vector<std::string> from_domains;
  int from_fields = 0;
  if (header) {
    for (const auto& f : header->fields) {
      if (iequals(f.name, "From")) {
        ++from_fields;
        for (const auto& m : mime::parse_address_list(f.value)) from_domains.push_back(m.domain);
      }
      if (iequals(f.name, "Authentication-Results") &&
          authserv_id_of(f.value) == to_lower_ascii(options_.authserv_id)) {
        v.remove.emplace_back(static_cast<std::size_t>(f.raw.data() - facts.message.data()),
                              f.raw.size());
      }
    }
  }

  // DMARC for every From domain: each must pass (a second author cannot borrow the first's).
  const std::string spf_domain =
      facts.mail_from.empty() ? to_lower_ascii(facts.helo) : domain_of(facts.mail_from);
  dmarc::Result combined = dmarc::Result::kNone;
  if (from_fields != 1 || from_domains.empty()) {
    v.dmarc.result = dmarc::Result::kPermError;
    combined = dmarc::Result::kPermError;
  }
  for (const auto& d : from_domains) {
    if (from_fields != 1) break;
    dmarc::Input in{d, spf_domain, v.spf.result, &v.dkim};
    auto r = co_await dmarc::evaluate(dns_, psl_, in, sample);
    if (v.from_domain.empty() || r.result == dmarc::Result::kFail) {
      v.from_domain = d;
      v.dmarc = r;
      combined = r.result;
    }
    if (r.result == dmarc::Result::kFail) break;
  }
  (void)combined;

  if (from_fields > 1) {
    v.action = Action::kReject;
    v.reject_text = "Message must have exactly one From header field (RFC 5322 section 3.6)";
  } else if (v.dmarc.result == dmarc::Result::kFail) {
    if (v.dmarc.applied == dmarc::Policy::kReject && options_.reject_on_dmarc_reject) {
      v.action = Action::kReject;
      v.reject_text =
          "Message rejected by the DMARC policy of the sender's domain " + v.from_domain;
    } else if (v.dmarc.applied != dmarc::Policy::kNone) {
      v.action = Action::kQuarantine;
    }
  }

  if (options_.reporter && v.dmarc.record && !v.dmarc.record->rua.empty()) {
    dmarc::ReportRow row;
    row.policy_domain = v.dmarc.policy_domain;
    row.record = *v.dmarc.record;
    row.source_ip = facts.client.to_string();
    row.header_from = v.from_domain;
    row.disposition = v.action == Action::kReject       ? "reject"
                      : v.action == Action::kQuarantine ? "quarantine"
                                                        : "none";
    row.dkim_aligned_pass = v.dmarc.dkim_aligned;
    row.spf_aligned_pass = v.dmarc.spf_aligned;
    for (const auto& d : v.dkim) {
      row.dkim.emplace_back(d.domain, d.selector, std::string(dkim::to_string(d.status)));
    }
    row.spf_domain = spf_domain;
    row.spf_scope = facts.mail_from.empty() ? "helo" : "mfrom";
    row.spf_result = std::string(spf::to_string(v.spf.result));
    options_.reporter->add(row);
  }

  // Authentication-Results (RFC 8601), one method per line.
  std::string ar;
  const auto add = [&ar](const std::string& method) {
    ar += (ar.empty() ? "" : ";\r\n\t") + method;
  };
  {
    std::string m = "spf=" + std::string(spf::to_string(v.spf.result));
    if (facts.mail_from.empty()) {
      m += " smtp.helo=" + ptype_value(facts.helo);
    } else {
      m += " smtp.mailfrom=" + ptype_value(spf_domain);
    }
    add(m);
  }
  if (v.dkim.empty()) add("dkim=none");
  for (const auto& d : v.dkim) {
    std::string m = "dkim=" + std::string(dkim::to_string(d.status));
    if (!d.reason.empty()) m += " (" + d.reason + ")";
    if (d.body_length_limited && d.status == dkim::Status::kPass) m += " (body length limited)";
    if (!d.domain.empty()) m += " header.d=" + ptype_value(d.domain);
    if (!d.selector.empty()) m += " header.s=" + ptype_value(d.selector);
    m += " header.a=" + std::string(dkim::to_string(d.algorithm));
    if (!d.b_prefix.empty()) m += " header.b=" + ptype_value(d.b_prefix);
    add(m);
  }
  {
    std::string m = "dmarc=" + std::string(dmarc::to_string(v.dmarc.result));
    if (v.dmarc.record) {
      m += " (p=" + std::string(dmarc::to_string(v.dmarc.record->p)) + " dis=" +
           std::string(v.action == Action::kReject       ? "reject"
                       : v.action == Action::kQuarantine ? "quarantine"
                                                         : "none") +
           ")";
    }
    if (!v.from_domain.empty()) m += " header.from=" + ptype_value(v.from_domain);
    add(m);
  }
  {
    std::string m = "arc=" + std::string(arc::to_string(v.arc.status));
    if (!v.arc.reason.empty()) m += " (" + v.arc.reason + ")";
    add(m);
  }
  v.results = ar;
  v.authentication_results =
      "Authentication-Results: " + options_.authserv_id + ";\r\n\t" + ar + "\r\n";
  co_return v;
}

std::string without_ranges(std::string_view message,
                           const std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
  std::string out;
  out.reserve(message.size());
  std::size_t pos = 0;
  for (const auto& [start, len] : ranges) {
    if (start < pos || start + len > message.size()) continue;
    out.append(message.substr(pos, start - pos));
    pos = start + len;
  }
  out.append(message.substr(pos));
  return out;
}

}  // namespace sealpost::auth

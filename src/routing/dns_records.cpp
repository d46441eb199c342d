#include "routing/dns_records.hpp"

#include "core/strings.hpp"

namespace sealpost::routing {

namespace {

bool same_txt(std::string_view a, std::string_view b) {
  // Key records are compared without the whitespace tag lists allow.
  std::string x;
  std::string y;
  for (char c : a) {
    if (c != ' ' && c != '\t') x += c;
  }
  for (char c : b) {
    if (c != ' ' && c != '\t') y += c;
  }
  return x == y;
}

}  // namespace

std::vector<DnsRecord> records_to_publish(const core::Config& config, const std::string& domain,
                                          const std::vector<store::DkimKeyRecord>& dkim_keys) {
  std::vector<DnsRecord> out;
  out.push_back(
      {domain, "MX", "10 " + config.hostname + ".", "mail for the domain comes to this server"});
  out.push_back(
      {domain, "TXT", "v=spf1 mx -all", "SPF: only this domain's mail servers send as it"});
  for (const auto& k : dkim_keys) {
    out.push_back({k.selector + "._domainkey." + domain, "TXT", k.public_record,
                   "DKIM key (" + k.algorithm + (k.retire_at != 0 ? ", retiring" : "") + ")"});
  }
  out.push_back({"_dmarc." + domain, "TXT",
                 "v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@" + domain,
                 "DMARC: unauthenticated mail claiming the domain goes to spam; reports to "
                 "postmaster"});
  out.push_back({"_smtp._tls." + domain, "TXT", "v=TLSRPTv1; rua=mailto:postmaster@" + domain,
                 "TLS-RPT: senders report TLS failures to postmaster"});
  if (!config.srs_domain.empty() && config.srs_domain != domain) {
    out.push_back({config.srs_domain, "TXT", "v=spf1 a:" + config.hostname + " -all",
                   "SPF of the SRS domain forwarded mail is sent from (once per server)"});
  }
  return out;
}

std::string zone_line(const DnsRecord& record, int ttl) {
  std::string line = record.name + ". " + std::to_string(ttl) + " IN " + record.type + " ";
  if (record.type != "TXT") return line + record.value;
  std::string_view v = record.value;
  bool first = true;
  do {
    std::string chunk;
    // 255 octets per character-string (RFC 1035 section 3.3), escapes not counted.
    const std::string_view part = v.substr(0, 255);
    v.remove_prefix(part.size());
    for (char c : part) {
      if (c == '"' || c == '\\') chunk += '\\';
      chunk += c;
    }
    line += (first ? "\"" : " \"") + chunk + "\"";
    first = false;
  } while (!v.empty());
  return line;
}

boost::asio::awaitable<CheckResult> check_published(dns::Lookup& dns, const DnsRecord& record) {
  CheckResult r;
  if (record.type == "MX") {
    const auto mx = co_await dns.mx_records(record.name);
    if (mx.status == dns::Status::kTempFail) co_return r;
    const auto want = record.value.substr(record.value.find(' ') + 1);
    for (const auto& h : mx.records) {
      if (iequals(h.host + ".", want)) {
        r.state = Published::kYes;
        co_return r;
      }
      r.found += (r.found.empty() ? "" : ", ") + h.host;
    }
    r.state = mx.records.empty() ? Published::kMissing : Published::kDifferent;
    co_return r;
  }
  const auto txt = co_await dns.txt(record.name);
  if (txt.status == dns::Status::kTempFail) co_return r;
  // Compare with the records of the same kind (the same v= prefix).
  const auto prefix =
      record.value.substr(0, record.value.find(';') == std::string::npos ? record.value.find(' ')
                                                                         : record.value.find(';'));
  for (const auto& t : txt.records) {
    if (same_txt(t, record.value)) {
      r.state = Published::kYes;
      co_return r;
    }
    if (istarts_with(t, prefix) || record.name.find("._domainkey.") != std::string::npos) {
      r.found = t;
    }
  }
  r.state = r.found.empty() ? Published::kMissing : Published::kDifferent;
  co_return r;
}

}  // namespace sealpost::routing

// The DNS records a hosted domain needs, as the owner must publish them (zone-file lines), and
// the comparison of each with what DNS serves.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "core/config.hpp"
#include "dns/lookup.hpp"
#include "store/metadata_store.hpp"

namespace sealpost::routing {

struct DnsRecord {
  std::string name;   // absolute, without the final dot
  std::string type;   // MX, TXT
  std::string value;  // MX: "10 host."; TXT: the unquoted text
  std::string purpose;
};

std::vector<DnsRecord> records_to_publish(const core::Config& config, const std::string& domain,
                                          const std::vector<store::DkimKeyRecord>& dkim_keys);

// "name. 3600 IN TXT "..." "..."": TXT values split into quoted strings of at most 255 octets,
// quotes and backslashes escaped.
std::string zone_line(const DnsRecord& record, int ttl = 3600);

enum class Published { kYes, kMissing, kDifferent, kUnknown };

struct CheckResult {
  Published state = Published::kUnknown;
  std::string found;  // what DNS serves instead, for kDifferent
};

boost::asio::awaitable<CheckResult> check_published(dns::Lookup& dns, const DnsRecord& record);

}  // namespace sealpost::routing

// What DNS says of where a message comes from and where its links go (issue 18 item 2, 3 and 4):
// the client's address in DNS blocklists (DNSBL, IPv4 and IPv6 zones), the sender's domains in
// domain blocklists (RHSBL), the links' domains in URI blocklists (SURBL/URIBL/DBL-style), the
// client's forward-confirmed reverse DNS, and the sender's and links' domains at a family-filter
// resolver (one that answers 0.0.0.0 for the domains it blocks, as Cloudflare's 1.1.1.3 does).
//
// Every lookup starts at once and the answers are awaited together, within one time budget: a
// lookup that has not answered by then adds nothing. Each query carries only what its lookup
// needs (an address or a domain, never an address of a person), and answers are cached by the
// resolver. A blocklist names its zone; its findings' symbol is made from it
// ("zen.spamhaus.org" gives DNSBL_ZEN_SPAMHAUS_ORG), so [filter.scores] can score each list.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "dns/lookup.hpp"
#include "filter/verdict.hpp"

namespace sealpost::filter {

enum class ListKind : std::uint8_t {
  kClient,  // DNSBL: the client's address, reversed ("2.0.0.127.zone")
  kSender,  // RHSBL: the envelope sender's and the From: domain
  kLink,    // URIBL: the links' domains
};

struct Blocklist {
  std::string zone;  // an A-label, lowercase, without the final dot
  double score = 0;
};

struct ReputationSettings {
  std::vector<Blocklist> dnsbl;
  std::vector<Blocklist> rhsbl;
  std::vector<Blocklist> uribl;
  // Links' domains looked up per message (each in every URI list and at the family resolver).
  std::size_t max_link_domains = 20;
  bool reverse_dns = true;  // RDNS_NONE, RDNS_UNCONFIRMED
  double adult_score = 8;   // ADULT_DOMAIN, when a family resolver is given
};

// What a message's lookups are about.
struct ReputationFacts {
  std::optional<boost::asio::ip::address> client;
  // Organisational domains (A-labels) of the envelope sender and the From: mailbox.
  std::vector<std::string> sender_domains;
  // The organisational domains (A-labels) of the links' hosts, distinct; IP-address hosts are
  // left out. The first max_link_domains are looked up.
  std::vector<std::string> link_domains;
};

// The symbol of a list's findings: its kind's prefix and the zone in capitals, "." and "-" as
// "_", cut to the symbol's length.
std::string blocklist_symbol(ListKind kind, std::string_view zone);

// The name a blocklist is asked for an address: "2.0.0.127.zen.spamhaus.org", or the 32
// reversed nibbles of an IPv6 address before the zone (RFC 5782 section 2.4).
std::string dnsbl_query(const boost::asio::ip::address& client, std::string_view zone);

// Whether an answer lists the name. RFC 5782 section 2.3: listings are A records in 127.0.0.0/8;
// 127.0.0.1 (URIBL's "query refused") and 127.255.255.0/24 (Spamhaus's errors, such as queries
// through a public resolver) are not listings.
bool is_listing(const boost::asio::ip::address_v4& answer);

// Runs every lookup concurrently and returns what the answers found by the deadline. `family` is
// null when no family-filter resolver is configured (or the domain turned the check off).
boost::asio::awaitable<std::vector<Finding>> check_reputation(
    dns::Lookup& dns, dns::Lookup* family, const ReputationSettings& settings,
    ReputationFacts facts, std::chrono::steady_clock::duration budget);

}  // namespace sealpost::filter

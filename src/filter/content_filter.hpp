// The content filter as the MX runs it (issue 18): the server's [filter] settings, each hosted
// domain's own (`sealpost domain filter`), and the checks run on a message in memory before the
// reply: first those that read the message (message_scan.hpp), then, at once, those that ask DNS
// (reputation.hpp, within [filter] dns_budget) and ClamAV (clamd.hpp, within clamd_timeout). A
// transaction's recipients share one treatment (the session defers recipients whose domain is
// treated differently to a transaction of their own, RFC 5321's 452), so one verdict answers for
// all of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "auth/dmarc/public_suffix.hpp"
#include "core/config.hpp"
#include "dns/lookup.hpp"
#include "filter/clamd.hpp"
#include "filter/domain_list.hpp"
#include "filter/lookalike.hpp"
#include "filter/reputation.hpp"
#include "filter/verdict.hpp"

namespace sealpost::filter {

// What the filter does for a recipient's domain.
struct Treatment {
  bool enabled = true;
  Action at_reject_score = Action::kReject;  // kReject, or kJunk for a domain that keeps spam
  bool adult = true;                         // ask the family-filter resolver
  bool operator==(const Treatment&) const = default;
};

// A domain's own settings; what is unset follows [filter].
struct DomainSettings {
  std::optional<bool> enabled;
  std::optional<Action> at_reject_score;
  std::optional<bool> adult;
};

using DomainSettingsMap = std::map<std::string, DomainSettings, std::less<>>;

// The resolvers the network checks ask; null: those checks are not made.
struct FilterResolvers {
  dns::Lookup* dns = nullptr;     // blocklists and reverse DNS
  dns::Lookup* family = nullptr;  // the family-filter resolver
};

// What the session knows of a message besides its content.
struct MessageFacts {
  std::string_view content;  // as received, CRLF lines
  std::optional<boost::asio::ip::address> client;
  std::string_view envelope_sender;  // the reverse-path; "" for <>
  bool dmarc_failed = false;         // DMARC evaluated the From: domain and it failed
};

// ADULT_DOMAIN (`score`) for each of the sender's domains and the links' hosts that a local list
// names, once per domain, at most five.
std::vector<Finding> local_adult_findings(const DomainList& list,
                                          const std::vector<std::string>& sender_domains,
                                          const std::vector<Url>& urls, double score);

class ContentFilter {
 public:
  // `psl`: organisational domains, for the checks that compare or look up domains (null: those
  // are skipped); `domains`: each domain's own settings, by A-label; `own_domains`: as
  // set_own_domains takes them.
  ContentFilter(const core::Filter& settings, const auth::dmarc::PublicSuffixList* psl,
                FilterResolvers resolvers, DomainSettingsMap domains = {},
                const std::vector<std::string>& own_domains = {});

  // Replaces every domain's settings; called whenever the store changes.
  void set_domains(DomainSettingsMap domains);
  // The hosted domains (A-labels), whose lookalikes PHISH_LOOKALIKE_DOMAIN flags besides the
  // built-in brands'; called at start and whenever the store changes. Without the Public Suffix
  // List the lookalike check is not made and this does nothing.
  void set_own_domains(const std::vector<std::string>& domains);
  // The treatment of mail for a domain (an A-label; another name gets the server's).
  [[nodiscard]] Treatment treatment(std::string_view domain) const;

  // Runs the checks and decides. The caller's executor must serialise the coroutines it runs (a
  // strand, as sessions have); the filter itself may be shared by every session.
  [[nodiscard]] boost::asio::awaitable<Verdict> check(MessageFacts facts,
                                                      Treatment treatment) const;

  // The DNSBL zones listing `client` when their scores add up to [filter] dnsbl_refuse_score or
  // more: the MX refuses such a client at RCPT TO, as postscreen does. Empty when they do not,
  // when dnsbl_refuse_score is 0, or without DNS. The answers stay in the resolver's cache, for
  // the message's own checks.
  [[nodiscard]] boost::asio::awaitable<std::vector<std::string>> refusing_lists(
      boost::asio::ip::address client) const;
  // Whether refusing_lists() may refuse anyone (dnsbl_refuse_score, DNS and a DNSBL are set).
  [[nodiscard]] bool refuses_listed_clients() const noexcept {
    return refuse_score_ > 0 && resolvers_.dns != nullptr && !reputation_.dnsbl.empty();
  }

  // The local adult category lists ([filter] adult_lists, read by the caller at start).
  void set_adult_list(std::shared_ptr<const DomainList> list);

  // Messages checked since start: what tests count to see the filter ran.
  [[nodiscard]] std::uint64_t checked() const { return checked_.load(std::memory_order_relaxed); }

 private:
  Policy policy_;
  bool enabled_;
  bool adult_;
  std::chrono::steady_clock::duration budget_;
  double refuse_score_;  // [filter] dnsbl_refuse_score
  ReputationSettings reputation_;
  ClamdSettings clamd_;
  const auth::dmarc::PublicSuffixList* psl_;
  FilterResolvers resolvers_;
  std::atomic<std::shared_ptr<const DomainSettingsMap>> domains_;
  std::atomic<std::shared_ptr<const ProtectedDomains>> protected_;
  std::vector<std::string> brands_;  // [filter] brands, protected with the hosted domains
  std::atomic<std::shared_ptr<const DomainList>> adult_list_;
  // The hosted domains' organisational domains: mail claiming one that fails DMARC is forged.
  std::atomic<std::shared_ptr<const std::set<std::string, std::less<>>>> own_;
  mutable std::atomic<std::uint64_t> checked_{0};
};

}  // namespace sealpost::filter

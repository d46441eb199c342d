#include "filter/content_filter.hpp"

#include <algorithm>
#include <tuple>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "core/domain.hpp"
#include "filter/message_scan.hpp"
#include "filter/phishing.hpp"
#include "mime/message.hpp"

namespace sealpost::filter {
namespace {

std::vector<Blocklist> blocklists(const std::map<std::string, double>& zones) {
  std::vector<Blocklist> out;
  for (const auto& [zone, score] : zones) out.push_back({zone, score});
  return out;
}

// Adds the organisational domain of `host` (an A-label) unless it is there.
void add_domain(std::vector<std::string>& domains, std::string_view host,
                const auth::dmarc::PublicSuffixList& psl) {
  auto domain = psl.organizational_domain(host);
  if (domain.empty() || domain.find('.') == std::string::npos) return;
  if (std::find(domains.begin(), domains.end(), domain) == domains.end()) {
    domains.push_back(std::move(domain));
  }
}

// The checks that wait for another server, made only when configured: each is nothing otherwise.
boost::asio::awaitable<std::vector<Finding>> ask_dns(dns::Lookup* dns, dns::Lookup* family,
                                                     const ReputationSettings& settings,
                                                     std::optional<ReputationFacts> facts,
                                                     std::chrono::steady_clock::duration budget) {
  if (dns == nullptr || !facts) co_return std::vector<Finding>{};
  co_return co_await check_reputation(*dns, family, settings, std::move(*facts), budget);
}

boost::asio::awaitable<std::vector<Finding>> ask_clamd(const ClamdSettings& settings,
                                                       std::vector<std::string_view> files) {
  if (settings.socket.empty()) co_return std::vector<Finding>{};
  const ClamdResult result = co_await scan_files_with_clamd(settings, std::move(files));
  co_return clamd_findings(result, settings.tempfail_when_unavailable);
}

}  // namespace

ContentFilter::ContentFilter(const core::Filter& settings, const auth::dmarc::PublicSuffixList* psl,
                             FilterResolvers resolvers, DomainSettingsMap domains,
                             const std::vector<std::string>& own_domains)
    : policy_(policy_from(settings)),
      enabled_(settings.enabled),
      adult_(settings.adult),
      budget_(settings.dns_budget),
      refuse_score_(settings.dnsbl_refuse_score),
      clamd_(clamd_settings(settings)),
      psl_(psl),
      resolvers_(resolvers),
      domains_(std::make_shared<const DomainSettingsMap>(std::move(domains))),
      brands_(settings.brands) {
  reputation_.dnsbl = blocklists(settings.dnsbl);
  reputation_.rhsbl = blocklists(settings.rhsbl);
  reputation_.uribl = blocklists(settings.uribl);
  reputation_.max_link_domains = settings.link_lookups;
  reputation_.reverse_dns = settings.reverse_dns;
  set_own_domains(own_domains);
}

void ContentFilter::set_domains(DomainSettingsMap domains) {
  domains_.store(std::make_shared<const DomainSettingsMap>(std::move(domains)));
}

void ContentFilter::set_adult_list(std::shared_ptr<const DomainList> list) {
  adult_list_.store(std::move(list));
}

void ContentFilter::set_own_domains(const std::vector<std::string>& domains) {
  if (psl_ == nullptr) return;
  std::vector<std::string> protect = domains;
  protect.insert(protect.end(), brands_.begin(), brands_.end());
  protected_.store(std::make_shared<const ProtectedDomains>(*psl_, protect));
  auto own = std::make_shared<std::set<std::string, std::less<>>>();
  for (const auto& d : domains) own->insert(psl_->organizational_domain(d));
  own_.store(std::move(own));
}

Treatment ContentFilter::treatment(std::string_view domain) const {
  Treatment t{enabled_, policy_.at_reject_score, adult_};
  const auto domains = domains_.load();
  if (const auto it = domains->find(domain); it != domains->end()) {
    t.enabled = it->second.enabled.value_or(t.enabled);
    t.at_reject_score = it->second.at_reject_score.value_or(t.at_reject_score);
    t.adult = it->second.adult.value_or(t.adult);
  }
  return t;
}

boost::asio::awaitable<Verdict> ContentFilter::check(MessageFacts facts,
                                                     Treatment treatment) const {
  checked_.fetch_add(1, std::memory_order_relaxed);
  Policy policy = policy_;
  policy.at_reject_score = treatment.at_reject_score;
  const auto parsed = mime::parse_message(facts.content);
  // The parser takes messages up to its own limit (64 MiB); a larger one (as [limits]
  // message_size may allow) gets the checks that do not read its structure.
  MessageScan scan;
  ScanLimits limits;
  limits.keep_for_virus_scan = !clamd_.socket.empty() && !clamd_.whole_message;
  if (parsed) scan = scan_message(*parsed, limits, psl_, protected_.load().get());

  // A From: in one of our own domains that fails DMARC: someone imitates us to our users.
  if (facts.dmarc_failed && parsed && psl_ != nullptr) {
    const auto from = from_domain(*parsed);
    const auto own = own_.load();
    if (from && own && own->contains(psl_->organizational_domain(*from))) {
      scan.findings.push_back({"PHISH_FORGED_OWN_DOMAIN", 8,
                               "From: names a hosted domain and fails its DMARC", std::nullopt});
    }
  }
  std::optional<ReputationFacts> about;
  if (psl_ != nullptr) {
    about.emplace();
    about->client = facts.client;
    if (const auto at = facts.envelope_sender.rfind('@'); at != std::string_view::npos) {
      if (const auto domain = core::to_a_label(facts.envelope_sender.substr(at + 1))) {
        add_domain(about->sender_domains, *domain, *psl_);
      }
    }
    if (parsed) {
      if (const auto domain = from_domain(*parsed)) {
        add_domain(about->sender_domains, *domain, *psl_);
      }
    }
    for (const auto& url : scan.urls) {
      if (!url.ip_host) add_domain(about->link_domains, url.host, *psl_);
    }
  }
  if (treatment.adult) {
    if (const auto list = adult_list_.load(); list && !list->empty()) {
      const std::vector<std::string> none;
      for (auto& f : local_adult_findings(*list, about ? about->sender_domains : none, scan.urls,
                                          reputation_.adult_score)) {
        scan.findings.push_back(std::move(f));
      }
    }
  }
  dns::Lookup* family = treatment.adult ? resolvers_.family : nullptr;
  std::vector<std::string_view> files;
  if (!clamd_.socket.empty()) files = clamd_input(clamd_, facts.content, parsed ? &scan : nullptr);
  std::vector<Finding> listed;
  std::vector<Finding> scanned;
  if (files.empty()) {
    // Most messages: nothing for clamd, and the lookups often all answered from the cache.
    listed = co_await ask_dns(resolvers_.dns, family, reputation_, std::move(about), budget_);
  } else if (resolvers_.dns == nullptr || !about) {
    scanned = co_await ask_clamd(clamd_, std::move(files));
  } else {
    using namespace boost::asio::experimental::awaitable_operators;
    std::tie(listed, scanned) =
        co_await (ask_dns(resolvers_.dns, family, reputation_, std::move(about), budget_) &&
                  ask_clamd(clamd_, std::move(files)));
  }
  for (auto* found : {&listed, &scanned}) {
    for (auto& f : *found) scan.findings.push_back(std::move(f));
  }
  co_return decide(std::move(scan.findings), policy);
}

boost::asio::awaitable<std::vector<std::string>> ContentFilter::refusing_lists(
    boost::asio::ip::address client) const {
  std::vector<std::string> zones;
  if (!refuses_listed_clients()) co_return zones;
  ReputationSettings lists;
  lists.dnsbl = reputation_.dnsbl;
  lists.reverse_dns = false;
  ReputationFacts facts;
  facts.client = client;
  auto found = co_await check_reputation(*resolvers_.dns, nullptr, lists, facts, budget_);
  // Scored as the message would be ([filter.scores] included).
  const Verdict listed = decide(std::move(found), policy_);
  if (listed.score < refuse_score_) co_return zones;
  for (const auto& list : reputation_.dnsbl) {
    const std::string symbol = blocklist_symbol(ListKind::kClient, list.zone);
    const bool listing = std::any_of(listed.findings.begin(), listed.findings.end(),
                                     [&](const Finding& f) { return f.symbol == symbol; });
    if (listing) zones.push_back(list.zone);
  }
  co_return zones;
}

std::vector<Finding> local_adult_findings(const DomainList& list,
                                          const std::vector<std::string>& sender_domains,
                                          const std::vector<Url>& urls, double score) {
  constexpr std::size_t kMaxLocalAdult = 5;
  std::vector<Finding> out;
  const auto check = [&](const std::string& domain, std::string_view what) {
    if (out.size() >= kMaxLocalAdult || !list.contains(domain)) return;
    const std::string reason = std::string(what) + domain + " is in a local adult list";
    for (const auto& f : out) {
      if (f.reason == reason) return;
    }
    out.push_back({"ADULT_DOMAIN", score, reason, std::nullopt});
  };
  for (const auto& d : sender_domains) check(d, "the sender's domain ");
  for (const auto& url : urls) {
    if (!url.ip_host) check(url.host, "a link's domain ");
  }
  return out;
}

}  // namespace sealpost::filter

#include "filter/content_filter.hpp"

#include "filter/message_scan.hpp"
#include "mime/message.hpp"

namespace sealpost::filter {

ContentFilter::ContentFilter(const core::Filter& settings, const auth::dmarc::PublicSuffixList* psl,
                             DomainSettingsMap domains, const std::vector<std::string>& own_domains)
    : policy_(policy_from(settings)),
      enabled_(settings.enabled),
      psl_(psl),
      domains_(std::make_shared<const DomainSettingsMap>(std::move(domains))) {
  set_own_domains(own_domains);
}

void ContentFilter::set_domains(DomainSettingsMap domains) {
  domains_.store(std::make_shared<const DomainSettingsMap>(std::move(domains)));
}

void ContentFilter::set_own_domains(const std::vector<std::string>& domains) {
  if (psl_ == nullptr) return;
  protected_.store(std::make_shared<const ProtectedDomains>(*psl_, domains));
}

Treatment ContentFilter::treatment(std::string_view domain) const {
  Treatment t{enabled_, policy_.at_reject_score};
  const auto domains = domains_.load();
  if (const auto it = domains->find(domain); it != domains->end()) {
    t.enabled = it->second.enabled.value_or(t.enabled);
    t.at_reject_score = it->second.at_reject_score.value_or(t.at_reject_score);
  }
  return t;
}

Verdict ContentFilter::check(std::string_view message, const Treatment& treatment) const {
  checked_.fetch_add(1, std::memory_order_relaxed);
  Policy policy = policy_;
  policy.at_reject_score = treatment.at_reject_score;
  const auto parsed = mime::parse_message(message);
  // The parser takes any message the MX accepts (its limit is above [limits] message_size); one
  // it cannot parse is checked as having no findings rather than refused for it.
  if (!parsed) return decide({}, policy);
  const auto protect = protected_.load();
  return decide(scan_message(*parsed, {}, psl_, protect.get()).findings, policy);
}

}  // namespace sealpost::filter

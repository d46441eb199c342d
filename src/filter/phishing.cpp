#include "filter/phishing.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "auth/dmarc/public_suffix.hpp"
#include "core/domain.hpp"
#include "core/strings.hpp"
#include "mime/encoded_word.hpp"
#include "mime/imap_structure.hpp"

namespace sealpost::filter {
namespace {

// A token that reads as a domain name: labels, the last one a plausible top-level domain (2-24
// letters, or an IDN's "xn--"). "Dr." and "J.R.R." are not.
std::optional<std::string> domain_like(std::string_view token) {
  while (!token.empty() && token.back() == '.') token.remove_suffix(1);
  const std::size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const std::string_view tld = token.substr(dot + 1);
  const bool letters =
      tld.size() >= 2 && tld.size() <= 24 && std::all_of(tld.begin(), tld.end(), is_ascii_alpha);
  if (!letters && !istarts_with(tld, "xn--")) {
    return std::nullopt;
  }
  auto a = core::to_a_label(token);
  if (!a || a->empty()) return std::nullopt;
  return a;
}

// Whether mail from `from` may fairly show `named`: the same domain, or one is below the other
// (mail.example.com sending as "example.com").
bool related(std::string_view from, std::string_view named) {
  return is_same_or_subdomain(from, named) || is_same_or_subdomain(named, from);
}

// Where a link's text says it goes, when the text is a link or a domain name and nothing else
// ("https://www.paypal.com/login", "www.paypal.com", "PayPal.com/login"); nullopt for words, for
// an address ("support@paypal.com") and for text with spaces.
std::optional<Url> shown_link(std::string_view text) {
  // Brackets and sentence punctuation around the link are not part of it.
  while (!text.empty() && std::string_view("<([\"'").find(text.front()) != std::string_view::npos) {
    text.remove_prefix(1);
  }
  while (!text.empty() &&
         std::string_view(">)]\"'.,;:!?").find(text.back()) != std::string_view::npos) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.find(' ') != std::string_view::npos) return std::nullopt;
  if (istarts_with(text, "http://") || istarts_with(text, "https://")) return parse_url(text);
  if (text.find_first_of("@:\\") != std::string_view::npos) return std::nullopt;
  if (!domain_like(text.substr(0, text.find_first_of("/?#")))) return std::nullopt;
  return parse_url("http://" + std::string(text));
}

}  // namespace

std::vector<Finding> link_text_findings(const std::vector<HtmlLink>& links,
                                        const auth::dmarc::PublicSuffixList& psl) {
  for (const auto& link : links) {
    if (link.element != HtmlLink::Element::kAnchor || link.text.empty()) continue;
    const auto shown = shown_link(link.text);
    if (!shown) continue;
    const Url& target = link.url;
    const bool by_address = shown->ip_host || target.ip_host;
    const std::string shown_domain =
        by_address ? shown->host : psl.organizational_domain(shown->host);
    const std::string target_domain =
        by_address ? target.host : psl.organizational_domain(target.host);
    if (shown_domain == target_domain) continue;
    std::string reason = "a link showing ";
    reason.append(shown_domain).append(" goes to ").append(target_domain);
    return {{"PHISH_LINK_TEXT_MISMATCH", 4, std::move(reason), {}}};
  }
  return {};
}

std::vector<Finding> link_findings(const std::vector<Url>& urls) {
  std::vector<Finding> out;
  const auto any = [&](auto pred) { return std::any_of(urls.begin(), urls.end(), pred); };
  if (any([](const Url& u) { return domain_like(u.userinfo).has_value(); })) {
    out.push_back({"URL_USERINFO_HOST", 5, "a link whose user-info looks like a host", {}});
  }
  if (any([](const Url& u) { return u.ip_host; })) {
    out.push_back({"URL_IP_HOST", 1.5, "a link to an IP address", {}});
  }
  if (any([](const Url& u) { return u.obfuscated; })) {
    out.push_back({"URL_OBFUSCATED", 3, "a link written to hide its host", {}});
  }
  return out;
}

namespace {

std::optional<mime::EnvelopeAddress> first_from(const mime::Message& message) {
  const auto* field = mime::find_field(message.root, "From");
  if (field == nullptr) return std::nullopt;
  auto addresses = mime::parse_envelope_addresses(mime::unfold(field->value), 4);
  const auto first = std::find_if(addresses.begin(), addresses.end(),
                                  [](const auto& a) { return a.mailbox && a.host; });
  if (first == addresses.end()) return std::nullopt;
  return std::move(*first);
}

}  // namespace

std::optional<std::string> from_domain(const mime::Message& message) {
  const auto first = first_from(message);
  if (!first) return std::nullopt;
  return core::to_a_label(*first->host);
}

std::vector<Finding> from_findings(const mime::Message& message) {
  std::vector<Finding> out;
  const auto first = first_from(message);
  if (!first || !first->name) return out;
  const auto from = core::to_a_label(*first->host);
  if (!from) return out;
  const std::string name = mime::decode_encoded_words(*first->name);

  bool other_address = false;
  bool other_domain = false;
  std::size_t start = 0;
  // Tokens of the display name, split where an address or a domain cannot continue.
  constexpr std::string_view kSeparators = " \t\"'<>()[],;:|/\\";
  while (start < name.size()) {
    const std::size_t end = std::min(name.find_first_of(kSeparators, start), name.size());
    const std::string_view token = std::string_view(name).substr(start, end - start);
    start = end + 1;
    const std::size_t at = token.rfind('@');
    const auto domain = domain_like(at == std::string_view::npos ? token : token.substr(at + 1));
    if (!domain || related(*from, *domain)) continue;
    (at == std::string_view::npos ? other_domain : other_address) = true;
  }
  if (other_address) {
    out.push_back(
        {"PHISH_DISPLAY_NAME_ADDRESS", 4, "the From: name shows an address at another domain", {}});
  } else if (other_domain) {
    out.push_back({"PHISH_DISPLAY_NAME_DOMAIN", 2, "the From: name shows another domain", {}});
  }
  return out;
}

}  // namespace sealpost::filter

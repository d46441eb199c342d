// Phishing signs a message carries in itself (issue 18 item 5, first part): links that do not go
// where they seem to (user-info that looks like a host, a raw IP address, an obfuscated host, an
// HTML link whose text shows another domain than the one it goes to) and a From: display name
// that names another address or domain than the one the mail is from ("support@paypal.com"
// <x@evil.example>). Scored, never deciding alone: newsletters link to odd hosts too. Each symbol
// counts once per message. Pure.
//
// The symbols: URL_USERINFO_HOST, URL_IP_HOST, URL_OBFUSCATED, PHISH_LINK_TEXT_MISMATCH,
// PHISH_DISPLAY_NAME_ADDRESS, PHISH_DISPLAY_NAME_DOMAIN.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "filter/html_links.hpp"
#include "filter/url.hpp"
#include "filter/verdict.hpp"
#include "mime/message.hpp"

namespace sealpost::auth::dmarc {
class PublicSuffixList;
}

namespace sealpost::filter {

// URL_USERINFO_HOST, URL_IP_HOST, URL_OBFUSCATED.
std::vector<Finding> link_findings(const std::vector<Url>& urls);

// PHISH_LINK_TEXT_MISMATCH: an <a> whose text is itself a link or a domain name
// ("https://www.paypal.com/login", "PayPal.com") goes to another organisational domain (the
// public suffix plus one label: www.paypal.com, links.paypal.com and paypal.com are one). Only
// such text is compared, never words ("Read more"), which newsletters send through a tracker's
// domain. Links to IP addresses are compared by address. rspamd's PHISHING does the same.
std::vector<Finding> link_text_findings(const std::vector<HtmlLink>& links,
                                        const auth::dmarc::PublicSuffixList& psl);

// The domain of the first From: mailbox, as an A-label; nullopt when there is none.
std::optional<std::string> from_domain(const mime::Message& message);

// PHISH_DISPLAY_NAME_ADDRESS (the name holds an address at another domain) and
// PHISH_DISPLAY_NAME_DOMAIN (the name holds another domain), for the first From: mailbox.
std::vector<Finding> from_findings(const mime::Message& message);

}  // namespace sealpost::filter

// Phishing signs a message carries in itself (issue 18 item 5, first part): links that do not go
// where they seem to (user-info that looks like a host, a raw IP address, an obfuscated host) and
// a From: display name that names another address or domain than the one the mail is from
// ("support@paypal.com" <x@evil.example>). Scored, never deciding alone: newsletters link to
// odd hosts too. Each symbol counts once per message. Pure.
#pragma once

#include <vector>

#include "filter/url.hpp"
#include "filter/verdict.hpp"
#include "mime/message.hpp"

namespace sealpost::filter {

// URL_USERINFO_HOST, URL_IP_HOST, URL_OBFUSCATED.
std::vector<Finding> link_findings(const std::vector<Url>& urls);

// PHISH_DISPLAY_NAME_ADDRESS (the name holds an address at another domain) and
// PHISH_DISPLAY_NAME_DOMAIN (the name holds another domain), for the first From: mailbox.
std::vector<Finding> from_findings(const mime::Message& message);

}  // namespace sealpost::filter

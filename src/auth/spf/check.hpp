// SPF evaluation, check_host() of RFC 7208 section 4, for the MAIL FROM and HELO identities.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "dns/lookup.hpp"

namespace sealpost::auth::spf {

enum class Outcome { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };

// The result's name as RFC 7208 section 2.6 and RFC 8601 spell it ("pass", "permerror", ...).
std::string_view to_string(Outcome result) noexcept;

struct Verdict {
  Outcome result = Outcome::kNone;
  std::string explanation;  // for "fail": the domain's exp= text, or the default explanation
  std::string problem;      // for errors: what went wrong, naming no address (for logs/headers)
};

struct Options {
  std::string receiver = "unknown";  // %{r}: our host name
  std::string default_explanation = "See https://www.rfc-editor.org/rfc/rfc7208 (SPF)";
  std::uint64_t timestamp = 0;  // %{t}; 0: now
  int lookup_limit = 10;        // section 4.6.4
  int void_lookup_limit = 2;
};

// check_host() for the MAIL FROM identity; an empty `mail_from` (a bounce) is checked as
// postmaster@<helo> (section 2.4).
boost::asio::awaitable<Verdict> check_mail_from(dns::Lookup& dns,
                                                const boost::asio::ip::address& client,
                                                std::string helo, std::string mail_from,
                                                const Options& options);

// check_host() for the HELO identity (section 2.3), as postmaster@<helo>.
boost::asio::awaitable<Verdict> check_helo(dns::Lookup& dns, const boost::asio::ip::address& client,
                                           std::string helo, const Options& options);

}  // namespace sealpost::auth::spf

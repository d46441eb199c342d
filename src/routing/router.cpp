#include "routing/router.hpp"

#include <algorithm>

#include "auth/srs/srs.hpp"
#include "core/domain.hpp"
#include "core/strings.hpp"

namespace sealpost::routing {

using smtp::protocol::make_reply;

namespace {

Route reject(int code, std::string_view enhanced, std::string_view text) {
  Route r;
  r.kind = Route::Kind::kRejected;
  r.rejection = make_reply(code, enhanced, text);
  return r;
}

Route forward(std::vector<std::string> destinations, Route::Kind kind = Route::Kind::kForward) {
  Route r;
  r.kind = kind;
  r.destinations = std::move(destinations);
  return r;
}

}  // namespace

Router::Router(std::string hostname, const auth::srs::Srs* srs)
    : hostname_(std::move(hostname)), srs_(srs), table_(std::make_shared<const RoutingTable>()) {}

void Router::update(std::shared_ptr<const RoutingTable> table) {
  table_.store(std::move(table));
}

bool Router::hosts(const std::string& domain) const {
  return table_.load()->domains.count(domain) > 0;
}

Route Router::route(const smtp::protocol::Mailbox& rcpt, bool had_source_route) const {
  // The open-relay classics: source routes (RFC 5321 appendix C), the percent hack
  // ("user%other@us"), bang paths ("other!user@us") and quoted local parts carrying another
  // address. Refused outright rather than treated as unknown users.
  if (had_source_route) return reject(550, "5.7.1", "Source routing is not accepted");
  for (char c : rcpt.local) {
    if (c == '%' || c == '!' || c == '@') {
      return reject(550, "5.7.1", "Relaying via address tricks is not accepted");
    }
  }
  if (rcpt.domain_is_literal) return reject(550, "5.7.1", "Relaying denied");

  const std::string& domain_text = rcpt.domain.empty() ? hostname_ : rcpt.domain;
  const auto domain = core::to_a_label(domain_text);
  if (!domain) return reject(501, "5.1.2", "Bad destination domain");
  const std::string local = to_lower_ascii(rcpt.local);

  if (srs_ && *domain == srs_->domain() && auth::srs::is_srs_local_part(local)) {
    auto original = srs_->reverse(rcpt.local + "@" + *domain);
    if (!original) return reject(550, "5.1.1", "No such user (invalid or expired SRS address)");
    return forward({std::move(original).value()}, Route::Kind::kBounce);
  }

  const auto table = table_.load();
  if (!table->domains.count(*domain)) return reject(550, "5.7.1", "Relaying denied");

  // An address is known when it has a mailbox, an alias, or both: the message is then stored in
  // the mailbox and relayed to the alias's destinations.
  Route r;
  const auto find = [&](const std::string& l) {
    const std::string address = l + "@" + *domain;
    const auto alias = table->aliases.find(address);
    const auto mailbox = table->mailboxes.find(address);
    if (alias == table->aliases.end() && mailbox == table->mailboxes.end()) return false;
    r = forward({});
    if (mailbox != table->mailboxes.end()) r.mailboxes.push_back(mailbox->second);
    if (alias != table->aliases.end()) {
      for (const auto& d : alias->second) {
        const auto parts = core::split_address(d);
        const auto local_box = parts ? table->mailboxes.find(to_lower_ascii(parts->first) + "@" +
                                                             to_lower_ascii(parts->second))
                                     : table->mailboxes.end();
        if (local_box == table->mailboxes.end()) {
          r.destinations.push_back(d);
        } else if (std::none_of(r.mailboxes.begin(), r.mailboxes.end(), [&](const auto& m) {
                     return m.address == local_box->second.address;
                   })) {
          r.mailboxes.push_back(local_box->second);
        }
      }
    }
    return true;
  };
  bool hit = find(local);
  if (!hit) {
    // Plus-addressing: "user+tag@" reaches "user@" unless "user+tag@" exists itself.
    const auto plus = local.find('+');
    if (plus != std::string::npos && plus > 0) hit = find(local.substr(0, plus));
  }
  if (!hit) hit = find("*");
  if (!hit || (r.destinations.empty() && r.mailboxes.empty())) {
    return reject(550, "5.1.1", "No such user here");
  }
  return r;
}

bool Router::may_send_as(const std::string& owner, std::string_view address) const {
  const auto parts = core::split_address(address);
  if (!parts) return false;
  const auto domain = core::to_a_label(std::string(parts->second));
  if (!domain) return false;
  const std::string local = to_lower_ascii(parts->first);
  const auto table = table_.load();
  if (!table->domains.count(*domain)) return false;
  // The first of exact, plus-base and catch-all that exists decides, as in route().
  const auto decide = [&](const std::string& l) -> std::optional<bool> {
    const std::string a = l + "@" + *domain;
    const auto alias = table->aliases.find(a);
    const bool is_mailbox = table->mailboxes.count(a) > 0;
    if (alias == table->aliases.end() && !is_mailbox) return std::nullopt;
    if (a == owner) return true;
    return alias != table->aliases.end() &&
           std::find(alias->second.begin(), alias->second.end(), owner) != alias->second.end();
  };
  if (auto d = decide(local)) return *d;
  const auto plus = local.find('+');
  if (plus != std::string::npos && plus > 0) {
    if (auto d = decide(local.substr(0, plus))) return *d;
  }
  if (auto d = decide("*")) return *d;
  return false;
}

}  // namespace sealpost::routing

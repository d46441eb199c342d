#include "filter/reputation.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/strings.hpp"

namespace sealpost::filter {

namespace asio = boost::asio;

namespace {

// What the lookups of one message share. They all run on the executor of the coroutine that
// started them (a session's strand), so nothing here needs a lock.
struct State {
  explicit State(const asio::any_io_executor& ex) : done(ex) {}
  std::vector<Finding> found;
  std::size_t pending = 0;
  bool waiting = false;  // the caller waits on `done` for the last answer
  asio::steady_timer done;
};

void finished(State& state) {
  if (--state.pending == 0 && state.waiting) state.done.cancel();
}

bool any_listing(const dns::Answer<asio::ip::address_v4>& answer) {
  return answer.status == dns::Status::kOk &&
         std::any_of(answer.records.begin(), answer.records.end(), is_listing);
}

// One lookup of a blocklist or of the family-filter resolver, and what makes its finding.
struct Query {
  ListKind kind = ListKind::kClient;
  bool family = false;  // at the family-filter resolver (then `zone` is empty)
  std::string zone;
  double score = 0;
  std::string subject;  // the sender's or link's domain; empty for the client
  std::string name;     // what is asked
};

std::optional<Finding> finding_for(const Query& q,
                                   const dns::Answer<asio::ip::address_v4>& answer) {
  if (q.family) {
    const bool blocked =
        answer.status == dns::Status::kOk &&
        std::any_of(answer.records.begin(), answer.records.end(),
                    [](const asio::ip::address_v4& a) { return a.is_unspecified(); });
    if (!blocked) return std::nullopt;
    return Finding{"ADULT_DOMAIN", q.score, "the family-filter resolver blocks " + q.subject,
                   std::nullopt};
  }
  if (!any_listing(answer)) return std::nullopt;
  std::string reason = q.kind == ListKind::kClient ? "the client's address is listed in " + q.zone
                       : q.kind == ListKind::kSender
                           ? "the sender's domain " + q.subject + " is listed in " + q.zone
                           : "a link's domain " + q.subject + " is listed in " + q.zone;
  return Finding{blocklist_symbol(q.kind, q.zone), q.score, std::move(reason), std::nullopt};
}

// Asks once for queries of the same name at the same resolver.
asio::awaitable<void> ask(std::shared_ptr<State> state, dns::Lookup& via, std::vector<Query> same) {
  const auto answer = co_await via.a(same.front().name);
  for (const auto& q : same) {
    if (auto f = finding_for(q, answer)) state->found.push_back(std::move(*f));
  }
  finished(*state);
}

// Forward-confirmed reverse DNS: a PTR name whose addresses include the client's. The PTR
// names tried, as Postfix's reject_unknown_client_hostname tries them.
constexpr std::size_t kNamesTried = 2;

std::optional<Finding> reverse_none(const dns::Answer<std::string>& names) {
  if (names.status != dns::Status::kNxDomain && names.status != dns::Status::kNoData) {
    return std::nullopt;
  }
  return Finding{"RDNS_NONE", 1.5, "the client's address has no name", std::nullopt};
}

Finding reverse_unconfirmed() {
  return {"RDNS_UNCONFIRMED", 1, "the client's name does not lead back to its address",
          std::nullopt};
}

// Whether the addresses of one of the client's names include it.
template <class Address>
bool leads_back(const dns::Answer<Address>& addresses, const asio::ip::address& client) {
  if constexpr (std::is_same_v<Address, asio::ip::address_v4>) {
    return std::find(addresses.records.begin(), addresses.records.end(), client.to_v4()) !=
           addresses.records.end();
  } else {
    return std::find(addresses.records.begin(), addresses.records.end(), client.to_v6()) !=
           addresses.records.end();
  }
}

// The reverse-DNS finding when the resolver knows every answer it needs (nothing, or a finding),
// or nullopt when something must be asked.
std::optional<std::optional<Finding>> known_reverse(dns::Lookup& dns,
                                                    const asio::ip::address& client) {
  const auto names = dns.known_ptr(dns::reverse_name(client));
  if (!names) return std::nullopt;
  if (auto none = reverse_none(*names)) return none;
  if (names->status != dns::Status::kOk) return std::optional<Finding>{};  // no answer: no signal
  for (std::size_t i = 0; i < names->records.size() && i < kNamesTried; ++i) {
    bool back = false;
    if (client.is_v4()) {
      const auto a = dns.known_a(names->records[i]);
      if (!a) return std::nullopt;
      back = leads_back(*a, client);
    } else {
      const auto aaaa = dns.known_aaaa(names->records[i]);
      if (!aaaa) return std::nullopt;
      back = leads_back(*aaaa, client);
    }
    if (back) return std::optional<Finding>{};
  }
  return std::optional<Finding>{reverse_unconfirmed()};
}

asio::awaitable<void> ask_reverse(std::shared_ptr<State> state, dns::Lookup& dns,
                                  asio::ip::address client) {
  const auto names = co_await dns.ptr(dns::reverse_name(client));
  if (auto none = reverse_none(names)) {
    state->found.push_back(std::move(*none));
  } else if (names.status == dns::Status::kOk) {
    bool confirmed = false;
    for (std::size_t i = 0; i < names.records.size() && i < kNamesTried && !confirmed; ++i) {
      // (g++ 12 takes no co_await in a conditional expression.)
      if (client.is_v4()) {
        confirmed = leads_back(co_await dns.a(names.records[i]), client);
      } else {
        confirmed = leads_back(co_await dns.aaaa(names.records[i]), client);
      }
    }
    if (!confirmed) state->found.push_back(reverse_unconfirmed());
  }
  finished(*state);
}

}  // namespace

std::string blocklist_symbol(ListKind kind, std::string_view zone) {
  std::string symbol = kind == ListKind::kClient   ? "DNSBL_"
                       : kind == ListKind::kSender ? "RHSBL_"
                                                   : "URIBL_";
  for (const char c : zone) {
    if (symbol.size() == kMaxSymbol) break;
    if (c >= 'a' && c <= 'z') {
      symbol += static_cast<char>(c - 'a' + 'A');
    } else if (is_ascii_alpha(c) || is_ascii_digit(c)) {
      symbol += c;
    } else {
      symbol += '_';
    }
  }
  return symbol;
}

std::string dnsbl_query(const asio::ip::address& client, std::string_view zone) {
  std::string name = dns::reverse_name(client);
  // "4.3.2.1.in-addr.arpa" without its suffix, the zone in its place.
  name.resize(name.rfind(client.is_v4() ? "in-addr.arpa" : "ip6.arpa"));
  return name + std::string(zone);
}

bool is_listing(const asio::ip::address_v4& answer) {
  const auto b = answer.to_bytes();
  if (b[0] != 127) return false;
  if (b[1] == 255 && b[2] == 255) return false;
  return !(b[1] == 0 && b[2] == 0 && b[3] == 1);
}

asio::awaitable<std::vector<Finding>> check_reputation(dns::Lookup& dns, dns::Lookup* family,
                                                       const ReputationSettings& settings,
                                                       ReputationFacts facts,
                                                       std::chrono::steady_clock::duration budget) {
  std::vector<Query> queries;
  if (facts.client) {
    for (const auto& list : settings.dnsbl) {
      queries.push_back({ListKind::kClient,
                         false,
                         list.zone,
                         list.score,
                         {},
                         dnsbl_query(*facts.client, list.zone)});
    }
  }
  const auto about = [&](ListKind kind, const std::vector<Blocklist>& lists,
                         const std::string& domain) {
    for (const auto& list : lists) {
      queries.push_back({kind, false, list.zone, list.score, domain, domain + "." + list.zone});
    }
    if (family != nullptr)
      queries.push_back({kind, true, {}, settings.adult_score, domain, domain});
  };
  for (const auto& domain : facts.sender_domains) about(ListKind::kSender, settings.rhsbl, domain);
  const std::size_t link_domains = std::min(facts.link_domains.size(), settings.max_link_domains);
  for (std::size_t i = 0; i < link_domains; ++i) {
    about(ListKind::kLink, settings.uribl, facts.link_domains[i]);
  }

  const auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex);
  // What the resolvers know already is decided here; only the rest is asked, concurrently, each
  // name once per resolver (dbl.spamhaus.org is an RHSBL and a URIBL by default, and a sender's
  // domain is often among its links').
  std::vector<std::vector<Query>> to_ask;
  for (auto& q : queries) {
    const auto same = std::find_if(to_ask.begin(), to_ask.end(), [&](const auto& group) {
      return group.front().family == q.family && group.front().name == q.name;
    });
    if (same != to_ask.end()) {
      same->push_back(std::move(q));
    } else {
      to_ask.push_back({std::move(q)});
    }
  }
  std::erase_if(to_ask, [&](const std::vector<Query>& group) {
    dns::Lookup& via = group.front().family ? *family : dns;
    const auto known = via.known_a(group.front().name);
    if (!known) return false;
    for (const auto& q : group) {
      if (auto f = finding_for(q, *known)) state->found.push_back(std::move(*f));
    }
    return true;
  });
  bool reverse = facts.client && settings.reverse_dns;
  if (reverse) {
    if (auto known = known_reverse(dns, *facts.client)) {
      if (*known) state->found.push_back(std::move(**known));
      reverse = false;
    }
  }
  // Counted before any starts: a lookup that answers at once must not see the count at zero.
  state->pending = to_ask.size() + (reverse ? 1 : 0);
  if (state->pending == 0) co_return std::move(state->found);

  state->done.expires_after(budget);
  for (auto& group : to_ask) {
    dns::Lookup& via = group.front().family ? *family : dns;
    asio::co_spawn(ex, ask(state, via, std::move(group)), asio::detached);
  }
  if (reverse) asio::co_spawn(ex, ask_reverse(state, dns, *facts.client), asio::detached);
  // co_spawn may run a lookup to its end at once (an answer without a wait): all may be done.
  if (state->pending > 0) {
    state->waiting = true;
    (void)co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
    state->waiting = false;
  }
  // Lookups still running add to this state, which nobody reads any more.
  co_return std::move(state->found);
}

}  // namespace sealpost::filter

#include "filter/reputation.hpp"

#include <algorithm>
#include <memory>
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

asio::awaitable<void> ask_list(std::shared_ptr<State> state, dns::Lookup& dns, std::string name,
                               std::string symbol, double score, std::string reason) {
  const auto answer = co_await dns.a(std::move(name));
  if (any_listing(answer)) {
    state->found.push_back({std::move(symbol), score, std::move(reason), std::nullopt});
  }
  finished(*state);
}

asio::awaitable<void> ask_family(std::shared_ptr<State> state, dns::Lookup& family,
                                 std::string domain, double score) {
  const auto answer = co_await family.a(domain);
  const bool blocked =
      answer.status == dns::Status::kOk &&
      std::any_of(answer.records.begin(), answer.records.end(),
                  [](const asio::ip::address_v4& a) { return a.is_unspecified(); });
  if (blocked) {
    state->found.push_back(
        {"ADULT_DOMAIN", score, "the family-filter resolver blocks " + domain, std::nullopt});
  }
  finished(*state);
}

// Forward-confirmed reverse DNS: a PTR name whose addresses include the client's.
asio::awaitable<void> ask_reverse(std::shared_ptr<State> state, dns::Lookup& dns,
                                  asio::ip::address client) {
  constexpr std::size_t kNamesTried = 2;  // as Postfix's reject_unknown_client_hostname
  const auto names = co_await dns.ptr(dns::reverse_name(client));
  if (names.status == dns::Status::kNxDomain || names.status == dns::Status::kNoData) {
    state->found.push_back({"RDNS_NONE", 1.5, "the client's address has no name", std::nullopt});
  } else if (names.status == dns::Status::kOk) {
    bool confirmed = false;
    for (std::size_t i = 0; i < names.records.size() && i < kNamesTried && !confirmed; ++i) {
      if (client.is_v4()) {
        const auto a = co_await dns.a(names.records[i]);
        confirmed =
            std::find(a.records.begin(), a.records.end(), client.to_v4()) != a.records.end();
      } else {
        const auto aaaa = co_await dns.aaaa(names.records[i]);
        confirmed = std::find(aaaa.records.begin(), aaaa.records.end(), client.to_v6()) !=
                    aaaa.records.end();
      }
    }
    if (!confirmed) {
      state->found.push_back({"RDNS_UNCONFIRMED", 1,
                              "the client's name does not lead back to its address", std::nullopt});
    }
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
  const auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<State>(ex);
  state->done.expires_after(budget);
  // Counted before any starts: a lookup that answers at once must not see the count at zero.
  std::size_t link_domains = std::min(facts.link_domains.size(), settings.max_link_domains);
  state->pending = (facts.client ? settings.dnsbl.size() + (settings.reverse_dns ? 1 : 0) : 0) +
                   facts.sender_domains.size() * settings.rhsbl.size() +
                   link_domains * settings.uribl.size() +
                   (family ? facts.sender_domains.size() + link_domains : 0);
  if (state->pending == 0) co_return std::vector<Finding>{};

  const auto start = [&](asio::awaitable<void> lookup) {
    asio::co_spawn(ex, std::move(lookup), asio::detached);
  };
  if (facts.client) {
    for (const auto& list : settings.dnsbl) {
      start(ask_list(state, dns, dnsbl_query(*facts.client, list.zone),
                     blocklist_symbol(ListKind::kClient, list.zone), list.score,
                     "the client's address is listed in " + list.zone));
    }
    if (settings.reverse_dns) start(ask_reverse(state, dns, *facts.client));
  }
  for (const auto& domain : facts.sender_domains) {
    for (const auto& list : settings.rhsbl) {
      start(ask_list(state, dns, domain + "." + list.zone,
                     blocklist_symbol(ListKind::kSender, list.zone), list.score,
                     "the sender's domain " + domain + " is listed in " + list.zone));
    }
    if (family) start(ask_family(state, *family, domain, settings.adult_score));
  }
  for (std::size_t i = 0; i < link_domains; ++i) {
    const auto& domain = facts.link_domains[i];
    for (const auto& list : settings.uribl) {
      start(ask_list(state, dns, domain + "." + list.zone,
                     blocklist_symbol(ListKind::kLink, list.zone), list.score,
                     "a link's domain " + domain + " is listed in " + list.zone));
    }
    if (family) start(ask_family(state, *family, domain, settings.adult_score));
  }
  if (state->pending > 0) {
    state->waiting = true;
    (void)co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
    state->waiting = false;
  }
  // Lookups still running add to this state, which nobody reads any more.
  co_return std::move(state->found);
}

}  // namespace sealpost::filter

#include "filter/reputation.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "dns/memory_zone.hpp"
#include "testing/async.hpp"

namespace sealpost::filter {
namespace {

namespace asio = boost::asio;
using asio::ip::make_address;
using asio::ip::make_address_v4;
using std::chrono::hours;

std::vector<std::string> symbols(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.push_back(f.symbol);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Finding> check(dns::Lookup& dns, dns::Lookup* family, const ReputationSettings& s,
                           ReputationFacts facts) {
  return testing::run_sync(check_reputation(dns, family, s, std::move(facts), hours(1)));
}

ReputationSettings lists() {
  ReputationSettings s;
  s.dnsbl = {{"zen.dnsbl.test", 7}, {"other.dnsbl.test", 2}};
  s.rhsbl = {{"dbl.rhsbl.test", 6}};
  s.uribl = {{"multi.uribl.test", 5}};
  s.reverse_dns = false;
  return s;
}

TEST(FilterReputationTest, QueriesAndSymbolsAreMadeFromTheZone) {
  EXPECT_EQ(dnsbl_query(make_address("192.0.2.1"), "zen.spamhaus.org"),
            "1.2.0.192.zen.spamhaus.org");
  EXPECT_EQ(dnsbl_query(make_address("2001:db8::1"), "zen.spamhaus.org"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org");
  EXPECT_EQ(blocklist_symbol(ListKind::kClient, "zen.spamhaus.org"), "DNSBL_ZEN_SPAMHAUS_ORG");
  EXPECT_EQ(blocklist_symbol(ListKind::kSender, "dbl.spamhaus.org"), "RHSBL_DBL_SPAMHAUS_ORG");
  EXPECT_EQ(blocklist_symbol(ListKind::kLink, "multi.surbl-2.org"), "URIBL_MULTI_SURBL_2_ORG");
  const auto long_symbol = blocklist_symbol(ListKind::kLink, std::string(200, 'a'));
  EXPECT_EQ(long_symbol.size(), kMaxSymbol);
  EXPECT_TRUE(core::is_filter_symbol(long_symbol));
}

TEST(FilterReputationTest, OnlyAnswersIn127SlashEightAreListings) {
  EXPECT_TRUE(is_listing(make_address_v4("127.0.0.2")));
  EXPECT_TRUE(is_listing(make_address_v4("127.0.0.10")));        // Spamhaus PBL
  EXPECT_TRUE(is_listing(make_address_v4("127.0.1.2")));         // Spamhaus DBL
  EXPECT_FALSE(is_listing(make_address_v4("127.0.0.1")));        // URIBL: query refused
  EXPECT_FALSE(is_listing(make_address_v4("127.255.255.254")));  // Spamhaus: public resolver
  EXPECT_FALSE(is_listing(make_address_v4("192.0.2.1")));        // a wildcard or a hijacked answer
  EXPECT_FALSE(is_listing(make_address_v4("0.0.0.0")));
}

TEST(FilterReputationTest, ListedClientsSendersAndLinksScore) {
  dns::MemoryZone zone;
  zone.node("2.0.0.127.zen.dnsbl.test").a = {make_address_v4("127.0.0.2")};
  zone.node("2.0.0.127.other.dnsbl.test").a = {make_address_v4("127.255.255.254")};
  zone.node("spammer.test.dbl.rhsbl.test").a = {make_address_v4("127.0.1.2")};
  zone.node("evil.test.multi.uribl.test").a = {make_address_v4("127.0.0.4")};
  zone.node("good.test.multi.uribl.test").a = {make_address_v4("127.0.0.1")};

  ReputationFacts facts;
  facts.client = make_address("127.0.0.2");
  facts.sender_domains = {"spammer.test", "fine.test"};
  facts.link_domains = {"good.test", "evil.test", "other.test"};
  const auto found = check(zone, nullptr, lists(), facts);
  EXPECT_EQ(symbols(found),
            (std::vector<std::string>{"DNSBL_ZEN_DNSBL_TEST", "RHSBL_DBL_RHSBL_TEST",
                                      "URIBL_MULTI_URIBL_TEST"}));
  for (const auto& f : found) {
    if (f.symbol == "DNSBL_ZEN_DNSBL_TEST") {
      EXPECT_DOUBLE_EQ(f.score, 7);
    }
    if (f.symbol == "URIBL_MULTI_URIBL_TEST") {
      EXPECT_EQ(f.reason, "a link's domain evil.test is listed in multi.uribl.test");
    }
    EXPECT_FALSE(f.decides);
  }
  // Two client lists, two senders in one list, three links in one list.
  EXPECT_EQ(zone.queries(), 2 + 2 + 3);

  // An IPv6 client is asked by its nibbles.
  dns::MemoryZone v6;
  v6.node(dnsbl_query(make_address("2001:db8::2"), "zen.dnsbl.test")).a = {
      make_address_v4("127.0.0.3")};
  facts = {};
  facts.client = make_address("2001:db8::2");
  EXPECT_EQ(symbols(check(v6, nullptr, lists(), facts)),
            std::vector<std::string>{"DNSBL_ZEN_DNSBL_TEST"});
}

TEST(FilterReputationTest, EachNameIsAskedOncePerResolver) {
  // The default configuration has dbl.spamhaus.org as an RHSBL and a URIBL: a sender whose
  // domain is also among its links is asked once, and scores in both.
  dns::MemoryZone zone;
  zone.node("spammer.test.dbl.test").a = {make_address_v4("127.0.1.2")};
  ReputationSettings s;
  s.rhsbl = {{"dbl.test", 6}};
  s.uribl = {{"dbl.test", 6}};
  s.reverse_dns = false;
  ReputationFacts facts;
  facts.sender_domains = {"spammer.test"};
  facts.link_domains = {"spammer.test", "other.test"};
  EXPECT_EQ(symbols(check(zone, nullptr, s, facts)),
            (std::vector<std::string>{"RHSBL_DBL_TEST", "URIBL_DBL_TEST"}));
  EXPECT_EQ(zone.queries(), 2);  // spammer.test and other.test
}

TEST(FilterReputationTest, ReverseDnsMustLeadBackToTheClient) {
  dns::MemoryZone zone;
  ReputationSettings s;
  ReputationFacts facts;
  facts.client = make_address("192.0.2.1");
  EXPECT_EQ(symbols(check(zone, nullptr, s, facts)), std::vector<std::string>{"RDNS_NONE"});

  zone.node("1.2.0.192.in-addr.arpa").ptr = {"mail.example.test"};
  zone.node("mail.example.test").a = {make_address_v4("192.0.2.99")};
  EXPECT_EQ(symbols(check(zone, nullptr, s, facts)), std::vector<std::string>{"RDNS_UNCONFIRMED"});

  zone.node("mail.example.test").a = {make_address_v4("192.0.2.99"), make_address_v4("192.0.2.1")};
  EXPECT_TRUE(check(zone, nullptr, s, facts).empty());

  // A resolver that cannot answer is not a sign of anything.
  zone.node("1.2.0.192.in-addr.arpa").timeout = true;
  zone.node("1.2.0.192.in-addr.arpa").ptr.clear();
  EXPECT_TRUE(check(zone, nullptr, s, facts).empty());
}

TEST(FilterReputationTest, TheFamilyResolverBlocksAdultDomains) {
  dns::MemoryZone zone;
  dns::MemoryZone family;
  family.node("adult.test").a = {make_address_v4("0.0.0.0")};
  family.node("news.test").a = {make_address_v4("192.0.2.7")};
  ReputationSettings s = lists();
  ReputationFacts facts;
  facts.sender_domains = {"news.test"};
  facts.link_domains = {"adult.test", "unknown.test"};
  const auto found = check(zone, &family, s, facts);
  ASSERT_EQ(symbols(found), std::vector<std::string>{"ADULT_DOMAIN"});
  EXPECT_DOUBLE_EQ(found[0].score, 8);
  EXPECT_EQ(family.queries(), 3);
  // Without a family resolver (or for a domain that turned it off) it is not asked.
  EXPECT_TRUE(check(zone, nullptr, s, facts).empty());
  EXPECT_EQ(family.queries(), 3);
}

TEST(FilterReputationTest, LinkLookupsAreBounded) {
  dns::MemoryZone zone;
  ReputationSettings s = lists();
  s.max_link_domains = 5;
  ReputationFacts facts;
  for (int i = 0; i < 100; ++i) facts.link_domains.push_back("d" + std::to_string(i) + ".test");
  (void)check(zone, nullptr, s, facts);
  EXPECT_EQ(zone.queries(), 5);
}

// A MemoryZone behind a cache that already knows some answers.
class CachingLookup final : public dns::Lookup {
 public:
  explicit CachingLookup(dns::MemoryZone& zone) : zone_(zone) {}
  asio::awaitable<dns::Answer<std::string>> txt(std::string n) override {
    return zone_.txt(std::move(n));
  }
  asio::awaitable<dns::Answer<asio::ip::address_v4>> a(std::string n) override {
    return zone_.a(std::move(n));
  }
  asio::awaitable<dns::Answer<asio::ip::address_v6>> aaaa(std::string n) override {
    return zone_.aaaa(std::move(n));
  }
  asio::awaitable<dns::Answer<dns::MxHost>> mx_records(std::string n) override {
    return zone_.mx_records(std::move(n));
  }
  asio::awaitable<dns::Answer<std::string>> ptr(std::string n) override {
    return zone_.ptr(std::move(n));
  }
  std::optional<dns::Answer<asio::ip::address_v4>> known_a(const std::string& name) override {
    const auto it = known.find(name);
    if (it == known.end()) return std::nullopt;
    return it->second;
  }
  std::optional<dns::Answer<std::string>> known_ptr(const std::string& name) override {
    const auto it = known_names.find(name);
    if (it == known_names.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, dns::Answer<asio::ip::address_v4>> known;
  std::map<std::string, dns::Answer<std::string>> known_names;

 private:
  dns::MemoryZone& zone_;
};

TEST(FilterReputationTest, KnownAnswersAreTakenWithoutAsking) {
  dns::MemoryZone zone;
  zone.node("evil.test.multi.uribl.test").a = {make_address_v4("127.0.0.4")};
  CachingLookup dns(zone);
  dns::Answer<asio::ip::address_v4> listed;
  listed.status = dns::Status::kOk;
  listed.records = {make_address_v4("127.0.0.2")};
  dns.known["2.0.0.127.zen.dnsbl.test"] = listed;
  dns::Answer<asio::ip::address_v4> absent;
  absent.status = dns::Status::kNxDomain;
  dns.known["2.0.0.127.other.dnsbl.test"] = absent;
  dns.known["fine.test.dbl.rhsbl.test"] = absent;

  ReputationFacts facts;
  facts.client = make_address("127.0.0.2");
  facts.sender_domains = {"fine.test"};
  facts.link_domains = {"evil.test"};
  // The client's listing was known, the link's had to be asked: both count.
  EXPECT_EQ(symbols(check(dns, nullptr, lists(), facts)),
            (std::vector<std::string>{"DNSBL_ZEN_DNSBL_TEST", "URIBL_MULTI_URIBL_TEST"}));
  EXPECT_EQ(zone.queries(), 1);

  // Everything known: nothing is asked, and nothing waits.
  facts.link_domains.clear();
  EXPECT_EQ(symbols(check(dns, nullptr, lists(), facts)),
            std::vector<std::string>{"DNSBL_ZEN_DNSBL_TEST"});
  EXPECT_EQ(zone.queries(), 1);
}

TEST(FilterReputationTest, KnownReverseDnsIsDecidedWithoutAsking) {
  dns::MemoryZone zone;
  zone.node("2.0.0.127.in-addr.arpa").ptr = {"asked.example.test"};
  CachingLookup dns(zone);
  ReputationSettings s;  // reverse DNS only
  ReputationFacts facts;
  facts.client = make_address("127.0.0.2");

  // A known PTR name whose known address is the client's: confirmed, nothing asked.
  dns::Answer<std::string> names;
  names.status = dns::Status::kOk;
  names.records = {"mail.example.test"};
  dns.known_names["2.0.0.127.in-addr.arpa"] = names;
  dns::Answer<asio::ip::address_v4> address;
  address.status = dns::Status::kOk;
  address.records = {make_address_v4("127.0.0.2")};
  dns.known["mail.example.test"] = address;
  EXPECT_TRUE(check(dns, nullptr, s, facts).empty());
  // Known, but leading elsewhere.
  address.records = {make_address_v4("127.0.0.9")};
  dns.known["mail.example.test"] = address;
  EXPECT_EQ(symbols(check(dns, nullptr, s, facts)), std::vector<std::string>{"RDNS_UNCONFIRMED"});
  // Known to have no name.
  dns::Answer<std::string> none;
  none.status = dns::Status::kNxDomain;
  dns.known_names["2.0.0.127.in-addr.arpa"] = none;
  EXPECT_EQ(symbols(check(dns, nullptr, s, facts)), std::vector<std::string>{"RDNS_NONE"});
  EXPECT_EQ(zone.queries(), 0);

  // The name known, its address not: the whole check is asked, and decided on the answers (the
  // zone has the PTR but no address for it).
  dns.known_names["2.0.0.127.in-addr.arpa"] = names;
  dns.known.clear();
  EXPECT_EQ(symbols(check(dns, nullptr, s, facts)), std::vector<std::string>{"RDNS_UNCONFIRMED"});
  EXPECT_EQ(zone.queries(), 2);  // the PTR and the A
}

// A lookup that never answers until it is given up on.
class SilentLookup final : public dns::Lookup {
 public:
  asio::awaitable<dns::Answer<std::string>> txt(std::string) override {
    co_return co_await wait<std::string>();
  }
  asio::awaitable<dns::Answer<asio::ip::address_v4>> a(std::string) override {
    ++asked;
    co_return co_await wait<asio::ip::address_v4>();
  }
  asio::awaitable<dns::Answer<asio::ip::address_v6>> aaaa(std::string) override {
    co_return co_await wait<asio::ip::address_v6>();
  }
  asio::awaitable<dns::Answer<dns::MxHost>> mx_records(std::string) override {
    co_return co_await wait<dns::MxHost>();
  }
  asio::awaitable<dns::Answer<std::string>> ptr(std::string) override {
    co_return co_await wait<std::string>();
  }
  int asked = 0;

 private:
  template <class T>
  asio::awaitable<dns::Answer<T>> wait() {
    asio::steady_timer never(co_await asio::this_coro::executor, hours(24));
    (void)co_await never.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return dns::Answer<T>{};
  }
};

TEST(FilterReputationTest, WhatHasNotAnsweredByTheBudgetAddsNothing) {
  dns::MemoryZone family;
  family.node("adult.test").a = {make_address_v4("0.0.0.0")};
  SilentLookup silent;
  ReputationSettings s = lists();
  ReputationFacts facts;
  facts.client = make_address("127.0.0.2");
  facts.link_domains = {"adult.test"};
  asio::io_context io;
  std::optional<std::vector<Finding>> found;
  asio::co_spawn(io, check_reputation(silent, &family, s, facts, std::chrono::milliseconds(50)),
                 [&](std::exception_ptr, std::vector<Finding> f) {
                   found = std::move(f);
                   io.stop();  // the silent lookups would keep it running for a day
                 });
  io.run();
  ASSERT_TRUE(found);
  // The family resolver answered; the blocklists (2 DNSBL, 1 URIBL) never did.
  EXPECT_EQ(symbols(*found), std::vector<std::string>{"ADULT_DOMAIN"});
  EXPECT_EQ(silent.asked, 3);
}

}  // namespace
}  // namespace sealpost::filter

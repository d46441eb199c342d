#include "routing/router.hpp"

#include <gtest/gtest.h>

#include "auth/srs/srs.hpp"

namespace sealpost::routing {
namespace {

using smtp::protocol::Mailbox;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : srs_(std::vector<unsigned char>(32, 7), "mx.example.net", 21),
        router_("mx.example.net", &srs_) {
    auto table = std::make_shared<RoutingTable>();
    table->domains = {"example.com", "xn--bcher-kva.example", "catch.example"};
    table->aliases["hello@example.com"] = {"me@dest.test", "you@other.test"};
    table->aliases["user@example.com"] = {"user@dest.test"};
    table->aliases["user+special@example.com"] = {"special@dest.test"};
    table->aliases["leser@xn--bcher-kva.example"] = {"leser@dest.test"};
    table->aliases["*@catch.example"] = {"all@dest.test"};
    table->aliases["named@catch.example"] = {"named@dest.test"};
    table->aliases["team@example.com"] = {"Alice@Example.com", "hello@example.com", "x@dest.test",
                                          "alice@example.com"};
    table->mailboxes["alice@example.com"] = {"alice@example.com", "f00d", {}, 0};
    table->mailboxes["hello@example.com"] = {"hello@example.com", "beef", {}, 0};
    router_.update(table);
  }

  Route route(std::string local, std::string domain, bool source_route = false) {
    Mailbox m;
    m.local = std::move(local);
    m.domain = std::move(domain);
    return router_.route(m, source_route);
  }

  auth::srs::Srs srs_;
  Router router_;
};

TEST_F(RouterTest, AliasReachesAllDestinations) {
  const Route r = route("hello", "example.com");
  ASSERT_EQ(r.kind, Route::Kind::kForward);
  EXPECT_EQ(r.destinations, (std::vector<std::string>{"me@dest.test", "you@other.test"}));
}

TEST_F(RouterTest, MailboxesAreKnownAddressesAndCanAlsoForward) {
  const Route only = route("Alice", "example.com");
  ASSERT_EQ(only.kind, Route::Kind::kForward);
  EXPECT_TRUE(only.destinations.empty());
  ASSERT_EQ(only.mailboxes.size(), 1U);
  EXPECT_EQ(only.mailboxes[0].file_id, "f00d");
  // Plus-addressing reaches the mailbox too.
  EXPECT_EQ(route("alice+news", "example.com").mailboxes.size(), 1U);
  // An address with both an alias and a mailbox keeps a copy and forwards.
  const Route both = route("hello", "example.com");
  EXPECT_EQ(both.mailboxes.size(), 1U);
  EXPECT_EQ(both.destinations.size(), 2U);
  EXPECT_TRUE(route("user", "example.com").mailboxes.empty());
}

TEST_F(RouterTest, AliasesToOurOwnMailboxesDeliverHereNotThroughPort25) {
  const Route r = route("team", "example.com");
  ASSERT_EQ(r.kind, Route::Kind::kForward);
  EXPECT_EQ(r.destinations, std::vector<std::string>{"x@dest.test"});
  ASSERT_EQ(r.mailboxes.size(), 2U) << "each mailbox once, whatever the case";
  EXPECT_EQ(r.mailboxes[0].file_id, "f00d");
  EXPECT_EQ(r.mailboxes[1].file_id, "beef");
}

TEST_F(RouterTest, LocalPartAndDomainAreCaseInsensitive) {
  EXPECT_EQ(route("HeLLo", "EXAMPLE.com").kind, Route::Kind::kForward);
}

TEST_F(RouterTest, PlusAddressingReachesTheBaseAliasUnlessTaggedAliasExists) {
  EXPECT_EQ(route("user+news", "example.com").destinations,
            std::vector<std::string>{"user@dest.test"});
  EXPECT_EQ(route("user+special", "example.com").destinations,
            std::vector<std::string>{"special@dest.test"});
  EXPECT_EQ(route("+news", "example.com").rejection.enhanced, "5.1.1");
}

TEST_F(RouterTest, CatchAllTakesUnknownLocalParts) {
  EXPECT_EQ(route("anything", "catch.example").destinations,
            std::vector<std::string>{"all@dest.test"});
  EXPECT_EQ(route("named", "catch.example").destinations,
            std::vector<std::string>{"named@dest.test"});
}

TEST_F(RouterTest, InternationalDomainsMatchInEitherForm) {
  EXPECT_EQ(route("leser", "Bücher.example").kind, Route::Kind::kForward);
  EXPECT_EQ(route("leser", "xn--bcher-kva.example").kind, Route::Kind::kForward);
}

TEST_F(RouterTest, UnknownUserOfHostedDomainIs550_5_1_1) {
  const Route r = route("nobody", "example.com");
  EXPECT_EQ(r.kind, Route::Kind::kRejected);
  EXPECT_EQ(r.rejection.code, 550);
  EXPECT_EQ(r.rejection.enhanced, "5.1.1");
}

TEST_F(RouterTest, OtherDomainsAreRelayDenied) {
  const Route r = route("someone", "elsewhere.test");
  EXPECT_EQ(r.rejection.code, 550);
  EXPECT_EQ(r.rejection.enhanced, "5.7.1");
}

TEST_F(RouterTest, OpenRelayClassicsAreRefused) {
  EXPECT_EQ(route("user%elsewhere.test", "example.com").rejection.enhanced, "5.7.1");
  EXPECT_EQ(route("elsewhere.test!user", "example.com").rejection.enhanced, "5.7.1");
  EXPECT_EQ(route("user@elsewhere.test", "example.com").rejection.enhanced, "5.7.1");
  EXPECT_EQ(route("user", "example.com", /*source_route=*/true).rejection.enhanced, "5.7.1");
  Mailbox literal;
  literal.local = "user";
  literal.domain = "[127.0.0.1]";
  literal.domain_is_literal = true;
  EXPECT_EQ(router_.route(literal, false).rejection.enhanced, "5.7.1");
}

TEST_F(RouterTest, SrsBounceIsReversedToTheOriginalSender) {
  const std::string srs_address = srs_.forward("alice@origin.test");
  const auto at = srs_address.rfind('@');
  const Route r = route(srs_address.substr(0, at), srs_address.substr(at + 1));
  ASSERT_EQ(r.kind, Route::Kind::kBounce);
  EXPECT_EQ(r.destinations, std::vector<std::string>{"alice@origin.test"});
}

TEST_F(RouterTest, ForgedSrsAddressIsRefused) {
  const Route r = route("SRS0=AAAA=AA=origin.test=alice", "mx.example.net");
  EXPECT_EQ(r.kind, Route::Kind::kRejected);
  EXPECT_EQ(r.rejection.code, 550);
}

TEST_F(RouterTest, UpdatesSwapTheTable) {
  auto table = std::make_shared<RoutingTable>();
  table->domains = {"new.example"};
  table->aliases["a@new.example"] = {"a@dest.test"};
  router_.update(table);
  EXPECT_EQ(route("a", "new.example").kind, Route::Kind::kForward);
  EXPECT_EQ(route("hello", "example.com").rejection.enhanced, "5.7.1");
}

}  // namespace
}  // namespace sealpost::routing

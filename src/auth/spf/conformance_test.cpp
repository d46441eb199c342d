// The RFC 7208 SPF test suite (openspf/pyspf, ../shared/conformance/spf/rfc7208-tests.yml), every
// case, against check_host() with the suite's zone data served by an in-memory DNS.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "auth/spf/check.hpp"
#include "core/strings.hpp"
#include "dns/memory_zone.hpp"
#include "testing/async.hpp"
#include "testing/conformance.hpp"

namespace sealpost::auth::spf {
namespace {

namespace asio = boost::asio;

std::string joined(const YAML::Node& value) {
  if (!value.IsSequence()) return value.as<std::string>();
  std::string s;
  for (const auto& part : value) s += part.as<std::string>();
  return s;
}

// Loads a scenario's zonedata the way the suite's drivers do: names exist once listed, TIMEOUT
// makes every query for the name fail, and names with SPF-type records but no TXT records get
// them as TXT (RFC 7208 removed the SPF type; see the suite's header).
void load_zone(const YAML::Node& zonedata, dns::MemoryZone& zone) {
  for (const auto& entry : zonedata) {
    const auto name = entry.first.as<std::string>();
    auto& node = zone.node(name);
    std::vector<std::string> spf;
    bool txt_none = false;
    for (const auto& record : entry.second) {
      if (record.IsScalar()) {
        if (record.as<std::string>() == "TIMEOUT") node.timeout = true;
        continue;
      }
      for (const auto& typed : record) {
        const auto type = typed.first.as<std::string>();
        const auto& v = typed.second;
        if (type == "SPF") {
          if (v.IsSequence() && v.size() == 0) continue;  // no strings: not a record
          spf.push_back(joined(v));
        } else if (type == "TXT") {
          // "NONE" is the drivers' placeholder for "no TXT records here" (no copy from SPF).
          if (v.IsScalar() && v.as<std::string>() == "NONE") {
            txt_none = true;
          } else {
            node.txt.push_back(joined(v));
          }
        } else if (type == "A") {
          node.a.push_back(asio::ip::make_address_v4(v.as<std::string>()));
        } else if (type == "AAAA") {
          node.aaaa.push_back(asio::ip::make_address_v6(v.as<std::string>()));
        } else if (type == "MX") {
          node.mx.push_back(dns::MxHost{v[0].as<std::uint16_t>(), v[1].as<std::string>()});
        } else if (type == "PTR") {
          node.ptr.push_back(v.as<std::string>());
        } else if (type == "CNAME") {
          node.cname = v.as<std::string>();
        } else {
          FAIL() << "unknown record type " << type << " at " << name;
        }
      }
    }
    if (node.txt.empty() && !txt_none) node.txt = spf;
  }
}

std::filesystem::path suite_dir() {
  return testing::conformance_dir() / "spf";
}

TEST(SpfConformance, Rfc7208SuitePassesEveryCase) {
  const auto file = suite_dir() / "rfc7208-tests.yml";
  SEALPOST_REQUIRE_CONFORMANCE(file);
  const auto scenarios = YAML::LoadAllFromFile(file.string());
  int cases = 0;
  int passed = 0;
  for (const auto& scenario : scenarios) {
    dns::MemoryZone zone;
    load_zone(scenario["zonedata"], zone);
    for (const auto& test : scenario["tests"]) {
      const auto name = test.first.as<std::string>();
      const auto& t = test.second;
      SCOPED_TRACE(scenario["description"].as<std::string>() + " / " + name);
      ++cases;
      std::set<std::string> expected;
      if (t["result"].IsSequence()) {
        for (const auto& r : t["result"]) expected.insert(r.as<std::string>());
      } else {
        expected.insert(t["result"].as<std::string>());
      }
      Options options;
      options.default_explanation = "DEFAULT";
      options.receiver = "receiver.example.net";
      const auto client = asio::ip::make_address(t["host"].as<std::string>());
      const auto helo = t["helo"].as<std::string>();
      const auto mail_from = t["mailfrom"] ? t["mailfrom"].as<std::string>() : std::string();
      const Verdict v = testing::run_sync(check_mail_from(zone, client, helo, mail_from, options));
      const std::string got(to_string(v.result));
      bool ok = expected.count(got) > 0;
      EXPECT_TRUE(ok) << name << ": got " << got << " (" << v.problem << ") for " << mail_from
                      << " / " << helo << " record: "
                      << (zone.node(mail_from.substr(mail_from.rfind('@') + 1)).txt.empty()
                              ? std::string("-")
                              : zone.node(mail_from.substr(mail_from.rfind('@') + 1)).txt[0]);
      if (ok && t["explanation"] && v.result == Outcome::kFail) {
        const auto want = t["explanation"].as<std::string>();
        EXPECT_TRUE(iequals(v.explanation, want))
            << name << ": explanation \"" << v.explanation << "\", want \"" << want << "\"";
        ok = iequals(v.explanation, want);
      }
      if (ok) ++passed;
    }
  }
  EXPECT_EQ(cases, 203) << "the suite has 203 cases (README)";
  EXPECT_EQ(passed, cases);
  std::printf("SPF RFC 7208 suite: %d of %d cases pass\n", passed, cases);
}

}  // namespace
}  // namespace sealpost::auth::spf

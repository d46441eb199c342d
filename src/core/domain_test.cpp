#include "core/domain.hpp"

#include <gtest/gtest.h>

namespace sealpost::core {
namespace {

TEST(DomainTest, StoresAndComparesALabels) {
  EXPECT_EQ(to_a_label("Bücher.Example"), "xn--bcher-kva.example");
  EXPECT_EQ(to_a_label("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(to_a_label("EXAMPLE.com."), "example.com");
}

TEST(DomainTest, RejectsInvalidNames) {
  EXPECT_FALSE(to_a_label(""));
  EXPECT_FALSE(to_a_label("a..b"));
  EXPECT_FALSE(to_a_label("-a.example"));
  EXPECT_FALSE(to_a_label("a_b.example"));
  EXPECT_FALSE(to_a_label("[127.0.0.1]"));
  EXPECT_FALSE(to_a_label(std::string(64, 'a') + ".example"));
}

TEST(DomainTest, DecodesALabelsToUnicode) {
  EXPECT_EQ(to_u_label("xn--bcher-kva.example"), "bücher.example");
  EXPECT_EQ(to_u_label("XN--80AK6AA92E.com"), "аррӏе.com");
  EXPECT_EQ(to_u_label("www.Example.com"), "www.example.com");
  EXPECT_FALSE(to_u_label("xn--abc-.example"));  // not Punycode
  EXPECT_FALSE(to_u_label(""));
  EXPECT_FALSE(to_u_label(std::string(254, 'a')));
}

TEST(DomainTest, NormalizesAddresses) {
  EXPECT_EQ(normalize_address("John.Doe@Bücher.example"), "john.doe@xn--bcher-kva.example");
  EXPECT_FALSE(normalize_address("nodomain"));
  EXPECT_FALSE(normalize_address("a@"));
  const auto parts = split_address("a@b@c.example");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->first, "a@b");
  EXPECT_EQ(parts->second, "c.example");
}

}  // namespace
}  // namespace sealpost::core

#include <gtest/gtest.h>

#include "store/metadata_store.hpp"
#include "testing/temp_dir.hpp"

namespace sealpost::store {
namespace {

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = sealpost::testing::fresh_test_dir("sealpost-metadata");
    store = open_sqlite_metadata_store((dir / "metadata.db").string());
    store->add_domain("example.com");
    store->add_domain("example.org");
  }
  void TearDown() override {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::filesystem::path dir;
  std::unique_ptr<MetadataStore> store;
};

// `sealpost domain filter`: what a domain sets is kept, what it leaves unset follows the server,
// and it survives a reopen (another process, the server, reads it).
TEST_F(MetadataStoreTest, DomainFilterSettings) {
  EXPECT_TRUE(store->domain_filters().empty());
  DomainFilterRecord off;
  off.enabled = false;
  ASSERT_TRUE(store->set_domain_filter("example.com", off));
  DomainFilterRecord junk;
  junk.spam_action = "junk";
  junk.adult = false;
  ASSERT_TRUE(store->set_domain_filter("example.org", junk));
  EXPECT_FALSE(store->set_domain_filter("example.net", junk)) << "not hosted";

  store = open_sqlite_metadata_store((dir / "metadata.db").string());
  auto filters = store->domain_filters();
  ASSERT_EQ(filters.size(), 2U);
  EXPECT_EQ(filters.at("example.com"), off);
  EXPECT_EQ(filters.at("example.org"), junk);

  // Back to the server's settings: the domain no longer has its own.
  ASSERT_TRUE(store->set_domain_filter("example.com", DomainFilterRecord{}));
  filters = store->domain_filters();
  ASSERT_EQ(filters.size(), 1U);
  EXPECT_TRUE(filters.contains("example.org"));
  // Removing the domain removes its settings.
  ASSERT_TRUE(store->remove_domain("example.org"));
  EXPECT_TRUE(store->domain_filters().empty());
  // A domain hosted again starts from the server's settings.
  store->add_domain("example.org");
  EXPECT_TRUE(store->domain_filters().empty());
}

}  // namespace
}  // namespace sealpost::store

#include "smtp/client/accepted_memory.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace sealpost::smtp::client {
namespace {

TEST(AcceptedMemoryTest, RemembersPerMessageAndDestination) {
  AcceptedMemory memory(std::chrono::seconds(60), 100);
  const auto m1 = memory.message_digest("a@origin.test", "Subject: one\r\n\r\nbody\r\n");
  const auto m2 = memory.message_digest("a@origin.test", "Subject: two\r\n\r\nbody\r\n");
  EXPECT_NE(m1, m2);
  EXPECT_FALSE(memory.contains(m1, "x@dest.test"));
  memory.remember(m1, "x@dest.test");
  EXPECT_TRUE(memory.contains(m1, "x@dest.test"));
  EXPECT_FALSE(memory.contains(m1, "y@dest.test"));
  EXPECT_FALSE(memory.contains(m2, "x@dest.test"));
}

TEST(AcceptedMemoryTest, SameContentFromAnotherSenderIsAnotherMessage) {
  AcceptedMemory memory(std::chrono::seconds(60), 100);
  EXPECT_NE(memory.message_digest("a@origin.test", "same"),
            memory.message_digest("b@origin.test", "same"));
}

TEST(AcceptedMemoryTest, ForgetsAfterTtl) {
  AcceptedMemory memory(std::chrono::seconds(1), 100);
  const auto m = memory.message_digest("", "x");
  memory.remember(m, "x@dest.test");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_FALSE(memory.contains(m, "x@dest.test"));
  EXPECT_EQ(memory.size(), 0U);
}

TEST(AcceptedMemoryTest, IsBoundedInSize) {
  AcceptedMemory memory(std::chrono::seconds(60), 10);
  const auto m = memory.message_digest("", "x");
  for (int i = 0; i < 100; ++i) memory.remember(m, "d" + std::to_string(i) + "@dest.test");
  EXPECT_LE(memory.size(), 10U);
  EXPECT_TRUE(memory.contains(m, "d99@dest.test"));
  EXPECT_FALSE(memory.contains(m, "d0@dest.test"));
}

TEST(AcceptedMemoryTest, ZeroTtlDisablesIt) {
  AcceptedMemory memory(std::chrono::seconds(0), 10);
  const auto m = memory.message_digest("", "x");
  memory.remember(m, "d@dest.test");
  EXPECT_FALSE(memory.contains(m, "d@dest.test"));
}

}  // namespace
}  // namespace sealpost::smtp::client

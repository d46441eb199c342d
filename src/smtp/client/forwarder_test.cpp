#include "smtp/client/forwarder.hpp"

#include <gtest/gtest.h>

namespace sealpost::smtp::client {
namespace {

TEST(SanitizeRemoteTextTest, RemovesAddressesSoAliasesStayPrivate) {
  EXPECT_EQ(sanitize_remote_text("5.1.1 <me@gmail.com>: Recipient address rejected"),
            "<address> Recipient address rejected");
  EXPECT_EQ(sanitize_remote_text("user me@proton.me unknown"), "user <address> unknown");
}

TEST(SanitizeRemoteTextTest, RemovesControlCharactersAndBoundsLength) {
  EXPECT_EQ(sanitize_remote_text("bad\x01text\r\nhere"), "bad?text??here");
  EXPECT_LE(sanitize_remote_text(std::string(5000, 'x')).size(), 200U);
}

TEST(SanitizeRemoteTextTest, KeepsTheReason) {
  EXPECT_EQ(sanitize_remote_text("4.2.2 Mailbox full, try again later"),
            "Mailbox full, try again later");
}

}  // namespace
}  // namespace sealpost::smtp::client

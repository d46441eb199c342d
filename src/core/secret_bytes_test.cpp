#include "core/secret_bytes.hpp"

#include <array>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace sealpost::core {
namespace {

// One mapping of /proc/self/smaps: its range, permissions and VmFlags.
struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string perms;
  std::string flags;
};

std::optional<Mapping> mapping_of(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  std::optional<Mapping> current;
  while (std::getline(smaps, line)) {
    if (line.starts_with("VmFlags:")) {
      if (current && current->start <= a && a < current->end) {
        current->flags = line.substr(8);
        return current;
      }
      continue;
    }
    // A mapping's first line: "start-end perms offset dev inode [path]".
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
    Mapping m;
    try {
      m.start = std::stoull(line.substr(0, dash), nullptr, 16);
      m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    } catch (const std::exception&) {
      continue;  // a "Key: value" line whose key has a dash
    }
    m.perms = line.substr(space + 1, 4);
    current = m;
  }
  return std::nullopt;
}

bool has_flag(const std::string& flags, const std::string& flag) {
  std::istringstream in(flags);
  std::string f;
  while (in >> f) {
    if (f == flag) return true;
  }
  return false;
}

std::uintptr_t page_size() {
  return static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
}

TEST(SecretBytesTest, EveryPageHoldingTheValueIsLeftOutOfCoreDumps) {
  // Bigger than a page, so the value spans several.
  const auto secret = SecretBytes::random(page_size() + 100);
  const auto first = mapping_of(secret.data());
  const auto last = mapping_of(secret.data() + secret.size() - 1);
  ASSERT_TRUE(first && last);
  EXPECT_TRUE(has_flag(first->flags, "dd")) << "VmFlags:" << first->flags;
  EXPECT_TRUE(has_flag(last->flags, "dd")) << "VmFlags:" << last->flags;
}

TEST(SecretBytesTest, TheValueIsFollowedByANoAccessGuardPage) {
  const auto secret = SecretBytes::random(32);
  const auto* end = secret.data() + secret.size();
  const auto holding = mapping_of(end - 1);
  ASSERT_TRUE(holding);
  EXPECT_EQ(holding->perms.substr(0, 2), "rw");
  // The value ends where its pages end: one byte further is the guard page, which faults.
  const auto next_page = (reinterpret_cast<std::uintptr_t>(end - 1) | (page_size() - 1)) + 1;
  const auto guard = mapping_of(reinterpret_cast<const void*>(next_page));
  ASSERT_TRUE(guard);
  EXPECT_EQ(guard->perms.substr(0, 3), "---");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(end), next_page);
}

TEST(SecretBytesTest, EachValueHasPagesOfItsOwn) {
  const auto a = SecretBytes::random(32);
  const auto b = SecretBytes::random(32);
  EXPECT_NE(reinterpret_cast<std::uintptr_t>(a.data()) / page_size(),
            reinterpret_cast<std::uintptr_t>(b.data()) / page_size());
}

TEST(SecretBytesTest, CopiesComparesMovesAndShrinks) {
  const unsigned char bytes[] = {1, 2, 3, 4, 5};
  auto a = SecretBytes::copy_of(bytes);
  ASSERT_EQ(a.size(), 5U);
  EXPECT_TRUE(a.equals(SecretBytes::copy_of(bytes)));
  EXPECT_FALSE(a.equals(SecretBytes::copy_of(std::span(bytes, 4))));
  EXPECT_TRUE(SecretBytes(3).equals(SecretBytes::copy_of(std::array<unsigned char, 3>{})));
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(b.size(), 5U);
  b.shrink(2);
  EXPECT_TRUE(b.equals(SecretBytes::copy_of(std::span(bytes, 2))));
  EXPECT_TRUE(SecretBytes(0).empty());
}

}  // namespace
}  // namespace sealpost::core

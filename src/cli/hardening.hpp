// The process's own defences (DESIGN.md principle 5, "never dumpable"): whatever user it starts
// as, no core file is ever written and no other process of that user can attach to it or read
// its memory, so the keys and mail it holds stay in it. And enough file descriptors for the
// connections its limits allow.
#pragma once

#include <cstdint>

#include "core/config.hpp"

namespace sealpost::cli {

// RLIMIT_CORE 0 and not dumpable (PR_SET_DUMPABLE 0: /proc/PID is root's, ptrace by the same
// user is refused). Called first thing in main for every subcommand; there is no opt-out.
// Throws std::runtime_error when either cannot be set.
void harden_process();

struct OpenFileLimit {
  std::uint64_t needed = 0;  // what the configured connection limits can use at once
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  [[nodiscard]] bool enough() const { return hard >= needed; }
};

// What the configuration's connection limits need, and the current limits.
OpenFileLimit open_file_limit(const core::Config& config);

// Raises the soft RLIMIT_NOFILE to min(hard, needed) (never lowers it); returns the result.
OpenFileLimit raise_open_file_limit(const core::Config& config);

}  // namespace sealpost::cli

#include "cli/hardening.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sys/prctl.h>
#include <sys/resource.h>

namespace sealpost::cli {

namespace {

// Descriptors one connection can hold at once. An MX connection may be relaying the message it
// got (its own socket and one to the destination). An IMAP or POP3 session may be the only one
// on its mailbox, which then has its database, -wal and -shm open for the writer and the reader.
constexpr std::uint64_t kPerSmtpConnection = 2;
constexpr std::uint64_t kPerAccessConnection = 1 + 6;
// Listeners, the metadata store, the resolver, logs, the worker pool's wake-ups, key files.
constexpr std::uint64_t kHeadroom = 256;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::generic_category().message(errno));
}

}  // namespace

void harden_process() {
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) fail("cannot set RLIMIT_CORE to 0");
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) fail("cannot make the process non-dumpable");
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer checks at exit from a helper that ptrace-attaches to this process, which a
  // process that is not dumpable refuses unless the helper is root: once everything has been
  // freed (and wiped), ASan builds let it in. RLIMIT_CORE stays 0. Registered after
  // LeakSanitizer's own exit handler, so it runs before it.
  std::atexit([] { (void)::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); });
#endif
}

OpenFileLimit open_file_limit(const core::Config& config) {
  OpenFileLimit l;
  l.needed = std::uint64_t{config.limits.max_connections} * kPerSmtpConnection +
             std::uint64_t{config.access.connections} * kPerAccessConnection +
             std::uint64_t{config.queue.max_deliveries} + kHeadroom;
  rlimit now{};
  if (::getrlimit(RLIMIT_NOFILE, &now) != 0) fail("cannot read RLIMIT_NOFILE");
  l.soft = now.rlim_cur;
  l.hard = now.rlim_max;
  return l;
}

OpenFileLimit raise_open_file_limit(const core::Config& config) {
  auto l = open_file_limit(config);
  const std::uint64_t wanted = std::min(l.hard, l.needed);
  if (wanted <= l.soft) return l;
  const rlimit raised{static_cast<rlim_t>(wanted), static_cast<rlim_t>(l.hard)};
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) fail("cannot raise RLIMIT_NOFILE");
  l.soft = wanted;
  return l;
}

}  // namespace sealpost::cli

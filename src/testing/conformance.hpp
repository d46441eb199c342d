// Where the independently written conformance suites are (../shared/conformance by default, or
// -DSEALPOST_CONFORMANCE_DIR=...), and what a test does when they are not there: a build told
// where they are fails the test, so a missing suite is never taken for a pass; a build that
// looked in the default place skips it, saying so.
#pragma once

#include <filesystem>

#include <gtest/gtest.h>

#ifndef SEALPOST_CONFORMANCE_REQUIRED
#define SEALPOST_CONFORMANCE_REQUIRED 0
#endif

namespace sealpost::testing {

inline std::filesystem::path conformance_dir() {
  return SEALPOST_CONFORMANCE_DIR;
}

}  // namespace sealpost::testing

// In a test body: returns from it (failed, or skipped) when `path` does not exist.
#define SEALPOST_REQUIRE_CONFORMANCE(path)                                                  \
  do {                                                                                     \
    if (!std::filesystem::exists(path)) {                                                  \
      if (SEALPOST_CONFORMANCE_REQUIRED) FAIL() << "conformance suite missing: " << (path); \
      GTEST_SKIP() << "conformance suite not found at " << (path);                          \
    }                                                                                      \
  } while (false)

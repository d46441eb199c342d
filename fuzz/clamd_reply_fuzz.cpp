// clamd's answers are read as hostile input: the reply parser and the findings it gives, on
// arbitrary bytes. What is kept of an answer goes into a reason, the header and the log: it must
// be short printable ASCII, and the findings' symbols valid.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "filter/clamd_reply.hpp"

namespace {

bool printable(std::string_view s) {
  for (const char c : s) {
    if (c < ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sealpost::filter::ClamdResult;
  const std::string_view reply(reinterpret_cast<const char*>(data), size);
  const auto result = sealpost::filter::parse_clamd_reply(reply);
  switch (result.status) {
    case ClamdResult::Status::kClean:
      if (!result.signature.empty() || !result.reason.empty()) __builtin_trap();
      break;
    case ClamdResult::Status::kVirus:
      if (result.signature.empty() || result.signature.size() > sealpost::filter::kMaxSignature ||
          result.signature.find(' ') != std::string_view::npos) {
        __builtin_trap();
      }
      break;
    case ClamdResult::Status::kUnavailable:
      if (result.reason.empty() || result.reason.size() > 200) __builtin_trap();
      break;
  }
  if (!printable(result.signature) || !printable(result.reason)) __builtin_trap();
  for (const bool tempfail : {true, false}) {
    const auto findings = sealpost::filter::clamd_findings(result, tempfail);
    if (findings.size() != (result.status == ClamdResult::Status::kClean ? 0U : 1U)) {
      __builtin_trap();
    }
    for (const auto& f : findings) {
      if (!sealpost::core::is_filter_symbol(f.symbol) || !printable(f.reason)) __builtin_trap();
    }
    const auto verdict = sealpost::filter::decide(findings, sealpost::filter::Policy{});
    const auto expected = result.status == ClamdResult::Status::kVirus
                              ? sealpost::filter::Action::kReject
                          : result.status == ClamdResult::Status::kUnavailable && tempfail
                              ? sealpost::filter::Action::kTempfail
                              : sealpost::filter::Action::kAccept;
    if (verdict.action != expected) __builtin_trap();
  }
  return 0;
}

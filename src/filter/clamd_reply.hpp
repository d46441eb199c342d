// What clamd's answer to INSTREAM means (issue 18 item 7), and the findings it gives. clamd(8)
// answers a `z`-prefixed command with one NUL-terminated line: "stream: OK", "stream: <signature>
// FOUND", or "<what went wrong> ERROR" ("INSTREAM size limit exceeded. ERROR" when the message
// is larger than its StreamMaxLength). The answer comes from a local daemon, but it is read as
// hostile input all the same: bounded, and what is kept of it is short printable ASCII. Pure: the
// conversation itself is in filter/clamd.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filter/verdict.hpp"

namespace sealpost::filter {

// The longest answer read (a signature's name, or an error, is far shorter); a longer one is
// not clamd's.
inline constexpr std::size_t kMaxClamdReply = 4096;
// A signature's name as reported ("Win.Test.EICAR_HDB-1"): ClamAV's own are under 100 octets.
inline constexpr std::size_t kMaxSignature = 128;
// An error's text as kept in a reason.
inline constexpr std::size_t kMaxClamdError = 160;

struct ClamdResult {
  enum class Status : std::uint8_t {
    kClean,
    kVirus,
    kUnavailable,  // nothing was scanned: clamd was not there, too slow, or refused the message
  };
  Status status = Status::kUnavailable;
  // kVirus: the signature's name, 1 to kMaxSignature octets of printable ASCII without spaces.
  std::string signature;
  // kUnavailable: why, in a few words (never any of the message's content).
  std::string reason;

  static ClamdResult clean() { return {Status::kClean, {}, {}}; }
  static ClamdResult virus(std::string signature) {
    return {Status::kVirus, std::move(signature), {}};
  }
  static ClamdResult unavailable(std::string reason) {
    return {Status::kUnavailable, {}, std::move(reason)};
  }
};

// Reads an answer as received, without its terminating NUL. Anything that is neither a verdict
// on the stream nor an error clamd gives is kUnavailable ("an unexpected answer").
ClamdResult parse_clamd_reply(std::string_view reply);

// "clean", "virus <signature>", "unavailable (<reason>)": how `sealpost filter explain` says it.
std::string describe(const ClamdResult& result);

// What a scan adds to the verdict. A virus: CLAMAV_VIRUS, refused (550 5.7.1), its reason
// "ClamAV: <signature>". Nothing scanned: CLAMAV_UNAVAILABLE, deferred (451 4.7.1) when
// `tempfail_when_unavailable`, else a finding of score 0 that decides nothing (the message is
// accepted unscanned, and its log line says so). Clean: nothing.
std::vector<Finding> clamd_findings(const ClamdResult& result, bool tempfail_when_unavailable);

}  // namespace sealpost::filter

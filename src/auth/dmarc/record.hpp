// DMARC policy records (RFC 7489 section 6.3/6.4), parsed from the TXT at _dmarc.<domain>. Records
// come from DNS: the parser is pure and bounded, and falls back to defaults for bad optional tags,
// as section 6.3 asks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::auth::dmarc {

enum class Policy { kNone, kQuarantine, kReject };
enum class Alignment { kRelaxed, kStrict };

std::string_view to_string(Policy p) noexcept;

// Every field holds the section 6.3 default when its tag is absent or its value is invalid.
struct Record {
  Policy p = Policy::kNone;
  std::optional<Policy> sp;  // absent: callers apply p to subdomains (section 6.3)
  Alignment adkim = Alignment::kRelaxed;
  Alignment aspf = Alignment::kRelaxed;
  unsigned pct = 100;
  std::vector<std::string> rua;  // valid URIs as given, "!size" kept ("mailto:a@example.com!10m")
  std::vector<std::string> ruf;
  std::string fo = "0";  // lowercased, whitespace removed ("1:d")
  unsigned ri = 86400;
  std::vector<std::string> rf = {"afrf"};  // lowercased report formats
};

enum class RecordError {
  kNotDmarc,      // does not start with "v=DMARC1"
  kSyntax,        // non-ASCII, a control character, or a CR/LF that is not folding whitespace
  kNoPolicy,      // no valid p= (or an invalid sp=) and no valid rua= (section 6.6.3)
  kTooLong,       // over kMaxRecordOctets
  kDuplicateTag,  // a tag name given twice (the DKIM tag-list rule DMARC inherits)
};

inline constexpr std::size_t kMaxRecordOctets = 4096;
inline constexpr std::size_t kMaxReportUris = 16;  // per rua=/ruf=; further URIs are dropped

// Whether the TXT is a DMARC record: "v=DMARC1" first, then ";" or the end (whitespace allowed
// around "=" and before ";"). "DMARC1" is compared case-sensitively, as section 6.3 requires.
bool is_dmarc_record(std::string_view txt) noexcept;

Result<Record, RecordError> parse_record(std::string_view txt);

// The address of a "mailto:" report URI without its "!size" suffix (and any "?hfields"),
// percent-decoded; nullopt for other schemes and for malformed mailto: URIs.
std::optional<std::string> mailto_address(std::string_view uri);

// The "!size" limit of a report URI in octets (section 6.2: "mailto:a@example.com!10m" is
// 10 * 2^20), the largest report the URI's owner takes; nullopt when the URI has none (or a
// malformed one, which parse_record does not keep).
std::optional<std::uint64_t> report_size_limit(std::string_view uri) noexcept;

}  // namespace sealpost::auth::dmarc

// DMARC policy records (RFC 7489 section 6.3), parsed from the TXT at _dmarc.<domain>. Records
// come from DNS: the parser is bounded and falls back to defaults for bad optional tags, as
// section 6.3 asks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealpost::auth::dmarc {

enum class Policy { kNone, kQuarantine, kReject };
enum class Alignment { kRelaxed, kStrict };

std::string_view to_string(Policy p) noexcept;

struct Record {
  Policy p = Policy::kNone;
  std::optional<Policy> sp;
  Alignment adkim = Alignment::kRelaxed;
  Alignment aspf = Alignment::kRelaxed;
  unsigned pct = 100;
  std::vector<std::string> rua;  // URIs as given ("mailto:a@example.com!10m")
  std::vector<std::string> ruf;
  std::string fo = "0";
  unsigned ri = 86400;
};

enum class RecordError { kNotDmarc, kSyntax, kNoPolicy, kTooLong, kDuplicateTag };

// Whether the TXT is a DMARC record: "v=DMARC1" first, then ";" or the end.
bool is_dmarc_record(std::string_view txt) noexcept;

Result<Record, RecordError> parse_record(std::string_view txt);

// The address of a "mailto:" report URI without its "!size" suffix; nullopt for other schemes.
std::optional<std::string> mailto_address(std::string_view uri);

}  // namespace sealpost::auth::dmarc

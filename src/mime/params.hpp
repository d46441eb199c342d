// Content-Type and Content-Disposition values (RFC 2045 section 5.1, RFC 2183): a type, then
// "; name=value" parameters. RFC 2231 is understood: continuations (name*0, name*1*...) are joined
// in order and extended values (name*=charset'language'%XX) are percent-decoded and converted to
// UTF-8. Tolerant the way mail clients are: comments anywhere, folded values, a missing ';',
// unquoted values holding tspecials ("boundary=----=_Part_1") or spaces ("name=my file.pdf" runs
// to the next ';' unless another "name=" follows). At most `max_params` parameters are kept;
// of two with one name the first wins, except that an RFC 2231 value wins over a plain one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::mime {

inline constexpr std::size_t kMaxParams = 64;

struct Parameter {
  std::string name;       // lowercase, without RFC 2231's "*", "*N" or "*N*" suffix
  std::string value;      // UTF-8: unquoted, continuations joined, charset converted
  std::string language;   // RFC 2231 language tag, when one was given
  bool extended = false;  // written in RFC 2231's charset'language'value form
};

using Parameters = std::vector<Parameter>;

// The first parameter called `name` (ASCII case-insensitive), or nullptr.
const Parameter* find_parameter(const Parameters& params, std::string_view name) noexcept;

struct ContentType {
  std::string type;     // lowercase
  std::string subtype;  // lowercase
  Parameters params;
};

struct ContentDisposition {
  std::string type;  // lowercase: "inline", "attachment"...
  Parameters params;
};

// Parameters after the type, `text` starting anywhere before the first ';'.
Parameters parse_parameters(std::string_view text, std::size_t max_params = kMaxParams);

// "type/subtype; params". No value when there is no type or no subtype ("text" alone is read as
// text/plain, as RFC 2045 section 5.2's default).
std::optional<ContentType> parse_content_type(std::string_view value,
                                              std::size_t max_params = kMaxParams);

// "type; params". No value when there is no type.
std::optional<ContentDisposition> parse_content_disposition(std::string_view value,
                                                            std::size_t max_params = kMaxParams);

}  // namespace sealpost::mime

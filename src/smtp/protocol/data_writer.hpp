// The sending side of DATA (RFC 5321 section 4.5.2): dot-stuffing and the end marker.
#pragma once

#include <string>
#include <string_view>

namespace sealpost::smtp::protocol {

// True when some line of `content` starts with '.', so DATA needs a stuffed copy.
bool needs_dot_stuffing(std::string_view content) noexcept;

// Appends `content` to `out` with a '.' doubled at the start of every line. `at_line_start`
// says whether the first octet of `content` begins a line.
void append_dot_stuffed(std::string_view content, bool at_line_start, std::string& out);

// The octets that must follow the content: CRLF when it does not end with one, then ".CRLF".
std::string_view end_of_data(std::string_view content) noexcept;

}  // namespace sealpost::smtp::protocol

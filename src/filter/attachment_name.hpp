// What an attachment's name and declared type say (issue 18 item 6, first part): a program by
// its extension or type, a name that hides its real extension (a double extension, spaces before
// it, bidirectional controls such as U+202E that show "invoice_exe.pdf" for "invoice_fdp.exe"),
// control characters. The name is taken as Windows reads it: trailing dots and spaces are
// dropped, case does not matter. Pure; the bytes themselves (magic, archives, macros) are looked
// at elsewhere.
#pragma once

#include <string_view>
#include <vector>

#include "filter/verdict.hpp"

namespace sealpost::filter {

// Findings for one attachment: `name` is its decoded file name (UTF-8, from
// Content-Disposition's filename or Content-Type's name), `content_type` its declared type
// ("application/x-msdownload"), either may be empty. Symbols: ATTACHMENT_EXECUTABLE and
// ATTACHMENT_BIDI_NAME refuse the message; ATTACHMENT_DOUBLE_EXTENSION and
// ATTACHMENT_NAME_CONTROL add to its score.
std::vector<Finding> check_attachment_name(std::string_view name, std::string_view content_type);

// The extension Windows would run the file by: after the last dot, lowercased, once trailing
// dots and spaces are dropped; "" when there is none.
std::string extension_of(std::string_view name);

}  // namespace sealpost::filter

#include "filter/attachment_name.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "core/strings.hpp"
#include "core/utf8.hpp"

namespace sealpost::filter {
namespace {

// What Windows runs, or opens with something that runs code (scripts, installers, shortcuts,
// disk images that mount and show their programs), as mail filters refuse by default.
constexpr auto kExecutable = std::to_array<std::string_view>(
    {"ade", "adp", "app", "appx",   "application", "bat",  "cab", "chm",  "cmd", "com",
     "cpl", "dll", "exe", "gadget", "hta",         "img",  "inf", "ins",  "iso", "isp",
     "jar", "js",  "jse", "lnk",    "mde",         "msc",  "msi", "msix", "msp", "mst",
     "pif", "ps1", "ps2", "psc1",   "psm1",        "reg",  "scf", "scr",  "sct", "shb",
     "sys", "vb",  "vbe", "vbs",    "vhd",         "vhdx", "ws",  "wsf",  "wsh"});

// The declared types of programs.
constexpr auto kExecutableTypes = std::to_array<std::string_view>(
    {"application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
     "application/x-ms-installer", "application/x-msi",
     "application/vnd.microsoft.portable-executable", "application/java-archive",
     "application/x-ms-shortcut"});

// What a name shows before the real extension to look harmless.
constexpr auto kDocument = std::to_array<std::string_view>(
    {"pdf",  "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "jpg",
     "jpeg", "png", "gif",  "zip", "rar",  "htm", "html", "csv", "odt", "mp3"});

template <std::size_t N>
bool among(const std::array<std::string_view, N>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Bidirectional formatting characters (Unicode's Bidi_Control): they reorder what is shown.
bool is_bidi_control(char32_t c) noexcept {
  return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

std::string_view trim_windows(std::string_view name) {
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1);
  return name;
}

}  // namespace

std::string extension_of(std::string_view name) {
  name = trim_windows(name);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  return to_lower_ascii(name.substr(dot + 1));
}

std::vector<Finding> check_attachment_name(std::string_view name, std::string_view content_type) {
  std::vector<Finding> out;
  const std::string ext = extension_of(name);
  const std::string type = to_lower_ascii(content_type);
  if (among(kExecutable, ext) || among(kExecutableTypes, type)) {
    out.push_back({"ATTACHMENT_EXECUTABLE", 0, "a program attached", Action::kReject});
  }

  bool bidi = false;
  bool control = false;
  std::string_view rest = name;
  while (!rest.empty()) {
    const auto seq = core::next_utf8(rest);
    if (seq.length == 0) {
      control = true;  // not UTF-8: nothing a reader can be shown faithfully
      rest.remove_prefix(seq.ill_formed);
      continue;
    }
    bidi = bidi || is_bidi_control(seq.code_point);
    control = control || seq.code_point < 0x20 || seq.code_point == 0x7F ||
              (seq.code_point >= 0x80 && seq.code_point < 0xA0);
    rest.remove_prefix(seq.length);
  }
  if (bidi) {
    out.push_back(
        {"ATTACHMENT_BIDI_NAME", 0, "a name with bidirectional controls", Action::kReject});
  }
  if (control) out.push_back({"ATTACHMENT_NAME_CONTROL", 3, "control characters in a name", {}});

  // "invoice.pdf.exe", "photo.jpg        .scr": a harmless-looking extension, then the real one.
  const std::string_view trimmed = trim_windows(name);
  const std::size_t last = trimmed.rfind('.');
  if (last != std::string_view::npos && !ext.empty()) {
    std::string_view before = trimmed.substr(0, last);
    const bool padded = before.size() >= 3 && before.ends_with("   ");
    while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
    const std::size_t dot = before.rfind('.');
    const std::string shown =
        dot == std::string_view::npos ? std::string() : to_lower_ascii(before.substr(dot + 1));
    if ((among(kDocument, shown) && shown != ext) || padded) {
      out.push_back({"ATTACHMENT_DOUBLE_EXTENSION", 5, "a name that hides its extension", {}});
    }
  }
  return out;
}

}  // namespace sealpost::filter

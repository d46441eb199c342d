#include "filter/clamd_reply.hpp"

namespace sealpost::filter {
namespace {

constexpr std::string_view kStream = "stream: ";
constexpr std::string_view kFound = " FOUND";
constexpr std::string_view kError = " ERROR";
constexpr std::string_view kSizeLimit = "INSTREAM size limit exceeded.";

// At most `max` octets of `text`, each outside the printable range (or a space, when `spaces`
// is false) shown as "?": what is kept of the answer can go into a reason, a header and a log.
std::string printable(std::string_view text, std::size_t max, bool spaces) {
  std::string out;
  const std::size_t n = std::min(text.size(), max);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    const bool ok = (c > ' ' && c <= '~') || (spaces && c == ' ');
    out += ok ? c : '?';
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

ClamdResult error(std::string_view what) {
  what = trimmed(what);
  if (what.empty()) return ClamdResult::unavailable("clamd: an error");
  return ClamdResult::unavailable("clamd: " + printable(what, kMaxClamdError, true));
}

}  // namespace

ClamdResult parse_clamd_reply(std::string_view reply) {
  if (reply.size() > kMaxClamdReply) {
    return ClamdResult::unavailable("clamd's answer is too long");
  }
  reply = trimmed(reply);
  if (reply.starts_with(kSizeLimit) && reply.ends_with(kError)) {
    return ClamdResult::unavailable("the message is larger than clamd's StreamMaxLength");
  }
  if (!reply.starts_with(kStream)) {
    if (reply.ends_with(kError)) return error(reply.substr(0, reply.size() - kError.size()));
    return ClamdResult::unavailable("an unexpected answer from clamd");
  }
  std::string_view rest = reply.substr(kStream.size());
  if (rest == "OK") return ClamdResult::clean();
  if (rest.ends_with(kError)) return error(rest.substr(0, rest.size() - kError.size()));
  if (!rest.ends_with(kFound)) return ClamdResult::unavailable("an unexpected answer from clamd");
  std::string_view name = rest.substr(0, rest.size() - kFound.size());
  // ExtendedDetectionInfo adds "(<md5>:<size>)" to the name: the name is what matters.
  if (name.ends_with(')')) {
    if (const auto open = name.rfind('('); open != std::string_view::npos && open > 0) {
      name = name.substr(0, open);
    }
  }
  // A virus is a virus whatever its name looks like: an empty or odd name is still refused.
  if (name.empty()) return ClamdResult::virus("unnamed");
  return ClamdResult::virus(printable(name, kMaxSignature, false));
}

std::string describe(const ClamdResult& result) {
  switch (result.status) {
    case ClamdResult::Status::kClean:
      return "clean";
    case ClamdResult::Status::kVirus:
      return "virus " + result.signature;
    case ClamdResult::Status::kUnavailable:
      break;
  }
  return "unavailable (" + result.reason + ")";
}

std::vector<Finding> clamd_findings(const ClamdResult& result, bool tempfail_when_unavailable) {
  switch (result.status) {
    case ClamdResult::Status::kClean:
      return {};
    case ClamdResult::Status::kVirus:
      return {Finding{"CLAMAV_VIRUS", 0, "ClamAV: " + result.signature, Action::kReject}};
    case ClamdResult::Status::kUnavailable:
      break;
  }
  std::string reason = "ClamAV could not scan the message: " + result.reason;
  if (!tempfail_when_unavailable) {
    return {Finding{"CLAMAV_UNAVAILABLE", 0, reason + " (accepted unscanned)", std::nullopt}};
  }
  return {Finding{"CLAMAV_UNAVAILABLE", 0, std::move(reason), Action::kTempfail}};
}

}  // namespace sealpost::filter

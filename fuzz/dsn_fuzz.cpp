// A bounce is built from hostile input: the original message came from anyone, the diagnostic,
// the host name and even the recipient from a remote server. Whatever the bytes, the report keeps
// its shape: CRLF lines of at most 998 octets, the same header fields, the boundary only on its
// four delimiter lines. The same bytes also go through the bounce classifier.
//
// Input: fields separated by NUL octets: original message, diagnostic, recipient, remote host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "queue/bounce.hpp"
#include "queue/dsn.hpp"

namespace {

using namespace sealpost::queue;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_header_section(std::string_view message, std::size_t max_bytes) {
  const std::string_view h = header_section(message, max_bytes);
  check(h.size() <= max_bytes && h.data() == message.data());
  // Cut at a line end, or the whole (header-only) message.
  check(h.empty() || h.back() == '\n' || h.size() == message.size());
}

void check_report(const std::string& dsn) {
  check(dsn.size() >= 2 && dsn.ends_with("\r\n"));
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < dsn.size(); ++i) {
    if (dsn[i] == '\r') check(i + 1 < dsn.size() && dsn[i + 1] == '\n');
    if (dsn[i] == '\n') {
      check(i > 0 && dsn[i - 1] == '\r');
      check(i - 1 - line_start <= 998);
      line_start = i + 1;
    }
  }

  // From, To, Subject, Date, Message-ID, Auto-Submitted, MIME-Version, Content-Type (2 lines).
  const auto header_end = dsn.find("\r\n\r\n");
  check(header_end != std::string::npos);
  std::size_t header_lines = 1;
  for (std::size_t i = 0; i < header_end; ++i) header_lines += dsn[i] == '\n';
  check(header_lines == 9);

  // The parameter is on its own folded line: an address in To: may say 'boundary="' too.
  constexpr std::string_view kParam = "\r\n\tboundary=\"";
  const auto b = dsn.find(kParam);
  check(b != std::string::npos && b < header_end);
  const auto b_end = dsn.find('"', b + kParam.size());
  check(b_end != std::string::npos);
  const std::string delimiter = "--" + dsn.substr(b + kParam.size(), b_end - b - kParam.size());
  check(delimiter.size() > 2 && delimiter.size() <= 72);
  std::size_t delimiters = 0;
  for (std::size_t at = dsn.find(delimiter); at != std::string::npos;
       at = dsn.find(delimiter, at + 1)) {
    if (at >= 2 && dsn.compare(at - 2, 2, "\r\n") == 0) ++delimiters;
  }
  check(delimiters == 4);
  check(dsn.ends_with("\r\n" + delimiter + "--\r\n"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string_view fields[4];
  std::string_view rest = input;
  for (auto& field : fields) {
    const auto nul = rest.find('\0');
    field = rest.substr(0, nul);
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }

  int code = 0;
  if (fields[1].size() >= 3) {
    for (std::size_t i = 0; i < 3; ++i) code = code * 10 + (fields[1][i] - '0');
  }
  const auto enhanced = fields[1].size() > 4 ? fields[1].substr(4, 5) : std::string_view();
  const BounceVerdict v = classify(code, enhanced, fields[1]);
  check(v.action == BounceAction::kDefer || v.action == BounceAction::kReject);
  check(!to_string(v.category).empty());
  (void)classify(550, "", input);

  check_header_section(fields[0], kMaxDsnOriginalHeader);
  check_header_section(input, size / 2);
  check_header_section(input, 7);

  DsnInput in;
  in.reporting_mta = "mx.example.com";
  in.postmaster = "MAILER-DAEMON@mx.example.com";
  in.to = std::string(fields[2]);
  in.message_id = "fuzz@mx.example.com";
  in.arrival = static_cast<std::int64_t>(size) * 1'000'003;
  in.now = in.arrival + 60;
  in.boundary = "=_fuzz";
  in.original = fields[0];
  DsnRecipient failed;
  failed.original_recipient = std::string(fields[2]);
  failed.failed = size % 2 == 0;
  failed.status = std::string(enhanced);
  failed.remote_mta = std::string(fields[3]);
  failed.diagnostic = std::string(fields[1]);
  failed.last_attempt = in.now;
  failed.will_retry_until = in.now + 86400;
  DsnRecipient delayed = failed;
  delayed.failed = !failed.failed;
  in.recipients = {failed, delayed};

  check_report(build_dsn(in));
  return 0;
}

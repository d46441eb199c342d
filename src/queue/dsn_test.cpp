#include "queue/dsn.hpp"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mime/message.hpp"
#include "testing/text.hpp"

namespace sealpost::queue {
namespace {

using testing::crlf;
using namespace std::string_literals;

constexpr std::int64_t kNow = 1796422200;  // Fri, 04 Dec 2026 22:10:00 +0000
constexpr std::string_view kBodyMarker = "SECRET-BODY-MARKER-7f3a";

const std::string kOriginal = crlf(
    "Received: from client.example.com by mx.example.com\n"
    "From: Alice <alice@example.com>\n"
    "To: Bob <bob@example.org>\n"
    "Subject: Quarterly numbers\n"
    "Message-ID: <1234@example.com>\n"
    "\n"
    "Hi Bob,\n"
    "the numbers: SECRET-BODY-MARKER-7f3a\n");

DsnRecipient failed_recipient() {
  DsnRecipient r;
  r.original_recipient = "bob@example.org";
  r.failed = true;
  r.status = "5.1.1";
  r.remote_mta = "mx.example.org";
  r.diagnostic = "550 5.1.1 No such user";
  r.last_attempt = kNow - 60;
  return r;
}

DsnRecipient delayed_recipient() {
  DsnRecipient r;
  r.original_recipient = "carol@example.net";
  r.failed = false;
  r.status = "4.4.1";
  r.remote_mta = "";
  r.diagnostic = "421 4.4.1 Connection refused";
  r.last_attempt = kNow - 120;
  r.will_retry_until = kNow + 4 * 86400;
  return r;
}

DsnInput input(std::vector<DsnRecipient> recipients) {
  DsnInput in;
  in.reporting_mta = "mx.example.com";
  in.postmaster = "MAILER-DAEMON@mx.example.com";
  in.to = "alice@example.com";
  in.message_id = "dsn.42@mx.example.com";
  in.arrival = kNow - 3600;
  in.now = kNow;
  in.boundary = "=_b0undary_9d2c";
  in.original = kOriginal;
  in.recipients = std::move(recipients);
  return in;
}

std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> lines;
  while (!s.empty()) {
    const auto end = s.find("\r\n");
    lines.push_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end + 2);
  }
  return lines;
}

// Every line ends in CRLF, no bare CR or LF anywhere, no line over 998 octets.
void expect_wellformed_lines(std::string_view s) {
  ASSERT_GE(s.size(), 2U);
  EXPECT_EQ(s.substr(s.size() - 2), "\r\n");
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      ASSERT_TRUE(i + 1 < s.size() && s[i + 1] == '\n') << "bare CR at " << i;
    }
    if (s[i] == '\n') {
      ASSERT_TRUE(i > 0 && s[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  for (const auto line : lines_of(s)) EXPECT_LE(line.size(), 998U);
}

std::string boundary_of(const mime::Message& m) {
  const auto* p = mime::find_parameter(m.root.content_type.params, "boundary");
  return p ? p->value : "";
}

// The report parsed by the project's MIME parser: multipart/report with the three parts.
void expect_report_structure(const std::string& raw) {
  const auto m = mime::parse_message(raw);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(mime::serialize(*m), raw);
  const mime::Part& root = m->root;
  ASSERT_EQ(root.kind, mime::PartKind::kMultipart);
  EXPECT_TRUE(root.is("multipart", "report"));
  const auto* type = mime::find_parameter(root.content_type.params, "report-type");
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->value, "delivery-status");
  ASSERT_EQ(root.children.size(), 3U);
  EXPECT_TRUE(root.children[0].is("text", "plain"));
  EXPECT_TRUE(root.children[1].is("message", "delivery-status"));
  EXPECT_TRUE(root.children[2].is("text", "rfc822-headers"));
  EXPECT_FALSE(root.close_delimiter.size == 0);

  // The boundary appears only in the Content-Type parameter and the four delimiter lines.
  const std::string boundary = boundary_of(*m);
  ASSERT_FALSE(boundary.empty());
  std::size_t occurrences = 0;
  for (auto at = raw.find(boundary); at != std::string::npos; at = raw.find(boundary, at + 1)) {
    ++occurrences;
  }
  EXPECT_EQ(occurrences, 5U);
  std::size_t delimiter_lines = 0;
  for (const auto line : lines_of(raw)) {
    if (line.starts_with("--" + boundary)) ++delimiter_lines;
  }
  EXPECT_EQ(delimiter_lines, 4U);
}

std::string part_body(const std::string& raw, std::size_t index) {
  const auto m = mime::parse_message(raw);
  if (!m || m->root.children.size() <= index) return {};
  return std::string(m->root.children[index].body.in(raw));
}

// The value of the first field called `name` in a block of fields, unfolded (RFC 5322 2.2.3).
std::string field_value(std::string_view fields, std::string_view name) {
  std::string value;
  bool in_field = false;
  for (const auto line : lines_of(fields)) {
    if (in_field && (line.starts_with(" ") || line.starts_with("\t"))) {
      value += line;
    } else if (in_field) {
      break;
    } else if (line.starts_with(std::string(name) + ": ")) {
      value = line.substr(name.size() + 2);
      in_field = true;
    }
  }
  return value;
}

std::string top_header(const std::string& raw) {
  return raw.substr(0, raw.find("\r\n\r\n") + 2);
}

TEST(DsnTest, FailedReportHasTheRfc3464Structure) {
  const std::string dsn = build_dsn(input({failed_recipient()}));
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);

  const std::string header = top_header(dsn);
  EXPECT_TRUE(header.starts_with("From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"));
  EXPECT_NE(header.find("\r\nTo: <alice@example.com>\r\n"), std::string::npos);
  EXPECT_NE(header.find("\r\nSubject: Undelivered Mail Returned to Sender\r\n"), std::string::npos);
  EXPECT_NE(header.find("\r\nDate: Fri, 04 Dec 2026 22:10:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(header.find("\r\nMessage-ID: <dsn.42@mx.example.com>\r\n"), std::string::npos);
  EXPECT_NE(header.find("\r\nAuto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(header.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);

  EXPECT_EQ(part_body(dsn, 1), crlf("Reporting-MTA: dns; mx.example.com\n"
                                    "Arrival-Date: Fri, 04 Dec 2026 21:10:00 +0000\n"
                                    "\n"
                                    "Final-Recipient: rfc822; bob@example.org\n"
                                    "Action: failed\n"
                                    "Status: 5.1.1\n"
                                    "Remote-MTA: dns; mx.example.org\n"
                                    "Diagnostic-Code: smtp; 550 5.1.1 No such user\n"
                                    "Last-Attempt-Date: Fri, 04 Dec 2026 22:09:00 +0000\n"));

  const std::string text = part_body(dsn, 0);
  EXPECT_NE(text.find("could not be delivered"), std::string::npos);
  EXPECT_NE(text.find("<bob@example.org>"), std::string::npos);
  EXPECT_NE(text.find("mx.example.org answered: 550 5.1.1 No such user"), std::string::npos);
  EXPECT_EQ(text.find("not been delivered yet"), std::string::npos);
  EXPECT_EQ(dsn.find("Content-Transfer-Encoding"), std::string::npos);  // all 7-bit
}

TEST(DsnTest, CarriesTheOriginalHeaderButNeverItsBody) {
  const std::string dsn = build_dsn(input({failed_recipient()}));
  EXPECT_EQ(dsn.find(kBodyMarker), std::string::npos);
  EXPECT_EQ(dsn.find("Hi Bob"), std::string::npos);
  EXPECT_EQ(part_body(dsn, 2), crlf("Received: from client.example.com by mx.example.com\n"
                                    "From: Alice <alice@example.com>\n"
                                    "To: Bob <bob@example.org>\n"
                                    "Subject: Quarterly numbers\n"
                                    "Message-ID: <1234@example.com>\n"));
}

TEST(DsnTest, DelayedReportSaysUntilWhenItRetries) {
  DsnRecipient r = delayed_recipient();
  const std::string dsn = build_dsn(input({r}));
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  EXPECT_NE(top_header(dsn).find("\r\nSubject: Delayed Mail (still being retried)\r\n"),
            std::string::npos);

  const std::string status = part_body(dsn, 1);
  EXPECT_NE(status.find("\r\nAction: delayed\r\nStatus: 4.4.1\r\n"), std::string::npos);
  EXPECT_NE(status.find("\r\nWill-Retry-Until: Tue, 08 Dec 2026 22:10:00 +0000\r\n"),
            std::string::npos);
  EXPECT_EQ(status.find("Remote-MTA"), std::string::npos);  // no server answered

  const std::string text = part_body(dsn, 0);
  EXPECT_NE(text.find("not been delivered yet"), std::string::npos);
  EXPECT_NE(text.find("Retrying until: Tue, 08 Dec 2026 22:10:00 +0000"), std::string::npos);
  EXPECT_NE(text.find("Reason: 421 4.4.1 Connection refused"), std::string::npos);
  EXPECT_EQ(text.find("could not be delivered"), std::string::npos);
}

TEST(DsnTest, FailedAndDelayedTogetherExplainBoth) {
  const std::string dsn = build_dsn(input({failed_recipient(), delayed_recipient()}));
  expect_report_structure(dsn);
  EXPECT_NE(top_header(dsn).find("Subject: Undelivered Mail Returned to Sender"),
            std::string::npos);
  const std::string text = part_body(dsn, 0);
  const auto failed_at = text.find("could not be delivered");
  const auto delayed_at = text.find("not been delivered yet");
  ASSERT_NE(failed_at, std::string::npos);
  ASSERT_NE(delayed_at, std::string::npos);
  EXPECT_LT(text.find("<bob@example.org>"), delayed_at);
  EXPECT_GT(text.find("<carol@example.net>"), delayed_at);
  const std::string status = part_body(dsn, 1);
  EXPECT_NE(status.find("Action: failed"), std::string::npos);
  EXPECT_NE(status.find("Action: delayed"), std::string::npos);
}

TEST(DsnTest, StatusIsDerivedWhenMissingAndTransientWhenDelayed) {
  DsnRecipient a = failed_recipient();
  a.status = "";
  DsnRecipient b = delayed_recipient();
  b.status = "";
  DsnRecipient c = delayed_recipient();
  c.status = "5.2.2";  // "552 5.2.2 mailbox full" is retried
  DsnRecipient d = failed_recipient();
  d.status = "5.1.1\r\nX-Evil: 1";
  DsnRecipient e = failed_recipient();
  e.status = "2.0.0";
  DsnRecipient f = failed_recipient();
  f.status = "4.4.7";  // gave up after retrying: the last answer stays
  const std::string status = part_body(build_dsn(input({a, b, c, d, e, f})), 1);
  std::vector<std::string_view> codes;
  for (const auto line : lines_of(status)) {
    if (line.starts_with("Status: ")) codes.push_back(line.substr(8));
  }
  EXPECT_EQ(codes,
            (std::vector<std::string_view>{"5.0.0", "4.0.0", "4.2.2", "5.0.0", "5.0.0", "4.4.7"}));
}

TEST(DsnTest, InjectedLineBreaksInRemoteValuesStayOnOneLine) {
  DsnRecipient r = failed_recipient();
  r.diagnostic =
      "550 nope\r\nBcc: victim@example.net\r\n\r\n--=_b0undary_9d2c\r\nContent-Type: "
      "text/html\r\n\r\n<b>hi</b>\n\rX-Bare: lf";
  r.remote_mta = "mx.example.org\r\nX-Injected: yes";
  r.original_recipient = "bob@example.org>\r\nBcc: <victim@example.net";
  DsnInput in = input({r});
  in.to = "alice@example.com>\r\nCc: victim@example.net";
  const std::string dsn = build_dsn(in);
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  for (const auto line : lines_of(dsn)) {
    EXPECT_FALSE(line.starts_with("Bcc:")) << line;
    EXPECT_FALSE(line.starts_with("Cc:")) << line;
    EXPECT_FALSE(line.starts_with("X-Injected")) << line;
    EXPECT_FALSE(line.starts_with("X-Bare")) << line;
    EXPECT_FALSE(line.starts_with("Content-Type: text/html")) << line;
  }
  EXPECT_NE(dsn.find("Diagnostic-Code: smtp; 550 nope Bcc: victim@example.net --=_b0undary_9d2c"),
            std::string::npos);
  EXPECT_NE(dsn.find("\r\nRemote-MTA: dns; mx.example.orgX-Injected:yes\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("\r\nTo: <alice@example.com Cc: victim@example.net>\r\n"), std::string::npos);
}

TEST(DsnTest, UnicodeLineBreaksAndBidiOverridesInAddressesBecomeSpaces) {
  DsnRecipient r = failed_recipient();
  // NEL, LINE SEPARATOR, RIGHT-TO-LEFT OVERRIDE.
  r.original_recipient = "bob\xc2\x85@exa\xe2\x80\xa8mple\xe2\x80\xae.org";
  const std::string text = part_body(build_dsn(input({r})), 0);
  EXPECT_NE(text.find("<bob @exa mple .org>"), std::string::npos) << text;
}

TEST(DsnTest, RemoteValuesAreBoundedAndSevenBit) {
  DsnRecipient r = failed_recipient();
  r.diagnostic = "550 " + std::string(5000, 'x') + " caf\xc3\xa9 \x01\x7f end";
  r.remote_mta = std::string(1000, 'm');
  const std::string status = part_body(build_dsn(input({r})), 1);
  EXPECT_EQ(field_value(status, "Diagnostic-Code"), "smtp; 550 " + std::string(508, 'x'));
  EXPECT_EQ(field_value(status, "Remote-MTA"), "dns; " + std::string(255, 'm'));

  r.diagnostic = "550 caf\xc3\xa9\t\x01 \x7f end";
  const std::string short_status = part_body(build_dsn(input({r})), 1);
  EXPECT_NE(short_status.find("\r\nDiagnostic-Code: smtp; 550 caf?? end\r\n"), std::string::npos);
}

TEST(DsnTest, LongDiagnosticsAreFoldedAndUnfoldBackToTheText) {
  DsnRecipient r = failed_recipient();
  std::string words;
  for (int i = 0; i < 60; ++i) words += " word" + std::to_string(i);  // under 512 octets
  r.diagnostic = "550 5.7.1" + words;
  const std::string dsn = build_dsn(input({r}));
  expect_wellformed_lines(dsn);
  const std::string status = part_body(dsn, 1);
  for (const auto line : lines_of(status)) EXPECT_LE(line.size(), 78U);
  EXPECT_EQ(field_value(status, "Diagnostic-Code"), "smtp; 550 5.7.1" + words);
}

TEST(DsnTest, Utf8RecipientUsesTheUtf8AddressType) {
  DsnRecipient r = failed_recipient();
  r.original_recipient =
      "j\xc3\xb6rg+news@b\xc3\xbc"
      "cher.example";
  const std::string dsn = build_dsn(input({r}));
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  const std::string status = part_body(dsn, 1);
  EXPECT_NE(
      status.find("\r\nFinal-Recipient: utf-8; j\\x{F6}rg\\x{2B}news@b\\x{FC}cher.example\r\n"),
      std::string::npos);
  // The machine-readable part stays 7-bit; the human text shows the address as given.
  for (const char c : status) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  const std::string text = part_body(dsn, 0);
  EXPECT_NE(text.find("<j\xc3\xb6rg+news@b\xc3\xbc"
                      "cher.example>"),
            std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n"),
            std::string::npos);
}

TEST(DsnTest, Utf8AddressEncodingCoversAllPlanes) {
  DsnRecipient r = failed_recipient();
  // U+0100, U+20AC, U+1F600, a backslash, '=', a space, then an invalid octet.
  r.original_recipient = "\xc4\x80\xe2\x82\xac\xf0\x9f\x98\x80\\= a\xff@x.example";
  const std::string status = part_body(build_dsn(input({r})), 1);
  EXPECT_NE(status.find("Final-Recipient: utf-8; "
                        "\\x{100}\\x{20AC}\\x{1F600}\\x{5C}\\x{3D}\\x{20}a?@x.example\r\n"),
            std::string::npos)
      << status;
}

TEST(DsnTest, CallersBoundaryFoundInThePartsIsReplaced) {
  const std::string original = crlf(
      "Subject: boundary games\n"
      "X-Trap: =_b0undary_9d2c\n"
      "--=_b0undary_9d2c\n"
      "--=_b0undary_9d2c_000000\n"
      "--=_b0undary_9d2c--\n"
      "\n"
      "body\n");
  DsnInput in = input({failed_recipient()});
  in.original = original;
  const std::string dsn = build_dsn(in);
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  EXPECT_NE(dsn.find("boundary=\"=_b0undary_9d2c_000001\""), std::string::npos);
  EXPECT_NE(part_body(dsn, 2).find("X-Trap: =_b0undary_9d2c\r\n"), std::string::npos);
}

TEST(DsnTest, InvalidBoundaryIsReplaced) {
  for (const std::string& bad : {std::string(), std::string("has space"), std::string("quo\"te"),
                                 std::string(71, 'b'), std::string("a\r\nb")}) {
    DsnInput in = input({failed_recipient()});
    in.boundary = bad;
    const std::string dsn = build_dsn(in);
    expect_wellformed_lines(dsn);
    expect_report_structure(dsn);
  }
}

TEST(DsnTest, LongOriginalLinesAreFoldedOrCut) {
  const std::string words = "Subject:" + std::string(3000, ' ') + "x";
  std::string spaced = "X-Long:";
  for (int i = 0; i < 600; ++i) spaced += " word" + std::to_string(i);
  const std::string solid = "X-Solid: " + std::string(2500, 'a');
  std::string utf8 = "X-Utf8:";
  for (int i = 0; i < 800; ++i) utf8 += "\xe2\x82\xac";  // no whitespace to fold at
  const std::string original =
      words + "\n" + spaced + "\r\n" + solid + "\n" + utf8 + "\r\nX-Bare: a\rb\0c\n\nbody"s;
  DsnInput in = input({failed_recipient()});
  in.original = std::string_view(original.data(), original.size());
  const std::string dsn = build_dsn(in);
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  const std::string headers = part_body(dsn, 2);
  // Folded lines are continuations: each starts with whitespace.
  std::size_t fields = 0;
  for (const auto line : lines_of(headers)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '\t') ++fields;
  }
  EXPECT_EQ(fields, 5U);
  EXPECT_NE(headers.find("X-Bare: a b c\r\n"), std::string::npos);
  // No UTF-8 character is split by a hard cut.
  std::string unfolded;
  for (const auto line : lines_of(headers)) {
    if (line.starts_with("X-Utf8") || (line.starts_with(" ") && !unfolded.empty())) {
      unfolded += line.starts_with(" ") ? line.substr(1) : line;
    } else if (!unfolded.empty()) {
      break;
    }
  }
  EXPECT_EQ(unfolded, utf8);
  EXPECT_NE(dsn.find("Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n"),
            std::string::npos);
}

TEST(DsnTest, OriginalHeaderIsCappedAtALineBoundary) {
  std::string original;
  for (int i = 0; original.size() < 100 * 1024; ++i) {
    original += "X-Filler-" + std::to_string(i) + ": " + std::string(60, 'f') + "\r\n";
  }
  original += "\r\nbody\r\n";
  DsnInput in = input({failed_recipient()});
  in.original = original;
  const std::string dsn = build_dsn(in);
  expect_report_structure(dsn);
  const std::string headers = part_body(dsn, 2);
  EXPECT_LE(headers.size(), kMaxDsnOriginalHeader);
  EXPECT_GT(headers.size(), kMaxDsnOriginalHeader - 100);
  EXPECT_TRUE(original.starts_with(headers));
  EXPECT_TRUE(headers.ends_with(std::string(60, 'f') + "\r\n"));
}

TEST(DsnTest, EmptyOriginalAndMissingValuesStillMakeAValidReport) {
  DsnRecipient r;
  r.original_recipient = "";
  DsnInput in;
  in.original = "";
  in.recipients = {r};
  const std::string dsn = build_dsn(in);
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  EXPECT_TRUE(dsn.starts_with("From: Mail Delivery System <MAILER-DAEMON@localhost>\r\n"));
  EXPECT_NE(dsn.find("\r\nTo: undisclosed-recipients:;\r\n"), std::string::npos);
  EXPECT_NE(dsn.find("\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), std::string::npos);
  EXPECT_EQ(part_body(dsn, 2), "");
}

TEST(DsnTest, ManyRecipientsAreListedUpToTheLimit) {
  std::vector<DsnRecipient> many(kMaxDsnRecipients + 5, failed_recipient());
  const std::string dsn = build_dsn(input(std::move(many)));
  expect_wellformed_lines(dsn);
  expect_report_structure(dsn);
  const std::string status = part_body(dsn, 1);
  std::size_t listed = 0;
  for (const auto line : lines_of(status)) listed += line.starts_with("Final-Recipient:");
  EXPECT_EQ(listed, kMaxDsnRecipients);
  EXPECT_NE(part_body(dsn, 0).find("5 more are not shown"), std::string::npos);
}

TEST(DsnTest, HeaderSectionStopsAtTheEmptyLine) {
  EXPECT_EQ(header_section("A: 1\r\nB: 2\r\n\r\nbody\r\n", 1000), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(header_section("A: 1\nB: 2\n\nbody\n", 1000), "A: 1\nB: 2\n");
  EXPECT_EQ(header_section("A: 1\r\n folded\r\n\r\n", 1000), "A: 1\r\n folded\r\n");
  EXPECT_EQ(header_section("A: 1\r\nB: 2", 1000), "A: 1\r\nB: 2");  // no body, no final CRLF
  EXPECT_EQ(header_section("A: 1\r\nB: 2\r\n", 1000), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(header_section("A: 1\r\n\r", 1000), "A: 1\r\n");
  EXPECT_EQ(header_section("", 1000), "");
  EXPECT_EQ(header_section("\r\nbody", 1000), "");
  EXPECT_EQ(header_section("\nbody", 1000), "");
}

TEST(DsnTest, HeaderSectionIsCutAtALineEndWithinTheBound) {
  const std::string_view m = "A: 1\r\nB: 22\r\nC: 333\r\n\r\nbody";
  EXPECT_EQ(header_section(m, 0), "");
  EXPECT_EQ(header_section(m, 5), "");
  EXPECT_EQ(header_section(m, 6), "A: 1\r\n");
  EXPECT_EQ(header_section(m, 12), "A: 1\r\n");
  EXPECT_EQ(header_section(m, 13), "A: 1\r\nB: 22\r\n");
  EXPECT_EQ(header_section(m, 21), "A: 1\r\nB: 22\r\nC: 333\r\n");
  // A last line without a line break counts only when it ends the message.
  EXPECT_EQ(header_section("A: 1\r\nB: 2", 10), "A: 1\r\nB: 2");
  EXPECT_EQ(header_section("A: 1\r\nB: 23", 10), "A: 1\r\n");
}

}  // namespace
}  // namespace sealpost::queue

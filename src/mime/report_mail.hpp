// The mail that carries an aggregate report, of either kind we send: DMARC (RFC 7489 section
// 7.2.1.1) and TLS-RPT (RFC 8460 section 5, which took DMARC's file name and Subject as they
// were). One builder, so both kinds name, frame and encode their gzip'd report the same way. The
// parts that come from DNS or the wire (policy domains, report ids) are reduced to what their
// grammar allows, so none can break a header line or a Content-Disposition parameter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::mime {

// "<receiver>!<policy-domain>!<begin-timestamp>!<end-timestamp>[!<unique-id>].<extension>"
// (RFC 7489 section 7.2.1.1, RFC 8460 section 5.1). Characters a domain name cannot hold are
// dropped from the domains (as is a trailing dot), negative timestamps are written as 0, and
// unique-id keeps only its letters and digits (omitted when none are left).
std::string report_filename(std::string_view receiver, std::string_view policy_domain,
                            std::int64_t start, std::int64_t end, std::string_view unique_id,
                            std::string_view extension);

// "Report Domain: <policy-domain> Submitter: <submitter> Report-ID: <id>", the report id in angle
// brackets as both grammars have it (added unless present). Controls, spaces and non-ASCII are
// dropped from the parts, so the result is one safe header line.
std::string report_subject(std::string_view policy_domain, std::string_view submitter,
                           std::string_view report_id);

// Who a report message is from and to, and when: the same for every kind.
struct ReportMail {
  std::string from;                     // our reporting address
  std::vector<std::string> recipients;  // the domain's mailto: addresses, for To:
  std::string message_id;               // without <>
  std::string boundary;
  std::int64_t now = 0;  // for Date:
};

// What a kind of report puts into its message.
struct ReportContent {
  std::string subject;          // report_subject()
  std::string extra_fields;     // further header fields, each ending in CRLF (may be empty)
  std::string multipart;        // the outer type without boundary: "multipart/mixed"
  std::string text;             // the human-readable part, US-ASCII, without a final CRLF
  std::string attachment_type;  // "application/gzip"
  std::string attachment_name;  // report_filename()
  std::string attachment;       // the report's bytes (gzip'd)
};

// The message (CRLF lines), unsigned: From, To, Date, Message-ID, Subject, the extra fields,
// Auto-Submitted (RFC 3834), then a text part and the attachment in base64 lines of 76.
std::string report_message(const ReportMail& mail, const ReportContent& content);

}  // namespace sealpost::mime

// SMTP TLS Reporting (RFC 8460): the _smtp._tls TXT record that says where a domain wants its
// reports, and the JSON report a sender builds for it (its file name and Subject are DMARC's:
// mime/report_mail.hpp). The record comes from DNS and the report carries strings seen on the
// wire (host names, TLS error texts), so the parser is bounded and the builder escapes
// everything; sending lives elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost::smtp::client {

// _smtp._tls.<domain> TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://r.example.com/v1"
struct TlsRptRecord {
  std::vector<std::string> rua;  // the URIs, in order, scheme lowercased: "mailto:" or "https:"
};

inline constexpr std::size_t kTlsRptMaxUris = 10;            // further URIs are dropped
inline constexpr std::size_t kTlsRptMaxUriOctets = 512;      // longer URIs are ignored
inline constexpr std::size_t kTlsRptMaxRecordOctets = 8192;  // a longer record is not read
inline constexpr std::size_t kTlsRptMaxReasonOctets = 1024;  // failure-reason-code is cut here

// RFC 8460 3: of the TXT strings of the RRset, those that do not begin with "v=TLSRPTv1"
// followed by ";" or white space are discarded; if not exactly one remains the domain does not
// take reports (nullopt). "v=TLSRPTv1" and "rua=" are case-sensitive; rua is required, and the
// URIs of every rua= are kept in order (duplicates once). Only well-formed mailto: URIs (naming
// one address) and https: URIs (with a host) are kept; none left means no record. Unknown and
// malformed other fields are ignored.
std::optional<TlsRptRecord> parse_tlsrpt_record(const std::vector<std::string>& txt_rrset);

// The addresses of the mailto: URIs (without "mailto:", without any "?query"), percent-decoded.
std::vector<std::string> tlsrpt_mailto_addresses(const TlsRptRecord& r);

enum class TlsResultType {  // RFC 8460 4.3 result-type values
  kStarttlsNotSupported,
  kCertificateHostMismatch,
  kCertificateExpired,
  kCertificateNotTrusted,
  kValidationFailure,
  kTlsaInvalid,
  kDnssecInvalid,
  kDaneRequired,
  kStsPolicyFetchError,
  kStsPolicyInvalid,
  kStsWebpkiInvalid
};
std::string_view to_string(TlsResultType t) noexcept;  // "starttls-not-supported", ...

struct TlsFailureDetail {
  TlsResultType result_type;
  std::string sending_mta_ip;         // may be empty
  std::string receiving_mx_hostname;  // may be empty
  std::string receiving_ip;           // may be empty
  std::uint64_t failed_session_count = 0;
  std::string failure_reason_code;  // free text, may be empty; cut to kTlsRptMaxReasonOctets
};

enum class TlsPolicyType { kSts, kTlsa, kNoPolicyFound };
std::string_view to_string(TlsPolicyType t) noexcept;  // "sts", "tlsa", "no-policy-found"

struct TlsPolicyResult {
  TlsPolicyType policy_type = TlsPolicyType::kNoPolicyFound;
  std::vector<std::string> policy_string;  // e.g. from sts_policy_strings(), or TLSA records text
  std::string policy_domain;
  std::vector<std::string> mx_host;
  std::uint64_t successful_session_count = 0;
  // Written as the sum of failure_details' counts when there are details, as given otherwise.
  std::uint64_t failed_session_count = 0;
  std::vector<TlsFailureDetail> failure_details;
};

struct TlsReport {
  std::string organization_name;
  std::int64_t start = 0, end = 0;  // unix seconds; written as RFC 3339 "2026-12-04T00:00:00Z"
  std::string contact_info;         // e.g. "postmaster@mx.example.com"
  std::string report_id;            // unique
  std::vector<TlsPolicyResult> policies;
};

// RFC 8460 4.4 JSON, on one line, with the field names and order of its schema (Appendix B has
// an example). "mx-host" is an array of strings as section 4.4 defines it (Appendix B's single
// string is erratum 6241). Written by Boost.JSON, which escapes strings as RFC 8259 section 7
// requires; valid UTF-8 passes through and each maximal invalid subsequence becomes U+FFFD. Empty
// optional fields are omitted: contact-info, policy-string, mx-host, failure-details and a
// detail's sending-mta-ip, receiving-mx-hostname, receiving-ip and failure-reason-code.
std::string tls_report_json(const TlsReport& r);

}  // namespace sealpost::smtp::client

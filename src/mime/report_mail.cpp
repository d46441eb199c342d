#include "mime/report_mail.hpp"

#include <algorithm>

#include "core/base64.hpp"
#include "core/strings.hpp"
#include "mime/content.hpp"

namespace sealpost::mime {

namespace {

constexpr bool is_alnum(char c) noexcept {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

// Keeps the characters a domain name in text form can hold, lowercased, without a trailing dot.
std::string domain_part(std::string_view d) {
  std::string out;
  for (char c : d) {
    if (is_alnum(c) || c == '-' || c == '.' || c == '_') out += ascii_lower(c);
  }
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// Visible ASCII only: what may stand in an unstructured header field without encoding.
std::string visible_ascii(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c > 0x20 && c < 0x7f) out += c;
  }
  return out;
}

// Base64 in lines of 76 characters (RFC 2045 section 6.8).
std::string wrapped_base64(std::string_view bytes) {
  const std::string b64 = core::base64_encode(bytes);
  std::string out;
  out.reserve(b64.size() + b64.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < b64.size(); i += 76) {
    out.append(b64, i, 76);
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string report_filename(std::string_view receiver, std::string_view policy_domain,
                            std::int64_t start, std::int64_t end, std::string_view unique_id,
                            std::string_view extension) {
  // filename = receiver "!" policy-domain "!" begin-timestamp "!" end-timestamp
  //            [ "!" unique-id ] "." extension; unique-id = 1*(ALPHA / DIGIT)
  std::string name = domain_part(receiver) + "!" + domain_part(policy_domain) + "!" +
                     std::to_string(std::max<std::int64_t>(start, 0)) + "!" +
                     std::to_string(std::max<std::int64_t>(end, 0));
  std::string id;
  for (char c : unique_id) {
    if (is_alnum(c)) id += c;
  }
  if (!id.empty()) name += "!" + id;
  return name + "." + std::string(extension);
}

std::string report_subject(std::string_view policy_domain, std::string_view submitter,
                           std::string_view report_id) {
  std::string id = visible_ascii(report_id);
  std::erase_if(id, [](char c) { return c == '<' || c == '>'; });
  return "Report Domain: " + visible_ascii(policy_domain) +
         " Submitter: " + visible_ascii(submitter) + " Report-ID: <" + id + ">";
}

std::string report_message(const ReportMail& mail, const ReportContent& content) {
  std::string to;
  for (const auto& r : mail.recipients) to += (to.empty() ? "" : ", ") + r;
  std::string m;
  m += "From: " + mail.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Date: " + format_rfc5322_date(mail.now) + "\r\n";
  m += "Message-ID: <" + mail.message_id + ">\r\n";
  m += "Subject: " + content.subject + "\r\n";
  m += content.extra_fields;
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: " + content.multipart + ";\r\n\tboundary=\"" + mail.boundary + "\"\r\n\r\n";
  m += "--" + mail.boundary + "\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += content.text + "\r\n\r\n";
  m += "--" + mail.boundary + "\r\n";
  m += "Content-Type: " + content.attachment_type + "\r\n";
  m += "Content-Transfer-Encoding: base64\r\n";
  m += "Content-Disposition: attachment; filename=\"" + content.attachment_name + "\"\r\n\r\n";
  m += wrapped_base64(content.attachment);
  m += "\r\n--" + mail.boundary + "--\r\n";
  return m;
}

}  // namespace sealpost::mime

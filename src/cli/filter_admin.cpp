// `sealpost filter explain`: what the content filter finds in a message, for the operator who
// holds it (from stdin). Offline: it runs the checks that need no network, lists the links the
// network checks would look up (those of the text and of the HTML markup), and prints the verdict
// with each finding's reason. The one peer it asks is clamd, on this machine, when [filter] clamd
// (or --clamd) names it: its answer counts as it would on the MX (a virus refuses, no answer
// defers unless clamd_unavailable = "accept"). Nothing is logged or written. It reads no store:
// the domains whose lookalikes the MX flags besides the built-in brands' (its hosted ones) are
// named with --own-domain. The Public Suffix List is the configuration's (Debian's publicsuffix
// by default), without which the checks that compare domains are skipped, as it says.
#include <exception>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "auth/dmarc/public_suffix.hpp"
#include "cli/commands.hpp"
#include "core/config.hpp"
#include "core/domain.hpp"
#include "filter/clamd.hpp"
#include "filter/content_filter.hpp"
#include "filter/domain_list.hpp"
#include "filter/lookalike.hpp"
#include "filter/message_scan.hpp"
#include "filter/phishing.hpp"
#include "filter/reputation.hpp"
#include "mime/message.hpp"

namespace sealpost::cli {

int filter_explain(std::istream& in, std::ostream& out, const core::Config& config,
                   const std::string& settings_from, const std::vector<std::string>& own_domains) {
  std::vector<std::string> own;
  for (const auto& d : own_domains) {
    auto a = core::to_a_label(d);
    if (!a) {
      std::cerr << fmt::format("sealpost: --own-domain {}: not a domain name\n", d);
      return 2;
    }
    own.push_back(std::move(*a));
  }
  const mime::Limits limits;
  std::string raw;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    raw.append(buf, static_cast<std::size_t>(in.gcount()));
    if (raw.size() > limits.max_message_size) {
      std::cerr << fmt::format("sealpost: the message is larger than {} bytes\n",
                               limits.max_message_size);
      return 1;
    }
  }
  const auto message = mime::parse_message(raw, limits);
  if (!message) {
    std::cerr << "sealpost: the message is too large to parse\n";
    return 1;
  }
  const std::string psl_path = config.public_suffix_list.string();
  const auto psl = auth::dmarc::PublicSuffixList::load(psl_path);
  if (!psl) {
    std::cerr << fmt::format(
        "sealpost: cannot read {} (Debian package publicsuffix): the link text and lookalike "
        "domain checks are skipped\n",
        psl_path);
  }
  const auto& settings = config.filter;
  own.insert(own.end(), settings.brands.begin(), settings.brands.end());
  std::optional<filter::ProtectedDomains> protect;
  if (psl) protect.emplace(*psl, own);
  std::optional<filter::DomainList> adult_list;
  if (settings.adult && !settings.adult_lists.empty()) {
    auto loaded = filter::DomainList::load(settings.adult_lists);
    if (!loaded) {
      std::cerr << "sealpost: [filter] adult_lists: " << loaded.error() << "\n";
      return 1;
    }
    adult_list.emplace(std::move(loaded).value());
  }
  const filter::Policy policy = filter::policy_from(settings);
  const auto clamd = filter::clamd_settings(settings);
  filter::ScanLimits scan_limits;
  scan_limits.keep_for_virus_scan = !clamd.socket.empty() && !clamd.whole_message;
  const auto scan = filter::scan_message(*message, scan_limits, psl ? &*psl : nullptr,
                                         protect ? &*protect : nullptr);
  auto findings = scan.findings;
  if (adult_list) {
    std::vector<std::string> senders;
    if (const auto from = filter::from_domain(*message); from && psl) {
      senders.push_back(psl->organizational_domain(*from));
    }
    for (auto& f : filter::local_adult_findings(*adult_list, senders, scan.urls,
                                                filter::ReputationSettings{}.adult_score)) {
      findings.push_back(std::move(f));
    }
  }
  std::string clamd_line = "not asked (--clamd SOCKET, or [filter] clamd in the configuration)";
  if (!clamd.socket.empty()) {
    // What the MX gives clamd ([filter] clamd_scan).
    auto files = filter::clamd_input(clamd, raw, &scan);
    const bool nothing = files.empty();
    const std::string given =
        files.size() == 1 && files[0].data() == raw.data()
            ? "the whole message"
            : fmt::format("{} attachment{}", files.size(), files.size() == 1 ? "" : "s");
    boost::asio::io_context io;
    auto result = filter::ClamdResult::unavailable("the scan failed");
    boost::asio::co_spawn(io, filter::scan_files_with_clamd(clamd, std::move(files)),
                          [&result](const std::exception_ptr& e, filter::ClamdResult r) {
                            if (!e) result = std::move(r);
                          });
    io.run();
    clamd_line = nothing ? "nothing to scan (no attachment; the text is scanned with "
                           "[filter] clamd_scan = \"message\")"
                         : filter::describe(result) + " (given " + given + ")";
    for (auto& f : filter::clamd_findings(result, clamd.tempfail_when_unavailable)) {
      findings.push_back(std::move(f));
    }
  }
  const auto verdict = filter::decide(std::move(findings), policy);
  out << fmt::format("verdict: {} (score {:.1f}; junk at {:.1f}, {} at {:.1f}; settings: {})\n",
                     filter::action_name(verdict.action), verdict.score, policy.junk_at,
                     filter::action_name(policy.at_reject_score), policy.reject_at, settings_from);
  if (!settings.enabled)
    out << "note: [filter] enabled = false: the MX does not run these checks\n";
  out << "X-Spam-Status: " << filter::status_header(verdict) << "\n";
  if (const auto reply = filter::smtp_reply(verdict)) {
    out << fmt::format("reply: {} {} {}\n", reply->code, reply->enhanced, reply->text);
  }
  out << fmt::format("findings ({}):\n", verdict.findings.size());
  for (const auto& f : verdict.findings) {
    out << fmt::format("  {:<28} {:>6.1f}  {:<8} {}\n", f.symbol, f.score,
                       f.decides ? filter::action_name(*f.decides) : "", f.reason);
  }
  out << "clamd: " << clamd_line << "\n";
  out << fmt::format("attachments: {}\n", scan.attachments);
  if (scan.magic_missing) {
    out << "note: libmagic's database could not be loaded: attachments were not checked by type\n";
  }
  out << fmt::format("links ({}):\n", scan.urls.size());
  for (const auto& u : scan.urls) {
    std::string notes;
    if (!u.userinfo.empty()) notes += " user-info \"" + u.userinfo + "\"";
    if (u.ip_host) notes += " ip";
    if (u.obfuscated) notes += " obfuscated";
    out << "  " << u.host << notes << "\n";
  }
  return 0;
}

}  // namespace sealpost::cli

// What the content filter's checks find, and the one verdict the MX acts on before it answers
// the sending server (no bounce later: no backscatter). Each check reports findings: a symbol,
// a score and a short reason. The verdict adds the scores up against the thresholds, as rspamd
// and SpamAssassin do, unless a finding decides alone (a virus is refused whatever the score; a
// scanner that cannot answer defers the message). Pure: no I/O.
//
// What leaves the process names symbols only: the header added to the message, the SMTP reply
// and the log line. A finding's reason (which may name a link's domain) is for `sealpost filter
// explain`, run by the operator on a message in hand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace sealpost::filter {

enum class Action : std::uint8_t {
  kAccept,
  kJunk,      // kept: stored in Junk, or forwarded with the header saying so
  kReject,    // 550 5.7.1, naming the symbols
  kTempfail,  // 451 4.7.1: the sender tries again later
};

std::string_view action_name(Action action) noexcept;

struct Finding {
  // A fixed name in capitals, digits and "_" ("DNSBL_CLIENT", "PHISH_HOMOGRAPH"), at most
  // kMaxSymbol octets; anything else is replaced by "INVALID_SYMBOL".
  std::string symbol;
  double score = 0;  // negative for a sign of legitimate mail
  std::string reason;
  // Set for a finding that decides alone: kReject (a virus, a forbidden attachment) or
  // kTempfail (a scanner that must answer did not).
  std::optional<Action> decides;
};

inline constexpr std::size_t kMaxSymbol = core::kMaxFilterSymbol;
// Findings one verdict keeps: what a message can trigger is bounded by the checks, but the
// header and the reply must stay short whatever they report.
inline constexpr std::size_t kMaxFindings = 64;

struct Policy {
  // rspamd's defaults: "add header" at 6, "reject" at 15.
  double junk_at = 6.0;
  double reject_at = 15.0;
  // What a score of reject_at or more gets: kReject, or kJunk for a domain that keeps its spam.
  // Findings that decide alone are not affected.
  Action at_reject_score = Action::kReject;
  // A symbol's score as the operator sets it ([filter.scores]), in place of the check's own.
  std::map<std::string, double, std::less<>> scores;
};

struct Verdict {
  Action action = Action::kAccept;
  double score = 0;
  double required = 0;  // the score at which mail is junk (the policy's junk_at)
  // What counted, highest score first (ties by symbol); each symbol once, its scores added.
  std::vector<Finding> findings;
};

Verdict decide(std::vector<Finding> findings, const Policy& policy);

// The policy the [filter] settings describe.
Policy policy_from(const core::Filter& settings);

// The value of the X-Spam-Status header, SpamAssassin's form so that mail clients' filters
// recognise it: "Yes, score=17.5 required=6.0 action=reject tests=PHISH_HOMOGRAPH=12.5,
// DNSBL_CLIENT=5.0" ("No, ..." below the junk threshold). Symbols and scores only.
std::string status_header(const Verdict& verdict);
// The whole field, "X-Spam-Status: ...\r\n", folded after commas and at spaces so that no line
// passes 78 octets (RFC 5322 section 2.1.1), whatever the findings.
std::string status_field(const Verdict& verdict);

// The message without the X-Spam-* fields of its header (X-Spam-Status, X-Spam-Flag,
// X-Spam-Level...), as SpamAssassin clears them before adding its own: a sender's forged
// "X-Spam-Status: No" must not stand beside ours for a client or a Sieve rule to read. nullopt
// when there is none (or the header cannot be split): the message stays as it is.
std::optional<std::string> without_spam_fields(std::string_view message);

// The SMTP reply to the sending server for a refused or deferred message.
struct Reply {
  int code = 0;
  std::string_view enhanced;
  std::string text;
};
// nullopt when the message is accepted (kAccept, kJunk).
std::optional<Reply> smtp_reply(const Verdict& verdict);

// The symbols, comma-separated: what the message's log line says of the verdict.
std::string symbol_list(const Verdict& verdict);

}  // namespace sealpost::filter

#include "queue/bounce.hpp"

#include <array>
#include <initializer_list>

#include "core/strings.hpp"

// Precedence, first match wins. Specific wording beats a generic enhanced code (a 550 5.7.1 says
// little; "blocked using zen.spamhaus.org" says a lot), but the precise recipient codes (x.1.1
// etc.) beat wording, since their texts mention all sorts of things ("not listed in Domino
// Directory"). Sender problems are read before recipient wording because both say "address
// rejected". The same order is in classify() below, one step per block.
//
//   greylisting words                                    policy  (always defers)
//   x.1.0 x.1.1 x.1.2 x.1.3 x.1.6 x.1.10                 recipient_unknown
//   virus / malware words                                virus
//   rate limits, too many connections, sending quota     capacity (always defers)
//   x.2.2, mailbox full / over quota words               mailbox_full (always defers)
//   x.3.4, x.2.3, size wording                           message_too_large
//   x.7.10, x.7.11, TLS / certificate / MTA-STS / DANE   tls
//   block lists, IP reputation                           blocked
//   SPF / DKIM / DMARC / reverse DNS wording             policy
//   spam wording, x.7.1 with "content"                   spam
//   "blocked"                                            blocked
//   x.1.7, x.1.8, sender wording                         policy
//   unknown user / mailbox unavailable wording           recipient_unknown
//   other x.7.x, relay refused                           policy
//   x.4.5, x.3.1, x.3.2                                  capacity
//   other x.4.x, connection / DNS wording                network
//   x.5.x, 500-504, 555, syntax wording                  protocol
//   421, 452 without anything else                       capacity
//   anything else                                        other
//
// The action follows the code's class, except: mailbox_full, capacity and greylisting always
// defer (they clear up by themselves: RFC 3463 calls X.2.2 "persistent transient" even on a 5xx),
// and a 5xx that says "try again later" / "temporarily" (and not "permanent") defers. A 5.4.x
// still rejects: our resolver and others say 5.4.4 for a domain that does not exist and 5.4.6
// for a mail loop, neither of which a retry cures.

namespace sealpost::queue {
namespace {

using Words = std::initializer_list<std::string_view>;

// RFC 3463 class.subject.detail; subject and detail -1 when absent.
struct Enhanced {
  int klass = 0;
  int subject = -1;
  int detail = -1;

  [[nodiscard]] bool is(int s, int d) const noexcept { return subject == s && detail == d; }
};

// Reads "c.s.d" at the front of `s` (c in 2/4/5, s and d 1-3 digits) followed by the end, a space
// or punctuation that does not continue a number (an IP address "4.2.2.1" is not a code).
Enhanced parse_enhanced(std::string_view s) noexcept {
  Enhanced e;
  if (s.size() < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return e;
  std::size_t i = 2;
  int numbers[2] = {0, 0};
  for (int part = 0; part < 2; ++part) {
    const std::size_t start = i;
    while (i < s.size() && is_ascii_digit(s[i]) && i - start < 3) {
      numbers[part] = numbers[part] * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return e;
    if (part == 0) {
      if (i >= s.size() || s[i] != '.') return e;
      ++i;
    }
  }
  if (i < s.size()) {
    const char next = s[i];
    if (is_ascii_digit(next) || is_ascii_alpha(next)) return e;
    if (next == '.' && i + 1 < s.size() && is_ascii_digit(s[i + 1])) return e;
  }
  e.klass = s[0] - '0';
  e.subject = numbers[0];
  e.detail = numbers[1];
  return e;
}

// The reply text, lowercased into a fixed buffer: bounded work, no allocation.
class LowerText {
 public:
  explicit LowerText(std::string_view text) noexcept
      : size_(text.size() < buf_.size() ? text.size() : buf_.size()) {
    for (std::size_t i = 0; i < size_; ++i) buf_[i] = ascii_lower(text[i]);
  }

  [[nodiscard]] std::string_view view() const noexcept { return {buf_.data(), size_}; }

  [[nodiscard]] bool has(std::string_view needle) const noexcept {
    return view().find(needle) != std::string_view::npos;
  }

  [[nodiscard]] bool any(Words needles) const noexcept {
    for (const auto n : needles) {
      if (has(n)) return true;
    }
    return false;
  }

  // `word` not inside a longer word: short tokens like "tls", "rbl" or "spf" are otherwise found
  // in unrelated words.
  [[nodiscard]] bool has_word(std::string_view word) const noexcept {
    const std::string_view v = view();
    for (auto at = v.find(word); at != std::string_view::npos; at = v.find(word, at + 1)) {
      const std::size_t end = at + word.size();
      const bool starts = at == 0 || !is_word_char(v[at - 1]);
      const bool ends = end == v.size() || !is_word_char(v[end]);
      if (starts && ends) return true;
    }
    return false;
  }

  [[nodiscard]] bool any_word(Words words) const noexcept {
    for (const auto w : words) {
      if (has_word(w)) return true;
    }
    return false;
  }

 private:
  static bool is_word_char(char c) noexcept { return is_ascii_alpha(c) || is_ascii_digit(c); }

  std::array<char, kMaxClassifiedText> buf_{};
  std::size_t size_;
};

bool greylisted(const LowerText& t) noexcept {
  return t.any({"greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list"});
}

bool says_transient(const LowerText& t) noexcept {
  if (t.has("permanent")) return false;
  return greylisted(t) || t.any({"try again later", "try later", "try again in", "retry later",
                                 "please retry", "temporarily", "temporary"});
}

BounceCategory categorize(int code, const Enhanced& e, const LowerText& t) noexcept {
  if (greylisted(t)) return BounceCategory::kPolicy;

  if (e.subject == 1 && (e.detail == 0 || e.detail == 1 || e.detail == 2 || e.detail == 3 ||
                         e.detail == 6 || e.detail == 10)) {
    return BounceCategory::kRecipientUnknown;
  }

  // Gmail: "its content presents a potential security issue" (executable attachments).
  if (t.any({"virus", "malware", "infected", "trojan", "ransomware", "security issue"})) {
    return BounceCategory::kVirus;
  }

  // Before the mailbox words: "daily sending quota exceeded" is about us, not the mailbox.
  if (t.any({"too many connections", "too many concurrent", "too many simultaneous", "rate limit",
             "rate-limit", "ratelimit", "throttl", "sending quota", "sending limit",
             "too many messages", "too many recipients", "unexpected volume", "system resources",
             "server busy", "server is busy"}) ||
      t.has_word("busy")) {
    return BounceCategory::kCapacity;
  }

  // "storage allocation": RFC 5321's own text for 552. "quotaexceeded": Exchange's exception name.
  if (e.is(2, 2) ||
      t.any({"mailbox full", "mailbox is full", "mailbox has exceeded", "mailbox size limit",
             "inbox is full", "full mailbox", "over quota", "overquota", "quota exceeded",
             "quotaexceeded", "exceeded quota", "exceeds quota", "exceeded the quota",
             "insufficient storage", "insufficient system storage", "out of storage",
             "storage space", "storage allocation"})) {
    return BounceCategory::kMailboxFull;
  }

  if (e.is(3, 4) || e.is(2, 3) ||
      (code == 552 && (t.any({"size", "too large", "too big", "exceeds"}))) ||
      t.any(
          {"too large", "too big", "message size", "size limit", "maximum size", "size exceeds"})) {
    return BounceCategory::kMessageTooLarge;
  }

  if (e.is(7, 10) || e.is(7, 11) ||
      t.any({"starttls", "certificate", "mta-sts", "tlsa", "handshake", "encryption"}) ||
      t.any_word({"tls", "ssl", "dane"})) {
    return BounceCategory::kTls;
  }

  // "complaints": Yahoo's deferral for IP reputation. "listed", but not Domino's "not listed in
  // Domino Directory" (an unknown user).
  if (t.any({"blocklist", "blacklist", "block list", "black list", "denylist", "deny list",
             "spamhaus", "spamcop", "barracuda", "sorbs", "dnsbl", "reputation", "your ip",
             "this ip", "banned", "complaints"}) ||
      t.has_word("rbl") || (t.has("listed") && !t.has("not listed"))) {
    return BounceCategory::kBlocked;
  }

  if (t.any({"dmarc", "unauthenticated", "authentication", "not authenticated", "sender policy",
             "ptr record", "reverse dns", "rdns", "reverse lookup", "find your hostname",
             "find your host name"}) ||
      t.any_word({"spf", "dkim"})) {
    return BounceCategory::kPolicy;
  }

  if (t.any({"spam", "unsolicited", "phishing"}) || (e.is(7, 1) && t.has("content"))) {
    return BounceCategory::kSpam;
  }

  if (t.has("blocked")) return BounceCategory::kBlocked;

  if ((e.subject == 1 && (e.detail == 7 || e.detail == 8)) ||
      t.any({"sender address rejected", "sender rejected", "sender verify", "sender domain",
             "domain of sender", "sender address is", "sender not"})) {
    return BounceCategory::kPolicy;
  }

  if (t.any({"user unknown",       "unknown user",        "no such user",      "no such mailbox",
             "no such recipient",  "no such address",     "mailbox not found", "does not exist",
             "doesn't exist",      "recipient not found", "user not found",    "unknown recipient",
             "recipient unknown",  "invalid recipient",   "invalid mailbox",   "unknown address",
             "address unknown",    "recipnotfound",       "recipientnotfound", "user doesn't have",
             "user does not have", "no mailbox"})) {
    return BounceCategory::kRecipientUnknown;
  }
  // Generic words that a policy rejection (x.7.x) also uses: "Recipient address rejected:
  // Access denied" is Postfix's access map, but on a 5.4.1 it is Exchange Online's "no such
  // recipient in the directory".
  if (e.subject != 7 && t.any({"mailbox unavailable", "recipient rejected", "address rejected",
                               "unrouteable address", "unroutable address"})) {
    return BounceCategory::kRecipientUnknown;
  }

  if (e.subject == 7 ||
      t.any({"relay access denied", "relaying denied", "relay not permitted", "unable to relay",
             "relaying not allowed", "not permitted to relay"})) {
    return BounceCategory::kPolicy;
  }

  if (e.is(4, 5) || e.is(3, 1) || e.is(3, 2)) return BounceCategory::kCapacity;

  if (e.subject == 4 ||
      t.any({"connection refused", "connection timed out", "timed out", "timeout",
             "connection reset", "connection dropped", "connection lost", "connection closed",
             "lost connection", "no route to host", "network is unreachable", "host unreachable",
             "host not found", "nxdomain", "servfail", "name resolution", "no mx", "mx lookup"}) ||
      t.has_word("dns")) {
    return BounceCategory::kNetwork;
  }

  if (e.subject == 5 || (code >= 500 && code <= 504) || code == 555 ||
      t.any({"syntax error", "bad sequence", "command not recognized", "unrecognized command",
             "command unrecognized", "not implemented"})) {
    return BounceCategory::kProtocol;
  }

  if (code == 421 || code == 452) return BounceCategory::kCapacity;
  return BounceCategory::kOther;
}

}  // namespace

std::string_view to_string(BounceCategory c) noexcept {
  switch (c) {
    case BounceCategory::kRecipientUnknown:
      return "recipient_unknown";
    case BounceCategory::kMailboxFull:
      return "mailbox_full";
    case BounceCategory::kBlocked:
      return "blocked";
    case BounceCategory::kSpam:
      return "spam";
    case BounceCategory::kVirus:
      return "virus";
    case BounceCategory::kPolicy:
      return "policy";
    case BounceCategory::kMessageTooLarge:
      return "message_too_large";
    case BounceCategory::kProtocol:
      return "protocol";
    case BounceCategory::kNetwork:
      return "network";
    case BounceCategory::kTls:
      return "tls";
    case BounceCategory::kCapacity:
      return "capacity";
    case BounceCategory::kOther:
      return "other";
  }
  return "other";
}

BounceVerdict classify(int code, std::string_view enhanced, std::string_view text) noexcept {
  if (code < 400 || code > 599) return {BounceAction::kDefer, BounceCategory::kOther};

  const LowerText lower(text);
  // Only a leading code counts when the caller found none: deeper in the text, a code is often a
  // quote of some other server's answer (Exim's "Sender verify failed ... Response: 550 5.1.1").
  const Enhanced e = parse_enhanced(enhanced.empty() ? trim(text) : trim(enhanced));
  const BounceCategory category = categorize(code, e, lower);

  const bool always_defers = category == BounceCategory::kMailboxFull ||
                             category == BounceCategory::kCapacity || greylisted(lower);
  if (code < 500 || always_defers || says_transient(lower)) {
    return {BounceAction::kDefer, category};
  }
  return {BounceAction::kReject, category};
}

}  // namespace sealpost::queue

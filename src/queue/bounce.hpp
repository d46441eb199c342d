// Turns a failed delivery attempt's SMTP reply into a decision: retry later or give up, and a
// reason worth counting. The reply code alone is a poor guide: big providers answer "552 5.2.2
// mailbox full" to mean "try again once they delete mail", greylisting sometimes comes with a
// 5xx, and 550 covers everything from "no such user" to "your IP is on Spamhaus". So the enhanced
// code (RFC 3463) and the reply's words are read too, in a fixed order of precedence documented
// in bounce.cpp. The text is hostile input: only its first kMaxClassifiedText bytes are looked
// at, without allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace sealpost::queue {

inline constexpr std::size_t kMaxClassifiedText = 1024;

enum class BounceCategory {
  kRecipientUnknown,
  kMailboxFull,
  kBlocked,
  kSpam,
  kVirus,
  kPolicy,
  kMessageTooLarge,
  kProtocol,
  kNetwork,
  kTls,
  kCapacity,
  kOther
};

// "recipient_unknown", "mailbox_full", "blocked", "spam", "virus", "policy", "message_too_large",
// "protocol", "network", "tls", "capacity", "other" (used as metric labels)
std::string_view to_string(BounceCategory c) noexcept;

enum class BounceAction { kDefer, kReject };

struct BounceVerdict {
  BounceAction action;
  BounceCategory category;
};

// Decides from a remote (or locally made) SMTP reply to a recipient/message whether to retry
// later or give up, and why. code: 3-digit reply code; enhanced: RFC 3463 "x.y.z" or empty;
// text: the reply's text (all lines joined by spaces, may contain the enhanced code again).
//
// 4xx defers and 5xx rejects, except that a full mailbox, rate limiting, greylisting and words
// like "try again later" always defer. A code outside 400-599 (0 for "no reply") defers as kOther:
// giving up on a message needs a clear permanent answer. When `enhanced` is empty, the first
// enhanced code in `text` is used.
BounceVerdict classify(int code, std::string_view enhanced, std::string_view text) noexcept;

}  // namespace sealpost::queue

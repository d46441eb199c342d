#include "queue/bounce.hpp"

#include <string>

#include <gtest/gtest.h>

namespace sealpost::queue {
namespace {

constexpr auto kDefer = BounceAction::kDefer;
constexpr auto kReject = BounceAction::kReject;
using C = BounceCategory;

struct Case {
  int code;
  std::string_view enhanced;
  std::string_view text;  // as ServerReply::text() gives it: lines joined, enhanced codes kept
  BounceAction action;
  BounceCategory category;
};

// Replies as the big providers and the common MTAs send them (multi-line ones joined).
const Case kRealReplies[] = {
    // Gmail
    {550, "5.1.1",
     "5.1.1 The email account that you tried to reach does not exist. Please try 5.1.1 "
     "double-checking the recipient's email address for typos or 5.1.1 unnecessary spaces. "
     "Learn more at 5.1.1 https://support.google.com/mail/?p=NoSuchUser "
     "a1si123456qkb.12 - gsmtp",
     kReject, C::kRecipientUnknown},
    {552, "5.2.2",
     "5.2.2 The recipient's inbox is out of storage space. Please direct the 5.2.2 recipient to "
     "5.2.2 https://support.google.com/mail/?p=OverQuotaPerm a1si123456qkb.12 - gsmtp",
     kDefer, C::kMailboxFull},
    {452, "4.2.2",
     "4.2.2 The email account that you tried to reach is over quota. Please direct 4.2.2 the "
     "recipient to 4.2.2 https://support.google.com/mail/?p=OverQuotaTemp - gsmtp",
     kDefer, C::kMailboxFull},
    {550, "5.2.1",
     "5.2.1 The email account that you tried to reach is disabled. Learn more at 5.2.1 "
     "https://support.google.com/mail/?p=DisabledUser - gsmtp",
     kReject, C::kOther},
    {421, "4.7.0",
     "4.7.0 [192.0.2.1 15] Our system has detected an unusual rate of 4.7.0 unsolicited mail "
     "originating from your IP address. To protect our 4.7.0 users from spam, mail sent from "
     "your IP address has been temporarily 4.7.0 blocked. - gsmtp",
     kDefer, C::kBlocked},
    {421, "4.7.28",
     "4.7.28 [192.0.2.1 15] Our system has detected an unusual rate of 4.7.28 unsolicited mail "
     "originating from your IP address. To protect our 4.7.28 users from spam, mail sent from "
     "your IP address has been temporarily 4.7.28 rate limited. - gsmtp",
     kDefer, C::kCapacity},
    {550, "5.7.1",
     "5.7.1 [192.0.2.1] Our system has detected that this message is 5.7.1 likely unsolicited "
     "mail. To reduce the amount of spam sent to Gmail, 5.7.1 this message has been blocked. - "
     "gsmtp",
     kReject, C::kSpam},
    {550, "5.7.26",
     "5.7.26 Unauthenticated email from example.com is not accepted due to 5.7.26 domain's DMARC "
     "policy. Please contact the administrator of example.com 5.7.26 domain if this was a "
     "legitimate mail. - gsmtp",
     kReject, C::kPolicy},
    {550, "5.7.26",
     "5.7.26 Your email has been blocked because the sender is unauthenticated. 5.7.26 Gmail "
     "requires all senders to authenticate with either SPF or DKIM. - gsmtp",
     kReject, C::kPolicy},
    {550, "5.7.25",
     "5.7.25 [192.0.2.1] The IP address sending this message does not have a 5.7.25 PTR record "
     "setup, or the corresponding forward DNS entry does not 5.7.25 point to the sending IP. - "
     "gsmtp",
     kReject, C::kPolicy},
    {552, "5.7.0",
     "5.7.0 This message was blocked because its content presents a potential 5.7.0 security "
     "issue. - gsmtp",
     kReject, C::kVirus},
    {552, "5.3.4", "5.3.4 Your message exceeded Google's message size limits. - gsmtp", kReject,
     C::kMessageTooLarge},
    {530, "5.7.0", "5.7.0 Must issue a STARTTLS command first. - gsmtp", kReject, C::kTls},
    {421, "4.7.0", "4.7.0 Try again later, closing connection. (EHLO) - gsmtp", kDefer, C::kPolicy},
    {550, "5.4.5", "5.4.5 Daily user sending limit exceeded. - gsmtp", kDefer, C::kCapacity},
    // Outlook / Exchange Online
    {550, "5.7.1",
     "5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus. To request "
     "removal from this list see https://www.spamhaus.org/query/ip/192.0.2.1 (AS3130)",
     kReject, C::kBlocked},
    {550, "5.7.1",
     "5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet "
     "service provider since part of their network is on our block list (S3150).",
     kReject, C::kBlocked},
    {550, "5.7.606", "5.7.606 Access denied, banned sending IP [192.0.2.1].", kReject, C::kBlocked},
    {550, "5.7.708",
     "5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", kReject,
     C::kBlocked},
    {550, "5.1.10",
     "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@example.com not found by SMTP "
     "address lookup",
     kReject, C::kRecipientUnknown},
    {550, "5.4.1",
     "5.4.1 Recipient address rejected: Access denied. AS(201806281) "
     "[AM0PR01MB1234.eurprd01.prod.exchangelabs.com]",
     kReject, C::kRecipientUnknown},
    {554, "5.2.2",
     "5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException."
     "MapiExceptionShutoffQuotaExceeded",
     kDefer, C::kMailboxFull},
    {451, "4.7.500", "4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77719)",
     kDefer, C::kCapacity},
    {451, "4.7.650",
     "4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP "
     "reputation.",
     kDefer, C::kCapacity},
    {550, "5.7.509",
     "5.7.509 Access denied, sending domain example.com does not pass DMARC verification and "
     "has a DMARC policy of reject.",
     kReject, C::kPolicy},
    {554, "5.4.14", "5.4.14 Hop count exceeded - possible mail loop ATTR34", kReject, C::kNetwork},
    {421, "4.3.2", "4.3.2 Service not available, closing transmission channel", kDefer,
     C::kCapacity},
    {452, "4.5.3", "4.5.3 Too many recipients", kDefer, C::kCapacity},
    {450, "4.4.317",
     "4.4.317 Cannot connect to remote server [Message=SubjectMismatch certificate "
     "validation failed]",
     kDefer, C::kTls},
    {554, "5.4.4", "5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain", kReject,
     C::kNetwork},
    // Yahoo / AOL
    {554, "",
     "delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - "
     "mta1010.mail.gq1.yahoo.com",
     kReject, C::kRecipientUnknown},
    {553, "5.7.1",
     "5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in "
     "Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
     kReject, C::kBlocked},
    {421, "4.7.0",
     "4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or "
     "user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
     kDefer, C::kCapacity},
    {553, "5.7.2",
     "5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT "
     "succeed. See https://postmaster.yahooinc.com/error-codes",
     kReject, C::kPolicy},
    {554, "5.7.9",
     "5.7.9 Message not accepted for policy reasons. See "
     "https://postmaster.yahooinc.com/error-codes",
     kReject, C::kPolicy},
    {554, "",
     "30 Sorry, your message to nobody@aol.com cannot be delivered. This mailbox is disabled "
     "(554.30).",
     kReject, C::kOther},
    // Postfix
    {550, "5.1.1",
     "5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox "
     "table",
     kReject, C::kRecipientUnknown},
    {450, "4.1.1",
     "4.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient "
     "table",
     kDefer, C::kRecipientUnknown},
    {554, "5.7.1",
     "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/192.0.2.1",
     kReject, C::kBlocked},
    {450, "4.7.1", "4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", kDefer,
     C::kPolicy},
    {554, "5.7.1", "5.7.1 <someone@example.net>: Relay access denied", kReject, C::kPolicy},
    {550, "5.7.1", "5.7.1 <someone@example.org>: Recipient address rejected: Access denied",
     kReject, C::kPolicy},
    {552, "5.3.4", "5.3.4 Message size exceeds fixed limit", kReject, C::kMessageTooLarge},
    {452, "4.3.1", "4.3.1 Insufficient system storage", kDefer, C::kMailboxFull},
    {450, "4.2.0",
     "4.2.0 <someone@example.org>: Recipient address rejected: Greylisted, see "
     "http://postgrey.schweikert.ch/help/example.org.html",
     kDefer, C::kPolicy},
    {451, "4.7.1", "4.7.1 Greylisted, please try again in 300 seconds", kDefer, C::kPolicy},
    {550, "5.7.1", "5.7.1 Greylisted for 5 minutes", kDefer, C::kPolicy},
    {421, "4.7.0", "4.7.0 mx.example.org Error: too many connections from 192.0.2.1", kDefer,
     C::kCapacity},
    {450, "4.1.8", "4.1.8 <a@example.com>: Sender address rejected: Domain not found", kDefer,
     C::kPolicy},
    {503, "5.5.1", "5.5.1 Error: need RCPT command", kReject, C::kProtocol},
    {554, "5.7.1", "5.7.1 Message rejected as spam", kReject, C::kSpam},
    {554, "5.7.1", "5.7.1 Virus found: Eicar-Test-Signature", kReject, C::kVirus},
    {550, "5.7.1", "5.7.1 Message content rejected", kReject, C::kSpam},
    // Exim
    {550, "", "Unrouteable address", kReject, C::kRecipientUnknown},
    {550, "",
     "Verification failed for <a@example.com> Called: 192.0.2.9 Sent: RCPT TO:<a@example.com> "
     "Response: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown Sender "
     "verify failed",
     kReject, C::kPolicy},
    {550, "", "Rejected because 192.0.2.1 is in a black list at zen.spamhaus.org", kReject,
     C::kBlocked},
    {421, "", "Too many concurrent SMTP connections; please try again later.", kDefer,
     C::kCapacity},
    {552, "", "Message size exceeds maximum permitted", kReject, C::kMessageTooLarge},
    {451, "", "Temporary local problem - please try later", kDefer, C::kOther},
    {550, "", "Administrative prohibition", kReject, C::kOther},
    // Sendmail
    {550, "5.1.1", "5.1.1 <nobody@example.org>... User unknown", kReject, C::kRecipientUnknown},
    {553, "5.1.8",
     "5.1.8 <a@example.invalid>... Domain of sender address a@example.invalid "
     "does not exist",
     kReject, C::kPolicy},
    {451, "4.4.1", "4.4.1 reply: read error from mx.example.org.", kDefer, C::kNetwork},
    {552, "5.2.3", "5.2.3 Message size exceeds maximum value", kReject, C::kMessageTooLarge},
    // RFC 5321's own texts, no enhanced code
    {550, "", "Requested action not taken: mailbox unavailable", kReject, C::kRecipientUnknown},
    {552, "", "Requested mail action aborted: exceeded storage allocation", kDefer,
     C::kMailboxFull},
    {500, "", "Syntax error, command unrecognized", kReject, C::kProtocol},
    {554, "", "Transaction failed", kReject, C::kOther},
    // Made by our own client when no usable reply came
    {421, "4.4.1", "4.4.1 Connection refused by mx.example.org", kDefer, C::kNetwork},
    {421, "4.4.2", "4.4.2 Connection timed out", kDefer, C::kNetwork},
    {451, "4.4.3", "4.4.3 DNS lookup failed: SERVFAIL", kDefer, C::kNetwork},
    {450, "4.7.5", "4.7.5 TLS handshake failed: certificate verify failed", kDefer, C::kTls},
    {451, "4.7.5", "4.7.5 MTA-STS policy of example.org requires TLS", kDefer, C::kTls},
    {451, "", "DANE: no TLSA record matched", kDefer, C::kTls},
};

TEST(BounceTest, ClassifiesRealWorldReplies) {
  static_assert(std::size(kRealReplies) >= 40);
  for (const Case& c : kRealReplies) {
    SCOPED_TRACE(std::to_string(c.code) + " " + std::string(c.text));
    const BounceVerdict v = classify(c.code, c.enhanced, c.text);
    EXPECT_EQ(v.action, c.action);
    EXPECT_EQ(to_string(v.category), to_string(c.category));
  }
}

TEST(BounceTest, InvalidCodesDeferAsOther) {
  for (const int code : {0, -1, 1, 99, 250, 354, 600, 999}) {
    SCOPED_TRACE(code);
    const BounceVerdict v = classify(code, "5.1.1", "5.1.1 User unknown");
    EXPECT_EQ(v.action, kDefer);
    EXPECT_EQ(v.category, C::kOther);
  }
  const BounceVerdict garbage = classify(0, "", "\x01\xff garbage");
  EXPECT_EQ(garbage.action, kDefer);
  EXPECT_EQ(garbage.category, C::kOther);
}

TEST(BounceTest, CodeClassDecidesWithoutWords) {
  EXPECT_EQ(classify(450, "", "").action, kDefer);
  EXPECT_EQ(classify(550, "", "").action, kReject);
  EXPECT_EQ(classify(554, "", "").category, C::kOther);
  EXPECT_EQ(classify(421, "", "").category, C::kCapacity);
  EXPECT_EQ(classify(501, "", "").category, C::kProtocol);
  EXPECT_EQ(classify(555, "", "").category, C::kProtocol);
}

TEST(BounceTest, MailboxFullDefersEvenOnAPermanentCode) {
  EXPECT_EQ(classify(552, "5.2.2", "").action, kDefer);
  EXPECT_EQ(classify(550, "", "Mailbox is full").action, kDefer);
  EXPECT_EQ(classify(554, "", "user is over quota").category, C::kMailboxFull);
}

TEST(BounceTest, TransientWordsDeferAPermanentCodeUnlessItSaysPermanent) {
  EXPECT_EQ(classify(554, "", "Service temporarily unavailable").action, kDefer);
  EXPECT_EQ(classify(550, "", "Please retry in a few minutes").action, kDefer);
  EXPECT_EQ(classify(550, "", "Temporarily and permanently confused").action, kReject);
}

TEST(BounceTest, EnhancedCodeMayComeFromTheText) {
  EXPECT_EQ(classify(550, "", "5.1.1 whatever").category, C::kRecipientUnknown);
  EXPECT_EQ(classify(552, "", "5.2.2 over").action, kDefer);
  // Not at the front: a quote of another server's answer, or an IP address.
  EXPECT_EQ(classify(550, "", "see 5.1.1 later").category, C::kOther);
  EXPECT_EQ(classify(550, "", "5.1.1.5 is an address").category, C::kOther);
}

TEST(BounceTest, MatchesCaseInsensitivelyAndOnlyWholeShortWords) {
  EXPECT_EQ(classify(550, "", "USER UNKNOWN").category, C::kRecipientUnknown);
  EXPECT_EQ(classify(550, "", "Blocked using ZEN.SPAMHAUS.ORG").category, C::kBlocked);
  EXPECT_EQ(classify(550, "", "bottlsx closed").category, C::kOther);  // "tls" inside a word
  EXPECT_EQ(classify(550, "", "listed on our RBL").category, C::kBlocked);
  EXPECT_EQ(classify(550, "", "carbless").category, C::kOther);
}

TEST(BounceTest, LooksAtTheFirstKilobyteOnly) {
  std::string text(kMaxClassifiedText, 'x');
  text += " user unknown";
  EXPECT_EQ(classify(550, "", text).category, C::kOther);
  std::string huge(1 << 20, 'a');
  EXPECT_EQ(classify(550, "", huge).category, C::kOther);
}

TEST(BounceTest, CategoryNamesAreMetricLabels) {
  EXPECT_EQ(to_string(C::kRecipientUnknown), "recipient_unknown");
  EXPECT_EQ(to_string(C::kMailboxFull), "mailbox_full");
  EXPECT_EQ(to_string(C::kBlocked), "blocked");
  EXPECT_EQ(to_string(C::kSpam), "spam");
  EXPECT_EQ(to_string(C::kVirus), "virus");
  EXPECT_EQ(to_string(C::kPolicy), "policy");
  EXPECT_EQ(to_string(C::kMessageTooLarge), "message_too_large");
  EXPECT_EQ(to_string(C::kProtocol), "protocol");
  EXPECT_EQ(to_string(C::kNetwork), "network");
  EXPECT_EQ(to_string(C::kTls), "tls");
  EXPECT_EQ(to_string(C::kCapacity), "capacity");
  EXPECT_EQ(to_string(C::kOther), "other");
}

}  // namespace
}  // namespace sealpost::queue

#include "filter/clamd_reply.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sealpost::filter {
namespace {

using Status = ClamdResult::Status;

TEST(ClamdReplyTest, ReadsACleanStream) {
  EXPECT_EQ(parse_clamd_reply("stream: OK").status, Status::kClean);
  EXPECT_EQ(parse_clamd_reply("stream: OK\n").status, Status::kClean);  // the "n" form's ending
  EXPECT_EQ(describe(parse_clamd_reply("stream: OK")), "clean");
}

TEST(ClamdReplyTest, NamesTheSignatureOfAVirus) {
  const auto r = parse_clamd_reply("stream: Win.Test.EICAR_HDB-1 FOUND");
  EXPECT_EQ(r.status, Status::kVirus);
  EXPECT_EQ(r.signature, "Win.Test.EICAR_HDB-1");
  EXPECT_EQ(describe(r), "virus Win.Test.EICAR_HDB-1");
  // ExtendedDetectionInfo's "(md5:size)" is not part of the name.
  EXPECT_EQ(parse_clamd_reply("stream: Eicar-Signature(44d88612fea8a8f36de82e1278abb02f:68) FOUND")
                .signature,
            "Eicar-Signature");
  EXPECT_EQ(parse_clamd_reply("stream: Sealpost.Test.Eicar.UNOFFICIAL FOUND").signature,
            "Sealpost.Test.Eicar.UNOFFICIAL");
}

TEST(ClamdReplyTest, AVirusWithAnOddNameIsStillAVirus) {
  // The name goes into the reason: printable ASCII, bounded, whatever clamd said.
  const auto odd = parse_clamd_reply("stream: Bad\x01Name\xff\r FOUND");
  EXPECT_EQ(odd.status, Status::kVirus);
  EXPECT_EQ(odd.signature, "Bad?Name??");
  const auto spaced = parse_clamd_reply("stream: Two Words FOUND");
  EXPECT_EQ(spaced.signature, "Two?Words");
  const auto lengthy = parse_clamd_reply("stream: " + std::string(1000, 'A') + " FOUND");
  EXPECT_EQ(lengthy.status, Status::kVirus);
  EXPECT_EQ(lengthy.signature, std::string(kMaxSignature, 'A'));
  EXPECT_EQ(parse_clamd_reply("stream:  FOUND").signature, "unnamed");
}

TEST(ClamdReplyTest, AMessageOverStreamMaxLengthIsNotScanned) {
  const auto r = parse_clamd_reply("INSTREAM size limit exceeded. ERROR");
  EXPECT_EQ(r.status, Status::kUnavailable);
  EXPECT_EQ(r.reason, "the message is larger than clamd's StreamMaxLength");
}

TEST(ClamdReplyTest, ErrorsAreUnavailableWithClamdsWords) {
  const auto r = parse_clamd_reply("stream: Can't allocate memory ERROR");
  EXPECT_EQ(r.status, Status::kUnavailable);
  EXPECT_EQ(r.reason, "clamd: Can't allocate memory");
  EXPECT_EQ(parse_clamd_reply("COMMAND READ TIMED OUT ERROR").reason,
            "clamd: COMMAND READ TIMED OUT");
  EXPECT_EQ(parse_clamd_reply(" ERROR").reason, "clamd: an error");
  const auto lengthy = parse_clamd_reply(std::string(1000, 'e') + " ERROR");
  EXPECT_EQ(lengthy.reason.size(), std::string("clamd: ").size() + kMaxClamdError);
}

TEST(ClamdReplyTest, AnythingElseIsUnexpected) {
  const std::vector<std::string> replies = {"",
                                            "UNKNOWN COMMAND",
                                            "PONG",
                                            "stream: ",
                                            "stream: OKAY",
                                            "stream: OK FOUND?",
                                            "stream: Eicar FOUND!",
                                            "Stream: OK",
                                            std::string("stream: OK\0", 11)};
  for (const auto& reply : replies) {
    const auto r = parse_clamd_reply(reply);
    EXPECT_EQ(r.status, Status::kUnavailable) << reply;
    EXPECT_EQ(r.reason, "an unexpected answer from clamd") << reply;
  }
  EXPECT_EQ(parse_clamd_reply("stream: " + std::string(kMaxClamdReply, 'A') + " FOUND").reason,
            "clamd's answer is too long");
}

TEST(ClamdReplyTest, AVirusIsRefusedAndNamed) {
  const auto findings = clamd_findings(ClamdResult::virus("Win.Test.EICAR_HDB-1"), true);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].symbol, "CLAMAV_VIRUS");
  EXPECT_EQ(findings[0].reason, "ClamAV: Win.Test.EICAR_HDB-1");
  EXPECT_EQ(findings[0].decides, Action::kReject);
  const auto verdict = decide(findings, Policy{});
  EXPECT_EQ(verdict.action, Action::kReject);
  const auto reply = smtp_reply(verdict);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 550);
  // The reply names the symbol, not the signature.
  EXPECT_EQ(reply->text, "Message refused by the content filter: CLAMAV_VIRUS");
  // Accepting unscanned mail does not accept viruses.
  EXPECT_EQ(decide(clamd_findings(ClamdResult::virus("X"), false), Policy{}).action,
            Action::kReject);
}

TEST(ClamdReplyTest, AScanNotDoneDefersOrIsAcceptedAsConfigured) {
  const auto unavailable = ClamdResult::unavailable("clamd did not answer within 30 s");
  const auto deferred = clamd_findings(unavailable, true);
  ASSERT_EQ(deferred.size(), 1U);
  EXPECT_EQ(deferred[0].symbol, "CLAMAV_UNAVAILABLE");
  EXPECT_EQ(deferred[0].decides, Action::kTempfail);
  EXPECT_EQ(deferred[0].reason,
            "ClamAV could not scan the message: clamd did not answer within 30 s");
  const auto verdict = decide(deferred, Policy{});
  EXPECT_EQ(verdict.action, Action::kTempfail);
  ASSERT_TRUE(smtp_reply(verdict));
  EXPECT_EQ(smtp_reply(verdict)->code, 451);

  const auto accepted = clamd_findings(unavailable, false);
  ASSERT_EQ(accepted.size(), 1U);
  EXPECT_EQ(accepted[0].symbol, "CLAMAV_UNAVAILABLE");
  EXPECT_FALSE(accepted[0].decides);
  EXPECT_EQ(accepted[0].score, 0);
  EXPECT_EQ(decide(accepted, Policy{}).action, Action::kAccept);

  EXPECT_TRUE(clamd_findings(ClamdResult::clean(), true).empty());
}

}  // namespace
}  // namespace sealpost::filter

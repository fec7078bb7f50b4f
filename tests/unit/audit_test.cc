#include "broker/core/model/audit.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::testing::HasSubstr;

// A chain of `n` records linked as the store links them.
std::vector<StoredAuditRecord> Chain(int n) {
  std::vector<StoredAuditRecord> chain;
  std::string previous;
  for (int i = 0; i < n; ++i) {
    StoredAuditRecord record;
    record.position = std::to_string(1000 + i) + "-0";
    record.bytes = "record " + std::to_string(i);
    record.previous_hash = previous;
    record.hash = AuditLinkHash(previous, record.bytes);
    previous = record.hash;
    chain.push_back(record);
  }
  return chain;
}

AuditHead HeadOf(const std::vector<StoredAuditRecord>& chain) {
  return {.hash = chain.empty() ? "" : chain.back().hash,
          .count = static_cast<int64_t>(chain.size())};
}

ChainVerifier Verify(const std::vector<StoredAuditRecord>& chain,
                     const AuditHead& head) {
  ChainVerifier verifier;
  for (const StoredAuditRecord& record : chain) {
    if (!verifier.Add(record)) break;
  }
  verifier.Finish(head);
  return verifier;
}

TEST(AuditLinkHashTest, IsTheSha1OfThePreviousHashAndTheBytes) {
  // FIPS 180 test vector: SHA-1("abc").
  EXPECT_EQ(AuditLinkHash("", "abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(AuditLinkHash("a", "bc"), AuditLinkHash("", "abc"));
}

TEST(ChainVerifierTest, AnIntactChainVerifies) {
  const std::vector<StoredAuditRecord> chain = Chain(5);
  const ChainVerifier verifier = Verify(chain, HeadOf(chain));
  EXPECT_TRUE(verifier.intact()) << verifier.problem();
  EXPECT_EQ(verifier.checked(), 5);
}

TEST(ChainVerifierTest, AnEmptyChainWithAnEmptyHeadVerifies) {
  EXPECT_TRUE(Verify({}, {}).intact());
}

TEST(ChainVerifierTest, AnAlteredRecordIsNamed) {
  std::vector<StoredAuditRecord> chain = Chain(5);
  const AuditHead head = HeadOf(chain);
  chain[2].bytes = "record X";
  const ChainVerifier verifier = Verify(chain, head);
  EXPECT_FALSE(verifier.intact());
  EXPECT_EQ(verifier.first_broken(), chain[2].position);
  EXPECT_THAT(verifier.problem(), HasSubstr("altered"));
}

TEST(ChainVerifierTest, ARecordAlteredWithItsHashBreaksTheNextLink) {
  std::vector<StoredAuditRecord> chain = Chain(5);
  const AuditHead head = HeadOf(chain);
  chain[2].bytes = "record X";
  chain[2].hash = AuditLinkHash(chain[2].previous_hash, chain[2].bytes);
  const ChainVerifier verifier = Verify(chain, head);
  EXPECT_FALSE(verifier.intact());
  EXPECT_EQ(verifier.first_broken(), chain[3].position);
}

TEST(ChainVerifierTest, ARemovedRecordIsFoundAtTheNextOne) {
  std::vector<StoredAuditRecord> chain = Chain(5);
  const AuditHead head = HeadOf(chain);
  chain.erase(chain.begin() + 1);
  const ChainVerifier verifier = Verify(chain, head);
  EXPECT_FALSE(verifier.intact());
  EXPECT_EQ(verifier.first_broken(), chain[1].position);
  EXPECT_THAT(verifier.problem(), HasSubstr("removed"));
}

TEST(ChainVerifierTest, RemovingTheFirstRecordIsFound) {
  std::vector<StoredAuditRecord> chain = Chain(3);
  const AuditHead head = HeadOf(chain);
  chain.erase(chain.begin());
  EXPECT_FALSE(Verify(chain, head).intact());
}

TEST(ChainVerifierTest, RemovingTheLastRecordsShowsAtTheHead) {
  std::vector<StoredAuditRecord> chain = Chain(5);
  const AuditHead head = HeadOf(chain);
  chain.pop_back();
  const ChainVerifier verifier = Verify(chain, head);
  EXPECT_FALSE(verifier.intact());
  EXPECT_EQ(verifier.first_broken(), "head");
  EXPECT_EQ(verifier.checked(), 4);
}

TEST(ChainVerifierTest, ARebuiltChainDisagreesWithAnAnchorKeptOutside) {
  const std::vector<StoredAuditRecord> kept = Chain(4);
  // Rebuilt from record 2 on, every link recomputed: verifies by itself.
  std::vector<StoredAuditRecord> rebuilt = kept;
  rebuilt[1].bytes = "forged";
  for (size_t i = 1; i < rebuilt.size(); ++i) {
    rebuilt[i].previous_hash = rebuilt[i - 1].hash;
    rebuilt[i].hash = AuditLinkHash(rebuilt[i].previous_hash, rebuilt[i].bytes);
  }
  EXPECT_TRUE(Verify(rebuilt, HeadOf(rebuilt)).intact());

  ChainVerifier anchored;
  anchored.ExpectAt(3, kept[2].hash);
  for (const StoredAuditRecord& record : rebuilt) {
    if (!anchored.Add(record)) break;
  }
  anchored.Finish(HeadOf(rebuilt));
  EXPECT_FALSE(anchored.intact());
  EXPECT_EQ(anchored.first_broken(), rebuilt[2].position);
  EXPECT_THAT(anchored.problem(), HasSubstr("rewritten"));

  ChainVerifier honest;
  honest.ExpectAt(3, kept[2].hash);
  for (const StoredAuditRecord& record : kept) honest.Add(record);
  EXPECT_TRUE(honest.Finish(HeadOf(kept))) << honest.problem();
}

TEST(ChainVerifierTest, AnAnchorBeyondTheChainMeansRecordsWentMissing) {
  const std::vector<StoredAuditRecord> chain = Chain(2);
  ChainVerifier verifier;
  verifier.ExpectAt(5, "abc");
  for (const StoredAuditRecord& record : chain) verifier.Add(record);
  EXPECT_FALSE(verifier.Finish(HeadOf(chain)));
  EXPECT_EQ(verifier.first_broken(), "head");
}

TEST(AuditOfChangeTest, ASecondReferralsReasonIsInItsCreationRecord) {
  ReferralRecord record;
  record.referral.set_name("regions/13/referrals/r1");
  record.referral.mutable_consent()->set_purpose(
      slussen::v1::CONSENT_PURPOSE_COORDINATED_REHABILITATION);
  record.referral.set_second_referral_reason("Ny grupp efter flytt");
  record.audit_subject = "audit-subject:s1";
  slussen::v1::Event event;
  const slussen::v1::AuditRecord created =
      AuditOfChange(record, event, slussen::v1::AUDIT_OPERATION_CREATE);
  EXPECT_THAT(created.purpose(),
              HasSubstr("; SECOND REFERRAL: Ny grupp efter flytt"));
  // Later changes carry the purpose alone.
  EXPECT_THAT(AuditOfChange(record, event, slussen::v1::AUDIT_OPERATION_UPDATE)
                  .purpose(),
              ::testing::Not(HasSubstr("SECOND REFERRAL")));
}

}  // namespace
}  // namespace slussen::core

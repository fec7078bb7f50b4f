// The AuditRepository contract: records appended in order to their
// region's chain, each linked to the one before (ChainVerifier finds the
// chain intact) with the head beside it; the chain read in pages from any
// position, each record once; a subject's records paged by offset.
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/audit.h"
#include "broker/core/ports/audit_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/privacy_service.pb.h"
#include "tests/contract/repository_contract.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::StoredAuditRecord;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr char kRegion[] = "13";

v1::AuditRecord Read(const std::string& subject, int n) {
  v1::AuditRecord record;
  record.set_subject(subject);
  record.set_operation(v1::AUDIT_OPERATION_READ);
  record.set_resource(absl::StrCat("regions/13/referrals/r", n));
  record.mutable_actor()->set_organisation("kommun-halmstad-eb");
  record.mutable_time()->set_seconds(1'760'000'000 + n);
  return record;
}

// What each stored record says, in order: its resource.
std::vector<std::string> Resources(
    const std::vector<StoredAuditRecord>& records) {
  std::vector<std::string> out;
  for (const StoredAuditRecord& stored : records) {
    v1::AuditRecord record;
    EXPECT_TRUE(record.ParseFromString(stored.bytes)) << stored.position;
    out.push_back(record.resource());
  }
  return out;
}

TEST_P(AuditRepositoryContract, AppendsAreChainedInOrderWithTheHeadBeside) {
  ASSERT_TRUE(audit().Append(kRegion, {Read("a", 1), Read("b", 2)}).ok());
  ASSERT_TRUE(audit().Append(kRegion, {Read("a", 3)}).ok());
  ASSERT_TRUE(audit().Append("12", {Read("a", 4)}).ok());
  ASSERT_TRUE(audit().Append(kRegion, {}).ok());

  const absl::StatusOr<std::vector<StoredAuditRecord>> chain =
      audit().ReadChain(kRegion, "", 100);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_THAT(Resources(*chain),
              ElementsAre("regions/13/referrals/r1", "regions/13/referrals/r2",
                          "regions/13/referrals/r3"));
  core::ChainVerifier verifier;
  for (const StoredAuditRecord& record : *chain) {
    EXPECT_TRUE(verifier.Add(record)) << verifier.problem();
  }
  const absl::StatusOr<core::AuditHead> head = audit().Head(kRegion);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->count, 3);
  EXPECT_EQ(head->hash, chain->back().hash);
  EXPECT_TRUE(verifier.Finish(*head)) << verifier.problem();
  EXPECT_EQ(chain->front().previous_hash, "");

  // Another region's chain is its own; an empty one has an empty head.
  EXPECT_EQ(audit().Head("12")->count, 1);
  const absl::StatusOr<core::AuditHead> none = audit().Head("14");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->count, 0);
  EXPECT_EQ(none->hash, "");
  EXPECT_THAT(*audit().ReadChain("14", "", 10), IsEmpty());
}

TEST_P(AuditRepositoryContract, TheChainIsReadInPagesEachRecordOnce) {
  std::vector<std::string> all;
  for (int n = 0; n < 9; ++n) {
    ASSERT_TRUE(audit().Append(kRegion, {Read("a", n)}).ok());
    all.push_back(absl::StrCat("regions/13/referrals/r", n));
  }
  for (const int limit : {1, 2, 4, 9, 20}) {
    std::vector<StoredAuditRecord> read;
    std::string after;
    for (int call = 0; call < 20; ++call) {
      const absl::StatusOr<std::vector<StoredAuditRecord>> page =
          audit().ReadChain(kRegion, after, limit);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->size(), static_cast<size_t>(limit));
      if (page->empty()) break;
      read.insert(read.end(), page->begin(), page->end());
      after = page->back().position;
    }
    EXPECT_THAT(Resources(read), ElementsAreArray(all)) << "by " << limit;
    std::set<std::string> positions;
    for (const StoredAuditRecord& record : read) {
      positions.insert(record.position);
    }
    EXPECT_EQ(positions.size(), all.size()) << "by " << limit;
  }
}

TEST_P(AuditRepositoryContract, ASubjectsRecordsArePagedByOffset) {
  std::vector<std::string> of_a;
  for (int n = 0; n < 7; ++n) {
    const std::string subject = n % 3 == 1 ? "b" : "a";
    ASSERT_TRUE(audit().Append(kRegion, {Read(subject, n)}).ok());
    if (subject == "a")
      of_a.push_back(absl::StrCat("regions/13/referrals/r", n));
  }
  for (const int limit : {1, 2, 5, 10}) {
    std::vector<StoredAuditRecord> read;
    int64_t offset = 0;
    for (int call = 0; call < 20; ++call) {
      const absl::StatusOr<core::AuditPage> page =
          audit().ListBySubject(kRegion, "a", offset, limit);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->records.size(), static_cast<size_t>(limit));
      read.insert(read.end(), page->records.begin(), page->records.end());
      if (page->next_offset.empty()) break;
      EXPECT_EQ(page->next_offset, absl::StrCat(offset + limit));
      offset += limit;
    }
    EXPECT_THAT(Resources(read), ElementsAreArray(of_a)) << "by " << limit;
  }
  const absl::StatusOr<core::AuditPage> nobody =
      audit().ListBySubject(kRegion, "c", 0, 10);
  ASSERT_TRUE(nobody.ok()) << nobody.status();
  EXPECT_THAT(nobody->records, IsEmpty());
  EXPECT_EQ(nobody->next_offset, "");
}

}  // namespace
}  // namespace slussen::testing

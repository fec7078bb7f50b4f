// Joint referrals (samordnad insats, Referral.joint) end to end, over gRPC,
// on a real Redis: FK Halmstad refers a participant to Hälsosam together
// with AF Halmstad (co-referrer; the consent gives it eligibility and
// outcome) and keeps kommun Halmstad informed (outcome only), funded by
// samordning-halland. Each agency sees the referral as far as the consent
// gives it, lists it and follows its events; Laholm's kommun, no party,
// learns nothing of it; the informed kommun may not cancel, the
// co-referrer may; the coordinator's outcome report shows it once per
// agency.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/error_details.h"
#include "tests/support/event_watcher.h"
#include "tests/support/sample_capacity.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::Contains;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

const Identity kAfHalmstad{kJointCoReferrer, "agency", "13"};
const Identity kKommunHalmstad{kJointInformed, "agency", "13"};

class JointReferralE2eTest : public BrokerTest {
 protected:
  // FK Halmstad's joint referral, as FK sees it.
  v1::Referral CreateJoint() {
    v1::Referral created;
    const grpc::Status status =
        harness_->Client(kFkHalmstad)
            .Create(SampleJointReferral("13"), &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  std::vector<std::string> NamesListedFor(const Identity& who) {
    std::vector<std::string> names;
    const grpc::Status status =
        harness_->Client(who).ListNames("regions/13", &names);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return names;
  }
};

TEST_F(JointReferralE2eTest, EachAgencySeesItAsFarAsTheConsentGivesIt) {
  const v1::Referral created = CreateJoint();
  ASSERT_FALSE(created.name().empty());
  EXPECT_EQ(created.referring_organisation(), kFkHalmstad.organisation);
  EXPECT_EQ(created.joint().funding_organisation(), "samordning-halland");
  ASSERT_EQ(created.joint().parties_size(), 2);
  EXPECT_THAT(created.joint().parties(0).data_categories(),
              UnorderedElementsAre(v1::DATA_CATEGORY_ELIGIBILITY,
                                   v1::DATA_CATEGORY_OUTCOME));
  EXPECT_THAT(created.joint().parties(1).data_categories(),
              ElementsAre(v1::DATA_CATEGORY_OUTCOME));

  // The co-referrer: the participant, not the note to the provider.
  v1::Referral af;
  grpc::Status status = harness_->Client(kAfHalmstad).Get(created.name(), &af);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(af.participant().pseudonym(), "hb-2026-0042");
  EXPECT_TRUE(af.activity().note().empty());
  EXPECT_THAT(af.allowed_actions(), Contains(v1::ACTION_CANCEL));
  EXPECT_THAT(
      af.allowed_actions(),
      Each(::testing::AnyOf(v1::ACTION_CANCEL, v1::ACTION_WITHDRAW_CONSENT)));

  // The informed kommun: neither, and no action.
  v1::Referral kommun;
  status = harness_->Client(kKommunHalmstad).Get(created.name(), &kommun);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(kommun.has_participant());
  EXPECT_TRUE(kommun.activity().note().empty());
  EXPECT_THAT(kommun.allowed_actions(), IsEmpty());

  // Each party lists it among its own; an agency that is no party neither
  // gets nor lists it.
  EXPECT_THAT(NamesListedFor(kAfHalmstad), Contains(created.name()));
  EXPECT_THAT(NamesListedFor(kKommunHalmstad), Contains(created.name()));
  EXPECT_THAT(NamesListedFor(kFkHalmstad), Contains(created.name()));
  EXPECT_THAT(NamesListedFor(kLaholmKommun), Not(Contains(created.name())));
  v1::Referral outsider;
  status = harness_->Client(kLaholmKommun).Get(created.name(), &outsider);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
}

TEST_F(JointReferralE2eTest, EachAgencyActsWithinItsPart) {
  const v1::Referral created = CreateJoint();
  ASSERT_FALSE(created.name().empty());

  v1::Referral refused;
  grpc::Status status =
      harness_->Client(kKommunHalmstad)
          .Cancel(created.name(), v1::CANCEL_REASON_NO_LONGER_NEEDED, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("kept informed"));
  EXPECT_THAT(status.error_message(), HasSubstr("fk-lfc-halmstad"));

  v1::Referral cancelled;
  status = harness_->Client(kAfHalmstad)
               .Cancel(created.name(), v1::CANCEL_REASON_NO_LONGER_NEEDED,
                       &cancelled);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cancelled.state(), v1::REFERRAL_STATE_WITHDRAWN);

  // The lead sees who cancelled it.
  v1::Referral lead;
  ASSERT_TRUE(harness_->Client(kFkHalmstad).Get(created.name(), &lead).ok());
  ASSERT_FALSE(lead.history().empty());
  EXPECT_EQ(lead.history().rbegin()->actor().organisation(),
            kAfHalmstad.organisation);
}

TEST_F(JointReferralE2eTest, APartyTheConsentDoesNotNameIsRefused) {
  v1::CreateReferralRequest request = SampleJointReferral("13");
  request.mutable_referral()
      ->mutable_joint()
      ->mutable_parties(1)
      ->set_organisation(kLaholmKommun.organisation);
  v1::Referral created;
  const grpc::Status status =
      harness_->Client(kFkHalmstad).Create(request, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("referral.joint.parties[1].organisation"));
  EXPECT_THAT(status.error_message(), HasSubstr("kommun-laholm-eb"));
  // Nothing was written: Laholm lists nothing, FK nothing either.
  EXPECT_THAT(NamesListedFor(kFkHalmstad), IsEmpty());
}

TEST_F(JointReferralE2eTest, ThePartiesFollowItsEventsOthersDoNot) {
  EventWatcher kommun(harness_->channel(), kKommunHalmstad, "regions/13");
  EventWatcher laholm(harness_->channel(), kLaholmKommun, "regions/13");
  const v1::Referral created = CreateJoint();
  ASSERT_FALSE(created.name().empty());
  const std::vector<v1::WatchEventsResponse> seen = kommun.Next(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].event().referral(), created.name());

  // Laholm's own referral, made after, is the first it hears of.
  v1::Referral fence;
  ASSERT_TRUE(harness_->Client(kLaholmKommun)
                  .Create(SampleActivityReferral("13"), &fence)
                  .ok());
  EXPECT_THAT(laholm.Until(fence.name()), IsEmpty());
}

TEST_F(JointReferralE2eTest, TheReportShowsItOncePerAgency) {
  CreateJoint();
  v1::GetOutcomeReportRequest request;
  request.set_parent("regions/13");
  *request.mutable_start_date() = DateIn(-1);
  *request.mutable_end_date() = DateIn(1);
  v1::OutcomeReport report;
  grpc::ClientContext context;
  Identify(&context, kHallandCoordinator);
  const grpc::Status status =
      v1::CoordinatorService::NewStub(harness_->channel())
          ->GetOutcomeReport(&context, request, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.joint_referrals_made(), 1);
  std::vector<std::string> rows;
  for (const v1::JointReferralCount& row : report.joint_referrals()) {
    rows.push_back(absl::StrCat(row.organisation(), " ", row.led(), "/",
                                row.co_referred(), "/", row.informed()));
  }
  EXPECT_THAT(rows, ElementsAre("af-halmstad 0/1/0", "fk-lfc-halmstad 1/0/0",
                                "kommun-halmstad-eb 0/0/1"));
  EXPECT_THAT(report.csv(), HasSubstr("joint_referrals_made\n1\n"));
}

}  // namespace
}  // namespace slussen::testing

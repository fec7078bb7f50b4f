// QueueService.PreviewPriorityPolicy end to end, over gRPC, on a real
// Redis: a coordinator sees what a candidate priority policy would do to
// the region's waiting referrals (positions now and then, per agency how
// many move and how far) with nothing written; a malformed candidate is
// refused naming its field, and only the region's coordinators may ask.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class PolicyPreviewE2eTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    queues_ = v1::QueueService::NewStub(harness_->channel());
  }

  // A redo referral of `who` (no redo offering: it waits in the queue).
  std::string Waiting(const Identity& who, const std::string& pseudonym) {
    v1::CreateReferralRequest request = SampleActivityReferral("13");
    request.mutable_referral()->mutable_activity()->set_activity_type("redo");
    request.mutable_referral()->mutable_participant()->set_pseudonym(pseudonym);
    v1::Referral made;
    const grpc::Status status = harness_->Client(who).Create(request, &made);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(made.state(), v1::REFERRAL_STATE_QUEUED);
    return made.name();
  }

  int PositionOf(const std::string& referral) {
    v1::GetQueuePositionRequest request;
    request.set_referral(referral);
    v1::QueuePosition position;
    grpc::ClientContext context;
    Identify(&context, kHallandCoordinator);
    const grpc::Status status =
        queues_->GetQueuePosition(&context, request, &position);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return position.position();
  }

  grpc::Status Preview(const Identity& who, const v1::PriorityPolicy& policy,
                       v1::PriorityPolicyPreview* out,
                       const std::string& parent = "regions/13") {
    v1::PreviewPriorityPolicyRequest request;
    request.set_parent(parent);
    *request.mutable_policy() = policy;
    grpc::ClientContext context;
    Identify(&context, who);
    return queues_->PreviewPriorityPolicy(&context, request, out);
  }

  v1::PriorityPolicy InForce() {
    v1::PriorityPolicy policy;
    grpc::ClientContext context;
    Identify(&context, kHallandCoordinator);
    EXPECT_TRUE(queues_
                    ->GetPriorityPolicy(&context,
                                        v1::GetPriorityPolicyRequest(), &policy)
                    .ok());
    return policy;
  }

  std::unique_ptr<v1::QueueService::Stub> queues_;
};

// FK Halmstad sends three, Laholm one, last. With every agency's weight 1
// they take turns: FK, Laholm, FK, FK. With FK's weight 3, FK's three are
// in the first round and Laholm's waits behind them: two move up one
// place each, Laholm's moves down two.
TEST_F(PolicyPreviewE2eTest, AWeightChangeMovesReferralsAndWritesNothing) {
  const std::string fk1 = Waiting(kFkHalmstad, "fk-0001");
  const std::string fk2 = Waiting(kFkHalmstad, "fk-0002");
  const std::string fk3 = Waiting(kFkHalmstad, "fk-0003");
  const std::string laholm = Waiting(kLaholmKommun, "lh-0001");
  ASSERT_EQ(PositionOf(laholm), 2);

  v1::PriorityPolicy candidate = InForce();
  (*candidate.mutable_agency_weights())["fk-lfc-halmstad"] = 3;
  v1::PriorityPolicyPreview preview;
  const grpc::Status status = Preview(kHallandCoordinator, candidate, &preview);
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::map<std::string, std::pair<int, int>> moves;
  for (const v1::PositionChange& c : preview.changes()) {
    moves[c.referral()] = {c.current_position(), c.preview_position()};
  }
  EXPECT_EQ(moves[fk1], std::make_pair(1, 1));
  EXPECT_EQ(moves[laholm], std::make_pair(2, 4));
  EXPECT_EQ(moves[fk2], std::make_pair(3, 2));
  EXPECT_EQ(moves[fk3], std::make_pair(4, 3));
  EXPECT_EQ(preview.moved_up(), 2);
  EXPECT_EQ(preview.moved_down(), 1);
  EXPECT_EQ(preview.unchanged(), 1);
  ASSERT_EQ(preview.agencies_size(), 2);
  const v1::AgencyShift& fk = preview.agencies(0);
  EXPECT_EQ(fk.referring_organisation(), "fk-lfc-halmstad");
  EXPECT_EQ(fk.referrals(), 3);
  EXPECT_EQ(fk.moved_up(), 2);
  EXPECT_EQ(fk.net_positions(), 2);
  const v1::AgencyShift& lh = preview.agencies(1);
  EXPECT_EQ(lh.referring_organisation(), "kommun-laholm-eb");
  EXPECT_EQ(lh.moved_down(), 1);
  EXPECT_EQ(lh.largest_move_down(), 2);
  EXPECT_EQ(lh.net_positions(), -2);
  EXPECT_EQ(preview.candidate().agency_weights().at("fk-lfc-halmstad"), 3);
  EXPECT_EQ(preview.current().agency_weights_size(), 0);

  // Nothing was written: the queue and the policy are as they were.
  EXPECT_EQ(PositionOf(laholm), 2);
  EXPECT_EQ(PositionOf(fk3), 4);
  EXPECT_EQ(InForce().agency_weights_size(), 0);
}

// The policy in force as the candidate moves no one.
TEST_F(PolicyPreviewE2eTest, ThePolicyInForceMovesNoOne) {
  Waiting(kFkHalmstad, "fk-0001");
  Waiting(kLaholmKommun, "lh-0001");
  v1::PriorityPolicyPreview preview;
  ASSERT_TRUE(Preview(kHallandCoordinator, InForce(), &preview).ok());
  EXPECT_EQ(preview.unchanged(), 2);
  EXPECT_EQ(preview.moved_up() + preview.moved_down(), 0);
  EXPECT_EQ(preview.changes_size(), 2);
}

TEST_F(PolicyPreviewE2eTest, AMalformedCandidateIsRefusedNamingItsField) {
  v1::PriorityPolicy candidate = InForce();
  candidate.add_criteria(v1::PRIORITY_CRITERION_WAITING_TIME);  // after NAME
  v1::PriorityPolicyPreview preview;
  grpc::Status status = Preview(kHallandCoordinator, candidate, &preview);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), StartsWith("policy.criteria"));

  candidate = InForce();
  (*candidate.mutable_agency_weights())["fk-lfc-halmstad"] = 101;
  status = Preview(kHallandCoordinator, candidate, &preview);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              StartsWith("policy.agency_weights[fk-lfc-halmstad]"));

  v1::PreviewPriorityPolicyRequest empty;
  empty.set_parent("regions/13");
  grpc::ClientContext context;
  Identify(&context, kHallandCoordinator);
  status = queues_->PreviewPriorityPolicy(&context, empty, &preview);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("policy"));
}

TEST_F(PolicyPreviewE2eTest, OnlyTheRegionsCoordinatorsMayPreview) {
  v1::PriorityPolicyPreview preview;
  EXPECT_EQ(Preview(kFkHalmstad, InForce(), &preview).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Preview(kProvider, InForce(), &preview).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Preview(kSkaneCoordinator, InForce(), &preview).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(
      Preview(kSkaneCoordinator, InForce(), &preview, "regions/12").ok());
}

}  // namespace
}  // namespace slussen::testing

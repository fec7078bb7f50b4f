// Referrals end to end: the real broker on a loopback port, over a private
// redis-server, driven through the generated gRPC client as an agency,
// another agency and coordinators would drive it.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

class ReferralE2eTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    stub_ = harness_->ReferralStub();
  }

  grpc::Status Create(const Identity& who,
                      const v1::CreateReferralRequest& request,
                      v1::Referral* out) {
    return harness_->Client(who).Create(request, out);
  }

  grpc::Status Get(const Identity& who, const std::string& name,
                   v1::Referral* out) {
    return harness_->Client(who).Get(name, out);
  }

  // Two a page, to exercise paging.
  std::vector<std::string> ListNames(const Identity& who,
                                     const std::string& parent) {
    std::vector<std::string> names;
    const grpc::Status status =
        harness_->Client(who).ListNames(parent, &names, /*page_size=*/2);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return names;
  }

  grpc::Status Cancel(const Identity& who, const std::string& name,
                      v1::Referral* out) {
    return harness_->Client(who).Cancel(name, v1::CANCEL_REASON_SENT_IN_ERROR,
                                        out);
  }

  std::unique_ptr<v1::ReferralService::Stub> stub_;
};

TEST_F(ReferralE2eTest, EveryKindGoesThroughCreateGetListCancel) {
  for (const v1::CreateReferralRequest& request : SampleOfEveryKind()) {
    SCOPED_TRACE(request.referral().details_case());
    v1::Referral made;
    ASSERT_TRUE(Create(kFkHalmstad, request, &made).ok());
    // Matched as it arrived: no capacity is published, so it waits.
    EXPECT_EQ(made.state(), v1::REFERRAL_STATE_QUEUED);

    v1::Referral got;
    ASSERT_TRUE(Get(kFkHalmstad, made.name(), &got).ok());
    EXPECT_EQ(got.name(), made.name());
    EXPECT_EQ(got.kind(), made.kind());
    ASSERT_EQ(got.history_size(), 2);
    EXPECT_EQ(got.history(0).action(), v1::ACTION_CREATE);
    EXPECT_EQ(got.history(1).action(), v1::ACTION_QUEUE);
    EXPECT_EQ(got.history(1).actor().role(), v1::ROLE_SYSTEM);

    const std::vector<std::string> listed =
        ListNames(kFkHalmstad, "regions/13");
    EXPECT_EQ(listed.front(), made.name()) << "newest first";

    v1::Referral cancelled;
    ASSERT_TRUE(Cancel(kFkHalmstad, made.name(), &cancelled).ok());
    EXPECT_EQ(cancelled.state(), v1::REFERRAL_STATE_WITHDRAWN);

    ASSERT_TRUE(Get(kFkHalmstad, made.name(), &got).ok());
    EXPECT_EQ(got.state(), v1::REFERRAL_STATE_WITHDRAWN);
    ASSERT_EQ(got.history_size(), 3);
    EXPECT_EQ(got.history(2).action(), v1::ACTION_CANCEL);
    EXPECT_EQ(got.history(2).cancel_reason(), v1::CANCEL_REASON_SENT_IN_ERROR);
    // Nothing left to do but say the participant has protected personal
    // data (none for an impulse, which names no participant).
    for (int action : got.allowed_actions()) {
      EXPECT_EQ(action, v1::ACTION_SET_PROTECTED_PERSONAL_DATA);
    }
  }
  EXPECT_EQ(ListNames(kFkHalmstad, "regions/13").size(), 5u);
}

TEST_F(ReferralE2eTest, ARetriedCreateReturnsTheSameReferral) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  request.set_request_id("halmstad-2026-000123");
  v1::Referral first, second;
  ASSERT_TRUE(Create(kHalmstadKommun, request, &first).ok());
  ASSERT_TRUE(Create(kHalmstadKommun, request, &second).ok());
  EXPECT_EQ(first.name(), second.name());
  EXPECT_EQ(ListNames(kHalmstadKommun, "regions/13").size(), 1u);

  request.mutable_referral()->mutable_activity()->set_activity_type("redo");
  v1::Referral third;
  const grpc::Status refused = Create(kHalmstadKommun, request, &third);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("request_id"));
}

// Eight creates of one participant's referral to one activity, at once:
// one is made, the others refused ALREADY_EXISTS, however they interleave
// (the check that names the open referral runs before the write; the
// store's script checks again with the write).
TEST_F(ReferralE2eTest, RacingCreatesOfOneParticipantMakeOneReferral) {
  constexpr int kRacers = 8;
  std::vector<grpc::Status> statuses(kRacers);
  std::vector<std::thread> racers;
  absl::Notification go;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      v1::CreateReferralRequest request = SampleActivityReferral();
      request.set_request_id(absl::StrCat("race-", i));
      v1::Referral made;
      go.WaitForNotification();
      statuses[i] = Create(kHalmstadKommun, request, &made);
    });
  }
  go.Notify();
  for (std::thread& racer : racers) racer.join();
  int made = 0;
  for (const grpc::Status& status : statuses) {
    if (status.ok()) {
      ++made;
      continue;
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("second_referral_reason"));
  }
  EXPECT_EQ(made, 1);
  EXPECT_EQ(ListNames(kHalmstadKommun, "regions/13").size(), 1u);
}

TEST_F(ReferralE2eTest, AnotherAgencyCannotSeeOrCancel) {
  v1::Referral made;
  ASSERT_TRUE(Create(kHalmstadKommun, SampleImpulse(), &made).ok());
  v1::Referral got;
  EXPECT_EQ(Get(kLaholmKommun, made.name(), &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Cancel(kLaholmKommun, made.name(), &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(ListNames(kLaholmKommun, "regions/13").empty());
  EXPECT_TRUE(ListNames(kLaholmKommun, "regions/-").empty());
  ASSERT_TRUE(Get(kHalmstadKommun, made.name(), &got).ok());
  EXPECT_EQ(got.state(), v1::REFERRAL_STATE_QUEUED);
}

TEST_F(ReferralE2eTest, CoordinatorsSeeTheirRegion) {
  v1::Referral halland, skane;
  ASSERT_TRUE(Create(kFkHalmstad, SampleActivityReferral("13"), &halland).ok());
  ASSERT_TRUE(Create(kFkHalmstad, SampleActivityReferral("12"), &skane).ok());
  v1::Referral got;
  ASSERT_TRUE(Get(kHallandCoordinator, halland.name(), &got).ok());
  // The sample consent covers coordinators for outcomes only: no
  // participant details.
  EXPECT_FALSE(got.has_participant());
  EXPECT_TRUE(got.activity().note().empty());
  EXPECT_EQ(Get(kHallandCoordinator, skane.name(), &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ListNames(kHallandCoordinator, "regions/-"),
            std::vector<std::string>{halland.name()});
  EXPECT_EQ(ListNames(kSkaneCoordinator, "regions/12"),
            std::vector<std::string>{skane.name()});
  EXPECT_EQ(ListNames(kFkHalmstad, "regions/-"),
            (std::vector<std::string>{skane.name(), halland.name()}));
}

TEST_F(ReferralE2eTest, RolesThatMayNotActAreDenied) {
  v1::Referral made, got;
  ASSERT_TRUE(Create(kHalmstadKommun, SampleImpulse(), &made).ok());
  EXPECT_EQ(Cancel(kHallandCoordinator, made.name(), &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Create(kHallandCoordinator, SampleImpulse(), &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(kAdmin, made.name(), &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralE2eTest, CallsWithoutIdentityAreUnauthenticated) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::Referral out;
  const grpc::Status status =
      stub_->CreateReferral(&context, SampleImpulse(), &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("x-slussen-organisation"));

  grpc::ClientContext bad_role;
  Identify(&bad_role, {"kommun-halmstad-eb", "superuser", "13"});
  const grpc::Status role_status =
      stub_->CreateReferral(&bad_role, SampleImpulse(), &out);
  EXPECT_EQ(role_status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(role_status.error_message(), HasSubstr("x-slussen-role"));
}

TEST_F(ReferralE2eTest, EveryAnswerCarriesARequestId) {
  grpc::ClientContext context;
  Identify(&context, kHalmstadKommun);
  context.AddMetadata("x-request-id", "trace-abc-123");
  v1::Referral out;
  ASSERT_TRUE(stub_->CreateReferral(&context, SampleImpulse(), &out).ok());
  const auto& metadata = context.GetServerInitialMetadata();
  const auto it = metadata.find("x-request-id");
  ASSERT_NE(it, metadata.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "trace-abc-123");

  grpc::ClientContext anonymous;
  Identify(&anonymous, kHalmstadKommun);
  ASSERT_TRUE(stub_->CreateReferral(&anonymous, SampleImpulse(), &out).ok());
  const auto generated =
      anonymous.GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(generated, anonymous.GetServerInitialMetadata().end());
  EXPECT_FALSE(generated->second.empty());
}

TEST_F(ReferralE2eTest, HealthIsServingForTheServerAndTheService) {
  EXPECT_EQ(harness_->HealthStatus(), "SERVING");
  EXPECT_EQ(harness_->HealthStatus("slussen.v1.ReferralService"), "SERVING");
}

TEST_F(ReferralE2eTest, ProvidersCannotActOnReferralsNotTheirs) {
  v1::Referral made;
  ASSERT_TRUE(Create(kHalmstadKommun, SampleImpulse(), &made).ok());
  grpc::ClientContext context;
  Identify(&context, kProvider);
  v1::StartReferralRequest request;
  request.set_name(made.name());
  v1::Referral out;
  EXPECT_EQ(stub_->StartReferral(&context, request, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace slussen::testing

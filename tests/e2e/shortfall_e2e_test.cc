// The shortfall forecast over gRPC: a queue whose activity type has a
// warning threshold and no published capacity shows the forecast and its
// warning in the coordinator's queue overview, and the broker tells the
// region's coordinators once, with an EVENT_TYPE_QUEUE_SHORTFALL_FORECAST,
// and nobody else. The same check tells operators how long ago each
// activity type's capacity was last published (slussen_capacity_age_seconds).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/ports/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_capacity.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

constexpr char kType[] = "arbetsprovning";

class ShortfallE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    options.broker.shortfall_check_interval = absl::Milliseconds(200);
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    coordinator_ = v1::CoordinatorService::NewStub(harness_->channel());
    events_ = v1::EventService::NewStub(harness_->channel());
  }

  template <typename Call>
  grpc::Status As(const Identity& who, Call call) {
    grpc::ClientContext context;
    Identify(&context, who);
    return call(&context);
  }

  // An activity type no provider offers yet, whose queues warn past four
  // weeks, and two referrals to it.
  void ReferTwoToANewActivityType() {
    auto directory = v1::ProviderDirectory::NewStub(harness_->channel());
    v1::CreateActivityTypeRequest create;
    create.set_activity_type_id(kType);
    v1::ActivityType& type = *create.mutable_activity_type();
    type.set_display_name("Arbetsprövning");
    type.set_usual_capacity_model(v1::CAPACITY_MODEL_PLACES);
    type.add_referral_kinds(v1::REFERRAL_KIND_ACTIVITY);
    type.set_shortfall_warning_weeks(4);
    v1::ActivityType made_type;
    const grpc::Status created = As(kAdmin, [&](auto* c) {
      return directory->CreateActivityType(c, create, &made_type);
    });
    ASSERT_TRUE(created.ok()) << created.error_message();
    for (int n = 0; n < 2; ++n) {
      v1::CreateReferralRequest request = SampleActivityReferral("13");
      request.mutable_referral()->mutable_activity()->set_activity_type(kType);
      request.mutable_referral()->mutable_participant()->set_pseudonym(
          absl::StrCat("prova-", n));
      v1::Referral made;
      const grpc::Status status =
          harness_->Client(kFkHalmstad).Create(request, &made);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  std::vector<v1::Event> Warnings(const Identity& who) {
    v1::ListEventsRequest request;
    request.set_parent("regions/13");
    request.add_types(v1::EVENT_TYPE_QUEUE_SHORTFALL_FORECAST);
    v1::ListEventsResponse response;
    const grpc::Status status = As(who, [&](auto* c) {
      return events_->ListEvents(c, request, &response);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.events().begin(), response.events().end()};
  }

  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<v1::CoordinatorService::Stub> coordinator_;
  std::unique_ptr<v1::EventService::Stub> events_;
};

// The Monday of this week in Stockholm.
v1::Date ThisMonday() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  absl::CivilDay day = absl::ToCivilDay(absl::Now(), zone);
  while (absl::GetWeekday(day) != absl::Weekday::monday) --day;
  v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

TEST_F(ShortfallE2eTest, AQueueWithoutCapacityWarnsInTheOverviewAndOnce) {
  ReferTwoToANewActivityType();
  if (HasFatalFailure()) return;

  v1::GetQueueOverviewRequest request;
  request.set_parent("regions/13");
  v1::QueueOverview overview;
  const grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
    return coordinator_->GetQueueOverview(c, request, &overview);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::QueueSummary* queue = nullptr;
  for (const v1::QueueSummary& q : overview.queues()) {
    if (q.activity_type() == kType) queue = &q;
  }
  ASSERT_NE(queue, nullptr) << overview.DebugString();
  EXPECT_EQ(queue->queue(), "regions/13/queues/arbetsprovning~13");
  EXPECT_EQ(queue->length(), 2);
  const v1::ShortfallForecast& forecast = queue->forecast();
  EXPECT_EQ(forecast.recent_arrivals(), 2);
  EXPECT_EQ(forecast.window_weeks(), 8);
  ASSERT_EQ(forecast.weeks_size(), 12);
  EXPECT_EQ(forecast.weeks(0).start_date().SerializeAsString(),
            ThisMonday().SerializeAsString());
  EXPECT_EQ(forecast.weeks(0).capacity(), 0);
  EXPECT_TRUE(forecast.weeks(0).wait_unbounded());
  EXPECT_TRUE(forecast.peak_wait_unbounded());
  EXPECT_EQ(forecast.warning_weeks(), 4);
  EXPECT_EQ(forecast.warning_week().SerializeAsString(),
            ThisMonday().SerializeAsString());

  // The broker tells the coordinators by itself, every 200 ms here, but
  // once a week per queue.
  std::vector<v1::Event> warnings;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (warnings.empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
    warnings = Warnings(kHallandCoordinator);
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].queue(), queue->queue());
  EXPECT_EQ(warnings[0].activity_type(), "activityTypes/arbetsprovning");
  EXPECT_EQ(warnings[0].forecast().warning_week().SerializeAsString(),
            ThisMonday().SerializeAsString());
  EXPECT_EQ(warnings[0].actor().role(), v1::ROLE_SYSTEM);
  EXPECT_TRUE(warnings[0].referral().empty());
  absl::SleepFor(absl::Seconds(1));  // several more checks
  EXPECT_EQ(Warnings(kHallandCoordinator).size(), 1u);
  // It concerns no agency's referral and no provider's offering.
  EXPECT_TRUE(Warnings(kFkHalmstad).empty());
}

TEST_F(ShortfallE2eTest, AThresholdOutOfRangeIsRefusedNamingIt) {
  auto directory = v1::ProviderDirectory::NewStub(harness_->channel());
  v1::CreateActivityTypeRequest create;
  create.set_activity_type_id("for-lang-vantan");
  create.mutable_activity_type()->set_display_name("För lång väntan");
  create.mutable_activity_type()->set_shortfall_warning_weeks(53);
  v1::ActivityType made;
  const grpc::Status status = As(kAdmin, [&](auto* c) {
    return directory->CreateActivityType(c, create, &made);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("shortfall_warning_weeks"));
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("53"));
}

// slussen_capacity_age_seconds, with the broker's clock standing still:
// an offering that never published counts from its making, a
// publication starts it again, and a type nobody offers has no series.
class CapacityAgeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    options.broker.shortfall_check_interval = absl::Milliseconds(100);
    options.broker.testing_clock = &clock_;
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    directory_ = v1::ProviderDirectory::NewStub(harness_->channel());
  }

  // The age of region 13's `type` once it is `want` (checked every
  // 100 ms), or as it is then; -1 without the series.
  double AgeReaching(absl::string_view type, double want) {
    return harness_->MetricReaching(
        absl::StrCat("slussen_capacity_age_seconds{activity_type=\"", type,
                     "\",region=\"13\"}"),
        want);
  }

  template <typename Call>
  grpc::Status As(const Identity& who, Call call) {
    grpc::ClientContext context;
    Identify(&context, who);
    return call(&context);
  }

  core::ManualClock clock_{
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<v1::ProviderDirectory::Stub> directory_;
};

TEST_F(CapacityAgeE2eTest, CountsFromTheLastPublicationOrTheMaking) {
  const absl::Status created = CreateRedoOffering(harness_->channel());
  ASSERT_TRUE(created.ok()) << created;

  // Made now, never published.
  EXPECT_EQ(AgeReaching("redo", 0), 0);
  clock_.Advance(absl::Hours(24 * 8));
  EXPECT_EQ(AgeReaching("redo", 8 * 86400), 8 * 86400);

  v1::PublishCapacityRequest publish;
  publish.set_offering(kRedoOffering);
  publish.mutable_capacity()->mutable_places()->set_total(1);
  v1::Offering made;
  const grpc::Status status = As(kRedo, [&](auto* c) {
    return directory_->PublishCapacity(c, publish, &made);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(AgeReaching("redo", 0), 0);
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(AgeReaching("redo", 86400), 86400);

  // Offered by nobody in region 13 (the sample directory has the type).
  EXPECT_EQ(harness_->Metric("slussen_capacity_age_seconds{activity_type="
                             "\"halsosam\",region=\"13\"}"),
            std::nullopt);
}

}  // namespace
}  // namespace slussen::testing

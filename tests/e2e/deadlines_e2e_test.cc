// Response deadlines end to end, over gRPC, on a broker whose clock the test
// sets (the testing clock, which only --testing_clock_start enables): an
// impulse arriving on Wednesday 2026-12-23 warns on 2026-12-29, breaches
// after the end of 2026-12-30 unless the call-back is recorded, and is
// escalated to the coordinator after the next working day; the worklist
// shows it, overdue first, to whom it concerns; a pause moves the due time;
// and two broker replicas on one Redis fire each step exactly once. The
// Christmas example runs again on a Redis Cluster of three primaries.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/model/proto_time.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_event_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "slussen/v1/testing_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

const Identity kFkBrevlada{"fk-lfc-halmstad", "provider", "13"};

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

absl::Time At(int year, int month, int day, int hour, int minute = 0,
              int second = 0) {
  return absl::FromCivil(
      absl::CivilSecond(year, month, day, hour, minute, second), Stockholm());
}

// One broker replica with its testing clock, over a shared Redis.
struct Replica {
  explicit Replica(absl::Time start) : clock(start) {}
  core::ManualClock clock;
  std::unique_ptr<service::BrokerServer> broker;
  std::shared_ptr<grpc::Channel> channel;
};

class DeadlinesE2eTest : public ::testing::Test {
 protected:
  // Primaries of the Redis Cluster the broker uses; 0: one redis-server.
  virtual int cluster_primaries() const { return 0; }

  void SetUp() override {
    BrokerHarness::Options options;
    options.cluster_primaries = cluster_primaries();
    options.broker.testing_clock = &first_clock_;
    // Steps fire when the test sets the time; the background tick is slow
    // so that SetTime's own firing is what the test observes.
    options.broker.deadlines.interval = absl::Seconds(3600);
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(options);
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    directory_ = v1::ProviderDirectory::NewStub(harness_->channel());
    offers_ = v1::OfferService::NewStub(harness_->channel());
    coordinator_ = v1::CoordinatorService::NewStub(harness_->channel());
    testing_ = v1::TestingService::NewStub(harness_->channel());
    pool_ = std::make_unique<store::RedisPool>(harness_->redis_options());
    ASSERT_NO_FATAL_FAILURE(CreateFunktionsbrevlada());
  }

  template <typename Call>
  grpc::Status As(const Identity& who, Call call) {
    grpc::ClientContext context;
    Identify(&context, who);
    return call(&context);
  }

  // FK's funktionsbrevlåda for Halmstad, with a caseload of 40.
  void CreateFunktionsbrevlada() {
    v1::CreateProviderRequest provider;
    provider.set_provider_id("fk-lfc-halmstad");
    v1::Provider* p = provider.mutable_provider();
    p->set_display_name("Försäkringskassan LFC Halmstad");
    p->set_organisation("fk-lfc-halmstad");
    p->set_kind(v1::PROVIDER_KIND_AGENCY_TEAM);
    p->set_agency_kind(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
    p->add_regions("13");
    v1::Provider made_provider;
    grpc::Status status = As(kAdmin, [&](auto* c) {
      return directory_->CreateProvider(c, provider, &made_provider);
    });
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::CreateOfferingRequest offering;
    offering.set_parent("providers/fk-lfc-halmstad");
    offering.set_offering_id("brevlada");
    v1::Offering* o = offering.mutable_offering();
    o->set_display_name("Funktionsbrevlådan Halmstad");
    o->set_activity_type("funktionsbrevlada");
    o->set_region("13");
    o->set_kommun_code("1380");
    o->mutable_eligibility()->add_referral_kinds(v1::REFERRAL_KIND_IMPULSE);
    v1::Offering made;
    status = As(kAdmin, [&](auto* c) {
      return directory_->CreateOffering(c, offering, &made);
    });
    ASSERT_TRUE(status.ok()) << status.error_message();
    v1::PublishCapacityRequest publish;
    publish.set_offering("providers/fk-lfc-halmstad/offerings/brevlada");
    publish.mutable_capacity()->mutable_caseload()->set_max_open_cases(40);
    status = As(kFkBrevlada, [&](auto* c) {
      return directory_->PublishCapacity(c, publish, &made);
    });
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Sets the broker's time; the steps it fired.
  int SetTime(absl::Time time, v1::TestingService::Stub* stub = nullptr) {
    v1::SetTimeRequest request;
    *request.mutable_time() = core::ToProtoTimestamp(time);
    v1::SetTimeResponse response;
    grpc::ClientContext context;
    Identify(&context, kAdmin);
    const grpc::Status status = (stub != nullptr ? stub : testing_.get())
                                    ->SetTime(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.deadline_steps_fired();
  }

  // An impulse from Halmstad's ekonomiskt bistånd, offered to FK and
  // accepted; returns its call-back clock's name.
  std::string ImpulseAcceptedByFk(v1::Referral* out = nullptr) {
    v1::Referral referral;
    EXPECT_TRUE(harness_->Client(kHalmstadKommun)
                    .Create(SampleImpulse("13"), &referral)
                    .ok());
    // Matching runs before the create answers, unless another replica
    // holds the region's matching lock just then (the two-replica test):
    // its pass offers it a moment later.
    for (int i = 0; i < 100 && referral.state() != v1::REFERRAL_STATE_OFFERED;
         ++i) {
      absl::SleepFor(absl::Milliseconds(50));
      EXPECT_TRUE(harness_->Client(kHalmstadKommun)
                      .Get(referral.name(), &referral)
                      .ok());
    }
    EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_OFFERED);
    v1::AcceptOfferRequest accept;
    accept.set_name(referral.current_offer());
    v1::Offer accepted;
    const grpc::Status status = As(kFkBrevlada, [&](auto* c) {
      return offers_->AcceptOffer(c, accept, &accepted);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (out != nullptr) *out = referral;
    const std::string id =
        referral.name().substr(referral.name().rfind('/') + 1);
    return absl::StrCat("regions/13/clocks/", id, "-",
                        static_cast<int>(v1::CLOCK_KIND_IMPULSE_CALL_BACK),
                        "-0");
  }

  v1::Clock GetClock(const std::string& name,
                     const Identity& who = kHallandCoordinator) {
    v1::GetClockRequest request;
    request.set_name(name);
    v1::Clock clock;
    const grpc::Status status = As(who, [&](auto* c) {
      return coordinator_->GetClock(c, request, &clock);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return clock;
  }

  std::vector<v1::WorklistItem> Worklist(const Identity& who,
                                         absl::Duration due_within) {
    v1::ListWorklistRequest request;
    request.set_parent("regions/13");
    request.mutable_due_within()->set_seconds(absl::ToInt64Seconds(due_within));
    v1::ListWorklistResponse response;
    const grpc::Status status = As(who, [&](auto* c) {
      return coordinator_->ListWorklist(c, request, &response);
    });
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.items().begin(), response.items().end()};
  }

  // Events of `type` about `clock` in region 13's stream, as watchers read
  // them.
  int EventsOf(v1::EventType type, const std::string& clock) {
    store::RedisEventLog log(pool_.get());
    absl::StatusOr<std::vector<core::LoggedEvent>> events =
        log.ReadAfter("13", "0-0", 100000);
    EXPECT_TRUE(events.ok()) << events.status();
    int count = 0;
    for (const core::LoggedEvent& logged :
         events.value_or(std::vector<core::LoggedEvent>())) {
      count += logged.event.type() == type && logged.event.clock() == clock;
    }
    return count;
  }

  core::ManualClock first_clock_{At(2026, 12, 23, 10)};
  std::unique_ptr<BrokerHarness> harness_;
  std::unique_ptr<v1::ProviderDirectory::Stub> directory_;
  std::unique_ptr<v1::OfferService::Stub> offers_;
  std::unique_ptr<v1::CoordinatorService::Stub> coordinator_;
  std::unique_ptr<v1::TestingService::Stub> testing_;
  std::unique_ptr<store::RedisPool> pool_;

  // The example: an impulse on 2026-12-23 warns on the 29th,
  // breaches after the end of the 30th and is escalated after the next
  // working day; the late call-back meets it late.
  void ImpulseOnTheDayBeforeChristmasEve();

  // slussen_clocks_overdue of region 13 once it is `want` (counted every
  // 5 s: waits up to 10 s), or as it is then; -1 if none is there.
  double OverdueClocksReaching(double want) {
    return harness_->MetricReaching("slussen_clocks_overdue{region=\"13\"}",
                                    want);
  }

  // slussen_clocks of region 13's call-back clocks at `stage` once it is
  // `want` (counted every 5 s: waits up to 10 s), or as it is then; -1 if
  // none is there.
  double CallBackClocksReaching(absl::string_view stage, double want) {
    return harness_->MetricReaching(
        absl::StrCat("slussen_clocks{kind=\"impulse_call_back\",region="
                     "\"13\",state=\"",
                     stage, "\"}"),
        want);
  }

  // Of slussen_deadline_firing_lag_seconds: the steps observed, and how
  // late they were in all (s).
  std::pair<double, double> FiringLag() {
    return {harness_->Metric("slussen_deadline_firing_lag_seconds_count")
                .value_or(-1),
            harness_->Metric("slussen_deadline_firing_lag_seconds_sum")
                .value_or(-1)};
  }
};

void DeadlinesE2eTest::ImpulseOnTheDayBeforeChristmasEve() {
  const std::string name = ImpulseAcceptedByFk();
  v1::Clock clock = GetClock(name);
  EXPECT_EQ(clock.kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(clock.awaited_organisation(), "fk-lfc-halmstad");
  // Due at the end of Wednesday 2026-12-30: 3 arbetsdagar after the 23rd
  // (24th julafton, 25th juldagen, 26th-27th the weekend, 28th, 29th, 30th).
  EXPECT_EQ(core::ToAbslTime(clock.due_time()), At(2026, 12, 31, 0));

  EXPECT_EQ(SetTime(At(2026, 12, 28, 23, 59, 59)), 0);
  EXPECT_FALSE(GetClock(name).warned());
  EXPECT_EQ(SetTime(At(2026, 12, 29, 8)), 1);
  clock = GetClock(name);
  EXPECT_TRUE(clock.warned());
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_WARNING, name), 1);
  // Operators see it warned, and the warning due at midnight fired eight
  // hours late (the broker's clock jumped).
  EXPECT_EQ(CallBackClocksReaching("warned", 1), 1);
  EXPECT_EQ(FiringLag(), std::pair(1.0, 8 * 3600.0));

  EXPECT_EQ(SetTime(At(2026, 12, 30, 23, 59, 59)), 0);
  EXPECT_EQ(GetClock(name).state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(SetTime(At(2026, 12, 31, 0, 0, 1)), 1);
  clock = GetClock(name);
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(clock.escalation_level(), 1);
  EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_BREACHED, name), 1);
  // Operators see it among the region's overdue clocks (counted every
  // 5 s), breached and no longer warned; it fired a second late.
  EXPECT_EQ(OverdueClocksReaching(1), 1);
  EXPECT_EQ(CallBackClocksReaching("breached", 1), 1);
  EXPECT_EQ(CallBackClocksReaching("warned", 0), 0);
  EXPECT_EQ(FiringLag(), std::pair(2.0, 8 * 3600.0 + 1));

  // The coordinator hears of it after the next working day: nyårsafton,
  // nyårsdagen and the weekend pass; the end of Monday 2027-01-04.
  EXPECT_EQ(SetTime(At(2027, 1, 4, 23, 59, 59)), 0);
  EXPECT_EQ(SetTime(At(2027, 1, 5, 0, 0, 1)), 1);
  clock = GetClock(name);
  EXPECT_EQ(clock.escalation_level(), 2);
  EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_ESCALATED, name), 1);
  EXPECT_EQ(SetTime(At(2027, 2, 1, 0)), 0) << "nothing further fires";
  EXPECT_EQ(CallBackClocksReaching("escalated", 1), 1);
  EXPECT_EQ(CallBackClocksReaching("breached", 0), 0);
  EXPECT_EQ(FiringLag(), std::pair(3.0, 8 * 3600.0 + 2));

  // The call-back, late: met late, and off the worklist.
  v1::RecordContactRequest contact;
  contact.set_name(clock.referral());
  v1::Referral referral;
  auto stub = harness_->ReferralStub();
  const grpc::Status status = As(kFkBrevlada, [&](auto* c) {
    return stub->RecordContact(c, contact, &referral);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(GetClock(name).state(), v1::CLOCK_STATE_MET_LATE);
  EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_MET, name), 1);
  EXPECT_TRUE(Worklist(kHallandCoordinator, absl::Hours(24 * 30)).empty());
  // Met, it is no longer counted as overdue.
  EXPECT_EQ(OverdueClocksReaching(0), 0);
  EXPECT_EQ(CallBackClocksReaching("escalated", 0), 0);
}

TEST_F(DeadlinesE2eTest, AnImpulseOnTheDayBeforeChristmasEveWarnsAndBreaches) {
  ImpulseOnTheDayBeforeChristmasEve();
}

// The same over a Redis Cluster: the directory's keys and each region's on
// the primaries their hash tags name, pipelines across regions split per
// primary, the clock steps' scripts run where the region lives.
class DeadlinesOnClusterE2eTest : public DeadlinesE2eTest {
 protected:
  int cluster_primaries() const override { return 3; }
};

TEST_F(DeadlinesOnClusterE2eTest, TheChristmasImpulseWarnsAndBreaches) {
  ImpulseOnTheDayBeforeChristmasEve();
}

TEST_F(DeadlinesE2eTest, TheOfferAnswerClockRunsOutWithTheHold) {
  v1::Referral referral;
  const std::string call_back = ImpulseAcceptedByFk(&referral);
  // CREATE, QUEUE, OFFER: the offer's clock started with history entry 2.
  const std::string answer =
      absl::StrCat(call_back.substr(0, call_back.find('-')), "-",
                   static_cast<int>(v1::CLOCK_KIND_OFFER_ANSWER), "-2");
  const v1::Clock clock = GetClock(answer);
  EXPECT_EQ(clock.kind(), v1::CLOCK_KIND_OFFER_ANSWER);
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_MET) << "accepted at once";
  v1::GetOfferRequest get;
  get.set_name(referral.current_offer());
  v1::Offer offer;
  ASSERT_TRUE(As(kFkBrevlada, [&](auto* c) {
                return offers_->GetOffer(c, get, &offer);
              }).ok());
  EXPECT_EQ(core::ToAbslTime(clock.due_time()),
            core::ToAbslTime(offer.hold_expire_time()));
}

TEST_F(DeadlinesE2eTest, ACallBackInTimeMeetsTheClock) {
  const std::string name = ImpulseAcceptedByFk();
  SetTime(At(2026, 12, 28, 9));
  v1::Clock clock = GetClock(name);
  v1::RecordContactRequest contact;
  contact.set_name(clock.referral());
  v1::Referral referral;
  auto stub = harness_->ReferralStub();
  ASSERT_TRUE(As(kFkBrevlada, [&](auto* c) {
                return stub->RecordContact(c, contact, &referral);
              }).ok());
  clock = GetClock(name);
  EXPECT_EQ(clock.state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(core::ToAbslTime(clock.stop_time()), At(2026, 12, 28, 9));
  EXPECT_EQ(SetTime(At(2027, 1, 10, 0)), 0) << "a met clock never fires";
  EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_BREACHED, name), 0);
}

TEST_F(DeadlinesE2eTest, TheWorklistShowsOverdueFirstToWhomItConcerns) {
  // Two impulses a day apart: after both are due, the older is first.
  const std::string first = ImpulseAcceptedByFk();
  SetTime(At(2026, 12, 28, 10));
  const std::string second = ImpulseAcceptedByFk();
  SetTime(At(2027, 1, 4, 12));
  std::vector<v1::WorklistItem> items =
      Worklist(kHallandCoordinator, absl::Hours(24));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].clock().name(), first);
  EXPECT_EQ(items[1].clock().name(), second);
  EXPECT_GT(items[0].lateness().seconds(), items[1].lateness().seconds());
  EXPECT_EQ(items[0].referral_kind(), v1::REFERRAL_KIND_IMPULSE);
  EXPECT_EQ(items[0].awaited_organisation(), "fk-lfc-halmstad");
  EXPECT_THAT(items[0].awaited_action(), HasSubstr("call-back"));

  // FK sees both (it is awaited); the kommun that referred sees its own;
  // another provider sees none; another region's coordinator is refused
  // (as every list of another region is).
  EXPECT_EQ(Worklist(kFkBrevlada, absl::Hours(24)).size(), 2u);
  EXPECT_EQ(Worklist(kHalmstadKommun, absl::Hours(24)).size(), 2u);
  EXPECT_TRUE(Worklist(kLaholmKommun, absl::Hours(24)).empty());
  EXPECT_TRUE(Worklist(kProvider, absl::Hours(24)).empty());
  v1::ListWorklistRequest skane;
  skane.set_parent("regions/13");
  v1::ListWorklistResponse refused;
  EXPECT_EQ(As(kSkaneCoordinator,
               [&](auto* c) {
                 return coordinator_->ListWorklist(c, skane, &refused);
               })
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::GetClockRequest get;
  get.set_name(first);
  v1::Clock hidden;
  EXPECT_EQ(As(kProvider,
               [&](auto* c) { return coordinator_->GetClock(c, get, &hidden); })
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(DeadlinesE2eTest, APauseMovesTheDueTimeByItsLength) {
  const std::string name = ImpulseAcceptedByFk();
  SetTime(At(2026, 12, 28, 10));
  v1::PauseClockRequest pause;
  pause.set_name(name);
  pause.set_cause(v1::DELAY_CAUSE_PARTICIPANT);
  pause.set_note("the participant asked to wait until after New Year");
  v1::Clock paused;
  grpc::Status status = As(kFkBrevlada, [&](auto* c) {
    return coordinator_->PauseClock(c, pause, &paused);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(paused.state(), v1::CLOCK_STATE_PAUSED);
  // Paused, nothing fires however late it gets.
  EXPECT_EQ(SetTime(At(2027, 1, 2, 10)), 0);

  v1::ResumeClockRequest resume;
  resume.set_name(name);
  v1::Clock resumed;
  status = As(kHallandCoordinator, [&](auto* c) {
    return coordinator_->ResumeClock(c, resume, &resumed);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resumed.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(core::ToAbslTime(resumed.due_time()),
            At(2026, 12, 31, 0) + absl::Hours(24 * 5));
  ASSERT_EQ(resumed.pauses_size(), 1);
  EXPECT_EQ(resumed.pauses(0).cause(), v1::DELAY_CAUSE_PARTICIPANT);

  // Only the awaited organisation or the coordinator may pause.
  pause.set_name(name);
  v1::Clock refused;
  EXPECT_EQ(
      As(kHalmstadKommun,
         [&](auto* c) { return coordinator_->PauseClock(c, pause, &refused); })
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  pause.set_cause(v1::DELAY_CAUSE_UNSPECIFIED);
  status = As(kFkBrevlada, [&](auto* c) {
    return coordinator_->PauseClock(c, pause, &refused);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("cause"));
}

TEST_F(DeadlinesE2eTest, ResponseTimesPerPartyForTheCoordinator) {
  const std::string name = ImpulseAcceptedByFk();
  SetTime(At(2026, 12, 28, 10));
  v1::RecordContactRequest contact;
  contact.set_name(GetClock(name).referral());
  v1::Referral referral;
  auto stub = harness_->ReferralStub();
  ASSERT_TRUE(As(kFkBrevlada, [&](auto* c) {
                return stub->RecordContact(c, contact, &referral);
              }).ok());

  v1::GetResponseTimeStatisticsRequest request;
  request.set_parent("regions/13");
  *request.mutable_start_time() = core::ToProtoTimestamp(At(2026, 12, 1, 0));
  *request.mutable_end_time() = core::ToProtoTimestamp(At(2027, 1, 1, 0));
  v1::ResponseTimeStatistics statistics;
  grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
    return coordinator_->GetResponseTimeStatistics(c, request, &statistics);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::ResponseTimeRow* call_back = nullptr;
  for (const v1::ResponseTimeRow& row : statistics.rows()) {
    if (row.clock_kind() == v1::CLOCK_KIND_IMPULSE_CALL_BACK) call_back = &row;
  }
  ASSERT_NE(call_back, nullptr);
  EXPECT_EQ(call_back->party(), "fk-lfc-halmstad");
  EXPECT_EQ(call_back->clocks(), 1);
  EXPECT_EQ(call_back->median().seconds(), 5 * 24 * 3600);
  EXPECT_EQ(call_back->breach_rate(), 0.0);

  // The statistics are the coordinator's; the period must make sense.
  status = As(kFkBrevlada, [&](auto* c) {
    return coordinator_->GetResponseTimeStatistics(c, request, &statistics);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  *request.mutable_end_time() = core::ToProtoTimestamp(At(2026, 11, 1, 0));
  status = As(kHallandCoordinator, [&](auto* c) {
    return coordinator_->GetResponseTimeStatistics(c, request, &statistics);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("end_time"));
}

TEST_F(DeadlinesE2eTest, ANewRuleVersionAppliesToNewClocksOnly) {
  const std::string before = ImpulseAcceptedByFk();
  // The region agrees on 5 arbetsdagar for call-backs from now on.
  v1::CreateDeadlineRuleSetRequest create;
  create.set_rule_set_id("impulse");
  v1::DeadlineRuleSet* set = create.mutable_rule_set();
  set->set_referral_kind(v1::REFERRAL_KIND_IMPULSE);
  v1::ClockRule* rule = set->add_rules();
  rule->set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  rule->set_start_on(v1::ACTION_CREATE);
  rule->add_stop_on(v1::ACTION_RECORD_CONTACT);
  rule->set_length(5);
  rule->set_unit(v1::DURATION_UNIT_WORKING_DAYS);
  rule->set_awaited_role(v1::ROLE_PROVIDER);
  v1::DeadlineRuleSet made;
  grpc::Status status = As(kHallandCoordinator, [&](auto* c) {
    return coordinator_->CreateDeadlineRuleSet(c, create, &made);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = As(kAdmin, [&](auto* c) {
    return coordinator_->CreateDeadlineRuleSet(c, create, &made);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(made.name(), "deadlineRuleSets/impulse/versions/2");
  EXPECT_EQ(made.created_by().organisation(), "slussen-admin");

  const std::string after = ImpulseAcceptedByFk();
  // 5 arbetsdagar after Wednesday 2026-12-23: 28, 29, 30, 2027-01-04, 05.
  EXPECT_EQ(core::ToAbslTime(GetClock(after).due_time()), At(2027, 1, 6, 0));
  EXPECT_EQ(GetClock(after).rule_set(), made.name());
  // The clock that was running keeps its rule.
  EXPECT_EQ(core::ToAbslTime(GetClock(before).due_time()), At(2026, 12, 31, 0));
  EXPECT_EQ(GetClock(before).rule_set(), "deadlineRuleSets/impulse/versions/1");

  v1::ListDeadlineRuleSetsRequest list;
  v1::ListDeadlineRuleSetsResponse sets;
  ASSERT_TRUE(As(kHallandCoordinator, [&](auto* c) {
                return coordinator_->ListDeadlineRuleSets(c, list, &sets);
              }).ok());
  ASSERT_GT(sets.rule_sets_size(), 1);
  EXPECT_EQ(sets.rule_sets(0).name(), made.name()) << "newest first";

  // A version keeps its id's kind; a bad rule names its field.
  set->set_referral_kind(v1::REFERRAL_KIND_ACTIVITY);
  status = As(kAdmin, [&](auto* c) {
    return coordinator_->CreateDeadlineRuleSet(c, create, &made);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("rule_set.referral_kind"));
  set->set_referral_kind(v1::REFERRAL_KIND_IMPULSE);
  rule->set_length(0);
  status = As(kAdmin, [&](auto* c) {
    return coordinator_->CreateDeadlineRuleSet(c, create, &made);
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("rule_set.rules[0].length"));
}

TEST_F(DeadlinesE2eTest, AWaitingImpulseIsQueuedByItsDeadline) {
  // FK has no room: impulses wait, the earliest call-back deadline first.
  v1::PublishCapacityRequest publish;
  publish.set_offering("providers/fk-lfc-halmstad/offerings/brevlada");
  publish.mutable_capacity()->mutable_caseload()->set_max_open_cases(0);
  v1::Offering published;
  ASSERT_TRUE(As(kFkBrevlada, [&](auto* c) {
                return directory_->PublishCapacity(c, publish, &published);
              }).ok());
  v1::Referral first;
  ASSERT_TRUE(harness_->Client(kHalmstadKommun)
                  .Create(SampleImpulse("13"), &first)
                  .ok());
  ASSERT_EQ(first.state(), v1::REFERRAL_STATE_QUEUED);
  auto queues = v1::QueueService::NewStub(harness_->channel());
  v1::GetQueuePositionRequest request;
  request.set_referral(first.name());
  v1::QueuePosition position;
  ASSERT_TRUE(As(kHalmstadKommun, [&](auto* c) {
                return queues->GetQueuePosition(c, request, &position);
              }).ok());
  ASSERT_FALSE(position.reasons().empty());
  EXPECT_EQ(position.reasons(0).criterion(), v1::PRIORITY_CRITERION_DEADLINE);
  EXPECT_EQ(position.reasons(0).explanation(), "deadline 2026-12-30");
}

TEST_F(DeadlinesE2eTest, TimeNeverGoesBack) {
  SetTime(At(2026, 12, 28, 10));
  v1::SetTimeRequest request;
  *request.mutable_time() = core::ToProtoTimestamp(At(2026, 12, 27, 10));
  v1::SetTimeResponse response;
  grpc::ClientContext context;
  Identify(&context, kAdmin);
  EXPECT_EQ(testing_->SetTime(&context, request, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(DeadlinesE2eTest, TwoReplicasFireEachStepExactlyOnce) {
  // A second broker on the same Redis, with its own testing clock.
  Replica second(At(2026, 12, 23, 10));
  service::BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.redis = harness_->redis_options();
  options.testing_clock = &second.clock;
  options.deadlines.interval = absl::Seconds(3600);
  absl::StatusOr<std::unique_ptr<service::BrokerServer>> started =
      service::BrokerServer::Start(
          options, *core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey));
  ASSERT_TRUE(started.ok()) << started.status();
  second.broker = *std::move(started);
  second.channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", second.broker->port()),
                          grpc::InsecureChannelCredentials());
  auto second_testing = v1::TestingService::NewStub(second.channel);

  std::vector<std::string> clocks;
  for (int i = 0; i < 6; ++i) clocks.push_back(ImpulseAcceptedByFk());
  // Both replicas move through the same times at once, racing to fire.
  int fired = 0;
  for (const absl::Time time :
       {At(2026, 12, 29, 8), At(2026, 12, 31, 0, 0, 1), At(2027, 1, 5, 1)}) {
    int fired_second = 0;
    std::thread other(
        [&] { fired_second = SetTime(time, second_testing.get()); });
    fired += SetTime(time);
    other.join();
    fired += fired_second;
  }
  second.broker->Shutdown(absl::Seconds(1));
  // Each clock: one warning, one breach, one escalation; no more, no less.
  EXPECT_EQ(fired, 3 * static_cast<int>(clocks.size()));
  for (const std::string& clock : clocks) {
    EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_WARNING, clock), 1) << clock;
    EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_BREACHED, clock), 1) << clock;
    EXPECT_EQ(EventsOf(v1::EVENT_TYPE_CLOCK_ESCALATED, clock), 1) << clock;
    EXPECT_EQ(GetClock(clock).escalation_level(), 2);
  }
}

TEST(TestingClockTest, OnlyABrokerStartedWithItServesTheTestingClock) {
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start();
  ASSERT_TRUE(harness.ok()) << harness.status();
  auto testing = v1::TestingService::NewStub((*harness)->channel());
  v1::SetTimeRequest request;
  *request.mutable_time() = core::ToProtoTimestamp(At(2030, 1, 1, 0));
  v1::SetTimeResponse response;
  grpc::ClientContext context;
  Identify(&context, kAdmin);
  EXPECT_EQ(testing->SetTime(&context, request, &response).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  // And never off loopback.
  core::ManualClock clock(At(2026, 12, 23, 10));
  service::BrokerOptions options;
  options.listen = "0.0.0.0:0";
  options.allow_remote_development_identity = true;
  options.testing_clock = &clock;
  const absl::StatusOr<std::unique_ptr<service::BrokerServer>> refused =
      service::BrokerServer::Start(
          options, *core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("testing clock"));
}

}  // namespace
}  // namespace slussen::testing

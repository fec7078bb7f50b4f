// The deadline keeper over the in-memory repository, driven through a real
// ReferralDesk and a fake clock: clocks written with the referral they
// belong to, firing as time passes (each step once, across replicas too),
// clocks met by a change, and pauses. The repository fires planned steps
// by itself as the Redis store does (FirePlanned), so most of these take
// production's path; the races of the keeper's own reading and writing,
// which it does for the clocks a store leaves it, are pinned over a store
// that fires none itself (ReadsAndWritesClocks). The rules and steps
// themselves are tested in deadlines_test.cc; the store's side of firing
// in tests/contract/ against the fake and a real redis-server.
#include "broker/core/desks/deadline_keeper.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryReferralRepository;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleImpulse;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const Caller kHalmstad{"kommun-halmstad-eb", v1::ROLE_AGENCY, "13", ""};
constexpr char kRegion[] = "13";
constexpr char kFkUnit[] = "fk-lfc-halmstad";

// A store that fires no planned steps itself (FirePlanned UNIMPLEMENTED),
// so that a keeper over it reads and writes every due clock: the path it
// takes in production for the clocks the store leaves it (written without
// a plan, a plan that stops short), whose races the tests over it pin.
class ReadsAndWritesClocks : public ForwardingReferralRepository {
 public:
  using ForwardingReferralRepository::ForwardingReferralRepository;

  absl::StatusOr<PlannedFiring> FirePlanned(const std::string&, absl::Time,
                                            absl::Time, int) override {
    return absl::UnimplementedError("the keeper reads and writes the clocks");
  }
};

// A repository that lets another replica act between this replica's read of
// a clock (GetClock, GetClocks or ListClocks) and its write: the hook runs
// once, right after the next such read, which the caller then holds stale.
// It fires no planned steps itself (a keeper over it reads every due clock);
// everything else is the inner repository's. Single-threaded tests only.
class InterleavingRepository final : public ReadsAndWritesClocks {
 public:
  explicit InterleavingRepository(ReferralRepository* inner)
      : ReadsAndWritesClocks(inner) {}

  void AfterNextClockRead(std::function<void()> hook) {
    hook_ = std::move(hook);
  }

  absl::StatusOr<std::vector<ClockRecord>> ListClocks(
      const std::string& region, const std::string& referral_id) override {
    absl::StatusOr<std::vector<ClockRecord>> read =
        inner()->ListClocks(region, referral_id);
    RunHook();
    return read;
  }
  absl::StatusOr<ClockRecord> GetClock(const std::string& region,
                                       const std::string& id) override {
    absl::StatusOr<ClockRecord> read = inner()->GetClock(region, id);
    RunHook();
    return read;
  }
  absl::StatusOr<std::vector<std::optional<ClockRecord>>> GetClocks(
      const std::string& region, const std::vector<std::string>& ids) override {
    absl::StatusOr<std::vector<std::optional<ClockRecord>>> read =
        inner()->GetClocks(region, ids);
    RunHook();
    return read;
  }
  // The batches of clock writes, as sizes.
  absl::StatusOr<std::vector<absl::Status>> ApplyClocks(
      const std::vector<ClockWrite>& writes) override {
    batches_.push_back(static_cast<int>(writes.size()));
    return inner()->ApplyClocks(writes);
  }
  const std::vector<int>& batches() const { return batches_; }

 private:
  void RunHook() {
    if (!hook_) return;
    std::function<void()> hook = std::move(hook_);
    hook_ = nullptr;
    hook();
  }

  std::function<void()> hook_;
  std::vector<int> batches_;
};

// A repository whose firing sweep finds only the clocks `ids` due: a
// replica that got to those first (reading and writing them itself).
class DueClocksOnly final : public ReadsAndWritesClocks {
 public:
  DueClocksOnly(ReferralRepository* inner, std::vector<std::string> ids)
      : ReadsAndWritesClocks(inner), ids_(std::move(ids)) {}

  absl::StatusOr<std::vector<std::string>> DueClocks(const std::string& region,
                                                     absl::Time now,
                                                     int limit) override {
    absl::StatusOr<std::vector<std::string>> due =
        inner()->DueClocks(region, now, limit);
    if (!due.ok()) return due;
    std::vector<std::string> only;
    for (const std::string& id : *due) {
      if (std::find(ids_.begin(), ids_.end(), id) != ids_.end()) {
        only.push_back(id);
      }
    }
    return only;
  }

 private:
  const std::vector<std::string> ids_;
};

// The steps a FiringObserver is told of, as (region, due, steps).
class RecordingObserver final : public FiringObserver {
 public:
  void OnStepsFired(const std::string& region, absl::Time due,
                    int steps) override {
    told.emplace_back(region, due, steps);
  }
  std::vector<std::tuple<std::string, absl::Time, int>> told;
};

class DeadlineKeeperTest : public ::testing::Test {
 protected:
  DeadlineKeeperTest()
      : calendar_(*SwedishCalendar::Create()),
        clock_(Local(2026, 12, 23, 10)),
        ids_(&clock_),
        pseudonymizer_(*Pseudonymizer::FromKey(std::string(40, 'k'))),
        keeper_(&repository_, &calendar_, DefaultDeadlineRuleSets()),
        desk_(&keeper_, &clock_, &ids_, &pseudonymizer_, &calendar_, audit_) {}

  // An instant in Stockholm local time.
  absl::Time Local(int y, int mo, int d, int h = 0, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                           calendar_.time_zone());
  }

  // Creates a referral through the desk (and so the keeper) now.
  ReferralName Create(const v1::CreateReferralRequest& request) {
    absl::StatusOr<v1::Referral> made =
        desk_.CreateReferral(kHalmstad, request);
    EXPECT_TRUE(made.ok()) << made.status();
    clock_.Advance(absl::Milliseconds(1));  // distinct, ordered ids
    absl::StatusOr<ReferralName> name =
        ParseReferralName("name", made.ok() ? made->name() : "");
    EXPECT_TRUE(name.ok()) << name.status();
    return name.value_or(ReferralName());
  }

  std::vector<ClockRecord> Clocks(const ReferralName& referral) {
    absl::StatusOr<std::vector<ClockRecord>> clocks =
        keeper_.ListClocks(referral.region, referral.id);
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    return clocks.value_or(std::vector<ClockRecord>());
  }

  // The referral's one clock of `kind`.
  ClockRecord ClockOf(const ReferralName& referral,
                      v1::ClockKind kind = v1::CLOCK_KIND_IMPULSE_CALL_BACK) {
    std::vector<ClockRecord> found;
    for (const ClockRecord& record : Clocks(referral)) {
      if (record.clock.kind() == kind) found.push_back(record);
    }
    EXPECT_EQ(found.size(), 1u) << v1::ClockKind_Name(kind);
    return found.empty() ? ClockRecord() : found[0];
  }

  // Moves the fake clock to `time` and fires what is due with `keeper`.
  int FireAt(absl::Time time, DeadlineKeeper* keeper = nullptr) {
    clock_.Set(time);
    absl::StatusOr<int> fired =
        (keeper == nullptr ? &keeper_ : keeper)->FireDue(kRegion, time);
    EXPECT_TRUE(fired.ok()) << fired.status();
    return fired.value_or(-1);
  }

  // The clock events written, in order.
  std::vector<v1::EventType> ClockEvents() const {
    std::vector<v1::EventType> types;
    for (const v1::Event& event : repository_.events()) {
      if (!event.clock().empty()) types.push_back(event.type());
    }
    return types;
  }

  // The change a provider's or the matcher's `action` makes now, moving the
  // referral to `to` and assigning it to `assigned`. The keeper does not
  // check the lifecycle (the desks do), so the test walks it by hand.
  ReferralChange Change(const ReferralRecord& read, v1::Action action,
                        v1::ReferralState to, const std::string& assigned) {
    ReferralChange change{.read = &read, .changed = read};
    v1::Transition* transition = change.changed.referral.add_history();
    transition->set_action(action);
    transition->set_from_state(read.referral.state());
    transition->set_to_state(to);
    *transition->mutable_time() = ToProtoTimestamp(clock_.Now());
    change.changed.referral.set_state(to);
    change.changed.assigned_organisation = assigned;
    change.event.set_type(v1::EVENT_TYPE_CONTACT_RECORDED);
    change.event.set_referral(read.referral.name());
    return change;
  }

  // Applies `action` through `keeper` on a fresh read.
  absl::StatusOr<int64_t> Act(const ReferralName& referral, v1::Action action,
                              v1::ReferralState to, const std::string& assigned,
                              DeadlineKeeper* keeper = nullptr) {
    DeadlineKeeper* k = keeper == nullptr ? &keeper_ : keeper;
    absl::StatusOr<ReferralRecord> read = k->Get(referral.region, referral.id);
    if (!read.ok()) return read.status();
    return k->Apply(Change(*read, action, to, assigned));
  }

  // Offered to the FK unit, accepted, and then contact recorded at `at`.
  void AcceptAndContactAt(const ReferralName& referral, absl::Time at) {
    ASSERT_TRUE(
        Act(referral, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, kFkUnit)
            .ok());
    ASSERT_TRUE(
        Act(referral, v1::ACTION_ACCEPT, v1::REFERRAL_STATE_ACCEPTED, kFkUnit)
            .ok());
    clock_.Set(at);
    const absl::StatusOr<int64_t> contact =
        Act(referral, v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
            kFkUnit);
    ASSERT_TRUE(contact.ok()) << contact.status();
  }

  // An impulse made now fires its warning five minutes late, then weeks
  // late its breach and escalation, through `keeper`: each step told to
  // its observer with the instant it was due.
  void ExpectEveryStepToldAtItsInstant(DeadlineKeeper& keeper) {
    Create(SampleImpulse());
    RecordingObserver observer;
    absl::StatusOr<int> fired =
        keeper.FireDue(kRegion, Local(2026, 12, 29, 0, 5), &observer);
    ASSERT_TRUE(fired.ok()) << fired.status();
    EXPECT_EQ(*fired, 1);
    fired = keeper.FireDue(kRegion, Local(2027, 2, 1), &observer);
    ASSERT_TRUE(fired.ok()) << fired.status();
    EXPECT_EQ(*fired, 2);
    using Told = std::tuple<std::string, absl::Time, int>;
    EXPECT_THAT(observer.told,
                ElementsAre(Told(kRegion, Local(2026, 12, 29), 1),
                            Told(kRegion, Local(2026, 12, 31), 1),
                            Told(kRegion, Local(2027, 1, 5), 1)));
    // Nothing due: nothing told.
    ASSERT_TRUE(keeper.FireDue(kRegion, Local(2027, 3, 1), &observer).ok());
    EXPECT_EQ(observer.told.size(), 3u);
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  UlidGenerator ids_;
  Pseudonymizer pseudonymizer_;
  InMemoryReferralRepository repository_;
  slussen::testing::InMemoryAuditRepository audit_;
  DeadlineKeeper keeper_;
  ReferralDesk desk_;
};

// ---------------------------------------------------------------------------
// Creating.

TEST_F(DeadlineKeeperTest, CreatingAnImpulseWritesItsCallBackClock) {
  const ReferralName referral = Create(SampleImpulse());
  const std::vector<ClockRecord> clocks = Clocks(referral);
  ASSERT_EQ(clocks.size(), 1u);
  const ClockRecord& record = clocks[0];
  EXPECT_EQ(record.region, kRegion);
  EXPECT_EQ(record.id, referral.id + "-1-0");
  EXPECT_EQ(record.version, 1);
  EXPECT_EQ(record.clock.name(), "regions/13/clocks/" + referral.id + "-1-0");
  EXPECT_EQ(record.clock.referral(), referral.ToString());
  EXPECT_EQ(record.clock.kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(record.clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(ToAbslTime(record.clock.start_time()), Local(2026, 12, 23, 10));
  EXPECT_EQ(ToAbslTime(record.clock.due_time()), Local(2026, 12, 31));
  EXPECT_EQ(record.next_fire, Local(2026, 12, 29));
  // The referral and its clock, and only the referral's event: a clock
  // starting is no news.
  EXPECT_TRUE(keeper_.Get(referral.region, referral.id).ok());
  ASSERT_EQ(repository_.events().size(), 1u);
  EXPECT_EQ(repository_.events()[0].type(), v1::EVENT_TYPE_REFERRAL_CREATED);
  const absl::StatusOr<std::vector<ClockRecord>> open =
      keeper_.ListOpenClocks(kRegion, 10);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 1u);
}

TEST_F(DeadlineKeeperTest, AReferralWithoutACreateRuleStartsNoClock) {
  const ReferralName referral = Create(SampleActivityReferral());
  EXPECT_THAT(Clocks(referral), IsEmpty());
}

TEST_F(DeadlineKeeperTest, ARetriedCreateStartsNoSecondClock) {
  v1::CreateReferralRequest request = SampleImpulse();
  request.set_request_id("impulse-1");
  const ReferralName first = Create(request);
  const ReferralName second = Create(request);
  EXPECT_EQ(second.id, first.id);
  const std::vector<ClockRecord> clocks = Clocks(first);
  ASSERT_EQ(clocks.size(), 1u);
  EXPECT_EQ(clocks[0].version, 1);
  const absl::StatusOr<std::vector<ClockRecord>> open =
      keeper_.ListOpenClocks(kRegion, 10);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), 1u);
}

// A referral that only waits is written QUEUED with its create (the match
// scheduler decides before the write). Under rules where QUEUE meets one
// clock and starts another, its clocks are those of a create followed by
// a QUEUE, and both events are written, in order.
TEST_F(DeadlineKeeperTest, AQueueWrittenWithTheCreateMakesTheClocksOfBoth) {
  v1::DeadlineRuleSet set;
  set.set_name("deadlineRuleSets/impulse/versions/1");
  set.set_referral_kind(v1::REFERRAL_KIND_IMPULSE);
  v1::ClockRule* call_back = set.add_rules();
  call_back->set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  call_back->set_start_on(v1::ACTION_CREATE);
  call_back->add_stop_on(v1::ACTION_QUEUE);
  call_back->set_length(3);
  call_back->set_unit(v1::DURATION_UNIT_WORKING_DAYS);
  call_back->set_awaited_role(v1::ROLE_PROVIDER);
  v1::ClockRule* start = set.add_rules();
  *start = *call_back;
  start->set_kind(v1::CLOCK_KIND_START);
  start->set_start_on(v1::ACTION_QUEUE);
  start->set_stop_on(0, v1::ACTION_RECORD_CONTACT);
  DeadlineKeeper keeper(&repository_, &calendar_, {set});
  ReferralDesk desk(&keeper, &clock_, &ids_, &pseudonymizer_, &calendar_,
                    audit_);
  const auto clocks_of = [&](const std::string& name) {
    const ReferralName parsed = *ParseReferralName("name", name);
    std::vector<std::pair<v1::ClockKind, v1::ClockState>> out;
    // Held in a variable: a range-for over *ListClocks(...) would iterate a
    // vector freed with its StatusOr at the end of the range's expression.
    const absl::StatusOr<std::vector<ClockRecord>> clocks =
        keeper.ListClocks(kRegion, parsed.id);
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    if (!clocks.ok()) return out;
    for (const ClockRecord& r : *clocks) {
      out.emplace_back(r.clock.kind(), r.clock.state());
    }
    return out;
  };

  // In two writes: created, then queued.
  const absl::StatusOr<v1::Referral> two =
      desk.CreateReferral(kHalmstad, SampleImpulse());
  ASSERT_TRUE(two.ok()) << two.status();
  const ReferralName two_name = *ParseReferralName("name", two->name());
  const absl::StatusOr<ReferralRecord> read =
      keeper.Get(two_name.region, two_name.id);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(
      keeper
          .Apply(Change(*read, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED, ""))
          .ok());
  const std::vector<std::pair<v1::ClockKind, v1::ClockState>> expected = {
      {v1::CLOCK_KIND_IMPULSE_CALL_BACK, v1::CLOCK_STATE_MET},
      {v1::CLOCK_KIND_START, v1::CLOCK_STATE_RUNNING}};
  ASSERT_EQ(clocks_of(two->name()), expected);

  // In one.
  clock_.Advance(absl::Milliseconds(1));
  const size_t events_before = repository_.events().size();
  const absl::StatusOr<v1::Referral> one = desk.CreateReferral(
      kHalmstad, SampleImpulse(), [](const ReferralRecord&) { return true; });
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->state(), v1::REFERRAL_STATE_QUEUED);
  ASSERT_EQ(one->history_size(), 2);
  EXPECT_EQ(one->history(1).action(), v1::ACTION_QUEUE);
  EXPECT_EQ(one->history(1).actor().role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(clocks_of(one->name()), expected);
  std::vector<v1::EventType> written;
  for (size_t i = events_before; i < repository_.events().size(); ++i) {
    written.push_back(repository_.events()[i].type());
  }
  // The QUEUE met the call-back clock, which says so as in two writes.
  EXPECT_THAT(written, ::testing::ElementsAre(v1::EVENT_TYPE_REFERRAL_CREATED,
                                              v1::EVENT_TYPE_REFERRAL_QUEUED,
                                              v1::EVENT_TYPE_CLOCK_MET));
}

// ---------------------------------------------------------------------------
// Firing as time passes.

TEST_F(DeadlineKeeperTest, FiresWarningBreachAndEscalationEachOnce) {
  const ReferralName referral = Create(SampleImpulse());
  EXPECT_EQ(FireAt(Local(2026, 12, 23, 10)), 0);
  EXPECT_EQ(FireAt(Local(2026, 12, 28, 23, 59)), 0);
  EXPECT_THAT(ClockEvents(), IsEmpty());

  EXPECT_EQ(FireAt(Local(2026, 12, 29)), 1);
  EXPECT_EQ(FireAt(Local(2026, 12, 29)), 0);
  EXPECT_EQ(FireAt(Local(2026, 12, 30, 23, 59)), 0);
  ASSERT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING));
  const v1::Event warning = repository_.events().back();
  EXPECT_EQ(warning.referral(), referral.ToString());
  EXPECT_EQ(warning.clock(), ClockOf(referral).clock.name());
  EXPECT_EQ(warning.clock_kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(ToAbslTime(warning.time()), Local(2026, 12, 29));
  EXPECT_EQ(warning.actor().role(), v1::ROLE_SYSTEM);
  EXPECT_TRUE(ClockOf(referral).clock.warned());
  EXPECT_EQ(ClockOf(referral).next_fire, Local(2026, 12, 31));

  EXPECT_EQ(FireAt(Local(2026, 12, 31)), 1);
  EXPECT_EQ(FireAt(Local(2026, 12, 31, 12)), 0);
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(ClockOf(referral).clock.escalation_level(), 1);
  // The coordinator at the end of Monday 2027-01-04 (nyårsafton, nyårsdagen
  // and the weekend are not working days).
  EXPECT_EQ(ClockOf(referral).next_fire, Local(2027, 1, 5));
  EXPECT_EQ(FireAt(Local(2027, 1, 4, 23, 59)), 0);
  EXPECT_EQ(FireAt(Local(2027, 1, 5)), 1);
  EXPECT_EQ(FireAt(Local(2027, 3, 1)), 0);

  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                         v1::EVENT_TYPE_CLOCK_BREACHED,
                                         v1::EVENT_TYPE_CLOCK_ESCALATED));
  const ClockRecord escalated = ClockOf(referral);
  EXPECT_EQ(escalated.clock.escalation_level(), 2);
  EXPECT_EQ(escalated.next_fire, std::nullopt);
  EXPECT_THAT(*keeper_.DueClocks(kRegion, Local(2030, 1, 1), 100), IsEmpty());
}

TEST_F(DeadlineKeeperTest, ABrokerDownForWeeksFiresEveryStepOnceInOrder) {
  Create(SampleImpulse());
  EXPECT_EQ(FireAt(Local(2027, 2, 1)), 3);
  EXPECT_EQ(FireAt(Local(2027, 2, 1)), 0);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                         v1::EVENT_TYPE_CLOCK_BREACHED,
                                         v1::EVENT_TYPE_CLOCK_ESCALATED));
  // Each at its step's instant, as the store's own firing has them.
  std::vector<absl::Time> times;
  for (const v1::Event& event : repository_.events()) {
    if (!event.clock().empty()) times.push_back(ToAbslTime(event.time()));
  }
  EXPECT_THAT(times, ElementsAre(Local(2026, 12, 29), Local(2026, 12, 31),
                                 Local(2027, 1, 5)));
}

// Each step fired is told with the instant it was due at, however late it
// fires: those the store fires by their plans, and those the keeper reads
// and writes itself (ExpectEveryStepToldAtItsInstant).
TEST_F(DeadlineKeeperTest, EveryStepTheStoreFiresIsToldAtItsInstant) {
  ExpectEveryStepToldAtItsInstant(keeper_);
}

TEST_F(DeadlineKeeperTest, EveryStepTheKeeperWritesIsToldAtItsInstant) {
  ReadsAndWritesClocks reading(&repository_);
  DeadlineKeeper keeper(&reading, &calendar_, DefaultDeadlineRuleSets());
  ExpectEveryStepToldAtItsInstant(keeper);
}

TEST_F(DeadlineKeeperTest, TwoReplicasFireEachStepOnceInTotal) {
  DeadlineKeeper other(&repository_, &calendar_, DefaultDeadlineRuleSets());
  for (int i = 0; i < 3; ++i) Create(SampleImpulse());
  for (const absl::Time step :
       {Local(2026, 12, 29), Local(2026, 12, 31), Local(2027, 1, 5)}) {
    const int first = FireAt(step, &other);
    const int second = FireAt(step, &keeper_);
    EXPECT_EQ(first + second, 3) << step;
  }
  EXPECT_EQ(FireAt(Local(2027, 3, 1), &other) + FireAt(Local(2027, 3, 1)), 0);
  std::map<v1::EventType, int> counts;
  for (v1::EventType type : ClockEvents()) ++counts[type];
  EXPECT_EQ(counts[v1::EVENT_TYPE_CLOCK_WARNING], 3);
  EXPECT_EQ(counts[v1::EVENT_TYPE_CLOCK_BREACHED], 3);
  EXPECT_EQ(counts[v1::EVENT_TYPE_CLOCK_ESCALATED], 3);
}

TEST_F(DeadlineKeeperTest,
       AStepFiredByAnotherReplicaAfterTheReadIsNotRepeated) {
  InterleavingRepository interleaved(&repository_);
  DeadlineKeeper slow(&interleaved, &calendar_, DefaultDeadlineRuleSets());
  const ReferralName referral = Create(SampleImpulse());

  // The slow replica reads the clock; the other fires the warning before
  // the slow one writes: its write loses, and the re-read finds nothing due.
  int fast_fired = -1;
  interleaved.AfterNextClockRead(
      [&] { fast_fired = *keeper_.FireDue(kRegion, Local(2026, 12, 29)); });
  EXPECT_EQ(FireAt(Local(2026, 12, 29), &slow), 0);
  EXPECT_EQ(fast_fired, 1);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING));

  // Weeks late: the other fires all the rest in between.
  interleaved.AfterNextClockRead(
      [&] { fast_fired = *keeper_.FireDue(kRegion, Local(2027, 2, 1)); });
  EXPECT_EQ(FireAt(Local(2027, 2, 1), &slow), 0);
  EXPECT_EQ(fast_fired, 2);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                         v1::EVENT_TYPE_CLOCK_BREACHED,
                                         v1::EVENT_TYPE_CLOCK_ESCALATED));
  EXPECT_EQ(ClockOf(referral).clock.escalation_level(), 2);
}

TEST_F(DeadlineKeeperTest,
       ABatchWritesTheStepsAnotherReplicaDidNotFireAndCountsOnlyThose) {
  InterleavingRepository interleaved(&repository_);
  DeadlineKeeper slow(&interleaved, &calendar_, DefaultDeadlineRuleSets());
  const ReferralName first = Create(SampleImpulse());
  const ReferralName second = Create(SampleImpulse());
  const ReferralName third = Create(SampleImpulse());
  // The other replica's sweep got to the second clock only.
  DueClocksOnly only_second(&repository_, {ClockOf(second).id});
  DeadlineKeeper fast(&only_second, &calendar_, DefaultDeadlineRuleSets());

  // The slow replica reads the three clocks due; before it writes, the
  // other fires the second's warning.
  int fast_fired = -1;
  interleaved.AfterNextClockRead(
      [&] { fast_fired = *fast.FireDue(kRegion, Local(2026, 12, 29)); });
  EXPECT_EQ(FireAt(Local(2026, 12, 29), &slow), 2);
  EXPECT_EQ(fast_fired, 1);
  // One batch of three writes, the second lost; read again, that clock
  // has nothing more due, so nothing more is written.
  EXPECT_THAT(interleaved.batches(), ElementsAre(3));
  std::map<std::string, int> warnings;
  for (const v1::Event& event : repository_.events()) {
    if (event.type() == v1::EVENT_TYPE_CLOCK_WARNING) ++warnings[event.clock()];
  }
  EXPECT_THAT(warnings, ElementsAre(std::pair(ClockOf(first).clock.name(), 1),
                                    std::pair(ClockOf(second).clock.name(), 1),
                                    std::pair(ClockOf(third).clock.name(), 1)));
  for (const ReferralName& referral : {first, second, third}) {
    EXPECT_TRUE(ClockOf(referral).clock.warned());
    EXPECT_EQ(ClockOf(referral).version, 2);
  }
}

TEST_F(DeadlineKeeperTest, AClockOverdueByDaysIsReadOnceAndStepsInRounds) {
  InterleavingRepository counted(&repository_);
  DeadlineKeeper keeper(&counted, &calendar_, DefaultDeadlineRuleSets());
  for (int i = 0; i < 4; ++i) Create(SampleImpulse());
  EXPECT_EQ(FireAt(Local(2027, 2, 1), &keeper), 12);
  // Warnings, breaches, escalations: a batch each; then nothing to write.
  EXPECT_THAT(counted.batches(), ElementsAre(4, 4, 4));
}

TEST_F(DeadlineKeeperTest, ConcurrentReplicasFireEachStepExactlyOnce) {
  constexpr int kReferrals = 10;
  for (int i = 0; i < kReferrals; ++i) Create(SampleImpulse());
  DeadlineKeeper a(&repository_, &calendar_, DefaultDeadlineRuleSets());
  DeadlineKeeper b(&repository_, &calendar_, DefaultDeadlineRuleSets());
  const absl::Time late = Local(2027, 2, 1);
  absl::StatusOr<int> fired_a = 0;
  absl::StatusOr<int> fired_b = 0;
  std::thread ta([&] { fired_a = a.FireDue(kRegion, late); });
  std::thread tb([&] { fired_b = b.FireDue(kRegion, late); });
  ta.join();
  tb.join();
  ASSERT_TRUE(fired_a.ok()) << fired_a.status();
  ASSERT_TRUE(fired_b.ok()) << fired_b.status();
  EXPECT_EQ(*fired_a + *fired_b, 3 * kReferrals);
  std::map<std::pair<std::string, v1::EventType>, int> per_clock;
  for (const v1::Event& event : repository_.events()) {
    if (!event.clock().empty()) ++per_clock[{event.clock(), event.type()}];
  }
  EXPECT_EQ(per_clock.size(), 3u * kReferrals);
  for (const auto& [key, count] : per_clock) {
    EXPECT_EQ(count, 1) << key.first << " " << v1::EventType_Name(key.second);
  }
}

// A clock written without a plan (by a broker from before plans) is one
// the store cannot fire: it hands it back, and the keeper fires it and
// writes it with its plan, so that its later steps are the store's.
TEST_F(DeadlineKeeperTest, AClockWithoutAPlanIsFiredByTheKeeperThenPlanned) {
  class WithoutPlans final : public ForwardingReferralRepository {
   public:
    using ForwardingReferralRepository::ForwardingReferralRepository;
    using ReferralRepository::Create;
    absl::StatusOr<CreateOutcome> Create(
        const ReferralRecord& record, const std::vector<v1::Event>& events,
        const std::optional<IdempotencyKey>& key,
        const std::vector<ClockWrite>& clocks) override {
      std::vector<ClockWrite> unplanned = clocks;
      for (ClockWrite& write : unplanned) write.plan.clear();
      return inner()->Create(record, events, key, unplanned);
    }
  };
  WithoutPlans old_broker(&repository_);
  DeadlineKeeper old_keeper(&old_broker, &calendar_, DefaultDeadlineRuleSets());
  ReferralDesk old_desk(&old_keeper, &clock_, &ids_, &pseudonymizer_,
                        &calendar_, audit_);
  const absl::StatusOr<v1::Referral> made =
      old_desk.CreateReferral(kHalmstad, SampleImpulse());
  ASSERT_TRUE(made.ok()) << made.status();
  const ReferralName referral = *ParseReferralName("name", made->name());
  const std::string id = ClockOf(referral).id;

  const absl::StatusOr<PlannedFiring> left = repository_.FirePlanned(
      kRegion, Local(2026, 12, 29), Local(2026, 12, 29), 10);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(left->steps, 0);
  EXPECT_THAT(left->unplanned, ElementsAre(id));

  EXPECT_EQ(FireAt(Local(2026, 12, 29)), 1);
  EXPECT_TRUE(ClockOf(referral).clock.warned());
  const absl::StatusOr<PlannedFiring> breach = repository_.FirePlanned(
      kRegion, Local(2026, 12, 31), Local(2026, 12, 31), 10);
  ASSERT_TRUE(breach.ok()) << breach.status();
  EXPECT_EQ(breach->steps, 1);
  EXPECT_THAT(breach->unplanned, IsEmpty());
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                         v1::EVENT_TYPE_CLOCK_BREACHED));
}

// ---------------------------------------------------------------------------
// Changes that meet, close or reassign clocks.

TEST_F(DeadlineKeeperTest, ContactMeetsTheClockAndTakesItOffTheSweep) {
  const ReferralName referral = Create(SampleImpulse());
  ASSERT_TRUE(
      Act(referral, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, kFkUnit)
          .ok());
  // The offer starts its answer clock and the call-back clock now awaits
  // the FK unit offered it.
  EXPECT_EQ(ClockOf(referral).clock.awaited_organisation(), kFkUnit);
  const ClockRecord offer = ClockOf(referral, v1::CLOCK_KIND_OFFER_ANSWER);
  EXPECT_EQ(offer.id, referral.id + "-5-1");
  EXPECT_EQ(offer.clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(offer.clock.awaited_organisation(), kFkUnit);

  ASSERT_TRUE(
      Act(referral, v1::ACTION_ACCEPT, v1::REFERRAL_STATE_ACCEPTED, kFkUnit)
          .ok());
  EXPECT_EQ(ClockOf(referral, v1::CLOCK_KIND_OFFER_ANSWER).clock.state(),
            v1::CLOCK_STATE_MET);
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_RUNNING);

  clock_.Set(Local(2026, 12, 28, 14));
  const absl::StatusOr<int64_t> contact =
      Act(referral, v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
          kFkUnit);
  ASSERT_TRUE(contact.ok()) << contact.status();
  const ClockRecord met = ClockOf(referral);
  EXPECT_EQ(met.clock.state(), v1::CLOCK_STATE_MET);
  EXPECT_EQ(ToAbslTime(met.clock.stop_time()), Local(2026, 12, 28, 14));
  EXPECT_EQ(met.next_fire, std::nullopt);

  std::vector<std::pair<v1::EventType, v1::ClockKind>> clock_events;
  for (const v1::Event& event : repository_.events()) {
    if (!event.clock().empty()) {
      clock_events.emplace_back(event.type(), event.clock_kind());
    }
  }
  EXPECT_THAT(clock_events,
              ElementsAre(std::pair(v1::EVENT_TYPE_CLOCK_MET,
                                    v1::CLOCK_KIND_OFFER_ANSWER),
                          std::pair(v1::EVENT_TYPE_CLOCK_MET,
                                    v1::CLOCK_KIND_IMPULSE_CALL_BACK)));
  EXPECT_EQ(repository_.events().back().clock(), met.clock.name());

  EXPECT_THAT(*keeper_.DueClocks(kRegion, Local(2030, 1, 1), 100), IsEmpty());
  EXPECT_THAT(*keeper_.ListOpenClocks(kRegion, 100), IsEmpty());
  EXPECT_EQ(FireAt(Local(2027, 3, 1)), 0);
  EXPECT_EQ(ClockEvents().size(), 2u);
}

TEST_F(DeadlineKeeperTest, ContactAfterTheBreachIsMetLateAndEndsEscalation) {
  const ReferralName referral = Create(SampleImpulse());
  EXPECT_EQ(FireAt(Local(2026, 12, 31, 8)), 2);  // warning and breach
  AcceptAndContactAt(referral, Local(2026, 12, 31, 9));
  const ClockRecord met = ClockOf(referral);
  EXPECT_EQ(met.clock.state(), v1::CLOCK_STATE_MET_LATE);
  EXPECT_EQ(met.clock.escalation_level(), 1);
  EXPECT_EQ(FireAt(Local(2027, 3, 1)), 0);
  EXPECT_THAT(
      ClockEvents(),
      ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING, v1::EVENT_TYPE_CLOCK_BREACHED,
                  v1::EVENT_TYPE_CLOCK_MET, v1::EVENT_TYPE_CLOCK_MET));
}

TEST_F(DeadlineKeeperTest, AChangeWhoseClockWriteLosesIsNotWrittenAtAll) {
  InterleavingRepository interleaved(&repository_);
  DeadlineKeeper slow(&interleaved, &calendar_, DefaultDeadlineRuleSets());
  const ReferralName referral = Create(SampleImpulse());
  ASSERT_TRUE(
      Act(referral, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, kFkUnit)
          .ok());
  ASSERT_TRUE(
      Act(referral, v1::ACTION_ACCEPT, v1::REFERRAL_STATE_ACCEPTED, kFkUnit)
          .ok());
  const ReferralRecord before = *keeper_.Get(referral.region, referral.id);

  // Between the slow keeper's read of the clocks and its write, another
  // replica fires the warning: the change, referral and all, is refused.
  interleaved.AfterNextClockRead(
      [&] { ASSERT_EQ(*keeper_.FireDue(kRegion, Local(2026, 12, 29, 9)), 1); });
  clock_.Set(Local(2026, 12, 29, 9));
  const absl::StatusOr<int64_t> lost =
      Act(referral, v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED,
          kFkUnit, &slow);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  const ReferralRecord after = *keeper_.Get(referral.region, referral.id);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.referral.history_size(), before.referral.history_size());
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_MET,  // offer
                                         v1::EVENT_TYPE_CLOCK_WARNING));

  // Tried again on a fresh read, it meets the clock.
  ASSERT_TRUE(Act(referral, v1::ACTION_RECORD_CONTACT,
                  v1::REFERRAL_STATE_ACCEPTED, kFkUnit, &slow)
                  .ok());
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_MET);
}

TEST_F(DeadlineKeeperTest, AStaleChangeLeavesTheClockRunning) {
  const ReferralName referral = Create(SampleImpulse());
  const ReferralRecord stale = *keeper_.Get(referral.region, referral.id);
  ASSERT_TRUE(
      Act(referral, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED, "").ok());
  const absl::StatusOr<int64_t> refused = keeper_.Apply(Change(
      stale, v1::ACTION_RECORD_CONTACT, v1::REFERRAL_STATE_ACCEPTED, kFkUnit));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ClockOf(referral).clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_THAT(ClockEvents(), IsEmpty());
}

TEST_F(DeadlineKeeperTest, CancellingThroughTheDeskClosesTheClock) {
  const ReferralName early = Create(SampleImpulse());
  const ReferralName late = Create(SampleImpulse());
  const auto cancel = [&](const ReferralName& referral) {
    v1::CancelReferralRequest request;
    request.set_name(referral.ToString());
    request.set_reason(v1::CANCEL_REASON_NO_LONGER_NEEDED);
    const absl::StatusOr<v1::Referral> cancelled =
        desk_.CancelReferral(kHalmstad, request);
    ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  };
  clock_.Set(Local(2026, 12, 28, 9));
  cancel(early);
  EXPECT_EQ(ClockOf(early).clock.state(), v1::CLOCK_STATE_CANCELLED);
  EXPECT_EQ(ClockOf(early).next_fire, std::nullopt);

  clock_.Set(Local(2027, 1, 2, 9));
  cancel(late);
  const ClockRecord closed = ClockOf(late);
  EXPECT_EQ(closed.clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_FALSE(IsOpen(closed.clock));
  EXPECT_EQ(closed.next_fire, std::nullopt);
  // Closing is no clock event, and nothing fires after it.
  EXPECT_THAT(ClockEvents(), IsEmpty());
  EXPECT_EQ(FireAt(Local(2027, 3, 1)), 0);
  EXPECT_THAT(*keeper_.ListOpenClocks(kRegion, 100), IsEmpty());
}

// ---------------------------------------------------------------------------
// Pauses.

TEST_F(DeadlineKeeperTest, APausedClockDoesNotFireAndResumesTwoDaysLater) {
  const ReferralName referral = Create(SampleImpulse());
  const std::string id = ClockOf(referral).id;

  const absl::StatusOr<ClockRecord> paused =
      keeper_.Pause(kRegion, id, v1::DELAY_CAUSE_PARTICIPANT, "sjuk", kHalmstad,
                    Local(2026, 12, 28, 9));
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->clock.state(), v1::CLOCK_STATE_PAUSED);
  EXPECT_EQ(paused->next_fire, std::nullopt);
  EXPECT_EQ(paused->version, 2);
  const ClockRecord stored = ClockOf(referral);
  EXPECT_EQ(stored.version, 2);
  EXPECT_EQ(stored.clock.state(), v1::CLOCK_STATE_PAUSED);
  ASSERT_EQ(stored.clock.pauses_size(), 1);
  EXPECT_EQ(stored.clock.pauses(0).actor().organisation(),
            "kommun-halmstad-eb");
  EXPECT_EQ(stored.clock.pauses(0).note(), "sjuk");
  // Past the warning and the due time as first set: nothing.
  EXPECT_EQ(FireAt(Local(2026, 12, 29, 12)), 0);
  EXPECT_EQ(FireAt(Local(2026, 12, 30, 8)), 0);

  const absl::StatusOr<ClockRecord> resumed =
      keeper_.Resume(kRegion, id, Local(2026, 12, 30, 9));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->clock.state(), v1::CLOCK_STATE_RUNNING);
  EXPECT_EQ(ToAbslTime(resumed->clock.due_time()), Local(2027, 1, 2));
  EXPECT_EQ(ToAbslTime(resumed->clock.warn_time()), Local(2026, 12, 31));
  EXPECT_EQ(resumed->next_fire, Local(2026, 12, 31));
  EXPECT_EQ(ClockOf(referral).version, 3);

  EXPECT_EQ(FireAt(Local(2026, 12, 30, 23, 59)), 0);
  EXPECT_EQ(FireAt(Local(2026, 12, 31)), 1);
  EXPECT_EQ(FireAt(Local(2027, 1, 1, 23, 59)), 0);
  EXPECT_EQ(FireAt(Local(2027, 1, 2)), 1);
  EXPECT_THAT(ClockEvents(), ElementsAre(v1::EVENT_TYPE_CLOCK_WARNING,
                                         v1::EVENT_TYPE_CLOCK_BREACHED));
  EXPECT_EQ(PausedFor(ClockOf(referral).clock, v1::DELAY_CAUSE_PARTICIPANT,
                      Local(2027, 1, 2)),
            absl::Hours(48));
}

TEST_F(DeadlineKeeperTest, PauseAndResumeRefuseWhatTheyCannotDo) {
  const ReferralName referral = Create(SampleImpulse());
  const std::string id = ClockOf(referral).id;
  const absl::Time now = Local(2026, 12, 28, 9);
  EXPECT_EQ(keeper_
                .Pause(kRegion, referral.id + "-9-9",
                       v1::DELAY_CAUSE_PARTICIPANT, "", kHalmstad, now)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(keeper_.Resume(kRegion, id, now).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      keeper_
          .Pause(kRegion, id, v1::DELAY_CAUSE_PARTICIPANT, "", kHalmstad, now)
          .ok());
  EXPECT_EQ(keeper_
                .Pause(kRegion, id, v1::DELAY_CAUSE_PROVIDER, "", kHalmstad,
                       now + absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Refusals write nothing.
  EXPECT_EQ(ClockOf(referral).version, 2);
}

}  // namespace
}  // namespace slussen::core

// The ReferralRepository contract, clocks: written with a version check
// (ABORTED when stale, NOT_FOUND when gone), read one by one or together,
// listed per referral, due by their next firing, open by due time from any
// position, started in a half-open range; and planned steps fired by the
// store itself (FirePlanned): each step once, in order, not before its
// instant, its event stamped with it, prepared ahead and withdrawn by a
// write, clocks it cannot fire handed back untouched, at most a limit of
// clocks a call, soonest first, each step told by the instant it was due
// at; and the open clocks counted by kind and stage as reading them would
// find them, through writes, pauses, closings and steps fired. Clocks with
// plans are made as production makes them: by the deadline keeper, with
// the referral they belong to.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/referral_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/contract/repository_contract.h"
#include "tests/support/sample_records.h"

namespace slussen::core {

// For failures: a tally and a firing's steps as text.
void PrintTo(const ClockTally& tally, std::ostream* os) {
  *os << slussen::v1::ClockKind_Name(tally.kind) << "/"
      << ClockStageName(tally.stage) << ": " << tally.clocks;
}
void PrintTo(const StepsAt& at, std::ostream* os) {
  *os << at.steps << " at " << at.at;
}

}  // namespace slussen::core

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::ClockRecord;
using core::ClockStage;
using core::ClockTally;
using core::ClockWrite;
using core::PlannedFiring;
using core::StepsAt;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kRegion[] = "13";
const absl::Time kStart = absl::FromUnixSeconds(1'780'000'000);

// A status of `code`, for the outcomes of a batch.
::testing::Matcher<const absl::Status&> HasCode(absl::StatusCode code) {
  return ::testing::Property(&absl::Status::code, code);
}

// The clock of referral "ref<n>" (SampleClock), written without a plan:
// started `start_hours` after kStart, due `due_hours` after it, its next
// firing `next_hours` after it (none when negative).
ClockWrite NewClock(int n, int due_hours = 72, int next_hours = 48,
                    int start_hours = 0) {
  const absl::Time start = kStart + absl::Hours(start_hours);
  ClockWrite write = SampleClock(n, kRegion, start, absl::Hours(due_hours));
  write.record.next_fire.reset();
  if (next_hours >= 0) write.record.next_fire = start + absl::Hours(next_hours);
  return write;
}

// Open clocks of `kind` at `stage`, `clocks` of them.
ClockTally Tally(ClockStage stage, int64_t clocks,
                 v1::ClockKind kind = v1::CLOCK_KIND_IMPULSE_CALL_BACK) {
  return {.kind = kind, .stage = stage, .clocks = clocks};
}

// The open clocks of `clocks` by kind and stage, as CountClocks gives them.
std::vector<ClockTally> TallyOf(const std::vector<v1::Clock>& clocks) {
  std::map<std::pair<v1::ClockKind, ClockStage>, int64_t> counts;
  for (const v1::Clock& clock : clocks) {
    if (core::IsOpen(clock)) ++counts[{clock.kind(), core::StageOf(clock)}];
  }
  std::vector<ClockTally> out;
  for (const auto& [key, n] : counts) {
    out.push_back({.kind = key.first, .stage = key.second, .clocks = n});
  }
  return out;
}

std::vector<std::string> IdsOf(const std::vector<ClockRecord>& clocks) {
  std::vector<std::string> ids;
  for (const ClockRecord& clock : clocks) ids.push_back(clock.id);
  return ids;
}

// The clock events of `events`, in order: (clock, type, time).
using ClockEventKey = std::tuple<std::string, v1::EventType, absl::Time>;
std::vector<ClockEventKey> ClockEvents(const std::vector<v1::Event>& events) {
  std::vector<ClockEventKey> out;
  for (const v1::Event& event : events) {
    if (event.clock().empty()) continue;
    out.emplace_back(event.clock(), event.type(),
                     core::ToAbslTime(event.time()));
  }
  return out;
}

// The clocks under test: the repository, with a keeper that makes
// referrals and their planned clocks as production does, in Stockholm.
class Clocks {
 public:
  explicit Clocks(core::ReferralRepository& referrals)
      : referrals_(referrals),
        calendar_(*core::SwedishCalendar::Create()),
        keeper_(&referrals, &calendar_, core::DefaultDeadlineRuleSets()) {}

  core::ReferralRepository& referrals() { return referrals_; }
  const core::SwedishCalendar& calendar() const { return calendar_; }

  absl::Time Local(int y, int mo, int d, int h = 0, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                           calendar_.time_zone());
  }

  // Referral SampleId(n) of `kind` made at `at` through the keeper: its
  // clocks, as read back.
  std::vector<ClockRecord> Arrive(
      int n, absl::Time at, v1::ReferralKind kind = v1::REFERRAL_KIND_IMPULSE) {
    const core::ReferralRecord record =
        SampleRecord(kRegion, SampleId(n), kind, v1::REFERRAL_STATE_RECEIVED,
                     "kommun-halmstad-eb", at);
    const absl::StatusOr<core::CreateOutcome> made =
        keeper_.Create(record, CreatedEvent(record), std::nullopt);
    EXPECT_TRUE(made.ok()) << made.status();
    const absl::StatusOr<std::vector<ClockRecord>> clocks =
        referrals_.ListClocks(kRegion, record.id);
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    return clocks.value_or(std::vector<ClockRecord>());
  }

  // The impulse of Wednesday 2026-12-23 at 10:00: its one clock, warned on
  // the 29th, breached on the 31st, escalated on 2027-01-05.
  ClockRecord ChristmasImpulse(int n = 1) {
    const std::vector<ClockRecord> clocks = Arrive(n, Local(2026, 12, 23, 10));
    EXPECT_EQ(clocks.size(), 1u);
    return clocks.empty() ? ClockRecord() : clocks[0];
  }

  ClockRecord MustGet(const std::string& id) {
    const absl::StatusOr<ClockRecord> got = referrals_.GetClock(kRegion, id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.value_or(ClockRecord());
  }

  PlannedFiring MustFire(absl::Time now,
                         absl::Duration ahead = absl::ZeroDuration(),
                         int limit = 10) {
    const absl::StatusOr<PlannedFiring> fired =
        referrals_.FirePlanned(kRegion, now, now + ahead, limit);
    EXPECT_TRUE(fired.ok()) << fired.status();
    int by_instant = 0;
    for (const StepsAt& at : fired->fired) by_instant += at.steps;
    EXPECT_EQ(by_instant, fired->steps) << "the steps by instant add up";
    return fired.value_or(PlannedFiring());
  }

  // FirePlanned at `now` until a call takes fewer clocks than its limit;
  // the steps fired, and (if given) added to `*by_instant` by the instant
  // each was due at.
  int FireAll(absl::Time now, absl::Duration ahead = absl::ZeroDuration(),
              int limit = 7, std::map<absl::Time, int>* by_instant = nullptr) {
    int steps = 0;
    for (int call = 0; call < 1000; ++call) {
      const PlannedFiring fired = MustFire(now, ahead, limit);
      EXPECT_THAT(fired.unplanned, IsEmpty());
      steps += fired.steps;
      for (const StepsAt& at : fired.fired) {
        if (by_instant != nullptr) (*by_instant)[at.at] += at.steps;
      }
      if (fired.clocks < limit) break;
    }
    return steps;
  }

  // The region's open clocks counted (CountClocks), which must succeed.
  std::vector<ClockTally> MustCount() {
    const absl::StatusOr<std::vector<ClockTally>> counted =
        referrals_.CountClocks(kRegion);
    EXPECT_TRUE(counted.ok()) << counted.status();
    return counted.value_or(std::vector<ClockTally>());
  }

  // `read` paused at `at` as the keeper writes a pause: with its (empty)
  // plan.
  ClockWrite Paused(const ClockRecord& read, absl::Time at) const {
    const absl::StatusOr<v1::Clock> paused = core::PauseClock(
        read.clock, v1::DELAY_CAUSE_PARTICIPANT, "", v1::Actor(), at);
    EXPECT_TRUE(paused.ok()) << paused.status();
    ClockWrite write{.record = read};
    write.record.clock = paused.value_or(read.clock);
    core::ScheduleClock(&write, calendar_);
    return write;
  }

 private:
  core::ReferralRepository& referrals_;
  const core::SwedishCalendar calendar_;
  core::DeadlineKeeper keeper_;
};

// --- Writes and reads -------------------------------------------------------

TEST_P(ReferralRepositoryContract, ClocksAreReadBackAsWrittenOneOrManyAtOnce) {
  const absl::StatusOr<std::vector<absl::Status>> written =
      referrals().ApplyClocks({NewClock(1), NewClock(2)});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_THAT(*written, ElementsAre(HasCode(absl::StatusCode::kOk),
                                    HasCode(absl::StatusCode::kOk)));
  const absl::StatusOr<ClockRecord> one =
      referrals().GetClock(kRegion, "ref1-1-0");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->region, kRegion);
  EXPECT_EQ(one->version, 1);
  EXPECT_EQ(one->clock.SerializeAsString(),
            NewClock(1).record.clock.SerializeAsString());
  EXPECT_EQ(one->next_fire, kStart + absl::Hours(48));
  EXPECT_EQ(referrals().GetClock(kRegion, "ref9-1-0").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(referrals().GetClock("12", "ref1-1-0").status().code(),
            absl::StatusCode::kNotFound);

  const absl::StatusOr<std::vector<std::optional<ClockRecord>>> many =
      referrals().GetClocks(kRegion, {"ref2-1-0", "ref9-1-0", "ref1-1-0"});
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 3u);
  ASSERT_TRUE((*many)[0].has_value());
  EXPECT_EQ((*many)[0]->id, "ref2-1-0");
  EXPECT_FALSE((*many)[1].has_value());
  ASSERT_TRUE((*many)[2].has_value());
  EXPECT_EQ((*many)[2]->id, "ref1-1-0");

  const absl::StatusOr<std::vector<ClockRecord>> of_one =
      referrals().ListClocks(kRegion, "ref2");
  ASSERT_TRUE(of_one.ok()) << of_one.status();
  EXPECT_THAT(IdsOf(*of_one), ElementsAre("ref2-1-0"));
  const absl::StatusOr<std::vector<std::vector<ClockRecord>>> of_each =
      referrals().ListClocksOfEach(kRegion, {"ref2", "ref9", "ref1"});
  ASSERT_TRUE(of_each.ok()) << of_each.status();
  ASSERT_EQ(of_each->size(), 3u);
  EXPECT_THAT(IdsOf((*of_each)[0]), ElementsAre("ref2-1-0"));
  EXPECT_THAT((*of_each)[1], IsEmpty());
  EXPECT_THAT(IdsOf((*of_each)[2]), ElementsAre("ref1-1-0"));
}

TEST_P(ReferralRepositoryContract, AClockWriteOnAStaleVersionIsAborted) {
  ASSERT_TRUE(referrals().ApplyClock(NewClock(1)).ok());
  ClockWrite warned = NewClock(1);
  warned.record.version = 1;
  warned.record.clock.set_warned(true);
  const absl::StatusOr<int64_t> written = referrals().ApplyClock(warned);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, 2);

  // The same write again (read at 1), a new clock on a taken id, and a
  // change of a clock that is not there.
  EXPECT_EQ(referrals().ApplyClock(warned).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(referrals().ApplyClock(NewClock(1)).status().code(),
            absl::StatusCode::kAborted);
  ClockWrite missing = NewClock(2);
  missing.record.version = 1;
  EXPECT_EQ(referrals().ApplyClock(missing).status().code(),
            absl::StatusCode::kNotFound);
  // Many at once: each checked on its own, the rest written.
  ClockWrite again = warned;
  again.record.version = 2;
  again.record.clock.set_escalation_level(1);
  const absl::StatusOr<std::vector<absl::Status>> batch =
      referrals().ApplyClocks({warned, again, missing, NewClock(3)});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(*batch, ElementsAre(HasCode(absl::StatusCode::kAborted),
                                  HasCode(absl::StatusCode::kOk),
                                  HasCode(absl::StatusCode::kNotFound),
                                  HasCode(absl::StatusCode::kOk)));
  const absl::StatusOr<ClockRecord> read =
      referrals().GetClock(kRegion, "ref1-1-0");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->version, 3);
  EXPECT_EQ(read->clock.escalation_level(), 1);
  EXPECT_EQ(referrals().GetClock(kRegion, "ref2-1-0").status().code(),
            absl::StatusCode::kNotFound);
}

// A change with a clock that is not at the version it read writes nothing:
// not the referral, not its event.
TEST_P(ReferralRepositoryContract, ACreateWhoseClockIsTakenWritesNothing) {
  ASSERT_TRUE(referrals().ApplyClock(NewClock(1)).ok());
  const core::ReferralRecord record = SampleRecord(kRegion, SampleId(1));
  const absl::StatusOr<core::CreateOutcome> refused = referrals().Create(
      record, CreatedEvent(record), std::nullopt, {NewClock(1)});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted)
      << refused.status();
  EXPECT_EQ(referrals().Get(kRegion, record.id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(Events(kRegion), IsEmpty());
}

TEST_P(ReferralRepositoryContract, DueClocksAreThoseWhoseFiringCameSoonest) {
  ASSERT_TRUE(referrals()
                  .ApplyClocks({NewClock(1, 72, 48), NewClock(2, 72, 24),
                                NewClock(3, 72, 72), NewClock(4, 72, -1),
                                NewClock(5, 72, 24)})
                  .ok());
  const auto due = [&](absl::Duration after, int limit) {
    const absl::StatusOr<std::vector<std::string>> ids =
        referrals().DueClocks(kRegion, kStart + after, limit);
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.value_or(std::vector<std::string>());
  };
  EXPECT_THAT(due(absl::Hours(24) - absl::Milliseconds(1), 10), IsEmpty());
  EXPECT_THAT(due(absl::Hours(24), 10), ElementsAre("ref2-1-0", "ref5-1-0"));
  EXPECT_THAT(due(absl::Hours(1000), 10),
              ElementsAre("ref2-1-0", "ref5-1-0", "ref1-1-0", "ref3-1-0"));
  EXPECT_THAT(due(absl::Hours(1000), 3),
              ElementsAre("ref2-1-0", "ref5-1-0", "ref1-1-0"));
  const absl::StatusOr<std::vector<std::string>> other =
      referrals().DueClocks("12", kStart + absl::Hours(1000), 10);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*other, IsEmpty());
}

// The coordinator's worklist: open clocks by due time, then id, a page at a
// time from the last one seen, also when that one has closed since.
TEST_P(ReferralRepositoryContract, OpenClocksComeByDueTimeFromAnyPosition) {
  // Due: ref1 +72h, ref2 +24h, ref3 +72h, ref4 +96h, ref5 +24h; ref6 met.
  std::vector<ClockWrite> writes = {NewClock(1, 72), NewClock(2, 24),
                                    NewClock(3, 72), NewClock(4, 96),
                                    NewClock(5, 24), NewClock(6, 10)};
  writes[5].record.clock.set_state(v1::CLOCK_STATE_MET);
  writes[5].record.next_fire.reset();
  ASSERT_TRUE(referrals().ApplyClocks(writes).ok());
  const std::vector<std::string> order = {"ref2-1-0", "ref5-1-0", "ref1-1-0",
                                          "ref3-1-0", "ref4-1-0"};
  const absl::StatusOr<std::vector<ClockRecord>> all =
      referrals().ListOpenClocks(kRegion, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(IdsOf(*all), order);
  const absl::StatusOr<std::vector<ClockRecord>> none =
      referrals().ListOpenClocks(kRegion, 0);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  for (const int limit : {1, 2, 3}) {
    std::vector<std::string> walked;
    std::optional<core::OpenClockPosition> after;
    for (int call = 0; call < 10; ++call) {
      const absl::StatusOr<std::vector<ClockRecord>> page =
          referrals().ListOpenClocks(kRegion, after, limit);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->size(), static_cast<size_t>(limit));
      if (page->empty()) break;
      for (const ClockRecord& clock : *page) walked.push_back(clock.id);
      after = core::OpenClockPosition{
          core::ToAbslTime(page->back().clock.due_time()), page->back().id};
    }
    EXPECT_EQ(walked, order) << "by " << limit;
  }

  // ref5, the last seen, is met before the next page is asked for.
  const absl::StatusOr<ClockRecord> ref5 =
      referrals().GetClock(kRegion, "ref5-1-0");
  ASSERT_TRUE(ref5.ok()) << ref5.status();
  ClockWrite met{.record = *ref5};
  met.record.clock.set_state(v1::CLOCK_STATE_MET);
  met.record.next_fire.reset();
  ASSERT_TRUE(referrals().ApplyClock(met).ok());
  const absl::StatusOr<std::vector<ClockRecord>> rest =
      referrals().ListOpenClocks(
          kRegion,
          core::OpenClockPosition{kStart + absl::Hours(24), "ref5-1-0"}, 10);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_THAT(IdsOf(*rest), ElementsAre("ref1-1-0", "ref3-1-0", "ref4-1-0"));
}

TEST_P(ReferralRepositoryContract, ClocksStartedAreListedInAHalfOpenRange) {
  ASSERT_TRUE(
      referrals()
          .ApplyClocks({NewClock(1, 72, 48, 5), NewClock(2, 72, 48, 0),
                        NewClock(3, 72, 48, 10), NewClock(4, 72, 48, 5)})
          .ok());
  const auto started = [&](int from, int to, int limit) {
    const absl::StatusOr<std::vector<ClockRecord>> clocks =
        referrals().ListClocksStarted(kRegion, kStart + absl::Hours(from),
                                      kStart + absl::Hours(to), limit);
    EXPECT_TRUE(clocks.ok()) << clocks.status();
    return IdsOf(clocks.value_or(std::vector<ClockRecord>()));
  };
  EXPECT_THAT(started(0, 10, 10),
              ElementsAre("ref2-1-0", "ref1-1-0", "ref4-1-0"));
  EXPECT_THAT(started(5, 11, 10),
              ElementsAre("ref1-1-0", "ref4-1-0", "ref3-1-0"));
  EXPECT_THAT(started(0, 11, 2), ElementsAre("ref2-1-0", "ref1-1-0"));
  EXPECT_THAT(started(11, 20, 10), IsEmpty());
}

// --- Planned firing ---------------------------------------------------------

TEST_P(ReferralRepositoryContract, PlannedStepsFireAtTheirInstantOnceInOrder) {
  Clocks clocks(referrals());
  const ClockRecord read = clocks.ChristmasImpulse();
  EXPECT_EQ(read.version, 1);
  const absl::Time warn = clocks.Local(2026, 12, 29);
  const absl::Time breach = clocks.Local(2026, 12, 31);
  const absl::Time escalate = clocks.Local(2027, 1, 5);
  ASSERT_EQ(read.next_fire, warn);

  EXPECT_EQ(clocks.MustFire(warn - absl::Milliseconds(1)).steps, 0);
  PlannedFiring fired = clocks.MustFire(warn);
  EXPECT_EQ(fired.clocks, 1);
  EXPECT_EQ(fired.steps, 1);
  EXPECT_THAT(fired.fired, ElementsAre(StepsAt{warn, 1}));
  EXPECT_THAT(fired.unplanned, IsEmpty());
  EXPECT_THAT(clocks.MustFire(warn).fired, IsEmpty());
  ClockRecord now = clocks.MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, 2);
  EXPECT_EQ(now.next_fire, breach);

  // Weeks late: the rest at once, each stamped and told with its own
  // instant.
  fired = clocks.MustFire(clocks.Local(2027, 2, 1));
  EXPECT_EQ(fired.steps, 2);
  EXPECT_THAT(fired.fired,
              ElementsAre(StepsAt{breach, 1}, StepsAt{escalate, 1}));
  EXPECT_EQ(clocks.MustFire(clocks.Local(2027, 3, 1)).steps, 0);
  now = clocks.MustGet(read.id);
  EXPECT_EQ(now.clock.state(), v1::CLOCK_STATE_BREACHED);
  EXPECT_EQ(now.clock.escalation_level(), 2);
  EXPECT_EQ(now.version, 4);
  EXPECT_EQ(now.next_fire, std::nullopt);
  const std::string& name = read.clock.name();
  EXPECT_THAT(
      ClockEvents(Events(kRegion)),
      ElementsAre(
          ClockEventKey(name, v1::EVENT_TYPE_CLOCK_WARNING, warn),
          ClockEventKey(name, v1::EVENT_TYPE_CLOCK_BREACHED, breach),
          ClockEventKey(name, v1::EVENT_TYPE_CLOCK_ESCALATED, escalate)));
  const absl::StatusOr<std::vector<std::string>> due =
      referrals().DueClocks(kRegion, clocks.Local(2030, 1, 1), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_THAT(*due, IsEmpty());
}

TEST_P(ReferralRepositoryContract, APreparedStepFiresOnlyWhenItsInstantComes) {
  Clocks clocks(referrals());
  const ClockRecord read = clocks.ChristmasImpulse();
  const absl::Time warn = clocks.Local(2026, 12, 29);
  // An hour before the warning, preparing two hours ahead.
  PlannedFiring fired = clocks.MustFire(warn - absl::Hours(1), absl::Hours(2));
  EXPECT_EQ(fired.clocks, 1);
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(ClockEvents(Events(kRegion)), IsEmpty());
  // Read meanwhile it is as it was; it is due by none of the sweeps.
  ClockRecord now = clocks.MustGet(read.id);
  EXPECT_EQ(now.clock.SerializeAsString(), read.clock.SerializeAsString());
  EXPECT_EQ(now.version, read.version);
  EXPECT_EQ(now.next_fire, warn);
  EXPECT_EQ(clocks.MustFire(warn - absl::Milliseconds(1)).steps, 0);

  fired = clocks.MustFire(warn);
  EXPECT_EQ(fired.steps, 1);
  EXPECT_THAT(fired.fired, ElementsAre(StepsAt{warn, 1}));
  now = clocks.MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  EXPECT_EQ(clocks.MustFire(warn).steps, 0);
  EXPECT_THAT(ClockEvents(Events(kRegion)),
              ElementsAre(ClockEventKey(read.clock.name(),
                                        v1::EVENT_TYPE_CLOCK_WARNING, warn)));
}

TEST_P(ReferralRepositoryContract, AWriteWithdrawsItsClocksPreparedSteps) {
  Clocks clocks(referrals());
  const ClockRecord one = clocks.ChristmasImpulse(1);
  const ClockRecord two = clocks.ChristmasImpulse(2);
  const absl::Time warn = clocks.Local(2026, 12, 29);
  // Warnings and breaches prepared; then both paused on the versions read
  // (preparing moved neither), one alone and one in a batch.
  ASSERT_EQ(clocks.MustFire(warn - absl::Hours(1), absl::Hours(72)).steps, 0);
  EXPECT_THAT(clocks.MustCount(), ElementsAre(Tally(ClockStage::kOpen, 2)));
  const absl::Time pause = warn - absl::Minutes(30);
  EXPECT_TRUE(referrals().ApplyClock(clocks.Paused(one, pause)).ok());
  const absl::StatusOr<std::vector<absl::Status>> batch =
      referrals().ApplyClocks({clocks.Paused(two, pause)});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(*batch, ElementsAre(HasCode(absl::StatusCode::kOk)));

  EXPECT_EQ(clocks.FireAll(clocks.Local(2027, 1, 31)), 0);
  EXPECT_THAT(ClockEvents(Events(kRegion)), IsEmpty());
  // Paused before the warning: neither takes a step, nor is counted as if.
  EXPECT_THAT(clocks.MustCount(), ElementsAre(Tally(ClockStage::kOpen, 2)));
  for (const ClockRecord& read : {one, two}) {
    const ClockRecord now = clocks.MustGet(read.id);
    EXPECT_EQ(now.clock.state(), v1::CLOCK_STATE_PAUSED);
    EXPECT_FALSE(now.clock.warned());
    EXPECT_EQ(now.version, read.version + 1);
  }
}

TEST_P(ReferralRepositoryContract, AClockReadBeforeAStepIsStaleAfterIt) {
  Clocks clocks(referrals());
  const ClockRecord read = clocks.ChristmasImpulse();
  EXPECT_EQ(clocks.FireAll(clocks.Local(2026, 12, 29)), 1);
  ClockWrite met{.record = read};
  met.record.clock.set_state(v1::CLOCK_STATE_MET);
  core::ScheduleClock(&met, clocks.calendar());
  EXPECT_EQ(referrals().ApplyClock(met).status().code(),
            absl::StatusCode::kAborted);
  const absl::StatusOr<std::vector<absl::Status>> batch =
      referrals().ApplyClocks({met});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_THAT(*batch, ElementsAre(HasCode(absl::StatusCode::kAborted)));
  EXPECT_TRUE(clocks.MustGet(read.id).clock.warned());
}

// Counted as reading every open clock would find it: a clock counts from
// its write, moves on with each step the store fires (and with the
// keeper's own writes), keeps its stage while paused, and stops counting
// when met.
TEST_P(ReferralRepositoryContract, OpenClocksAreCountedByKindAndStage) {
  Clocks clocks(referrals());
  EXPECT_THAT(clocks.MustCount(), IsEmpty());
  const ClockRecord one = clocks.ChristmasImpulse(1);
  const ClockRecord two = clocks.ChristmasImpulse(2);
  const std::vector<ClockRecord> joint = clocks.Arrive(
      3, clocks.Local(2026, 12, 23, 10), v1::REFERRAL_KIND_JOINT_MAPPING);
  ASSERT_EQ(joint.size(), 1u);
  const ClockTally joint_open =
      Tally(ClockStage::kOpen, 1, v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING);
  EXPECT_THAT(clocks.MustCount(),
              ElementsAre(Tally(ClockStage::kOpen, 2), joint_open));

  const absl::Time warn = clocks.Local(2026, 12, 29);
  EXPECT_EQ(clocks.FireAll(warn), 2);
  EXPECT_THAT(clocks.MustCount(),
              ElementsAre(Tally(ClockStage::kWarned, 2), joint_open));
  // One paused after its warning keeps it; the other is met: not open.
  EXPECT_TRUE(
      referrals().ApplyClock(clocks.Paused(clocks.MustGet(one.id), warn)).ok());
  ClockWrite met{.record = clocks.MustGet(two.id)};
  met.record.clock.set_state(v1::CLOCK_STATE_MET);
  core::ScheduleClock(&met, clocks.calendar());
  EXPECT_TRUE(referrals().ApplyClock(met).ok());
  EXPECT_THAT(clocks.MustCount(),
              ElementsAre(Tally(ClockStage::kWarned, 1), joint_open));

  // Weeks on: the paused one has not moved; the joint mapping's clock
  // (10 arbetsdagar) has warned, breached and escalated.
  EXPECT_EQ(clocks.FireAll(clocks.Local(2027, 2, 1)), 3);
  EXPECT_THAT(clocks.MustCount(),
              ElementsAre(Tally(ClockStage::kWarned, 1),
                          Tally(ClockStage::kEscalated, 1,
                                v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING)));

  // A clock the keeper writes itself (no plan): breached as written.
  ClockWrite breached = NewClock(4);
  breached.record.clock.set_warned(true);
  breached.record.clock.set_state(v1::CLOCK_STATE_BREACHED);
  breached.record.clock.set_escalation_level(1);
  ASSERT_TRUE(referrals().ApplyClocks({breached}).ok());
  EXPECT_THAT(clocks.MustCount(),
              ElementsAre(Tally(ClockStage::kWarned, 1),
                          Tally(ClockStage::kBreached, 1),
                          Tally(ClockStage::kEscalated, 1,
                                v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING)));
  const absl::StatusOr<std::vector<ClockTally>> other =
      referrals().CountClocks("12");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(*other, IsEmpty());
}

// A clock written without a plan (by a broker from before plans) is handed
// back once due, untouched; one not yet due is not.
TEST_P(ReferralRepositoryContract, AClockWithoutAPlanIsHandedBackWhenDue) {
  ASSERT_TRUE(
      referrals().ApplyClocks({NewClock(1, 72, 48), NewClock(2, 72, 60)}).ok());
  Clocks clocks(referrals());
  const PlannedFiring fired =
      clocks.MustFire(kStart + absl::Hours(48), absl::Hours(24));
  EXPECT_EQ(fired.clocks, 2);
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(fired.unplanned, ElementsAre("ref1-1-0"));
  const ClockRecord now = clocks.MustGet("ref1-1-0");
  EXPECT_EQ(now.version, 1);
  EXPECT_EQ(now.next_fire, kStart + absl::Hours(48));
  EXPECT_FALSE(now.clock.warned());
  EXPECT_THAT(Events(kRegion), IsEmpty());
}

// A plan that stops short of the clock's last step (PlanSteps' limit): its
// steps fire, and the clock is handed back when the step after is due.
TEST_P(ReferralRepositoryContract, APlanStoppingShortHandsBackItsTail) {
  Clocks clocks(referrals());
  const ClockRecord read = clocks.ChristmasImpulse();
  ClockWrite cut{.record = read};
  core::ScheduleClock(&cut, clocks.calendar());
  ASSERT_GE(cut.plan.size(), 2u);
  cut.after_plan = cut.plan[1].at;
  cut.plan.resize(1);
  ASSERT_TRUE(referrals().ApplyClock(cut).ok());

  EXPECT_EQ(clocks.FireAll(clocks.Local(2026, 12, 29)), 1);
  const ClockRecord warned = clocks.MustGet(read.id);
  EXPECT_TRUE(warned.clock.warned());
  EXPECT_EQ(warned.next_fire, clocks.Local(2026, 12, 31));
  EXPECT_EQ(clocks.FireAll(clocks.Local(2026, 12, 30, 23)), 0);
  const PlannedFiring fired = clocks.MustFire(clocks.Local(2026, 12, 31));
  EXPECT_EQ(fired.steps, 0);
  EXPECT_THAT(fired.unplanned, ElementsAre(read.id));
  EXPECT_EQ(clocks.MustGet(read.id).version, warned.version);
}

TEST_P(ReferralRepositoryContract, ACallTakesItsLimitOfClocksSoonestFirst) {
  Clocks clocks(referrals());
  std::vector<std::string> ids;  // warned an hour apart, in this order
  for (int n = 0; n < 5; ++n) {
    ids.push_back(
        clocks.Arrive(n, clocks.Local(2026, 12, 23, 10 + n)).at(0).id);
  }
  const absl::Time now = clocks.Local(2026, 12, 29, 23);
  std::vector<int> taken;
  for (int call = 0; call < 4; ++call) {
    const PlannedFiring fired = clocks.MustFire(now, absl::ZeroDuration(), 2);
    EXPECT_EQ(fired.steps, fired.clocks);
    taken.push_back(fired.clocks);
    if (call == 0) {
      for (size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(clocks.MustGet(ids[i]).clock.warned(), i < 2) << ids[i];
      }
    }
  }
  EXPECT_THAT(taken, ElementsAre(2, 2, 1, 0));
  for (const std::string& id : ids) {
    EXPECT_TRUE(clocks.MustGet(id).clock.warned()) << id;
  }
}

// The region has fired up to noon when a clock is written whose warning
// was due at midnight (written late, or by a replica whose clock is
// behind): it is not taken as fired until it is, and then at once.
TEST_P(ReferralRepositoryContract, AStepWrittenAfterTheRegionFiredPastItFires) {
  Clocks clocks(referrals());
  EXPECT_EQ(clocks.MustFire(clocks.Local(2026, 12, 29, 12)).steps, 0);
  const ClockRecord read = clocks.ChristmasImpulse();
  EXPECT_FALSE(read.clock.warned());
  EXPECT_EQ(read.next_fire, clocks.Local(2026, 12, 29));
  const PlannedFiring fired =
      clocks.MustFire(clocks.Local(2026, 12, 29, 11), absl::Hours(24));
  EXPECT_EQ(fired.steps, 1);
  const ClockRecord now = clocks.MustGet(read.id);
  EXPECT_TRUE(now.clock.warned());
  EXPECT_EQ(now.version, read.version + 1);
  EXPECT_THAT(
      ClockEvents(Events(kRegion)),
      ElementsAre(ClockEventKey(read.clock.name(), v1::EVENT_TYPE_CLOCK_WARNING,
                                clocks.Local(2026, 12, 29))));
}

// Impulses and joint mappings arriving every 7 hours over four days before
// Christmas, fired every 6 hours (preparing `ahead`) until every clock
// has escalated: read between calls, every clock is as Fire leaves it, its
// version one more for each step, and the events (`events` reads them)
// are Fire's, each once.
void ExpectEveryStepFiredAsFireWouldTakeIt(
    core::ReferralRepository& referrals, absl::Duration ahead,
    const std::function<std::vector<v1::Event>()>& events) {
  Clocks clocks(referrals);
  std::map<std::string, v1::Clock> expected;  // by clock id
  std::map<std::string, int64_t> versions;
  int n = 0;
  for (absl::Time at = clocks.Local(2026, 12, 18);
       at < clocks.Local(2026, 12, 22); at += absl::Hours(7)) {
    for (const v1::ReferralKind kind :
         {v1::REFERRAL_KIND_IMPULSE, v1::REFERRAL_KIND_JOINT_MAPPING}) {
      const std::vector<ClockRecord> made = clocks.Arrive(++n, at, kind);
      ASSERT_FALSE(made.empty()) << v1::ReferralKind_Name(kind);
      for (const ClockRecord& clock : made) {
        expected[clock.id] = clock.clock;
        versions[clock.id] = clock.version;
      }
    }
  }
  std::multiset<std::tuple<std::string, int, int64_t>> expected_events;
  std::map<absl::Time, int> expected_by_instant, by_instant;
  int expected_steps = 0;
  int steps = 0;
  for (absl::Time now = clocks.Local(2026, 12, 18);
       now < clocks.Local(2027, 2, 1); now += absl::Hours(6)) {
    for (auto& [id, clock] : expected) {
      for (int step = 0; step < 8; ++step) {
        const std::optional<absl::Time> at =
            core::NextFireTime(clock, clocks.calendar());
        const std::optional<core::Firing> firing =
            core::Fire(clock, now, clocks.calendar());
        if (!firing.has_value() || !at.has_value()) break;
        clock = firing->clock;
        expected_events.emplace(clock.name(), firing->event,
                                absl::ToUnixMillis(*at));
        ++expected_by_instant[*at];
        ++expected_steps;
        ++versions[id];
      }
    }
    steps += clocks.FireAll(now, ahead, 7, &by_instant);
    ASSERT_EQ(steps, expected_steps) << "at " << now;
    ASSERT_EQ(by_instant, expected_by_instant) << "at " << now;
    std::vector<v1::Clock> all;
    for (const auto& [id, clock] : expected) all.push_back(clock);
    ASSERT_EQ(clocks.MustCount(), TallyOf(all)) << "at " << now;
    for (const auto& [id, clock] : expected) {
      const ClockRecord stored = clocks.MustGet(id);
      ASSERT_EQ(stored.clock.SerializeAsString(), clock.SerializeAsString())
          << id << " at " << now << "\n"
          << stored.clock.DebugString() << "expected\n"
          << clock.DebugString();
      EXPECT_EQ(stored.next_fire, core::NextFireTime(clock, clocks.calendar()))
          << id << " at " << now;
      EXPECT_EQ(stored.version, versions[id]) << id << " at " << now;
    }
  }
  EXPECT_EQ(expected_steps, 3 * static_cast<int>(expected.size()));
  std::multiset<std::tuple<std::string, int, int64_t>> written;
  for (const auto& [clock, type, at] : ClockEvents(events())) {
    written.emplace(clock, type, absl::ToUnixMillis(at));
  }
  EXPECT_EQ(written, expected_events);
}

TEST_P(ReferralRepositoryContract, EveryStepIsFiredAsFireWouldTakeIt) {
  ExpectEveryStepFiredAsFireWouldTakeIt(referrals(), absl::ZeroDuration(),
                                        [&] { return Events(kRegion); });
}

TEST_P(ReferralRepositoryContract, EveryStepPreparedAheadIsFiredAsFireWould) {
  // More than two calls ahead: most steps are prepared by one call and
  // appended by a later one.
  ExpectEveryStepFiredAsFireWouldTakeIt(referrals(), absl::Hours(13),
                                        [&] { return Events(kRegion); });
}

}  // namespace
}  // namespace slussen::testing

#include "broker/core/desks/deadline_keeper.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// Lost races on one clock before giving up on it for this tick.
constexpr int kMaxAttempts = 5;
// Steps one clock may take in one tick (warning, breach, escalation: 3),
// so that a faulty step cannot hold the ticker in a loop.
constexpr int kMaxStepsPerClock = 8;

v1::Actor Broker() {
  v1::Actor actor;
  actor.set_organisation("slussen");
  actor.set_role(v1::ROLE_SYSTEM);
  return actor;
}

}  // namespace

v1::Event ClockEvent(const v1::Clock& clock, v1::EventType type,
                     absl::Time now) {
  v1::Event event;
  event.set_type(type);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_actor() = Broker();
  event.set_referral(clock.referral());
  event.set_clock(clock.name());
  event.set_clock_kind(clock.kind());
  event.set_referring_organisation(clock.referring_organisation());
  event.set_provider_organisation(clock.awaited_organisation());
  event.set_protected_personal_data(clock.protected_personal_data());
  return event;
}

void ScheduleClock(ClockWrite* write, const SwedishCalendar& calendar) {
  const v1::Clock& clock = write->record.clock;
  write->record.next_fire = NextFireTime(clock, calendar);
  write->plan = PlanSteps(clock, calendar);
  write->plan_event.Clear();
  write->after_plan.reset();
  if (write->plan.empty()) return;
  v1::Clock after = clock;
  for (const PlannedStep& step : write->plan) after.MergeFrom(step.set);
  write->after_plan = NextFireTime(after, calendar);
  // A step's event is this with its type and time (the firing's).
  write->plan_event =
      ClockEvent(clock, v1::EVENT_TYPE_UNSPECIFIED, absl::UnixEpoch());
  write->plan_event.clear_time();
}

DeadlineKeeper::DeadlineKeeper(ReferralRepository* inner,
                               const SwedishCalendar* calendar,
                               std::vector<v1::DeadlineRuleSet> built_in,
                               DeadlineRuleRepository* rules)
    : ForwardingReferralRepository(inner),
      calendar_(calendar),
      built_in_(std::move(built_in)),
      rules_(rules),
      all_(built_in_),
      effective_(
          std::make_shared<const std::vector<v1::DeadlineRuleSet>>(built_in_)) {
}

namespace {

// "impulse" of "deadlineRuleSets/impulse/versions/1".
std::string RuleSetIdOf(const v1::DeadlineRuleSet& set) {
  const std::vector<std::string> parts = absl::StrSplit(set.name(), '/');
  return parts.size() == 4 ? parts[1] : set.name();
}

}  // namespace

std::vector<v1::DeadlineRuleSet> DeadlineKeeper::rule_sets() const {
  absl::MutexLock lock(&mu_);
  return all_;
}

absl::Status DeadlineKeeper::RefreshRuleSets() {
  if (rules_ == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::vector<StoredRuleSet> stored, rules_->ListAll());
  std::set<std::string> built_in_ids;
  for (const v1::DeadlineRuleSet& set : built_in_) {
    built_in_ids.insert(RuleSetIdOf(set));
  }
  // Stored versions follow the built-in version 1 of their id.
  std::vector<v1::DeadlineRuleSet> all;
  for (const StoredRuleSet& s : stored) {
    v1::DeadlineRuleSet set = s.set;
    set.set_name(absl::StrCat("deadlineRuleSets/", s.id, "/versions/",
                              s.index + (built_in_ids.count(s.id) ? 1 : 0)));
    all.push_back(std::move(set));
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return ToAbslTime(a.create_time()) > ToAbslTime(b.create_time());
  });
  all.insert(all.end(), built_in_.begin(), built_in_.end());
  // The newest of each id, newest first, so that RuleSetFor prefers it.
  std::vector<v1::DeadlineRuleSet> effective;
  std::set<std::string> seen;
  for (const v1::DeadlineRuleSet& set : all) {
    if (seen.insert(RuleSetIdOf(set)).second) effective.push_back(set);
  }
  absl::MutexLock lock(&mu_);
  all_ = std::move(all);
  effective_ = std::make_shared<const std::vector<v1::DeadlineRuleSet>>(
      std::move(effective));
  return absl::OkStatus();
}

absl::StatusOr<v1::DeadlineRuleSet> DeadlineKeeper::AddRuleSetVersion(
    const std::string& id, v1::DeadlineRuleSet set, const Caller& caller,
    absl::Time now) {
  if (rules_ == nullptr) {
    return absl::FailedPreconditionError(
        "this broker keeps no deadline rule versions");
  }
  RETURN_IF_ERROR(ValidateCode("rule_set_id", id));
  set.clear_name();
  set.clear_create_time();
  set.clear_created_by();
  RETURN_IF_ERROR(ValidateDeadlineRuleSet(set));
  RETURN_IF_ERROR(RefreshRuleSets());
  for (const v1::DeadlineRuleSet& existing : rule_sets()) {
    if (RuleSetIdOf(existing) != id) continue;
    if (existing.referral_kind() != set.referral_kind() ||
        existing.framework_agreement() != set.framework_agreement()) {
      return InvalidField(
          "rule_set.referral_kind",
          absl::StrCat("must stay that of ", existing.name(), " (",
                       v1::ReferralKind_Name(existing.referral_kind()),
                       existing.framework_agreement().empty()
                           ? ""
                           : absl::StrCat(", ", existing.framework_agreement()),
                       "); use a new rule_set_id for another"),
          v1::ReferralKind_Name(set.referral_kind()));
    }
    break;
  }
  *set.mutable_create_time() = ToProtoTimestamp(now);
  *set.mutable_created_by() = caller.ToActor();
  RETURN_IF_ERROR(rules_->Append(id, set).status());
  RETURN_IF_ERROR(RefreshRuleSets());
  for (const v1::DeadlineRuleSet& added : rule_sets()) {
    if (RuleSetIdOf(added) == id) return added;  // the newest of the id
  }
  return absl::InternalError("a rule set version added was not read back");
}

std::shared_ptr<const v1::DeadlineRuleSet> DeadlineKeeper::RuleSetOf(
    const v1::Referral& referral) const {
  std::shared_ptr<const std::vector<v1::DeadlineRuleSet>> effective;
  {
    absl::MutexLock lock(&mu_);
    effective = effective_;
  }
  const v1::DeadlineRuleSet* set = RuleSetFor(*effective, referral);
  if (set == nullptr) return nullptr;
  return std::shared_ptr<const v1::DeadlineRuleSet>(std::move(effective), set);
}

std::vector<ClockWrite> DeadlineKeeper::WritesFor(
    const ReferralRecord& changed, const v1::Transition& transition, int index,
    const std::vector<ClockRecord>& existing, const v1::Offer* offer) {
  std::vector<v1::Clock> open;
  std::vector<const ClockRecord*> open_records;
  for (const ClockRecord& record : existing) {
    if (!IsOpen(record.clock)) continue;
    open.push_back(record.clock);
    open_records.push_back(&record);
  }
  const std::shared_ptr<const v1::DeadlineRuleSet> rules =
      RuleSetOf(changed.referral);
  const ClockUpdates updates =
      ClocksAfter(rules.get(), changed.referral, changed.assigned_organisation,
                  transition, open, *calendar_);
  const absl::Time now = ToAbslTime(transition.time());
  std::vector<ClockWrite> writes;
  for (size_t i = 0; i < updates.changed.size(); ++i) {
    // ClocksAfter keeps the order of `open`: find the record by name.
    const v1::Clock& clock = updates.changed[i];
    const ClockRecord* read = nullptr;
    for (const ClockRecord* r : open_records) {
      if (r->clock.name() == clock.name()) read = r;
    }
    if (read == nullptr) continue;
    ClockWrite write{.record = *read};
    write.record.clock = clock;
    ScheduleClock(&write, *calendar_);
    if (updates.changed_events[i] != v1::EVENT_TYPE_UNSPECIFIED) {
      write.event = ClockEvent(clock, updates.changed_events[i], now);
    }
    writes.push_back(std::move(write));
  }
  for (const v1::Clock& started : updates.started) {
    ClockWrite write;
    write.record.region = changed.region;
    write.record.id = absl::StrCat(
        changed.id, "-", static_cast<int>(started.kind()), "-", index);
    write.record.clock = started;
    if (offer != nullptr && offer->has_hold_expire_time() &&
        started.kind() == v1::CLOCK_KIND_OFFER_ANSWER) {
      // The provider is late when the hold runs out; warned at 3/4.
      const absl::Time start = ToAbslTime(started.start_time());
      const absl::Time due = ToAbslTime(offer->hold_expire_time());
      *write.record.clock.mutable_due_time() = ToProtoTimestamp(due);
      *write.record.clock.mutable_warn_time() =
          ToProtoTimestamp(start + (due - start) * 3 / 4);
    }
    write.record.clock.set_name(
        ClockName{changed.region, write.record.id, changed.id}.ToString());
    ScheduleClock(&write, *calendar_);
    writes.push_back(std::move(write));
  }
  return writes;
}

absl::StatusOr<CreateOutcome> DeadlineKeeper::Create(
    const ReferralRecord& record, const std::vector<v1::Event>& events,
    const std::optional<IdempotencyKey>& key,
    const std::vector<ClockWrite>& clocks) {
  // Each transition of the new referral's history in turn (the create's,
  // and a decision written with it), on the referral as it stood after
  // that transition and the clocks the ones before it left.
  std::vector<ClockWrite> made;
  const int transitions = record.referral.history_size();
  for (int index = 0; index < transitions; ++index) {
    const v1::Transition& transition = record.referral.history(index);
    // The record itself after its last transition (the usual create has
    // one), unless its state is not that transition's.
    std::optional<ReferralRecord> before_later;
    if (index + 1 < transitions ||
        record.referral.state() != transition.to_state()) {
      before_later = record;
      before_later->referral.mutable_history()->DeleteSubrange(
          index + 1, transitions - index - 1);
      before_later->referral.set_state(transition.to_state());
    }
    const ReferralRecord& at = before_later ? *before_later : record;
    std::vector<ClockRecord> existing;
    for (const ClockWrite& write : made) existing.push_back(write.record);
    for (ClockWrite& write : WritesFor(at, transition, index, existing)) {
      const auto same = std::find_if(
          made.begin(), made.end(), [&](const ClockWrite& earlier) {
            return earlier.record.id == write.record.id;
          });
      if (same == made.end()) {
        made.push_back(std::move(write));
      } else {
        // Only the clock as it ends up is written; an event of the earlier
        // step is kept unless the later one has its own.
        if (!write.event.has_value()) write.event = std::move(same->event);
        *same = std::move(write);
      }
    }
  }
  std::vector<ClockWrite> all = clocks;
  for (ClockWrite& write : made) all.push_back(std::move(write));
  return inner()->Create(record, events, key, all);
}

absl::StatusOr<int64_t> DeadlineKeeper::Apply(const ReferralChange& change) {
  const int before = change.read->referral.history_size();
  const int after = change.changed.referral.history_size();
  if (after <= before) return inner()->Apply(change);
  ASSIGN_OR_RETURN(const std::vector<ClockRecord> existing,
                   inner()->ListClocks(change.read->region, change.read->id));
  ReferralChange with_clocks = change;
  const v1::Offer* offer =
      change.offer.has_value() && change.offer_read == nullptr
          ? &change.offer->offer
          : nullptr;
  for (ClockWrite& write :
       WritesFor(change.changed, change.changed.referral.history(after - 1),
                 after - 1, existing, offer)) {
    with_clocks.clocks.push_back(std::move(write));
  }
  return inner()->Apply(with_clocks);
}

std::optional<ClockWrite> DeadlineKeeper::NextWrite(ClockRecord read,
                                                    absl::Time now,
                                                    bool rewrite) const {
  const std::optional<absl::Time> stored_next = read.next_fire;
  ClockWrite write{.record = std::move(read)};
  // A step's event has the time of its instant, as the store's own firing
  // gives it (FirePlanned), however late it fires.
  const std::optional<absl::Time> at =
      NextFireTime(write.record.clock, *calendar_);
  const std::optional<v1::EventType> event =
      FireInPlace(&write.record.clock, now, *calendar_);
  if (event.has_value()) {
    write.event = ClockEvent(write.record.clock, *event,
                             at.has_value() ? std::min(*at, now) : now);
  }
  ScheduleClock(&write, *calendar_);
  if (!event.has_value() && !rewrite && write.record.next_fire == stored_next) {
    return std::nullopt;
  }
  return write;
}

namespace {

// A due clock as FireDue follows it from round to round.
struct DueClock {
  std::string id;
  // The clock as this call wrote it, so the next round need not read it
  // again; nullopt: read it (the first round, or after a lost race).
  std::optional<ClockRecord> known;
  // Left by the store's own firing: written in any case (NextWrite).
  bool rewrite = false;
  int lost = 0;   // races lost to another replica
  int steps = 0;  // steps fired by this call
};

}  // namespace

absl::StatusOr<int> DeadlineKeeper::FireDue(const std::string& region,
                                            absl::Time now,
                                            FiringObserver* observer) {
  // The store fires planned steps by itself, a clock's steps at a time
  // without a round trip each, and makes the events of those due within
  // kPrepareAhead ahead of time, so that a burst of steps at one instant
  // (the midnight burst: BENCHMARKS.md) is only appended then. The
  // clocks it leaves (written without a plan, or with a stale place in
  // the due set) are fired here, and written with their plans, before it
  // is asked again; everything is when the store cannot fire at all.
  int fired = 0;
  for (int taken = 0; taken < kFireBatch;) {
    absl::StatusOr<PlannedFiring> planned =
        inner()->FirePlanned(region, now, now + kPrepareAhead, kPlannedBatch);
    if (absl::IsUnimplemented(planned.status())) {
      ASSIGN_OR_RETURN(const std::vector<std::string> due,
                       inner()->DueClocks(region, now, kFireBatch));
      ASSIGN_OR_RETURN(const int read_and_fired,
                       FireEach(region, due, now, /*rewrite=*/false, observer));
      return fired + read_and_fired;
    }
    RETURN_IF_ERROR(planned.status());
    fired += planned->steps;
    taken += planned->clocks;
    if (observer != nullptr) {
      for (const StepsAt& at : planned->fired) {
        observer->OnStepsFired(region, at.at, at.steps);
      }
    }
    if (!planned->unplanned.empty()) {
      ASSIGN_OR_RETURN(const int read_and_fired,
                       FireEach(region, planned->unplanned, now,
                                /*rewrite=*/true, observer));
      fired += read_and_fired;
    }
    if (planned->clocks < kPlannedBatch) break;
  }
  return fired;
}

absl::StatusOr<int> DeadlineKeeper::FireEach(
    const std::string& region, const std::vector<std::string>& due,
    absl::Time now, bool rewrite, FiringObserver* observer) {
  std::vector<DueClock> clocks;
  clocks.reserve(due.size());
  for (const std::string& id : due) {
    clocks.push_back({.id = id, .rewrite = rewrite});
  }
  int fired = 0;
  // Each round reads the clocks not known (one pipeline), writes the next
  // step of each (one pipeline, every write version-checked on its own),
  // and keeps what it wrote: a clock overdue by days fires its warning,
  // breach and escalation in three rounds, read once. Each write carries
  // the clock's plan, so the store fires its later steps by itself.
  while (!clocks.empty()) {
    std::vector<std::string> unknown;
    for (const DueClock& clock : clocks) {
      if (!clock.known.has_value()) unknown.push_back(clock.id);
    }
    if (!unknown.empty()) {
      ASSIGN_OR_RETURN(std::vector<std::optional<ClockRecord>> read,
                       inner()->GetClocks(region, unknown));
      size_t next = 0;
      for (DueClock& clock : clocks) {
        if (!clock.known.has_value()) clock.known = std::move(read.at(next++));
      }
    }
    std::vector<ClockWrite> writes;
    std::vector<DueClock> writing;
    for (DueClock& clock : clocks) {
      if (!clock.known.has_value()) continue;  // gone
      // Moved out: the clock is either written (and then known as
      // written) or done with.
      std::optional<ClockWrite> write =
          NextWrite(*std::move(clock.known), now, clock.rewrite);
      clock.rewrite = false;
      if (!write.has_value()) continue;  // nothing (more) to do
      writes.push_back(*std::move(write));
      writing.push_back(std::move(clock));
    }
    if (writes.empty()) break;
    ASSIGN_OR_RETURN(const std::vector<absl::Status> written,
                     inner()->ApplyClocks(writes));
    if (written.size() != writes.size()) {
      return absl::InternalError(absl::StrCat("the store answered ",
                                              written.size(), " of ",
                                              writes.size(), " clock writes"));
    }
    clocks.clear();
    for (size_t i = 0; i < writes.size(); ++i) {
      DueClock& clock = writing[i];
      if (absl::IsAborted(written[i])) {
        // Another replica moved it: read it again, a few times at most.
        clock.known.reset();
        if (++clock.lost < kMaxAttempts) clocks.push_back(std::move(clock));
        continue;
      }
      if (absl::IsNotFound(written[i])) continue;
      RETURN_IF_ERROR(written[i]);
      // A write without an event re-indexed the clock only: it is done.
      if (!writes[i].event.has_value()) continue;
      ++fired;
      // The event's time is the step's instant (NextWrite).
      if (observer != nullptr) {
        observer->OnStepsFired(region, ToAbslTime(writes[i].event->time()), 1);
      }
      if (++clock.steps == kMaxStepsPerClock) continue;
      clock.known = std::move(writes[i].record);
      ++clock.known->version;
      clocks.push_back(std::move(clock));
    }
  }
  return fired;
}

absl::StatusOr<ClockRecord> DeadlineKeeper::Pause(
    const std::string& region, const std::string& id, v1::DelayCause cause,
    const std::string& note, const Caller& caller, absl::Time now) {
  ASSIGN_OR_RETURN(ClockRecord read, inner()->GetClock(region, id));
  ASSIGN_OR_RETURN(v1::Clock paused,
                   PauseClock(read.clock, cause, note, caller.ToActor(), now));
  ClockWrite write{.record = read};
  write.record.clock = std::move(paused);
  ScheduleClock(&write, *calendar_);
  ASSIGN_OR_RETURN(write.record.version, inner()->ApplyClock(write));
  return write.record;
}

absl::StatusOr<ClockRecord> DeadlineKeeper::Resume(const std::string& region,
                                                   const std::string& id,
                                                   absl::Time now) {
  ASSIGN_OR_RETURN(ClockRecord read, inner()->GetClock(region, id));
  ASSIGN_OR_RETURN(v1::Clock resumed, ResumeClock(read.clock, now));
  ClockWrite write{.record = read};
  write.record.clock = std::move(resumed);
  ScheduleClock(&write, *calendar_);
  ASSIGN_OR_RETURN(write.record.version, inner()->ApplyClock(write));
  return write.record;
}

}  // namespace slussen::core

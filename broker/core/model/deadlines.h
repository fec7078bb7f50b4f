// Response deadlines: the rules (versioned data) and what happens to a
// referral's clocks when it changes, when time passes, and when a clock is
// paused.
//
// A rule set applies to one referral kind (or, overriding it, to the avrop
// of one framework agreement). Each rule says which action starts a clock,
// how long it runs (arbetsdagar, calendar days, weeks or hours), which
// actions meet it, and whom it awaits. A clock keeps what it needs of its
// rule (stop actions, the awaited role), so a new rule version applies to
// new clocks only.
//
// Time passing is "firing": a running clock warns once before due (one
// working day by default), breaches at due (the provider is told:
// escalation 1) and escalates to the region's coordinator one working day
// later (escalation 2). Each step is one event, decided here and written by
// the store with a version check, so of several broker replicas exactly one
// fires each step.
//
//   ClockUpdates updates = ClocksAfter(rules, read, changed, transition,
//                                      open_clocks, calendar);
//   std::optional<Firing> firing = Fire(clock, now, calendar);
//   std::vector<PlannedStep> plan = PlanSteps(clock, calendar);
//
// Thread-safe: pure functions over values.
#ifndef SLUSSEN_BROKER_CORE_MODEL_DEADLINES_H_
#define SLUSSEN_BROKER_CORE_MODEL_DEADLINES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "broker/core/model/calendar.h"
#include "slussen/v1/deadline.pb.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// The seed rules (DOMAIN.md, "Deadlines: working days"), version 1 of one
// rule set per referral kind:
// - impulse: the FK unit calls back within 3 arbetsdagar of arrival;
// - joint mapping: first meeting within 10 arbetsdagar; completion 4 weeks
//   after the first meeting;
// - team handover: first contact within 5 days;
// - every kind that is offered: the provider answers an offer within 72
//   hours (an offer's default hold);
// - activities and avrop: the follow-up 90 days after completion or exit.
std::vector<slussen::v1::DeadlineRuleSet> DefaultDeadlineRuleSets();

// OK if the set holds 1..20 rules, names its framework agreement (if any)
// as "frameworkAgreements/{agreement}", and every rule names a kind, a start
// action, at least one stop action, a length 1..1000 in a unit, and no kind
// twice; INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateDeadlineRuleSet(const slussen::v1::DeadlineRuleSet& set);

// The rule set for `referral` among `sets` (the newest version of each): the
// set of its framework agreement if one exists, else its kind's. Null when
// none applies.
const slussen::v1::DeadlineRuleSet* RuleSetFor(
    const std::vector<slussen::v1::DeadlineRuleSet>& sets,
    const slussen::v1::Referral& referral);

// When a clock started at `start` under `rule` is due.
absl::Time DueTime(const slussen::v1::ClockRule& rule, absl::Time start,
                   const SwedishCalendar& calendar);

// Whether the clock is still open (running, paused, or breached and not yet
// met or closed).
bool IsOpen(const slussen::v1::Clock& clock);

// How far an open clock has come: the last step it took as time passed
// (Fire): none yet, the warning, the breach (the provider told) or the
// escalation (the coordinator told). A paused clock keeps its stage.
enum class ClockStage { kOpen = 0, kWarned = 1, kBreached = 2, kEscalated = 3 };
inline constexpr int kClockStages = 4;

ClockStage StageOf(const slussen::v1::Clock& clock);
// "open", "warned", "breached", "escalated".
absl::string_view ClockStageName(ClockStage stage);

// What a transition does to the referral's clocks.
struct ClockUpdates {
  // New clocks (without name), in rule order.
  std::vector<slussen::v1::Clock> started;
  // Open clocks changed: met, closed, or their awaited organisation moved.
  std::vector<slussen::v1::Clock> changed;
  // For each of `changed`: the event type to record (CLOCK_MET, or
  // UNSPECIFIED for a change that needs none).
  std::vector<slussen::v1::EventType> changed_events;
};

// The clocks `transition` (already applied: `changed` is the referral after
// it) starts, meets, closes or reassigns. `open` are the referral's open
// clocks before it. A clock is met by an action of its stop_on (MET, or
// MET_LATE after due); it is closed (CANCELLED, or left BREACHED if already
// due) when the referral reaches a terminal state, and an offer-answer
// clock when its offer ends otherwise (expiry, re-queue, cancel).
ClockUpdates ClocksAfter(const slussen::v1::DeadlineRuleSet* rules,
                         const slussen::v1::Referral& changed,
                         const std::string& assigned_organisation,
                         const slussen::v1::Transition& transition,
                         const std::vector<slussen::v1::Clock>& open,
                         const SwedishCalendar& calendar);

// One step of a clock as time passes.
struct Firing {
  slussen::v1::Clock clock;
  slussen::v1::EventType event = slussen::v1::EVENT_TYPE_UNSPECIFIED;
};

// The next step due at `now`, if any: the warning, the breach, or the
// escalation to the coordinator. One step per call; call again for the
// next (a clock overdue by days fires its warning, then its breach).
std::optional<Firing> Fire(const slussen::v1::Clock& clock, absl::Time now,
                           const SwedishCalendar& calendar);
// The same in place: moves `*clock` on by the step and returns its event;
// nullopt, and `*clock` unchanged, when nothing is due. (The ticker's path:
// no copy of the clock.)
std::optional<slussen::v1::EventType> FireInPlace(
    slussen::v1::Clock* clock, absl::Time now, const SwedishCalendar& calendar);

// When `clock` next needs firing; nullopt when never (closed, paused, or
// escalated as far as it goes).
std::optional<absl::Time> NextFireTime(const slussen::v1::Clock& clock,
                                       const SwedishCalendar& calendar);

// A step of a clock as time passes, planned ahead: firing it at `at` sets
// the fields of `set` (only those, and none to its default value, so that
// the stored clock merged with `set` by protobuf's merge, or its bytes
// followed by `set`'s, is the clock after the step) and announces `type`.
struct PlannedStep {
  absl::Time at;
  slussen::v1::EventType type = slussen::v1::EVENT_TYPE_UNSPECIFIED;
  slussen::v1::Clock set;
};

// Steps planned for a clock at most (Fire takes three: warning, breach,
// escalation).
inline constexpr size_t kMaxPlannedSteps = 8;

// The steps `clock` will take if nothing else changes it: from
// NextFireTime on, each at its instant, as Fire takes them (a step due at
// the same instant as the one before comes after it). Empty when it never
// fires. A step that a merge cannot express ends the plan before it (the
// steps after it are left to Fire); every step Fire takes today can be.
std::vector<PlannedStep> PlanSteps(const slussen::v1::Clock& clock,
                                   const SwedishCalendar& calendar);

// Pauses a running (or breached) clock: PAUSED with the pause recorded.
// FAILED_PRECONDITION if it is not open or already paused.
absl::StatusOr<slussen::v1::Clock> PauseClock(const slussen::v1::Clock& clock,
                                              slussen::v1::DelayCause cause,
                                              const std::string& note,
                                              const slussen::v1::Actor& actor,
                                              absl::Time now);

// Resumes a paused clock: due and warn times move later by the pause, and
// it runs again (or is breached again if it was). FAILED_PRECONDITION if it
// is not paused.
absl::StatusOr<slussen::v1::Clock> ResumeClock(const slussen::v1::Clock& clock,
                                               absl::Time now);

// Time a clock spent paused for `cause` (the open pause counted to `now`).
absl::Duration PausedFor(const slussen::v1::Clock& clock,
                         slussen::v1::DelayCause cause, absl::Time now);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_DEADLINES_H_

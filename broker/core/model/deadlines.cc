#include "broker/core/model/deadlines.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kMaxLength = 1000;
// Rules of one set: a few clocks a kind (the seeds have at most three).
constexpr int kMaxRules = 20;
// As long as an offer is held by default (Offering.offer_hold_hours 0):
// the provider is late when the hold runs out.
constexpr int kOfferAnswerHours = 72;

v1::ClockRule Rule(v1::ClockKind kind, v1::Action start_on,
                   std::vector<v1::Action> stop_on, int length,
                   v1::DurationUnit unit, v1::Role awaited) {
  v1::ClockRule rule;
  rule.set_kind(kind);
  rule.set_start_on(start_on);
  for (v1::Action a : stop_on) rule.add_stop_on(a);
  rule.set_length(length);
  rule.set_unit(unit);
  rule.set_awaited_role(awaited);
  return rule;
}

// SUS follows participants up 90 days after completion or exit.
std::vector<v1::ClockRule> FollowUp() {
  std::vector<v1::ClockRule> rules;
  for (v1::Action end : {v1::ACTION_COMPLETE, v1::ACTION_EXIT}) {
    rules.push_back(Rule(v1::CLOCK_KIND_FOLLOW_UP, end,
                         {v1::ACTION_RECORD_FOLLOW_UP}, 90,
                         v1::DURATION_UNIT_CALENDAR_DAYS, v1::ROLE_PROVIDER));
  }
  return rules;
}

// A returned referral awaits the agency: resubmitted or cancelled (or its
// consent withdrawn, which ends it) within five working days.
v1::ClockRule ReturnedAnswer() {
  v1::ClockRule rule = Rule(v1::CLOCK_KIND_RETURNED_ANSWER, v1::ACTION_DECLINE,
                            {v1::ACTION_RESUBMIT, v1::ACTION_CANCEL}, 5,
                            v1::DURATION_UNIT_WORKING_DAYS, v1::ROLE_AGENCY);
  rule.set_start_in_state(v1::REFERRAL_STATE_RETURNED);
  return rule;
}

v1::ClockRule OfferAnswer() {
  return Rule(v1::CLOCK_KIND_OFFER_ANSWER, v1::ACTION_OFFER,
              {v1::ACTION_ACCEPT, v1::ACTION_DECLINE}, kOfferAnswerHours,
              v1::DURATION_UNIT_HOURS, v1::ROLE_PROVIDER);
}

bool Contains(const google::protobuf::RepeatedField<int>& actions,
              v1::Action action) {
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

// The warning instant: for hours, three quarters of the way; otherwise the
// start of the working day `n` working days before the due day.
absl::Time WarnTime(const v1::ClockRule& rule, absl::Time start, absl::Time due,
                    const SwedishCalendar& calendar) {
  if (rule.unit() == v1::DURATION_UNIT_HOURS) {
    return start + (due - start) * 3 / 4;
  }
  const int n = std::max(rule.warn_working_days_before(), 1);
  const absl::Time before = calendar.WorkingDaysBefore(due, n);
  const absl::Time warn =
      calendar.StartOfDay(calendar.LocalDay(before - absl::Nanoseconds(1)));
  return std::max(warn, start);
}

// End of the next working day after the due day: the coordinator is told.
absl::Time CoordinatorTime(const v1::Clock& clock,
                           const SwedishCalendar& calendar) {
  return calendar.WorkingDaysDeadline(
      ToAbslTime(clock.due_time()) - absl::Nanoseconds(1), 1);
}

// Closes an open clock without it being met.
v1::Clock Closed(const v1::Clock& clock, absl::Time now) {
  v1::Clock out = clock;
  if (out.state() == v1::CLOCK_STATE_PAUSED) {
    v1::ClockPause& pause = *out.mutable_pauses(out.pauses_size() - 1);
    *pause.mutable_end_time() = ToProtoTimestamp(now);
  }
  out.set_state(now >= ToAbslTime(clock.due_time()) &&
                        clock.state() != v1::CLOCK_STATE_PAUSED
                    ? v1::CLOCK_STATE_BREACHED
                    : v1::CLOCK_STATE_CANCELLED);
  *out.mutable_stop_time() = ToProtoTimestamp(now);
  return out;
}

}  // namespace

std::vector<v1::DeadlineRuleSet> DefaultDeadlineRuleSets() {
  std::vector<v1::DeadlineRuleSet> sets;
  const auto add = [&](v1::ReferralKind kind, absl::string_view id,
                       std::vector<v1::ClockRule> rules) {
    v1::DeadlineRuleSet set;
    set.set_name(absl::StrCat("deadlineRuleSets/", id, "/versions/1"));
    set.set_referral_kind(kind);
    for (v1::ClockRule& rule : rules) *set.add_rules() = std::move(rule);
    sets.push_back(std::move(set));
  };
  add(v1::REFERRAL_KIND_IMPULSE, "impulse",
      {Rule(v1::CLOCK_KIND_IMPULSE_CALL_BACK, v1::ACTION_CREATE,
            {v1::ACTION_RECORD_CONTACT}, 3, v1::DURATION_UNIT_WORKING_DAYS,
            v1::ROLE_PROVIDER),
       OfferAnswer(), ReturnedAnswer()});
  add(v1::REFERRAL_KIND_JOINT_MAPPING, "joint-mapping",
      {Rule(v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING, v1::ACTION_CREATE,
            {v1::ACTION_RECORD_CONTACT}, 10, v1::DURATION_UNIT_WORKING_DAYS,
            v1::ROLE_PROVIDER),
       Rule(v1::CLOCK_KIND_JOINT_MAPPING_COMPLETION, v1::ACTION_RECORD_CONTACT,
            {v1::ACTION_COMPLETE, v1::ACTION_EXIT}, 4, v1::DURATION_UNIT_WEEKS,
            v1::ROLE_PROVIDER),
       OfferAnswer(), ReturnedAnswer()});
  add(v1::REFERRAL_KIND_TEAM_HANDOVER, "team-handover",
      {Rule(v1::CLOCK_KIND_TEAM_FIRST_CONTACT, v1::ACTION_CREATE,
            {v1::ACTION_RECORD_CONTACT}, 5, v1::DURATION_UNIT_CALENDAR_DAYS,
            v1::ROLE_PROVIDER),
       OfferAnswer(), ReturnedAnswer()});
  std::vector<v1::ClockRule> offered = FollowUp();
  offered.insert(offered.begin(), {OfferAnswer(), ReturnedAnswer()});
  add(v1::REFERRAL_KIND_ACTIVITY, "activity", offered);
  add(v1::REFERRAL_KIND_REHAB_SERVICE_ORDER, "rehab-service-order", offered);
  return sets;
}

absl::Status ValidateDeadlineRuleSet(const v1::DeadlineRuleSet& set) {
  RETURN_IF_ERROR(ValidateEnum<v1::ReferralKind>(
      "rule_set.referral_kind", set.referral_kind(), /*required=*/true));
  if (!set.framework_agreement().empty()) {
    RETURN_IF_ERROR(ValidateFrameworkAgreementName(
        "rule_set.framework_agreement", set.framework_agreement()));
  }
  if (set.rules().empty()) {
    return MissingField("rule_set.rules", "at least one clock rule");
  }
  if (set.rules_size() > kMaxRules) {
    return InvalidField("rule_set.rules",
                        absl::StrCat("must hold at most ", kMaxRules, " rules"),
                        set.rules_size());
  }
  // A kind may start on several actions (a follow-up after completion or
  // after exit), each once.
  std::set<std::pair<int, int>> kinds;
  for (int i = 0; i < set.rules_size(); ++i) {
    const v1::ClockRule& rule = set.rules(i);
    const std::string field = absl::StrCat("rule_set.rules[", i, "]");
    RETURN_IF_ERROR(ValidateEnum<v1::ClockKind>(absl::StrCat(field, ".kind"),
                                                rule.kind(), true));
    if (!kinds.insert({rule.kind(), rule.start_on()}).second) {
      return InvalidField(absl::StrCat(field, ".kind"),
                          "must not repeat an earlier rule's kind and start",
                          v1::ClockKind_Name(rule.kind()));
    }
    RETURN_IF_ERROR(ValidateEnum<v1::Action>(absl::StrCat(field, ".start_on"),
                                             rule.start_on(), true));
    if (rule.stop_on().empty()) {
      return MissingField(absl::StrCat(field, ".stop_on"),
                          "at least one action that meets the clock");
    }
    RETURN_IF_ERROR(ValidateEnumSet<v1::Action>(absl::StrCat(field, ".stop_on"),
                                                rule.stop_on()));
    RETURN_IF_ERROR(ValidateIntRange(absl::StrCat(field, ".length"),
                                     rule.length(), 1, kMaxLength));
    RETURN_IF_ERROR(ValidateEnum<v1::DurationUnit>(absl::StrCat(field, ".unit"),
                                                   rule.unit(), true));
    RETURN_IF_ERROR(
        ValidateIntRange(absl::StrCat(field, ".warn_working_days_before"),
                         rule.warn_working_days_before(), 0, 30));
    RETURN_IF_ERROR(ValidateEnum<v1::Role>(absl::StrCat(field, ".awaited_role"),
                                           rule.awaited_role(), false));
    RETURN_IF_ERROR(ValidateEnum<v1::ReferralState>(
        absl::StrCat(field, ".start_in_state"), rule.start_in_state(), false));
  }
  return absl::OkStatus();
}

const v1::DeadlineRuleSet* RuleSetFor(
    const std::vector<v1::DeadlineRuleSet>& sets,
    const v1::Referral& referral) {
  const v1::ReferralKind kind = KindOf(referral);
  const std::string agreement =
      referral.has_rehab_service_order()
          ? referral.rehab_service_order().framework_agreement()
          : "";
  const v1::DeadlineRuleSet* by_kind = nullptr;
  for (const v1::DeadlineRuleSet& set : sets) {
    if (set.referral_kind() != kind) continue;
    if (!agreement.empty() && set.framework_agreement() == agreement) {
      return &set;
    }
    if (set.framework_agreement().empty() && by_kind == nullptr) {
      by_kind = &set;
    }
  }
  return by_kind;
}

absl::Time DueTime(const v1::ClockRule& rule, absl::Time start,
                   const SwedishCalendar& calendar) {
  switch (rule.unit()) {
    case v1::DURATION_UNIT_WORKING_DAYS:
      return calendar.WorkingDaysDeadline(start, rule.length());
    case v1::DURATION_UNIT_CALENDAR_DAYS:
      return calendar.CalendarDaysDeadline(start, rule.length());
    case v1::DURATION_UNIT_WEEKS:
      return calendar.CalendarDaysDeadline(start, 7 * rule.length());
    case v1::DURATION_UNIT_HOURS:
    default:
      return start + absl::Hours(rule.length());
  }
}

bool IsOpen(const v1::Clock& clock) {
  return !clock.has_stop_time() && (clock.state() == v1::CLOCK_STATE_RUNNING ||
                                    clock.state() == v1::CLOCK_STATE_PAUSED ||
                                    clock.state() == v1::CLOCK_STATE_BREACHED);
}

ClockStage StageOf(const v1::Clock& clock) {
  if (clock.escalation_level() >= 2) return ClockStage::kEscalated;
  if (clock.escalation_level() == 1 ||
      clock.state() == v1::CLOCK_STATE_BREACHED) {
    return ClockStage::kBreached;
  }
  return clock.warned() ? ClockStage::kWarned : ClockStage::kOpen;
}

absl::string_view ClockStageName(ClockStage stage) {
  switch (stage) {
    case ClockStage::kOpen:
      return "open";
    case ClockStage::kWarned:
      return "warned";
    case ClockStage::kBreached:
      return "breached";
    case ClockStage::kEscalated:
      return "escalated";
  }
  return "open";
}

ClockUpdates ClocksAfter(const v1::DeadlineRuleSet* rules,
                         const v1::Referral& changed,
                         const std::string& assigned_organisation,
                         const v1::Transition& transition,
                         const std::vector<v1::Clock>& open,
                         const SwedishCalendar& calendar) {
  ClockUpdates updates;
  const absl::Time now = ToAbslTime(transition.time());
  const v1::Action action = transition.action();
  const bool terminal = IsTerminal(changed.state());
  // An offer ends (answered or not) when the referral leaves OFFERED.
  const bool offer_ended =
      transition.from_state() == v1::REFERRAL_STATE_OFFERED &&
      changed.state() != v1::REFERRAL_STATE_OFFERED;
  for (const v1::Clock& clock : open) {
    if (!IsOpen(clock)) continue;
    v1::Clock out = clock;
    v1::EventType event = v1::EVENT_TYPE_UNSPECIFIED;
    if (Contains(clock.stop_on(), action)) {
      if (out.state() == v1::CLOCK_STATE_PAUSED) {
        // Met while paused: as if resumed now, so the pause moves due.
        absl::StatusOr<v1::Clock> resumed = ResumeClock(out, now);
        if (resumed.ok()) out = *std::move(resumed);
      }
      out.set_state(now >= ToAbslTime(out.due_time()) ? v1::CLOCK_STATE_MET_LATE
                                                      : v1::CLOCK_STATE_MET);
      *out.mutable_stop_time() = ToProtoTimestamp(now);
      event = v1::EVENT_TYPE_CLOCK_MET;
    } else if (terminal ||
               (offer_ended && clock.kind() == v1::CLOCK_KIND_OFFER_ANSWER)) {
      out = Closed(clock, now);
    } else if (clock.awaited_role() == v1::ROLE_PROVIDER &&
               clock.awaited_organisation() != assigned_organisation &&
               !assigned_organisation.empty()) {
      out.set_awaited_organisation(assigned_organisation);
    } else if (clock.protected_personal_data() !=
               changed.protected_personal_data()) {
      // Protected personal data set or lifted: who may see the clock.
    } else {
      continue;
    }
    out.set_protected_personal_data(changed.protected_personal_data());
    updates.changed.push_back(std::move(out));
    updates.changed_events.push_back(event);
  }
  // (A terminal action starts only what waits for after the end: a
  // follow-up.)
  if (rules == nullptr) return updates;
  for (const v1::ClockRule& rule : rules->rules()) {
    if (rule.start_on() != action) continue;
    if (rule.start_in_state() != v1::REFERRAL_STATE_UNSPECIFIED &&
        rule.start_in_state() != changed.state()) {
      continue;
    }
    v1::Clock clock;
    clock.set_referral(changed.name());
    clock.set_referring_organisation(changed.referring_organisation());
    clock.set_protected_personal_data(changed.protected_personal_data());
    clock.set_kind(rule.kind());
    clock.set_rule_set(rules->name());
    clock.set_state(v1::CLOCK_STATE_RUNNING);
    clock.set_awaited_role(rule.awaited_role());
    switch (rule.awaited_role()) {
      case v1::ROLE_PROVIDER:
        clock.set_awaited_organisation(assigned_organisation);
        break;
      case v1::ROLE_AGENCY:
        clock.set_awaited_organisation(changed.referring_organisation());
        break;
      default:
        break;
    }
    const absl::Time due = DueTime(rule, now, calendar);
    *clock.mutable_start_time() = ToProtoTimestamp(now);
    *clock.mutable_due_time() = ToProtoTimestamp(due);
    *clock.mutable_warn_time() =
        ToProtoTimestamp(WarnTime(rule, now, due, calendar));
    for (int a : rule.stop_on()) clock.add_stop_on(static_cast<v1::Action>(a));
    updates.started.push_back(std::move(clock));
  }
  return updates;
}

std::optional<v1::EventType> FireInPlace(v1::Clock* clock, absl::Time now,
                                         const SwedishCalendar& calendar) {
  if (!IsOpen(*clock) || clock->state() == v1::CLOCK_STATE_PAUSED) {
    return std::nullopt;
  }
  if (!clock->warned() && now >= ToAbslTime(clock->warn_time())) {
    clock->set_warned(true);
    return v1::EVENT_TYPE_CLOCK_WARNING;
  }
  if (clock->state() == v1::CLOCK_STATE_RUNNING &&
      now >= ToAbslTime(clock->due_time())) {
    clock->set_warned(true);
    clock->set_state(v1::CLOCK_STATE_BREACHED);
    clock->set_escalation_level(1);
    return v1::EVENT_TYPE_CLOCK_BREACHED;
  }
  if (clock->state() == v1::CLOCK_STATE_BREACHED &&
      clock->escalation_level() < 2 &&
      now >= CoordinatorTime(*clock, calendar)) {
    clock->set_escalation_level(2);
    return v1::EVENT_TYPE_CLOCK_ESCALATED;
  }
  return std::nullopt;
}

std::optional<Firing> Fire(const v1::Clock& clock, absl::Time now,
                           const SwedishCalendar& calendar) {
  Firing firing{.clock = clock};
  const std::optional<v1::EventType> event =
      FireInPlace(&firing.clock, now, calendar);
  if (!event.has_value()) return std::nullopt;
  firing.event = *event;
  return firing;
}

std::optional<absl::Time> NextFireTime(const v1::Clock& clock,
                                       const SwedishCalendar& calendar) {
  if (!IsOpen(clock) || clock.state() == v1::CLOCK_STATE_PAUSED) {
    return std::nullopt;
  }
  if (!clock.warned()) return ToAbslTime(clock.warn_time());
  if (clock.state() == v1::CLOCK_STATE_RUNNING) {
    return ToAbslTime(clock.due_time());
  }
  if (clock.escalation_level() < 2) return CoordinatorTime(clock, calendar);
  return std::nullopt;
}

std::vector<PlannedStep> PlanSteps(const v1::Clock& clock,
                                   const SwedishCalendar& calendar) {
  std::vector<PlannedStep> plan;
  v1::Clock after = clock;
  for (std::optional<absl::Time> at = NextFireTime(after, calendar);
       at.has_value() && plan.size() < kMaxPlannedSteps;
       at = NextFireTime(after, calendar)) {
    const v1::Clock before = after;
    const std::optional<v1::EventType> type =
        FireInPlace(&after, *at, calendar);
    if (!type.has_value()) break;
    PlannedStep step{.at = *at, .type = *type};
    if (after.warned() != before.warned()) step.set.set_warned(after.warned());
    if (after.state() != before.state()) step.set.set_state(after.state());
    if (after.escalation_level() != before.escalation_level()) {
      step.set.set_escalation_level(after.escalation_level());
    }
    // The step must be exactly its merge: a field Fire came to change that
    // is not copied above, or one set back to its default (which a merge
    // cannot express), ends the plan here.
    v1::Clock merged = before;
    merged.MergeFrom(step.set);
    if (merged.SerializeAsString() != after.SerializeAsString()) break;
    plan.push_back(std::move(step));
  }
  return plan;
}

absl::StatusOr<v1::Clock> PauseClock(const v1::Clock& clock,
                                     v1::DelayCause cause,
                                     const std::string& note,
                                     const v1::Actor& actor, absl::Time now) {
  RETURN_IF_ERROR(ValidateEnum<v1::DelayCause>("cause", cause, true));
  if (!IsOpen(clock) || clock.state() == v1::CLOCK_STATE_PAUSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "clock ", clock.name(), " is ", v1::ClockState_Name(clock.state()),
        clock.has_stop_time() ? " and closed" : "",
        "; only a running or breached clock can pause"));
  }
  v1::Clock out = clock;
  out.set_state(v1::CLOCK_STATE_PAUSED);
  v1::ClockPause* pause = out.add_pauses();
  *pause->mutable_start_time() = ToProtoTimestamp(now);
  pause->set_cause(cause);
  pause->set_note(note);
  *pause->mutable_actor() = actor;
  return out;
}

absl::StatusOr<v1::Clock> ResumeClock(const v1::Clock& clock, absl::Time now) {
  if (clock.state() != v1::CLOCK_STATE_PAUSED || clock.pauses().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("clock ", clock.name(), " is ",
                     v1::ClockState_Name(clock.state()), ", not paused"));
  }
  v1::Clock out = clock;
  v1::ClockPause& pause = *out.mutable_pauses(out.pauses_size() - 1);
  *pause.mutable_end_time() = ToProtoTimestamp(now);
  const absl::Duration paused = now - ToAbslTime(pause.start_time());
  const absl::Time due = ToAbslTime(clock.due_time()) + paused;
  *out.mutable_due_time() = ToProtoTimestamp(due);
  *out.mutable_warn_time() =
      ToProtoTimestamp(ToAbslTime(clock.warn_time()) + paused);
  out.set_state(out.escalation_level() > 0 ? v1::CLOCK_STATE_BREACHED
                                           : v1::CLOCK_STATE_RUNNING);
  return out;
}

absl::Duration PausedFor(const v1::Clock& clock, v1::DelayCause cause,
                         absl::Time now) {
  absl::Duration total = absl::ZeroDuration();
  for (const v1::ClockPause& pause : clock.pauses()) {
    if (pause.cause() != cause) continue;
    const absl::Time end =
        pause.has_end_time() ? ToAbslTime(pause.end_time()) : now;
    total += end - ToAbslTime(pause.start_time());
  }
  return total;
}

}  // namespace slussen::core

#include "broker/core/model/capacity.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kMaxUnits = 10000;
constexpr int kMaxCohorts = 50;
constexpr int kMaxCohortSize = 100;

bool IsClosed(v1::CohortState state) {
  return state == v1::COHORT_STATE_CANCELLED ||
         state == v1::COHORT_STATE_MERGED || state == v1::COHORT_STATE_FINISHED;
}

std::string CohortIdOf(const std::string& cohort_name) {
  return cohort_name.substr(cohort_name.rfind('/') + 1);
}

const v1::Cohort* FindCohort(const v1::Offering& offering,
                             const std::string& unit) {
  for (const v1::Cohort& cohort : offering.capacity().cohorts().cohorts()) {
    if (CohortIdOf(cohort.name()) == unit) return &cohort;
  }
  return nullptr;
}

// Checks one published cohort and fills its name (a new id when empty).
absl::Status PlanCohort(const std::string& field, const OfferingName& offering,
                        absl::CivilDay today, std::set<std::string>& used_ids,
                        v1::Cohort& cohort) {
  ASSIGN_OR_RETURN(
      const absl::CivilDay start,
      ToCivilDay(absl::StrCat(field, ".start_date"), cohort.start_date()));
  if (cohort.max_size() < 1 || cohort.max_size() > kMaxCohortSize) {
    return InvalidField(absl::StrCat(field, ".max_size"),
                        absl::StrCat("must be 1..", kMaxCohortSize),
                        cohort.max_size());
  }
  if (cohort.min_size() < 1 || cohort.min_size() > cohort.max_size()) {
    return InvalidField(
        absl::StrCat(field, ".min_size"),
        absl::StrCat("must be 1..max_size (", cohort.max_size(), ")"),
        cohort.min_size());
  }
  if (cohort.has_intake_start_date()) {
    ASSIGN_OR_RETURN(const absl::CivilDay intake,
                     ToCivilDay(absl::StrCat(field, ".intake_start_date"),
                                cohort.intake_start_date()));
    if (intake > start) {
      return InvalidField(absl::StrCat(field, ".intake_start_date"),
                          "must not lie after start_date",
                          absl::FormatCivilTime(intake));
    }
  }
  if (cohort.name().empty()) {
    if (start <= today) {
      return InvalidField(absl::StrCat(field, ".start_date"),
                          "of a new cohort must lie after today",
                          absl::FormatCivilTime(start));
    }
    const std::string base = absl::StrFormat("c-%04d%02d%02d", start.year(),
                                             start.month(), start.day());
    std::string id = base;
    for (int n = 2; used_ids.count(id); ++n) id = absl::StrCat(base, "-", n);
    cohort.set_name(CohortName{offering, id}.ToString());
  }
  ASSIGN_OR_RETURN(
      const CohortName name,
      ParseCohortName(absl::StrCat(field, ".name"), cohort.name()));
  if (name.offering.ToString() != offering.ToString()) {
    return InvalidField(
        absl::StrCat(field, ".name"),
        absl::StrCat("must be a cohort of ", offering.ToString()),
        cohort.name());
  }
  if (!used_ids.insert(name.cohort).second) {
    return InvalidField(absl::StrCat(field, ".name"),
                        "must not repeat another cohort", cohort.name());
  }
  return absl::OkStatus();
}

absl::Status PlanCohorts(const v1::Offering& current,
                         v1::CohortCapacity& cohorts, absl::CivilDay today,
                         CapacityPlan& plan) {
  constexpr absl::string_view kField = "capacity.cohorts.cohorts";
  if (cohorts.cohorts_size() > kMaxCohorts) {
    return InvalidField(kField, absl::StrCat("must hold at most ", kMaxCohorts),
                        cohorts.cohorts_size());
  }
  ASSIGN_OR_RETURN(const OfferingName offering,
                   ParseOfferingName("offering", current.name()));
  // Ids already in use or named in the request, so new ids avoid them (a
  // new cohort must not take over a dropped cohort's id and state).
  std::set<std::string> named;
  for (const v1::Cohort& cohort : current.capacity().cohorts().cohorts()) {
    named.insert(CohortIdOf(cohort.name()));
  }
  for (const v1::Cohort& cohort : cohorts.cohorts()) {
    if (!cohort.name().empty()) named.insert(CohortIdOf(cohort.name()));
  }
  std::set<std::string> used;
  for (int i = 0; i < cohorts.cohorts_size(); ++i) {
    v1::Cohort& cohort = *cohorts.mutable_cohorts(i);
    const std::string field = absl::StrCat(kField, "[", i, "]");
    std::set<std::string> avoid = used;
    if (cohort.name().empty()) avoid.insert(named.begin(), named.end());
    RETURN_IF_ERROR(PlanCohort(field, offering, today, avoid, cohort));
    const std::string id = CohortIdOf(cohort.name());
    used.insert(id);
    const v1::Cohort* existing = FindCohort(current, id);
    const int taken = TakenOf(current, id);
    if (existing != nullptr) {
      if (IsClosed(existing->state()) ||
          existing->state() == v1::COHORT_STATE_STARTED) {
        if (existing->start_date().SerializeAsString() !=
                cohort.start_date().SerializeAsString() ||
            existing->max_size() != cohort.max_size()) {
          return absl::FailedPreconditionError(
              absl::StrCat("cohort ", cohort.name(), " is ",
                           v1::CohortState_Name(existing->state()),
                           "; its start and size can no longer change"));
        }
      }
      cohort.set_state(existing->state());
      cohort.set_decision(existing->decision());
      cohort.set_merged_into(existing->merged_into());
    } else {
      // A new cohort, named or not, must still be ahead: one that has
      // started could take no one (its intake closed at the start).
      ASSIGN_OR_RETURN(
          const absl::CivilDay start,
          ToCivilDay(absl::StrCat(field, ".start_date"), cohort.start_date()));
      if (start <= today) {
        return InvalidField(absl::StrCat(field, ".start_date"),
                            "of a new cohort must lie after today",
                            absl::FormatCivilTime(start));
      }
      cohort.set_state(v1::COHORT_STATE_OPEN);
    }
    if (cohort.max_size() < taken) {
      return absl::FailedPreconditionError(
          absl::StrCat("cohort ", cohort.name(), " has ", taken,
                       " participants and held places; max_size ",
                       cohort.max_size(), " would be below that"));
    }
    cohort.clear_enrolled();
    cohort.clear_held();
    plan.units.emplace_back(id,
                            IsClosed(cohort.state()) ? 0 : cohort.max_size());
  }
  for (const v1::Cohort& cohort : current.capacity().cohorts().cohorts()) {
    const std::string id = CohortIdOf(cohort.name());
    if (used.count(id)) continue;
    if (TakenOf(current, id) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cohort ", cohort.name(), " has ", TakenOf(current, id),
          " participants and held places and cannot be left out; decide it "
          "with DecideCohort instead"));
    }
    plan.removed_units.push_back(id);
  }
  return absl::OkStatus();
}

// Sum of taken over every unit of `offering`.
int TotalTaken(const v1::Offering& offering) {
  const v1::Capacity& c = offering.capacity();
  int taken = c.places().occupied() + c.places().held() +
              c.caseload().open_cases() + c.caseload().held();
  for (const v1::Cohort& cohort : c.cohorts().cohorts()) {
    taken += cohort.enrolled() + cohort.held();
  }
  return taken;
}

absl::Status CheckSingleUnit(absl::string_view field, int requested,
                             int taken) {
  if (requested < 0 || requested > kMaxUnits) {
    return InvalidField(field, absl::StrCat("must be 0..", kMaxUnits),
                        requested);
  }
  if (requested < taken) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, " ", requested, " would be below the ", taken,
                     " taken (occupied and held); lower it as they leave"));
  }
  return absl::OkStatus();
}

}  // namespace

int TakenOf(const v1::Offering& offering, const std::string& unit) {
  const v1::Capacity& c = offering.capacity();
  switch (c.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      return unit == kWholeOfferingUnit
                 ? c.places().occupied() + c.places().held()
                 : 0;
    case v1::Capacity::kCaseload:
      return unit == kWholeOfferingUnit
                 ? c.caseload().open_cases() + c.caseload().held()
                 : 0;
    case v1::Capacity::kCohorts: {
      const v1::Cohort* cohort = FindCohort(offering, unit);
      return cohort == nullptr ? 0 : cohort->enrolled() + cohort->held();
    }
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      break;
  }
  return 0;
}

std::string UnitOf(const v1::Offering& offering,
                   const std::string& cohort_name) {
  return offering.capacity().has_cohorts() ? CohortIdOf(cohort_name)
                                           : kWholeOfferingUnit;
}

absl::StatusOr<CapacityPlan> PlanCapacity(const v1::Offering& current,
                                          const v1::Capacity& requested,
                                          absl::Time now, absl::TimeZone zone) {
  CapacityPlan plan;
  plan.offering = current;
  v1::Capacity& capacity = *plan.offering.mutable_capacity();
  capacity = requested;
  capacity.clear_stale();
  *capacity.mutable_update_time() = ToProtoTimestamp(now);
  const bool model_changes = current.capacity().model_capacity_case() !=
                                 v1::Capacity::MODEL_CAPACITY_NOT_SET &&
                             current.capacity().model_capacity_case() !=
                                 requested.model_capacity_case();
  if (model_changes && TotalTaken(current) > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "offering ", current.name(), " has ", TotalTaken(current),
        " places taken; its capacity model cannot change until they are "
        "free"));
  }
  const int taken = TakenOf(current, kWholeOfferingUnit);
  switch (requested.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      capacity.set_model(v1::CAPACITY_MODEL_PLACES);
      RETURN_IF_ERROR(CheckSingleUnit("capacity.places.total",
                                      requested.places().total(), taken));
      capacity.mutable_places()->clear_occupied();
      capacity.mutable_places()->clear_held();
      plan.units.emplace_back(kWholeOfferingUnit, requested.places().total());
      break;
    case v1::Capacity::kCaseload:
      capacity.set_model(v1::CAPACITY_MODEL_CASELOAD);
      RETURN_IF_ERROR(CheckSingleUnit("capacity.caseload.max_open_cases",
                                      requested.caseload().max_open_cases(),
                                      taken));
      capacity.mutable_caseload()->clear_open_cases();
      capacity.mutable_caseload()->clear_held();
      plan.units.emplace_back(kWholeOfferingUnit,
                              requested.caseload().max_open_cases());
      break;
    case v1::Capacity::kCohorts:
      capacity.set_model(v1::CAPACITY_MODEL_COHORTS);
      RETURN_IF_ERROR(PlanCohorts(current, *capacity.mutable_cohorts(),
                                  absl::ToCivilDay(now, zone), plan));
      break;
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      return MissingField("capacity",
                          "exactly one of places, cohorts, caseload");
  }
  if (model_changes) {
    // Places and caseload share the unit "-": only cohorts drop it.
    if (!current.capacity().has_cohorts() && requested.has_cohorts()) {
      plan.removed_units.push_back(kWholeOfferingUnit);
    }
    for (const v1::Cohort& cohort : current.capacity().cohorts().cohorts()) {
      plan.removed_units.push_back(CohortIdOf(cohort.name()));
    }
  }
  return plan;
}

absl::StatusOr<CohortDecisionPlan> PlanCohortDecision(
    const v1::Offering& current, const std::string& cohort_unit,
    v1::CohortDecision decision, const std::string& merge_into_unit,
    absl::CivilDay today) {
  if (!current.capacity().has_cohorts()) {
    return absl::NotFoundError(absl::StrCat("offering ", current.name(),
                                            " has no cohort ", cohort_unit));
  }
  CohortDecisionPlan out;
  out.capacity.offering = current;
  out.cohort_unit = cohort_unit;
  v1::CohortCapacity* cohorts =
      out.capacity.offering.mutable_capacity()->mutable_cohorts();
  v1::Cohort* cohort = nullptr;
  v1::Cohort* target = nullptr;
  for (v1::Cohort& c : *cohorts->mutable_cohorts()) {
    if (CohortIdOf(c.name()) == cohort_unit) cohort = &c;
    if (CohortIdOf(c.name()) == merge_into_unit) target = &c;
  }
  if (cohort == nullptr) {
    return absl::NotFoundError(absl::StrCat("offering ", current.name(),
                                            " has no cohort ", cohort_unit));
  }
  ASSIGN_OR_RETURN(const absl::CivilDay start,
                   ToCivilDay("cohort.start_date", cohort->start_date()));
  if (cohort->state() != v1::COHORT_STATE_OPEN || start <= today) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cohort ", cohort->name(), " is ",
        start <= today ? "already under way"
                       : v1::CohortState_Name(cohort->state()),
        "; only an open cohort that has not started can be decided"));
  }
  cohort->set_decision(decision);
  switch (decision) {
    case v1::COHORT_DECISION_START:
      return out;
    case v1::COHORT_DECISION_CANCEL:
      cohort->set_state(v1::COHORT_STATE_CANCELLED);
      out.capacity.units.emplace_back(cohort_unit, 0);
      out.capacity.closes_units = true;
      return out;
    case v1::COHORT_DECISION_MERGE: {
      if (target == nullptr || target == cohort) {
        return InvalidField("merge_into",
                            "must name another cohort of the same offering",
                            merge_into_unit);
      }
      ASSIGN_OR_RETURN(
          const absl::CivilDay target_start,
          ToCivilDay("merge_into.start_date", target->start_date()));
      const int moving = TakenOf(current, cohort_unit);
      const int room = target->max_size() - TakenOf(current, merge_into_unit);
      if (target->state() != v1::COHORT_STATE_OPEN || target_start <= today ||
          target_start < start || moving > room) {
        return absl::FailedPreconditionError(
            absl::StrCat("cohort ", target->name(), " cannot take the ", moving,
                         " of ", cohort->name(),
                         ": it must be open, not started, start on or after ",
                         absl::FormatCivilTime(start),
                         " and have room (it has ", room, ")"));
      }
      cohort->set_state(v1::COHORT_STATE_MERGED);
      cohort->set_merged_into(target->name());
      out.capacity.units.emplace_back(cohort_unit, 0);
      out.capacity.closes_units = true;
      out.merge_into_unit = merge_into_unit;
      return out;
    }
    default:
      return InvalidField("decision",
                          "must be COHORT_DECISION_START, _MERGE or _CANCEL",
                          decision);
  }
}

std::vector<std::string> CohortsAwaitingDecision(const v1::Offering& offering,
                                                 absl::CivilDay today,
                                                 int lead_days) {
  std::vector<std::string> awaiting;
  for (const v1::Cohort& cohort : offering.capacity().cohorts().cohorts()) {
    const absl::StatusOr<absl::CivilDay> start =
        ToCivilDay("start_date", cohort.start_date());
    if (!start.ok() || cohort.state() != v1::COHORT_STATE_OPEN ||
        cohort.decision() != v1::COHORT_DECISION_UNSPECIFIED) {
      continue;
    }
    if (*start > today && *start - today <= lead_days &&
        cohort.enrolled() + cohort.held() < cohort.min_size()) {
      awaiting.push_back(cohort.name());
    }
  }
  return awaiting;
}

}  // namespace slussen::core

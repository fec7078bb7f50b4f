// Capacity: what a provider may publish, and what a cohort decision does.
//
// A provider publishes the whole capacity of an offering: places (seats),
// caseload (open cases) or cohorts (groups with a start date, a minimum and
// a maximum). PlanCapacity checks it against what the offering has taken
// (occupied, enrolled, held by live offers) and plans the write; the store
// checks again, atomically, that no unit falls below what it has taken by
// the time it writes. Capacity is counted per unit: "-" for places and
// caseload, the cohort id for each cohort.
//
//   ASSIGN_OR_RETURN(CapacityPlan plan,
//                    PlanCapacity(current, request.capacity(), now, zone));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_CAPACITY_H_
#define SLUSSEN_BROKER_CORE_MODEL_CAPACITY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/records.h"
#include "slussen/v1/provider.pb.h"

namespace slussen::core {

// The unit of places and caseload.
inline constexpr char kWholeOfferingUnit[] = "-";

// How many units of `unit` the offering has taken (occupied + held), from
// the output fields of its capacity.
int TakenOf(const slussen::v1::Offering& offering, const std::string& unit);

// The unit a place of `offering` is counted in: "-", or for cohorts the id
// of `cohort_name`.
std::string UnitOf(const slussen::v1::Offering& offering,
                   const std::string& cohort_name);

// Checks `requested` against `current` (with its counters) and plans the
// write. New cohorts without a name get "c-YYYYMMDD" (with "-2", "-3" for
// more on one day); a name of this offering not yet used creates that
// cohort. INVALID_ARGUMENT naming the field for bad values;
// FAILED_PRECONDITION for a change the taken places forbid (a smaller
// capacity than taken, a cohort with participants left out, a new model
// while places are taken, a started cohort moved).
absl::StatusOr<CapacityPlan> PlanCapacity(
    const slussen::v1::Offering& current,
    const slussen::v1::Capacity& requested, absl::Time now,
    absl::TimeZone zone);

// A cohort decision, planned.
struct CohortDecisionPlan {
  // The offering with the decided cohort's state and decision.
  CapacityPlan capacity;
  // The cohort decided and, for a merge, the cohort merged into.
  std::string cohort_unit;
  std::string merge_into_unit;
};

// Plans deciding `cohort_unit` of `current`: START records the decision;
// CANCEL closes the cohort (capacity 0; the broker re-queues everyone in
// it); MERGE closes it into another open cohort of the same offering that
// starts later or the same day and has room for everyone it took.
// FAILED_PRECONDITION naming the cohort for a cohort already started,
// cancelled or merged, or a merge target without room.
absl::StatusOr<CohortDecisionPlan> PlanCohortDecision(
    const slussen::v1::Offering& current, const std::string& cohort_unit,
    slussen::v1::CohortDecision decision, const std::string& merge_into_unit,
    absl::CivilDay today);

// Cohorts of `offering` starting within `lead_days` of `today` with fewer
// than min_size taken and no decision yet: the provider must decide them.
std::vector<std::string> CohortsAwaitingDecision(
    const slussen::v1::Offering& offering, absl::CivilDay today, int lead_days);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_CAPACITY_H_

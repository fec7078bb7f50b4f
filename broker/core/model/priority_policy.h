// The order of a queue, as data: deadline first, then days left in the
// sickness insurance (in bands), then a fair share per referring agency,
// then waiting time, then the name as the stated tie-break.
//
// Each referral gets a PriorityKey; keys compare lexicographically in the
// order of the policy's criteria. Every component is kept so the position
// can be explained criterion by criterion ("deadline 2026-12-30; 120 days
// left (band <= 180); 2nd round of kommun-halmstad-eb; waiting since
// 2026-11-02").
//
//   const PriorityPolicy policy = DefaultPriorityPolicy();
//   std::vector<PriorityKey> keys = ComputeKeys(policy, entries);
//   std::sort(order.begin(), order.end(), [&](int a, int b) {
//     return ComparePriority(policy, keys[a], keys[b]) < 0; });
//
// Thread-safe: pure functions over values.
#ifndef SLUSSEN_BROKER_CORE_MODEL_PRIORITY_POLICY_H_
#define SLUSSEN_BROKER_CORE_MODEL_PRIORITY_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "slussen/v1/queue_service.pb.h"

namespace slussen::core {

// The default policy: DEADLINE, SICKNESS_DAYS_LEFT (bands 30, 90, 180,
// 365), AGENCY_FAIR_SHARE (all weights 1), WAITING_TIME, NAME.
slussen::v1::PriorityPolicy DefaultPriorityPolicy();

// OK if `policy` names each criterion at most once, ends with NAME (the
// tie-break that makes the order total), has ascending positive band
// limits and weights in 1..100; INVALID_ARGUMENT naming the field
// otherwise.
absl::Status ValidatePriorityPolicy(const slussen::v1::PriorityPolicy& policy);

// What the policy needs to know of one queued referral.
struct PriorityFacts {
  std::string name;
  std::string referring_organisation;
  // The earliest open response deadline, if any.
  std::optional<absl::Time> due;
  std::optional<int> sickness_days_left;
  // Since when it waits (its creation).
  absl::Time waiting_since;
};

// A referral's place in the order, criterion by criterion.
struct PriorityKey {
  // The Europe/Stockholm day `due` ends (a due time at local midnight is
  // the day before's); nullopt (after every day) when none.
  std::optional<absl::CivilDay> due_day;
  // Index of the sickness band (0 = the most urgent); the band count for
  // unknown.
  int sickness_band = 0;
  // 1-based round of the fair share among the referrals of the same tier
  // (equal on every criterion before AGENCY_FAIR_SHARE).
  int fair_share_round = 1;
  absl::Time waiting_since;
  std::string name;
};

// Keys of `entries`, in the same order. The fair-share rounds depend on
// the whole set, so keys are computed together.
std::vector<PriorityKey> ComputeKeys(const slussen::v1::PriorityPolicy& policy,
                                     const std::vector<PriorityFacts>& entries,
                                     absl::TimeZone zone);

// < 0, 0, > 0 as `a` goes before, ties with, or goes after `b`.
int ComparePriority(const slussen::v1::PriorityPolicy& policy,
                    const PriorityKey& a, const PriorityKey& b);

// One line per criterion saying where `key` stands on it.
std::vector<slussen::v1::PositionReason> ExplainKey(
    const slussen::v1::PriorityPolicy& policy, const PriorityKey& key,
    const PriorityFacts& facts);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_PRIORITY_POLICY_H_

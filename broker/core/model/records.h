// The records the broker keeps: a referral, an offer, a deadline clock as
// stored, and a directory resource with its version. Plain values, shared by
// the domain logic (model/), the storage interfaces (ports/) and the use
// cases (desks/); what a store adds to them (indexes, counters, keys) stays
// in the store.
#ifndef SLUSSEN_BROKER_CORE_MODEL_RECORDS_H_
#define SLUSSEN_BROKER_CORE_MODEL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "slussen/v1/deadline.pb.h"
#include "slussen/v1/offer.pb.h"
#include "slussen/v1/provider.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// A referral as stored: the API message without anything the caller may not
// get back (no clear personnummer, no allowed actions, no etag), plus the
// fields the broker keeps to itself.
struct ReferralRecord {
  std::string region;
  std::string id;
  // 0 before the first write; then 1, 2, ...: the etag.
  int64_t version = 0;
  slussen::v1::Referral referral;
  // Keyed hash of the personnummer (see pseudonymizer.h); empty when none.
  std::string personal_identity_pseudonym;
  // The organisation of the provider holding or serving the referral;
  // empty while none does.
  std::string assigned_organisation;
  // The participant's audit subject (Pseudonymizer::AuditSubject): what
  // the audit records of this participant share. Empty for a referral
  // without personal data (an impulse) and after erasure. A change of a
  // record with a subject is audited; one that empties it is an erasure.
  std::string audit_subject;
};

// An offer as stored, in its referral's region.
struct OfferRecord {
  std::string region;
  std::string id;
  // 0 before the first write.
  int64_t version = 0;
  slussen::v1::Offer offer;
  // The organisation of the offering's provider: who sees and answers it.
  std::string provider_organisation;
  // The capacity unit it holds: "-" for places and caseload, else the
  // cohort id.
  std::string unit;
};

// A deadline clock as stored, in its referral's region.
struct ClockRecord {
  std::string region;
  // "<referral id>-<clock kind number>-<history index that started it>".
  std::string id;
  // 0 before the first write; then one more with each write, and with each
  // step the store fired by itself (FirePlanned).
  int64_t version = 0;
  slussen::v1::Clock clock;
  // When it next needs firing (it is indexed for the firing sweep);
  // nullopt: never (closed, paused, escalated as far as it goes).
  std::optional<absl::Time> next_fire;
};

// A stored resource and the version it was read at (its etag).
template <typename T>
struct Versioned {
  T value;
  int64_t version = 0;
};

// What publishing capacity writes: the offering with its new capacity
// definition, and every capacity unit's new size.
struct CapacityPlan {
  // The offering as it becomes (capacity definition; counters are not
  // stored in it).
  slussen::v1::Offering offering;
  // Unit ("-" or a cohort id) and its new capacity. The store checks, when
  // it writes, that none is below what the unit has taken by then.
  std::vector<std::pair<std::string, int>> units;
  // Units that go away (cohorts no longer published, all empty).
  std::vector<std::string> removed_units;
  // A cohort decision closes a unit (capacity 0) while it still holds
  // places, which the broker then frees or moves: skip the check that no
  // unit falls below what it has taken.
  bool closes_units = false;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_RECORDS_H_

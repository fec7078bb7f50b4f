// The matcher: given a snapshot of a region (the referrals waiting for
// capacity, the offerings with their capacity, the framework agreements),
// decide which referrals to queue, which to reject, and which offering (and
// cohort) to offer each one; and explain every waiting referral's position
// and estimated start. Pure: snapshot in, decisions out; the broker reads
// the snapshot from Redis and applies the decisions atomically, one by one
// (broker/store), so a decision that lost a race is simply not applied.
//
// How it decides (DOMAIN.md, "Who fits where"):
// - A referral asks for an activity type in its region (ActivityTypeFor):
//   its candidates are the offerings of that type in the region, narrowed
//   by the referral's kind: a team handover to the named team's offerings,
//   a joint mapping to the counterpart agency's, an avrop to the ranked
//   suppliers of its framework agreement (for the participant's kommun).
//   Offerings that declined the referral or let an offer expire are not
//   candidates again.
// - RECEIVED referrals are queued if some candidate admits them, rejected
//   with every candidate's reason if none does, and queued to wait if there
//   is no candidate at all yet (nothing to reject against). A referral
//   whose every offering has declined it or let an offer expire is
//   rejected with that as the reason: nothing more can happen to it.
// - Referrals are placed in priority order (priority_policy.h) across the
//   region. A referral takes a free unit of the best candidate that admits
//   it and has capacity now: the participant's preferred provider if it
//   can; for an avrop the best-ranked supplier; then the earliest start;
//   then an offering in the participant's own kommun; then by name.
//   Capacity now: places or caseload with taken < capacity; a cohort whose
//   intake is open (intake start <= today < start) with taken < max size.
//   Stale capacity is never used (it is reported in the explanation).
// - Invariants (tested on random snapshots): no unit is offered beyond
//   capacity; no ineligible offer; no referral gets two offers; after a
//   match, no eligible waiting referral has a fitting unit free.
//
//   Matcher matcher(std::move(snapshot));
//   std::vector<MatchDecision> decisions = matcher.MatchAll();
//   std::vector<QueueExplanation> queues = matcher.ExplainQueues();
//
// Thread-compatible: a Matcher is used by one thread at a time.
#ifndef SLUSSEN_BROKER_CORE_MODEL_MATCHER_H_
#define SLUSSEN_BROKER_CORE_MODEL_MATCHER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/eligibility.h"
#include "broker/core/model/priority_policy.h"
#include "slussen/v1/provider.pb.h"
#include "slussen/v1/queue_service.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// The activity types of the kinds that do not name one.
inline constexpr char kImpulseActivityType[] = "funktionsbrevlada";
inline constexpr char kJointMappingActivityType[] = "gemensam-kartlaggning";
inline constexpr char kTeamHandoverActivityType[] = "teamoverlamning";

// The activity type a referral asks for: an activity referral's
// activity_type, an avrop's service code, or the fixed type of its kind.
std::string ActivityTypeFor(const slussen::v1::Referral& referral);

// One cohort of an offering.
struct CohortSlot {
  // "providers/{p}/offerings/{o}/cohorts/{c}".
  std::string name;
  absl::CivilDay start;
  // Intake opens on this day.
  absl::CivilDay intake_start;
  int min_size = 1;
  int max_size = 0;
  // Enrolled plus held by live offers.
  int taken = 0;
};

// An offering as the matcher sees it.
struct MatchOffering {
  // "providers/{p}/offerings/{o}".
  std::string name;
  std::string display_name;
  // "providers/{p}".
  std::string provider;
  slussen::v1::AgencyKind provider_agency_kind =
      slussen::v1::AGENCY_KIND_UNSPECIFIED;
  std::string activity_type;
  std::string region;
  std::string kommun_code;
  std::string framework_agreement;
  EligibilityRule eligibility;
  slussen::v1::CapacityModel model = slussen::v1::CAPACITY_MODEL_UNSPECIFIED;
  // PLACES: total seats; CASELOAD: max open cases.
  int capacity = 0;
  // PLACES: occupied + held; CASELOAD: open + held.
  int taken = 0;
  // COHORTS: ordered by start.
  std::vector<CohortSlot> cohorts;
  // Published capacity is older than the offering allows.
  bool stale = false;
  absl::Time capacity_update_time;
  // PLACES / CASELOAD, for estimates: days on which taken units are
  // expected to free (a started participant's programme ends), ascending.
  std::vector<absl::CivilDay> expected_frees;
};

// The offering as the matcher sees it: capacity counters from the output
// fields of `offering.capacity()`, staleness against `now`, cohort intake
// from cohort_intake_days; the agency kind of its `provider`, and, where
// the offering names no home kommuner, the kommuner the provider serves
// (none named: every kommun of its regions).
MatchOffering ToMatchOffering(const slussen::v1::Offering& offering,
                              const slussen::v1::Provider& provider,
                              absl::Time now, absl::TimeZone zone);

// A referral waiting for capacity (RECEIVED or QUEUED).
struct MatchReferral {
  // "regions/{r}/referrals/{id}".
  std::string name;
  slussen::v1::ReferralState state = slussen::v1::REFERRAL_STATE_RECEIVED;
  std::string activity_type;
  std::string region;
  ParticipantFacts facts;
  PriorityFacts priority;
  // "providers/{p}" the participant chose; honoured where it can be.
  std::string preferred_provider;
  // A team handover: only this provider's offerings.
  std::string required_provider;
  // A joint mapping: only offerings of providers of this agency kind.
  slussen::v1::AgencyKind required_agency_kind =
      slussen::v1::AGENCY_KIND_UNSPECIFIED;
  // An avrop: only the ranked suppliers of this agreement.
  std::string framework_agreement;
  // Offerings that declined it or let an offer expire.
  std::vector<std::string> excluded_offerings;
};

// `referral` (RECEIVED or QUEUED) as the matcher sees it; `due` is its
// earliest open response deadline, if known.
MatchReferral ToMatchReferral(const slussen::v1::Referral& referral,
                              std::optional<absl::Time> due);

struct RankedSupplierFact {
  // "providers/{p}".
  std::string provider;
  int rank = 0;
  // Empty: every kommun the agreement covers.
  std::vector<std::string> kommun_codes;
};

struct MatchAgreement {
  // "frameworkAgreements/{a}".
  std::string name;
  std::vector<RankedSupplierFact> suppliers;
};

MatchAgreement ToMatchAgreement(const slussen::v1::FrameworkAgreement& a);

struct MatchInput {
  absl::Time now;
  absl::TimeZone zone;
  slussen::v1::PriorityPolicy policy;
  std::vector<MatchOffering> offerings;
  std::vector<MatchReferral> referrals;
  std::vector<MatchAgreement> agreements;
};

struct MatchDecision {
  enum class Kind {
    // RECEIVED -> QUEUED.
    kQueue,
    // Not admitted by any candidate; `reasons` says why, one per candidate.
    kReject,
    // Offer a unit of `offering` (and `cohort` for cohorts).
    kOffer,
  };
  Kind kind = Kind::kQueue;
  // Index into MatchInput::referrals.
  int referral = -1;
  // kOffer: index into MatchInput::offerings, and into its cohorts (-1
  // unless COHORTS).
  int offering = -1;
  int cohort = -1;
  // kReject: why not, one line per candidate ("Hälsosam Halmstad: age 70
  // is outside 18..64"). kOffer: why this one (the rules that held, the
  // preference, the rank).
  std::vector<std::string> reasons;
  // kOffer of an avrop: the supplier's rank.
  int framework_rank = 0;
  // kOffer: the participant's preferred provider got it.
  bool preferred_provider_honoured = false;
};

// Where a waiting referral stands.
struct QueueExplanation {
  // Index into MatchInput::referrals.
  int referral = -1;
  // "regions/{r}/queues/{activity_type}~{region}".
  std::string queue;
  // 1-based among the waiting referrals of the queue, in priority order.
  int position = 0;
  int length = 0;
  std::vector<slussen::v1::PositionReason> reasons;
  // From published capacity: the start of the cohort it would get, or the
  // day a place is expected to free. Unset when nothing ahead is known.
  std::optional<absl::CivilDay> estimated_start;
  std::string estimated_cohort;
  // In words, including any stale capacity that was left out.
  std::string estimate_basis;
};

class Matcher {
 public:
  // Builds the indexes over `input`; decides nothing yet.
  explicit Matcher(MatchInput input);
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // A full match: every referral of the input, in priority order. The
  // decisions for one referral come together, kQueue before kOffer.
  std::vector<MatchDecision> MatchAll();

  // Adds one more referral and places it against the capacity left (a
  // place that is free is wanted by no one waiting, so taking it passes
  // no one). Returns its decisions (queue/reject, and maybe offer); its
  // index is referrals().size() - 1 afterwards.
  std::vector<MatchDecision> Place(MatchReferral referral);

  // The waiting referrals (QUEUED or queued now, without an offer from
  // this match) of every queue, in position order. Call after MatchAll.
  std::vector<QueueExplanation> ExplainQueues() const;

  const MatchInput& input() const;
  // Capacity after the decisions so far (taken counts include the offers).
  const std::vector<MatchOffering>& offerings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_MATCHER_H_

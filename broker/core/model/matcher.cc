#include "broker/core/model/matcher.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultStaleDays = 14;
constexpr int kDefaultIntakeDays = 28;

std::string BucketKey(const std::string& region, const std::string& type) {
  return absl::StrCat(region, "\x1f", type);
}

std::string RegionOfName(const std::string& name) {
  // "regions/{region}/referrals/{id}"
  return name.size() > 10 ? name.substr(8, 2) : "";
}

bool IsClosed(v1::CohortState state) {
  return state == v1::COHORT_STATE_CANCELLED ||
         state == v1::COHORT_STATE_MERGED || state == v1::COHORT_STATE_FINISHED;
}

std::string Ordinal(int n) {
  const int tens = n % 100;
  const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                       : n % 10 == 1              ? "st"
                       : n % 10 == 2              ? "nd"
                       : n % 10 == 3              ? "rd"
                                                  : "th";
  return absl::StrCat(n, suffix);
}

}  // namespace

std::string ActivityTypeFor(const v1::Referral& referral) {
  switch (referral.details_case()) {
    case v1::Referral::kActivity:
      return referral.activity().activity_type();
    case v1::Referral::kRehabServiceOrder:
      return referral.rehab_service_order().service();
    case v1::Referral::kImpulse:
      return kImpulseActivityType;
    case v1::Referral::kJointMapping:
      return kJointMappingActivityType;
    case v1::Referral::kTeamHandover:
      return kTeamHandoverActivityType;
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  return "";
}

MatchOffering ToMatchOffering(const v1::Offering& offering,
                              const v1::Provider& provider, absl::Time now,
                              absl::TimeZone zone) {
  MatchOffering out;
  out.name = offering.name();
  out.display_name = offering.display_name();
  const absl::StatusOr<OfferingName> name =
      ParseOfferingName("offering", offering.name());
  if (name.ok()) out.provider = name->ProviderName();
  out.provider_agency_kind = provider.agency_kind();
  out.activity_type = offering.activity_type();
  out.region = offering.region();
  out.kommun_code = offering.kommun_code();
  out.framework_agreement = offering.framework_agreement();
  out.eligibility = CompileEligibility(offering.eligibility());
  if (out.eligibility.kommun_codes.empty()) {
    // "Empty admits those the provider serves" (provider.proto).
    out.eligibility.kommun_codes.assign(provider.kommun_codes().begin(),
                                        provider.kommun_codes().end());
    std::sort(out.eligibility.kommun_codes.begin(),
              out.eligibility.kommun_codes.end());
  }
  const v1::Capacity& c = offering.capacity();
  out.model = c.model();
  const int stale_days = offering.stale_after_days() > 0
                             ? offering.stale_after_days()
                             : kDefaultStaleDays;
  out.capacity_update_time =
      c.has_update_time() ? ToAbslTime(c.update_time()) : absl::InfinitePast();
  out.stale = !c.has_update_time() ||
              out.capacity_update_time + absl::Hours(24 * stale_days) < now;
  switch (c.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      out.model = v1::CAPACITY_MODEL_PLACES;
      out.capacity = c.places().total();
      out.taken = c.places().occupied() + c.places().held();
      break;
    case v1::Capacity::kCaseload:
      out.model = v1::CAPACITY_MODEL_CASELOAD;
      out.capacity = c.caseload().max_open_cases();
      out.taken = c.caseload().open_cases() + c.caseload().held();
      break;
    case v1::Capacity::kCohorts: {
      out.model = v1::CAPACITY_MODEL_COHORTS;
      const int intake_days = offering.cohort_intake_days() > 0
                                  ? offering.cohort_intake_days()
                                  : kDefaultIntakeDays;
      for (const v1::Cohort& cohort : c.cohorts().cohorts()) {
        if (IsClosed(cohort.state())) continue;
        const absl::StatusOr<absl::CivilDay> start =
            ToCivilDay("start_date", cohort.start_date());
        if (!start.ok()) continue;
        CohortSlot slot;
        slot.name = cohort.name();
        slot.start = *start;
        slot.intake_start = *start - intake_days;
        if (cohort.has_intake_start_date()) {
          const absl::StatusOr<absl::CivilDay> intake =
              ToCivilDay("intake_start_date", cohort.intake_start_date());
          if (intake.ok()) slot.intake_start = *intake;
        }
        slot.min_size = cohort.min_size();
        slot.max_size = cohort.max_size();
        slot.taken = cohort.enrolled() + cohort.held();
        out.cohorts.push_back(std::move(slot));
      }
      std::sort(out.cohorts.begin(), out.cohorts.end(),
                [](const CohortSlot& a, const CohortSlot& b) {
                  return std::tie(a.start, a.name) < std::tie(b.start, b.name);
                });
      break;
    }
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      break;
  }
  (void)zone;
  return out;
}

MatchReferral ToMatchReferral(const v1::Referral& referral,
                              std::optional<absl::Time> due) {
  MatchReferral out;
  out.name = referral.name();
  out.state = referral.state();
  out.activity_type = ActivityTypeFor(referral);
  out.region = RegionOfName(referral.name());
  out.facts = FactsOf(referral);
  out.priority.name = referral.name();
  out.priority.referring_organisation = referral.referring_organisation();
  out.priority.due = due;
  out.priority.sickness_days_left = out.facts.sickness_days_left;
  out.priority.waiting_since = ToAbslTime(referral.create_time());
  switch (referral.details_case()) {
    case v1::Referral::kActivity:
      out.preferred_provider = referral.activity().preferred_provider();
      break;
    case v1::Referral::kRehabServiceOrder:
      out.preferred_provider =
          referral.rehab_service_order().preferred_provider();
      out.framework_agreement =
          referral.rehab_service_order().framework_agreement();
      break;
    case v1::Referral::kTeamHandover:
      out.required_provider = referral.team_handover().team();
      break;
    case v1::Referral::kJointMapping:
      out.required_agency_kind = referral.joint_mapping().counterpart();
      break;
    default:
      break;
  }
  out.excluded_offerings.assign(referral.excluded_offerings().begin(),
                                referral.excluded_offerings().end());
  std::sort(out.excluded_offerings.begin(), out.excluded_offerings.end());
  return out;
}

MatchAgreement ToMatchAgreement(const v1::FrameworkAgreement& a) {
  MatchAgreement out;
  out.name = a.name();
  for (const v1::RankedSupplier& s : a.suppliers()) {
    out.suppliers.push_back(
        {s.provider(),
         s.rank(),
         {s.kommun_codes().begin(), s.kommun_codes().end()}});
  }
  return out;
}

// --- The matcher ------------------------------------------------------------

struct Matcher::State {
  MatchInput input;
  std::vector<MatchOffering> offerings;
  absl::CivilDay today;
  // (region, activity type) -> offering indexes.
  std::unordered_map<std::string, std::vector<int>> buckets;
  std::map<std::string, const MatchAgreement*> agreements;
  std::vector<PriorityKey> keys;
  // Priority order of the referrals placed so far.
  std::vector<int> order;
  // Referrals per referring organisation, for the fair-share round of an
  // arrival.
  std::unordered_map<std::string, int> per_organisation;
  // Per referral: an offer was decided, or a rejection.
  std::vector<bool> placed;
  std::vector<bool> rejected;

  // A candidate of a referral: an offering index and, for an avrop, the
  // supplier's rank (0 otherwise).
  struct Candidate {
    int offering;
    int rank;
  };

  // The candidate offerings of `r`; `excluded` (if given) collects those
  // left out only because they declined it or let an offer expire.
  std::vector<Candidate> CandidatesOf(
      const MatchReferral& r, std::vector<int>* excluded = nullptr) const {
    std::vector<Candidate> out;
    const auto bucket = buckets.find(BucketKey(r.region, r.activity_type));
    if (bucket == buckets.end()) return out;
    const MatchAgreement* agreement = nullptr;
    if (!r.framework_agreement.empty()) {
      const auto it = agreements.find(r.framework_agreement);
      if (it == agreements.end()) return out;
      agreement = it->second;
    }
    for (int index : bucket->second) {
      const MatchOffering& o = offerings[index];
      if (!r.required_provider.empty() && o.provider != r.required_provider) {
        continue;
      }
      if (r.required_agency_kind != v1::AGENCY_KIND_UNSPECIFIED &&
          o.provider_agency_kind != r.required_agency_kind) {
        continue;
      }
      int rank = 0;
      if (agreement != nullptr) {
        if (o.framework_agreement != agreement->name) continue;
        for (const RankedSupplierFact& s : agreement->suppliers) {
          const bool applies =
              s.kommun_codes.empty() || r.facts.kommun_withheld ||
              std::count(s.kommun_codes.begin(), s.kommun_codes.end(),
                         r.facts.kommun_code) > 0;
          if (s.provider == o.provider && applies &&
              (rank == 0 || s.rank < rank)) {
            rank = s.rank;
          }
        }
        if (rank == 0) continue;  // not a supplier for this kommun
      }
      if (std::binary_search(r.excluded_offerings.begin(),
                             r.excluded_offerings.end(), o.name)) {
        if (excluded != nullptr) excluded->push_back(index);
        continue;
      }
      out.push_back({index, rank});
    }
    return out;
  }

  // The unit of `o` that can take someone today: -1 for places and
  // caseload, the cohort index, or -2 when none.
  int FreeUnit(const MatchOffering& o) const {
    if (o.stale) return -2;
    switch (o.model) {
      case v1::CAPACITY_MODEL_PLACES:
      case v1::CAPACITY_MODEL_CASELOAD:
        return o.taken < o.capacity ? -1 : -2;
      case v1::CAPACITY_MODEL_COHORTS:
        for (size_t i = 0; i < o.cohorts.size(); ++i) {
          const CohortSlot& c = o.cohorts[i];
          if (c.intake_start <= today && today < c.start &&
              c.taken < c.max_size) {
            return static_cast<int>(i);
          }
        }
        return -2;
      default:
        return -2;
    }
  }

  void Place(int index, std::vector<MatchDecision>& decisions) {
    const MatchReferral& r = input.referrals[index];
    std::vector<int> excluded;
    const std::vector<Candidate> candidates = CandidatesOf(r, &excluded);
    const auto queue = [&] {
      if (r.state == v1::REFERRAL_STATE_RECEIVED) {
        decisions.push_back(
            {.kind = MatchDecision::Kind::kQueue, .referral = index});
      }
    };
    if (candidates.empty() && !excluded.empty()) {
      // Every offering it could go to has declined it or let it expire:
      // nothing more can happen, so the agency hears why.
      MatchDecision reject{.kind = MatchDecision::Kind::kReject,
                           .referral = index};
      for (int o : excluded) {
        reject.reasons.push_back(absl::StrCat(
            offerings[o].display_name.empty() ? offerings[o].name
                                              : offerings[o].display_name,
            ": declined the referral or let its offer expire"));
      }
      rejected[index] = true;
      decisions.push_back(std::move(reject));
      return;
    }
    if (candidates.empty()) {
      queue();  // nothing to judge against yet: wait
      return;
    }
    // The best admitting candidate with room, by: the participant's
    // choice, the supplier's rank, the earliest start, the same kommun,
    // the name.
    // (The name is compared by reference: no copy per candidate.)
    using Preference =
        std::tuple<int, int, absl::CivilDay, int, absl::string_view>;
    std::optional<Preference> best_preference;
    int best = -1, best_unit = -2, best_rank = 0;
    bool admitted = false;
    for (const Candidate& c : candidates) {
      const MatchOffering& o = offerings[c.offering];
      if (!IsEligible(o.eligibility, r.facts)) continue;
      admitted = true;
      const int unit = FreeUnit(o);
      if (unit == -2) continue;
      const Preference preference{
          o.provider == r.preferred_provider ? 0 : 1, c.rank,
          unit >= 0 ? o.cohorts[unit].start : today,
          o.kommun_code == r.facts.kommun_code || r.facts.kommun_withheld ? 0
                                                                          : 1,
          absl::string_view(o.name)};
      if (!best_preference || preference < *best_preference) {
        best_preference.emplace(preference);
        best = c.offering;
        best_unit = unit;
        best_rank = c.rank;
      }
    }
    if (!admitted) {
      MatchDecision reject{.kind = MatchDecision::Kind::kReject,
                           .referral = index};
      for (const Candidate& c : candidates) {
        const MatchOffering& o = offerings[c.offering];
        reject.reasons.push_back(
            absl::StrCat(o.display_name.empty() ? o.name : o.display_name, ": ",
                         ExplainIneligible(o.eligibility, r.facts)));
      }
      rejected[index] = true;
      decisions.push_back(std::move(reject));
      return;
    }
    queue();
    if (best < 0) return;  // admitted somewhere, no room now: it waits
    MatchOffering& o = offerings[best];
    MatchDecision offer{
        .kind = MatchDecision::Kind::kOffer,
        .referral = index,
        .offering = best,
        .cohort = best_unit >= 0 ? best_unit : -1,
        .reasons = ExplainEligible(o.eligibility, r.facts),
        .framework_rank = best_rank,
        .preferred_provider_honoured = !r.preferred_provider.empty() &&
                                       o.provider == r.preferred_provider};
    if (offer.preferred_provider_honoured) {
      offer.reasons.push_back("the participant's choice of provider");
    }
    if (best_rank > 0) {
      offer.reasons.push_back(
          absl::StrCat("rank ", best_rank, " of ", r.framework_agreement));
    }
    if (best_unit >= 0) {
      offer.reasons.push_back(
          absl::StrCat("cohort starting ",
                       absl::FormatCivilTime(o.cohorts[best_unit].start)));
      ++o.cohorts[best_unit].taken;
    } else {
      ++o.taken;
    }
    placed[index] = true;
    decisions.push_back(std::move(offer));
  }
};

Matcher::Matcher(MatchInput input) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.input = std::move(input);
  s.offerings = s.input.offerings;
  s.today = absl::ToCivilDay(s.input.now, s.input.zone);
  for (size_t i = 0; i < s.offerings.size(); ++i) {
    const MatchOffering& o = s.offerings[i];
    s.buckets[BucketKey(o.region, o.activity_type)].push_back(
        static_cast<int>(i));
  }
  for (const MatchAgreement& a : s.input.agreements) s.agreements[a.name] = &a;
}

Matcher::~Matcher() = default;

const MatchInput& Matcher::input() const { return state_->input; }

const std::vector<MatchOffering>& Matcher::offerings() const {
  return state_->offerings;
}

std::vector<MatchDecision> Matcher::MatchAll() {
  State& s = *state_;
  std::vector<PriorityFacts> facts;
  facts.reserve(s.input.referrals.size());
  for (const MatchReferral& r : s.input.referrals) facts.push_back(r.priority);
  s.keys = ComputeKeys(s.input.policy, facts, s.input.zone);
  s.order.resize(s.input.referrals.size());
  std::iota(s.order.begin(), s.order.end(), 0);
  std::sort(s.order.begin(), s.order.end(), [&](int a, int b) {
    return ComparePriority(s.input.policy, s.keys[a], s.keys[b]) < 0;
  });
  s.placed.assign(s.input.referrals.size(), false);
  s.rejected.assign(s.input.referrals.size(), false);
  s.per_organisation.clear();
  for (const MatchReferral& r : s.input.referrals) {
    ++s.per_organisation[r.priority.referring_organisation];
  }
  std::vector<MatchDecision> decisions;
  for (int index : s.order) s.Place(index, decisions);
  return decisions;
}

std::vector<MatchDecision> Matcher::Place(MatchReferral referral) {
  State& s = *state_;
  s.input.referrals.push_back(std::move(referral));
  const int index = static_cast<int>(s.input.referrals.size()) - 1;
  // A new referral waits after everyone already waiting of its tier: its
  // fair-share round counts after the others of its organisation.
  PriorityKey key = ComputeKeys(
      s.input.policy, {s.input.referrals[index].priority}, s.input.zone)[0];
  key.fair_share_round =
      ++s.per_organisation[s.input.referrals[index]
                               .priority.referring_organisation];
  s.keys.push_back(std::move(key));
  s.placed.push_back(false);
  s.rejected.push_back(false);
  const auto position = std::upper_bound(
      s.order.begin(), s.order.end(), index, [&](int a, int b) {
        return ComparePriority(s.input.policy, s.keys[a], s.keys[b]) < 0;
      });
  s.order.insert(position, index);
  std::vector<MatchDecision> decisions;
  s.Place(index, decisions);
  return decisions;
}

std::vector<QueueExplanation> Matcher::ExplainQueues() const {
  const State& s = *state_;
  std::vector<QueueExplanation> out;
  // Waiting referrals per queue, in priority order.
  std::map<std::string, std::vector<int>> queues;
  for (int index : s.order) {
    if (s.placed[index] || s.rejected[index]) continue;
    const MatchReferral& r = s.input.referrals[index];
    queues[QueueName{r.region, r.activity_type, r.region}.ToString()].push_back(
        index);
  }
  // Simulated future: units taken by those ahead, per offering (and
  // cohort), and expected frees used.
  std::vector<std::vector<int>> extra(s.offerings.size());
  std::vector<size_t> frees_used(s.offerings.size(), 0);
  for (size_t i = 0; i < s.offerings.size(); ++i) {
    extra[i].assign(s.offerings[i].cohorts.size(), 0);
  }
  for (const auto& [queue, members] : queues) {
    for (size_t p = 0; p < members.size(); ++p) {
      const int index = members[p];
      const MatchReferral& r = s.input.referrals[index];
      QueueExplanation e;
      e.referral = index;
      e.queue = queue;
      e.position = static_cast<int>(p) + 1;
      e.length = static_cast<int>(members.size());
      e.reasons = ExplainKey(s.input.policy, s.keys[index], r.priority);
      // The earliest unit ahead among the candidates that admit it.
      std::optional<absl::CivilDay> best;
      int best_offering = -1, best_cohort = -1;
      std::vector<std::string> stale;
      bool any_candidate = false;
      for (const State::Candidate& c : s.CandidatesOf(r)) {
        const MatchOffering& o = s.offerings[c.offering];
        if (!IsEligible(o.eligibility, r.facts)) continue;
        any_candidate = true;
        if (o.stale) {
          stale.push_back(absl::StrCat(
              o.display_name, " left out: capacity ",
              o.capacity_update_time == absl::InfinitePast()
                  ? std::string("never published")
                  : absl::StrCat(
                        "last published ",
                        absl::FormatTime("%Y-%m-%d", o.capacity_update_time,
                                         s.input.zone))));
          continue;
        }
        if (o.model == v1::CAPACITY_MODEL_COHORTS) {
          for (size_t k = 0; k < o.cohorts.size(); ++k) {
            const CohortSlot& cohort = o.cohorts[k];
            if (cohort.start > s.today &&
                cohort.taken + extra[c.offering][k] < cohort.max_size &&
                (!best || cohort.start < *best)) {
              best = cohort.start;
              best_offering = c.offering;
              best_cohort = static_cast<int>(k);
            }
          }
        } else if (frees_used[c.offering] < o.expected_frees.size()) {
          const absl::CivilDay day = o.expected_frees[frees_used[c.offering]];
          if (!best || day < *best) {
            best = day;
            best_offering = c.offering;
            best_cohort = -1;
          }
        }
      }
      if (best) {
        const MatchOffering& o = s.offerings[best_offering];
        e.estimated_start = best;
        if (best_cohort >= 0) {
          const CohortSlot& cohort = o.cohorts[best_cohort];
          e.estimated_cohort = cohort.name;
          const int ahead = extra[best_offering][best_cohort];
          e.estimate_basis = absl::StrCat(
              Ordinal(ahead + 1), " waiting for ", o.display_name,
              "'s cohort starting ", absl::FormatCivilTime(cohort.start), " (",
              cohort.max_size - cohort.taken, " of ", cohort.max_size,
              " places free)");
          ++extra[best_offering][best_cohort];
        } else {
          e.estimate_basis = absl::StrCat("a place at ", o.display_name,
                                          " is expected to free on ",
                                          absl::FormatCivilTime(*best));
          ++frees_used[best_offering];
        }
      } else if (!any_candidate && stale.empty()) {
        e.estimate_basis = absl::StrCat("no provider offers ", r.activity_type,
                                        " in region ", r.region, " yet");
      } else {
        e.estimate_basis =
            "no published capacity ahead: no later cohort or expected free "
            "place is known";
      }
      for (const std::string& line : stale) {
        absl::StrAppend(&e.estimate_basis, "; ", line);
      }
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace slussen::core

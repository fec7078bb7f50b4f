// Who fits where: an offering's eligibility rules, compiled for fast
// evaluation, against the facts of a participant.
//
// The matcher evaluates rules millions of times (every queued referral
// against every offering of its activity type), so rules and facts are
// plain structs with bit sets, compiled once from the protos; the first
// rule that fails can be put in words for the referral that fits nowhere.
//
//   const EligibilityRule rule = CompileEligibility(offering.eligibility());
//   const ParticipantFacts facts = FactsOf(referral);
//   if (!IsEligible(rule, facts)) {
//     reasons.push_back(ExplainIneligible(rule, facts));  // "age 70 ..."
//   }
//
// Thread-safe: pure functions over values.
#ifndef SLUSSEN_BROKER_CORE_MODEL_ELIGIBILITY_H_
#define SLUSSEN_BROKER_CORE_MODEL_ELIGIBILITY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "slussen/v1/provider.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::core {

// What a rule may ask about the person referred. For an impulse (no
// participant) only kommun_code and kind are set.
struct ParticipantFacts {
  slussen::v1::ReferralKind kind = slussen::v1::REFERRAL_KIND_UNSPECIFIED;
  std::optional<int> age_years;
  slussen::v1::Gender gender = slussen::v1::GENDER_UNSPECIFIED;
  // Home kommun (an impulse: the kommun it is about).
  std::string kommun_code;
  // The participant has protected personal data: no kommun is kept, and a
  // kommun rule (or a framework agreement's kommuner) keeps nobody out;
  // the activity's own kommun stands in for the participant's.
  bool kommun_withheld = false;
  // Bit (1 << BenefitStatus) for each status held.
  uint32_t benefit_statuses = 0;
  std::optional<int> sickness_days_left;
  std::optional<int> hours_per_week;
  // ISO 639-1 codes, as written.
  std::vector<std::string> languages;
  bool needs_interpreter = false;
  // Bit (1 << Exclusion) for each circumstance.
  uint32_t exclusions = 0;
};

// The facts of a referral (its kind, participant attributes, and for an
// impulse its kommun).
ParticipantFacts FactsOf(const slussen::v1::Referral& referral);

// EligibilityRules, compiled. Empty sets and unset bounds admit everyone.
struct EligibilityRule {
  std::optional<int> min_age_years;
  std::optional<int> max_age_years;
  // Bit (1 << Gender) for each gender admitted; 0 admits all.
  uint32_t genders = 0;
  // Sorted; empty admits every kommun.
  std::vector<std::string> kommun_codes;
  // Bit (1 << BenefitStatus); the participant needs one of them; 0 admits
  // all.
  uint32_t benefit_statuses = 0;
  std::optional<int> min_sickness_days_left;
  std::optional<int> max_sickness_days_left;
  std::optional<int> min_hours_per_week;
  // Sorted; the participant must speak one unless an interpreter is
  // available; empty admits all.
  std::vector<std::string> languages;
  bool interpreter_available = false;
  // Bit (1 << Exclusion); a participant with any is not admitted.
  uint32_t excluded = 0;
  // Bit (1 << ReferralKind) for each kind taken; 0 takes activity
  // referrals only.
  uint32_t referral_kinds = 0;
};

EligibilityRule CompileEligibility(const slussen::v1::EligibilityRules& rules);

// Whether `facts` meet every rule. A rule about an attribute the facts do
// not have (an age rule, no age given) is not met: eligibility must be
// shown, not assumed.
bool IsEligible(const EligibilityRule& rule, const ParticipantFacts& facts);

// The first rule `facts` do not meet, in words for the referring agency
// ("age 70 is outside 18..64", "no age given; the offering admits
// 18..64", "speaks none of sv, en and no interpreter is available").
// Precondition: !IsEligible(rule, facts).
std::string ExplainIneligible(const EligibilityRule& rule,
                              const ParticipantFacts& facts);

// The rules that held, in words, for an offer's explanation ("age 34
// within 18..64", "kommun 1380 served").
std::vector<std::string> ExplainEligible(const EligibilityRule& rule,
                                         const ParticipantFacts& facts);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_ELIGIBILITY_H_

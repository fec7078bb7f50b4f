#include "broker/core/model/eligibility.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/model/referral_validation.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

template <typename Repeated>
uint32_t Bits(const Repeated& values) {
  uint32_t bits = 0;
  for (int value : values) {
    if (value >= 0 && value < 32) bits |= 1u << value;
  }
  return bits;
}

template <typename Repeated>
std::vector<std::string> Sorted(const Repeated& values) {
  std::vector<std::string> out(values.begin(), values.end());
  std::sort(out.begin(), out.end());
  return out;
}

bool Contains(const std::vector<std::string>& sorted, const std::string& v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

bool SpeaksOne(const EligibilityRule& rule, const ParticipantFacts& facts) {
  for (const std::string& language : facts.languages) {
    if (Contains(rule.languages, language)) return true;
  }
  return false;
}

uint32_t KindsTaken(const EligibilityRule& rule) {
  return rule.referral_kinds != 0 ? rule.referral_kinds
                                  : 1u << v1::REFERRAL_KIND_ACTIVITY;
}

// "18..64", "18 or more", "at most 64".
std::string Band(const std::optional<int>& min, const std::optional<int>& max) {
  if (min && max) return absl::StrCat(*min, "..", *max);
  if (min) return absl::StrCat(*min, " or more");
  return absl::StrCat("at most ", *max);
}

bool InBand(int value, const std::optional<int>& min,
            const std::optional<int>& max) {
  return (!min || value >= *min) && (!max || value <= *max);
}

std::string GenderNames(uint32_t bits) {
  std::vector<std::string> names;
  for (int v = 1; v <= v1::GENDER_OTHER; ++v) {
    if (bits & (1u << v)) {
      names.push_back(v1::Gender_Name(static_cast<v1::Gender>(v)).substr(7));
    }
  }
  return absl::StrJoin(names, ", ");
}

std::string BenefitNames(uint32_t bits) {
  std::vector<std::string> names;
  for (int v = 1; v < 32; ++v) {
    if ((bits & (1u << v)) && v1::BenefitStatus_IsValid(v)) {
      names.push_back(
          v1::BenefitStatus_Name(static_cast<v1::BenefitStatus>(v)).substr(15));
    }
  }
  return absl::StrJoin(names, ", ");
}

std::string ExclusionNames(uint32_t bits) {
  std::vector<std::string> names;
  for (int v = 1; v < 32; ++v) {
    if ((bits & (1u << v)) && v1::Exclusion_IsValid(v)) {
      names.push_back(
          v1::Exclusion_Name(static_cast<v1::Exclusion>(v)).substr(10));
    }
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace

ParticipantFacts FactsOf(const v1::Referral& referral) {
  ParticipantFacts facts;
  facts.kind = KindOf(referral);
  if (referral.has_impulse()) {
    facts.kommun_code = referral.impulse().kommun_code();
    return facts;
  }
  const v1::ParticipantAttributes& a = referral.participant().attributes();
  if (a.has_age_years()) facts.age_years = a.age_years();
  facts.gender = a.gender();
  facts.kommun_code = a.kommun_code();
  facts.kommun_withheld = referral.protected_personal_data();
  facts.benefit_statuses = Bits(a.benefit_statuses());
  if (a.has_sickness_insurance_days_left()) {
    facts.sickness_days_left = a.sickness_insurance_days_left();
  }
  if (a.has_hours_per_week()) facts.hours_per_week = a.hours_per_week();
  facts.languages.assign(a.languages().begin(), a.languages().end());
  facts.needs_interpreter = a.needs_interpreter();
  facts.exclusions = Bits(a.exclusions());
  return facts;
}

EligibilityRule CompileEligibility(const v1::EligibilityRules& r) {
  EligibilityRule rule;
  if (r.has_min_age_years()) rule.min_age_years = r.min_age_years();
  if (r.has_max_age_years()) rule.max_age_years = r.max_age_years();
  rule.genders = Bits(r.genders());
  rule.kommun_codes = Sorted(r.kommun_codes());
  rule.benefit_statuses = Bits(r.benefit_statuses());
  if (r.has_min_sickness_insurance_days_left()) {
    rule.min_sickness_days_left = r.min_sickness_insurance_days_left();
  }
  if (r.has_max_sickness_insurance_days_left()) {
    rule.max_sickness_days_left = r.max_sickness_insurance_days_left();
  }
  if (r.has_min_hours_per_week()) {
    rule.min_hours_per_week = r.min_hours_per_week();
  }
  rule.languages = Sorted(r.languages());
  rule.interpreter_available = r.interpreter_available();
  rule.excluded = Bits(r.excluded());
  rule.referral_kinds = Bits(r.referral_kinds());
  return rule;
}

bool IsEligible(const EligibilityRule& rule, const ParticipantFacts& facts) {
  if ((KindsTaken(rule) & (1u << facts.kind)) == 0) return false;
  if (rule.min_age_years || rule.max_age_years) {
    if (!facts.age_years ||
        !InBand(*facts.age_years, rule.min_age_years, rule.max_age_years)) {
      return false;
    }
  }
  if (rule.genders != 0 && (rule.genders & (1u << facts.gender)) == 0) {
    return false;
  }
  if (!rule.kommun_codes.empty() && !facts.kommun_withheld &&
      !Contains(rule.kommun_codes, facts.kommun_code)) {
    return false;
  }
  if (rule.benefit_statuses != 0 &&
      (rule.benefit_statuses & facts.benefit_statuses) == 0) {
    return false;
  }
  if (rule.min_sickness_days_left || rule.max_sickness_days_left) {
    if (!facts.sickness_days_left ||
        !InBand(*facts.sickness_days_left, rule.min_sickness_days_left,
                rule.max_sickness_days_left)) {
      return false;
    }
  }
  if (rule.min_hours_per_week &&
      (!facts.hours_per_week ||
       *facts.hours_per_week < *rule.min_hours_per_week)) {
    return false;
  }
  if (!rule.languages.empty() && !SpeaksOne(rule, facts) &&
      !rule.interpreter_available) {
    return false;
  }
  return (rule.excluded & facts.exclusions) == 0;
}

std::string ExplainIneligible(const EligibilityRule& rule,
                              const ParticipantFacts& facts) {
  if ((KindsTaken(rule) & (1u << facts.kind)) == 0) {
    return absl::StrCat("takes no ",
                        v1::ReferralKind_Name(facts.kind)
                            .substr(std::string("REFERRAL_KIND_").size()),
                        " referrals");
  }
  if (rule.min_age_years || rule.max_age_years) {
    const std::string band = Band(rule.min_age_years, rule.max_age_years);
    if (!facts.age_years) {
      return absl::StrCat("no age given; the offering admits ", band);
    }
    if (!InBand(*facts.age_years, rule.min_age_years, rule.max_age_years)) {
      return absl::StrCat("age ", *facts.age_years, " is outside ", band);
    }
  }
  if (rule.genders != 0 && (rule.genders & (1u << facts.gender)) == 0) {
    return absl::StrCat("admits ", GenderNames(rule.genders), " only");
  }
  if (!rule.kommun_codes.empty() && !facts.kommun_withheld &&
      !Contains(rule.kommun_codes, facts.kommun_code)) {
    return facts.kommun_code.empty()
               ? absl::StrCat("no kommun given; the offering serves ",
                              absl::StrJoin(rule.kommun_codes, ", "))
               : absl::StrCat("kommun ", facts.kommun_code,
                              " is not served (serves ",
                              absl::StrJoin(rule.kommun_codes, ", "), ")");
  }
  if (rule.benefit_statuses != 0 &&
      (rule.benefit_statuses & facts.benefit_statuses) == 0) {
    return absl::StrCat("needs one of the benefits ",
                        BenefitNames(rule.benefit_statuses));
  }
  if (rule.min_sickness_days_left || rule.max_sickness_days_left) {
    const std::string band =
        Band(rule.min_sickness_days_left, rule.max_sickness_days_left);
    if (!facts.sickness_days_left) {
      return absl::StrCat(
          "no days left in the sickness insurance given; the offering "
          "admits ",
          band);
    }
    if (!InBand(*facts.sickness_days_left, rule.min_sickness_days_left,
                rule.max_sickness_days_left)) {
      return absl::StrCat(*facts.sickness_days_left,
                          " days left in the sickness insurance is outside ",
                          band);
    }
  }
  if (rule.min_hours_per_week &&
      (!facts.hours_per_week ||
       *facts.hours_per_week < *rule.min_hours_per_week)) {
    return facts.hours_per_week
               ? absl::StrCat(*facts.hours_per_week,
                              " hours a week is below the ",
                              *rule.min_hours_per_week, " it needs")
               : absl::StrCat("no hours a week given; it needs ",
                              *rule.min_hours_per_week);
  }
  if (!rule.languages.empty() && !SpeaksOne(rule, facts) &&
      !rule.interpreter_available) {
    return absl::StrCat("speaks none of ", absl::StrJoin(rule.languages, ", "),
                        " and no interpreter is available");
  }
  if ((rule.excluded & facts.exclusions) != 0) {
    return absl::StrCat("excludes ",
                        ExclusionNames(rule.excluded & facts.exclusions));
  }
  return "admitted";
}

std::vector<std::string> ExplainEligible(const EligibilityRule& rule,
                                         const ParticipantFacts& facts) {
  std::vector<std::string> reasons;
  if ((rule.min_age_years || rule.max_age_years) && facts.age_years) {
    reasons.push_back(
        absl::StrCat("age ", *facts.age_years, " within ",
                     Band(rule.min_age_years, rule.max_age_years)));
  }
  if (rule.genders != 0) {
    reasons.push_back(
        absl::StrCat("for ", GenderNames(rule.genders), " participants"));
  }
  if (!rule.kommun_codes.empty()) {
    reasons.push_back(
        facts.kommun_withheld
            ? std::string("kommun withheld (protected personal data): the "
                          "activity's kommun stands in")
            : absl::StrCat("kommun ", facts.kommun_code, " served"));
  }
  if (rule.benefit_statuses != 0) {
    reasons.push_back(absl::StrCat(
        "has ", BenefitNames(rule.benefit_statuses & facts.benefit_statuses)));
  }
  if ((rule.min_sickness_days_left || rule.max_sickness_days_left) &&
      facts.sickness_days_left) {
    reasons.push_back(absl::StrCat(
        *facts.sickness_days_left, " days left within ",
        Band(rule.min_sickness_days_left, rule.max_sickness_days_left)));
  }
  if (rule.min_hours_per_week && facts.hours_per_week) {
    reasons.push_back(absl::StrCat(*facts.hours_per_week,
                                   " hours a week, at least ",
                                   *rule.min_hours_per_week));
  }
  if (!rule.languages.empty()) {
    reasons.push_back(SpeaksOne(rule, facts)
                          ? "speaks a language it is given in"
                          : "with an interpreter");
  }
  if (reasons.empty()) reasons.push_back("the offering admits everyone");
  return reasons;
}

}  // namespace slussen::core

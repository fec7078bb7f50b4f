#include "broker/core/model/directory_validation.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kMaxList = 300;
// A stepped work training has a few steps (4, 10, 20 hours).
constexpr int kMaxHoursSteps = 10;
// Ranks are 1..100.
constexpr int kMaxSuppliers = 100;

absl::Status ValidateDisplayName(absl::string_view field,
                                 absl::string_view name) {
  return ValidateText(Path(field, "display_name"), name,
                      {.min_chars = 1, .max_chars = 200});
}

// Unique, valid items of a repeated string field.
template <typename Repeated, typename Check>
absl::Status ValidateList(absl::string_view field, const Repeated& items,
                          bool required, Check check) {
  if (required && items.empty()) {
    return MissingField(field, "at least one");
  }
  if (items.size() > kMaxList) {
    return InvalidField(field, absl::StrCat("must hold at most ", kMaxList),
                        items.size());
  }
  std::set<std::string> seen;
  for (int i = 0; i < items.size(); ++i) {
    const std::string item = absl::StrCat(field, "[", i, "]");
    RETURN_IF_ERROR(check(item, items[i]));
    if (!seen.insert(items[i]).second) {
      return InvalidField(item, "must not repeat an earlier value", items[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status RegionCode(absl::string_view field, absl::string_view code) {
  if (!IsRegionCode(code)) {
    return InvalidField(field, "must be a two-digit län code (01, 03, ..., 25)",
                        code);
  }
  return absl::OkStatus();
}

absl::Status OptionalBand(absl::string_view field, bool has_min, int min,
                          bool has_max, int max, int low, int high) {
  if (has_min)
    RETURN_IF_ERROR(ValidateIntRange(Path(field, "min"), min, low, high));
  if (has_max)
    RETURN_IF_ERROR(ValidateIntRange(Path(field, "max"), max, low, high));
  if (has_min && has_max && min > max) {
    return InvalidField(
        field, absl::StrCat("must have min <= max, min is ", min), max);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateEligibilityRules(absl::string_view field,
                                      const v1::EligibilityRules& r) {
  RETURN_IF_ERROR(OptionalBand(Path(field, "age_years"), r.has_min_age_years(),
                               r.min_age_years(), r.has_max_age_years(),
                               r.max_age_years(), 16, 69));
  RETURN_IF_ERROR(
      ValidateEnumSet<v1::Gender>(Path(field, "genders"), r.genders()));
  RETURN_IF_ERROR(ValidateList(Path(field, "kommun_codes"), r.kommun_codes(),
                               false, ValidateKommunCode));
  RETURN_IF_ERROR(ValidateEnumSet<v1::BenefitStatus>(
      Path(field, "benefit_statuses"), r.benefit_statuses()));
  RETURN_IF_ERROR(OptionalBand(Path(field, "sickness_insurance_days_left"),
                               r.has_min_sickness_insurance_days_left(),
                               r.min_sickness_insurance_days_left(),
                               r.has_max_sickness_insurance_days_left(),
                               r.max_sickness_insurance_days_left(), 0, 914));
  if (r.has_min_hours_per_week()) {
    RETURN_IF_ERROR(ValidateIntRange(Path(field, "min_hours_per_week"),
                                     r.min_hours_per_week(), 1, 40));
  }
  RETURN_IF_ERROR(ValidateList(Path(field, "languages"), r.languages(), false,
                               ValidateLanguageCode));
  RETURN_IF_ERROR(
      ValidateEnumSet<v1::Exclusion>(Path(field, "excluded"), r.excluded()));
  return ValidateEnumSet<v1::ReferralKind>(Path(field, "referral_kinds"),
                                           r.referral_kinds());
}

absl::Status ValidateActivityType(absl::string_view field,
                                  const v1::ActivityType& t) {
  RETURN_IF_ERROR(ValidateDisplayName(field, t.display_name()));
  RETURN_IF_ERROR(ValidateText(Path(field, "description"), t.description(),
                               {.max_chars = 2000, .free_text = true}));
  RETURN_IF_ERROR(ValidateEnum<v1::CapacityModel>(
      Path(field, "usual_capacity_model"), t.usual_capacity_model(), false));
  RETURN_IF_ERROR(ValidateIntRange(Path(field, "usual_group_size"),
                                   t.usual_group_size(), 0, 100));
  RETURN_IF_ERROR(OptionalBand(Path(field, "usual_weeks"), true,
                               t.usual_weeks_min(), true, t.usual_weeks_max(),
                               0, 104));
  RETURN_IF_ERROR(ValidateEligibilityRules(Path(field, "usual_eligibility"),
                                           t.usual_eligibility()));
  RETURN_IF_ERROR(ValidateEnumSet<v1::ReferralKind>(
      Path(field, "referral_kinds"), t.referral_kinds()));
  RETURN_IF_ERROR(ValidateIntRange(Path(field, "shortfall_warning_weeks"),
                                   t.shortfall_warning_weeks(), 0, 52));
  return ValidateText(Path(field, "source"), t.source(), {.max_chars = 200});
}

absl::Status ValidateProvider(absl::string_view field, const v1::Provider& p) {
  RETURN_IF_ERROR(ValidateDisplayName(field, p.display_name()));
  RETURN_IF_ERROR(
      ValidateOrganisationId(Path(field, "organisation"), p.organisation()));
  RETURN_IF_ERROR(
      ValidateEnum<v1::ProviderKind>(Path(field, "kind"), p.kind(), true));
  RETURN_IF_ERROR(ValidateEnum<v1::AgencyKind>(
      Path(field, "agency_kind"), p.agency_kind(),
      /*required=*/p.kind() == v1::PROVIDER_KIND_AGENCY_TEAM));
  RETURN_IF_ERROR(
      ValidateList(Path(field, "regions"), p.regions(), true, RegionCode));
  RETURN_IF_ERROR(ValidateList(Path(field, "kommun_codes"), p.kommun_codes(),
                               false, ValidateKommunCode));
  const std::set<std::string> regions(p.regions().begin(), p.regions().end());
  for (int i = 0; i < p.kommun_codes_size(); ++i) {
    if (!regions.count(std::string(RegionOfKommun(p.kommun_codes(i))))) {
      return InvalidField(absl::StrCat(field, ".kommun_codes[", i, "]"),
                          "must lie in one of the provider's regions",
                          p.kommun_codes(i));
    }
  }
  if (p.has_contact()) {
    RETURN_IF_ERROR(
        ValidateContactRoute(Path(field, "contact"), p.contact(), false));
  }
  return absl::OkStatus();
}

absl::Status ValidateFrameworkAgreement(absl::string_view field,
                                        const v1::FrameworkAgreement& a) {
  RETURN_IF_ERROR(ValidateDisplayName(field, a.display_name()));
  RETURN_IF_ERROR(ValidateEnum<v1::AgencyKind>(Path(field, "procuring_agency"),
                                               a.procuring_agency(), true));
  RETURN_IF_ERROR(
      ValidateList(Path(field, "services"), a.services(), true, ValidateCode));
  RETURN_IF_ERROR(
      ValidateList(Path(field, "regions"), a.regions(), true, RegionCode));
  if (a.suppliers().empty()) {
    return MissingField(Path(field, "suppliers"),
                        "the suppliers in rank order");
  }
  if (a.suppliers_size() > kMaxSuppliers) {
    return InvalidField(Path(field, "suppliers"),
                        absl::StrCat("must hold at most ", kMaxSuppliers,
                                     " suppliers (ranks are 1..100)"),
                        a.suppliers_size());
  }
  for (int i = 0; i < a.suppliers_size(); ++i) {
    const v1::RankedSupplier& s = a.suppliers(i);
    const std::string item = absl::StrCat(field, ".suppliers[", i, "]");
    RETURN_IF_ERROR(ValidateProviderName(Path(item, "provider"), s.provider()));
    RETURN_IF_ERROR(ValidateIntRange(Path(item, "rank"), s.rank(), 1, 100));
    RETURN_IF_ERROR(ValidateList(Path(item, "kommun_codes"), s.kommun_codes(),
                                 false, ValidateKommunCode));
  }
  ASSIGN_OR_RETURN(const absl::CivilDay start,
                   ToCivilDay(Path(field, "start_date"), a.start_date()));
  ASSIGN_OR_RETURN(const absl::CivilDay end,
                   ToCivilDay(Path(field, "end_date"), a.end_date()));
  if (end < start) {
    return InvalidField(Path(field, "end_date"),
                        "must not lie before start_date",
                        absl::FormatCivilTime(end));
  }
  return absl::OkStatus();
}

absl::Status ValidateOffering(absl::string_view field, const v1::Offering& o) {
  RETURN_IF_ERROR(ValidateDisplayName(field, o.display_name()));
  RETURN_IF_ERROR(
      ValidateCode(Path(field, "activity_type"), o.activity_type()));
  RETURN_IF_ERROR(RegionCode(Path(field, "region"), o.region()));
  RETURN_IF_ERROR(
      ValidateKommunCode(Path(field, "kommun_code"), o.kommun_code()));
  if (RegionOfKommun(o.kommun_code()) != o.region()) {
    return InvalidField(
        Path(field, "kommun_code"),
        absl::StrCat("must lie in the offering's region ", o.region()),
        o.kommun_code());
  }
  RETURN_IF_ERROR(ValidateText(Path(field, "site"), o.site(), {}));
  RETURN_IF_ERROR(
      ValidateEligibilityRules(Path(field, "eligibility"), o.eligibility()));
  RETURN_IF_ERROR(ValidateText(Path(field, "schedule.description"),
                               o.schedule().description(), {.max_chars = 500}));
  RETURN_IF_ERROR(ValidateIntRange(Path(field, "schedule.weeks"),
                                   o.schedule().weeks(), 0, 104));
  if (o.schedule().hours_per_week_steps_size() > kMaxHoursSteps) {
    return InvalidField(
        Path(field, "schedule.hours_per_week_steps"),
        absl::StrCat("must hold at most ", kMaxHoursSteps, " steps"),
        o.schedule().hours_per_week_steps_size());
  }
  for (int i = 0; i < o.schedule().hours_per_week_steps_size(); ++i) {
    RETURN_IF_ERROR(ValidateIntRange(
        absl::StrCat(field, ".schedule.hours_per_week_steps[", i, "]"),
        o.schedule().hours_per_week_steps(i), 1, 40));
  }
  RETURN_IF_ERROR(ValidateList(Path(field, "languages"), o.languages(), false,
                               ValidateLanguageCode));
  if (!o.framework_agreement().empty()) {
    RETURN_IF_ERROR(ValidateFrameworkAgreementName(
        Path(field, "framework_agreement"), o.framework_agreement()));
  }
  RETURN_IF_ERROR(ValidateIntRange(Path(field, "stale_after_days"),
                                   o.stale_after_days(), 0, 90));
  RETURN_IF_ERROR(ValidateIntRange(Path(field, "offer_hold_hours"),
                                   o.offer_hold_hours(), 0, 720));
  return ValidateIntRange(Path(field, "cohort_intake_days"),
                          o.cohort_intake_days(), 0, 365);
}

}  // namespace slussen::core

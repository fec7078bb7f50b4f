#include "broker/core/model/names.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

// Sveriges län with their codes (SCB länskoder).
constexpr std::array<std::pair<absl::string_view, absl::string_view>, 21>
    kRegions = {{
        {"01", "Stockholms län"},    {"03", "Uppsala län"},
        {"04", "Södermanlands län"}, {"05", "Östergötlands län"},
        {"06", "Jönköpings län"},    {"07", "Kronobergs län"},
        {"08", "Kalmar län"},        {"09", "Gotlands län"},
        {"10", "Blekinge län"},      {"12", "Skåne län"},
        {"13", "Hallands län"},      {"14", "Västra Götalands län"},
        {"17", "Värmlands län"},     {"18", "Örebro län"},
        {"19", "Västmanlands län"},  {"20", "Dalarnas län"},
        {"21", "Gävleborgs län"},    {"22", "Västernorrlands län"},
        {"23", "Jämtlands län"},     {"24", "Västerbottens län"},
        {"25", "Norrbottens län"},
    }};

constexpr absl::string_view kCrockfordBase32 =
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Checks that `name` is "{collection}/{slug id}".
absl::Status ValidateSimpleName(absl::string_view field, absl::string_view name,
                                absl::string_view collection,
                                absl::string_view form) {
  const std::string prefix = absl::StrCat(collection, "/");
  if (!absl::StartsWith(name, prefix) ||
      !IsSlugId(name.substr(prefix.size()))) {
    return InvalidField(field,
                        absl::StrCat("must be \"", form,
                                     "\" with an id of 2..63 characters of "
                                     "[a-z0-9-]"),
                        name);
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<absl::string_view>& RegionCodes() {
  static const auto* const kCodes = [] {
    auto* codes = new std::vector<absl::string_view>;
    for (const auto& [code, name] : kRegions) codes->push_back(code);
    return codes;
  }();
  return *kCodes;
}

bool IsRegionCode(absl::string_view code) {
  return !RegionDisplayName(code).empty();
}

absl::string_view RegionDisplayName(absl::string_view code) {
  for (const auto& [region, name] : kRegions) {
    if (region == code) return name;
  }
  return {};
}

absl::Status ValidateKommunCode(absl::string_view field,
                                absl::string_view code) {
  if (code.empty()) {
    return MissingField(field, "a four-digit kommun code (SCB kommunkod)");
  }
  if (code.size() != 4 || !AllDigits(code)) {
    return InvalidField(field, "must be four digits (SCB kommunkod)", code);
  }
  if (!IsRegionCode(code.substr(0, 2))) {
    return InvalidField(
        field,
        "must start with a län code (01, 03, ..., 25) as its first two "
        "digits",
        code);
  }
  return absl::OkStatus();
}

absl::string_view RegionOfKommun(absl::string_view kommun_code) {
  return kommun_code.substr(0, 2);
}

bool IsResourceId(absl::string_view id) {
  if (id.size() != 26) return false;
  for (char c : id) {
    if (kCrockfordBase32.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

bool IsSlugId(absl::string_view id) {
  if (id.size() < 2 || id.size() > 63) return false;
  if (!absl::ascii_islower(static_cast<unsigned char>(id.front()))) {
    return false;
  }
  if (id.back() == '-') return false;
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (!absl::ascii_islower(u) && !absl::ascii_isdigit(u) && c != '-') {
      return false;
    }
  }
  return true;
}

std::string ReferralName::ToString() const {
  return absl::StrCat("regions/", region, "/referrals/", id);
}

namespace {

// "regions/{region}/{collection}/{id}" with a referral's id.
absl::StatusOr<ReferralName> ParseRegionalName(absl::string_view field,
                                               absl::string_view name,
                                               absl::string_view collection,
                                               absl::string_view singular) {
  const std::string form =
      absl::StrCat("\"regions/{region}/", collection, "/{", singular, "}\"");
  if (name.empty()) return MissingField(field, form);
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "regions" || parts[2] != collection ||
      !IsRegionCode(parts[1]) || !IsResourceId(parts[3])) {
    return InvalidField(field,
                        absl::StrCat("must be ", form,
                                     " with a two-digit län code and a "
                                     "26-character ",
                                     singular, " id"),
                        name);
  }
  return ReferralName{std::string(parts[1]), std::string(parts[3])};
}

}  // namespace

absl::StatusOr<ReferralName> ParseReferralName(absl::string_view field,
                                               absl::string_view name) {
  return ParseRegionalName(field, name, "referrals", "referral");
}

absl::StatusOr<ReferralName> ParseConsentName(absl::string_view field,
                                              absl::string_view name) {
  return ParseRegionalName(field, name, "consents", "consent");
}

absl::StatusOr<std::string> ParseRegionParent(absl::string_view field,
                                              absl::string_view parent,
                                              bool allow_any_region) {
  const absl::string_view form = allow_any_region
                                     ? "\"regions/{region}\" or \"regions/-\""
                                     : "\"regions/{region}\"";
  if (parent.empty()) return MissingField(field, form);
  constexpr absl::string_view kPrefix = "regions/";
  if (absl::StartsWith(parent, kPrefix)) {
    const absl::string_view region = parent.substr(kPrefix.size());
    if (IsRegionCode(region)) return std::string(region);
    if (allow_any_region && region == kAnyRegion) return std::string(region);
  }
  return InvalidField(field,
                      absl::StrCat("must be ", form,
                                   " with a two-digit län code (01, 03, ..., "
                                   "25)"),
                      parent);
}

std::string OfferingName::ToString() const {
  return absl::StrCat("providers/", provider, "/offerings/", offering);
}

std::string OfferingName::ProviderName() const {
  return absl::StrCat("providers/", provider);
}

absl::StatusOr<OfferingName> ParseOfferingName(absl::string_view field,
                                               absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "providers" || parts[2] != "offerings" ||
      !IsSlugId(parts[1]) || !IsSlugId(parts[3])) {
    return InvalidField(field,
                        "must be \"providers/{provider}/offerings/{offering}\" "
                        "with ids of 2..63 characters of [a-z0-9-]",
                        name);
  }
  return OfferingName{std::string(parts[1]), std::string(parts[3])};
}

std::string CohortName::ToString() const {
  return absl::StrCat(offering.ToString(), "/cohorts/", cohort);
}

absl::StatusOr<CohortName> ParseCohortName(absl::string_view field,
                                           absl::string_view name) {
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 6 || parts[0] != "providers" || parts[2] != "offerings" ||
      parts[4] != "cohorts" || !IsSlugId(parts[1]) || !IsSlugId(parts[3]) ||
      !IsSlugId(parts[5])) {
    return InvalidField(field,
                        "must be \"providers/{provider}/offerings/{offering}/"
                        "cohorts/{cohort}\" with ids of 2..63 characters of "
                        "[a-z0-9-]",
                        name);
  }
  return CohortName{{std::string(parts[1]), std::string(parts[3])},
                    std::string(parts[5])};
}

std::string OfferName::ToString() const {
  return absl::StrCat("regions/", region, "/offers/", id);
}

absl::StatusOr<OfferName> ParseOfferName(absl::string_view field,
                                         absl::string_view name) {
  if (name.empty()) {
    return MissingField(field, "\"regions/{region}/offers/{offer}\"");
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  if (parts.size() != 4 || parts[0] != "regions" || parts[2] != "offers" ||
      !IsRegionCode(parts[1]) || !IsResourceId(parts[3])) {
    return InvalidField(field,
                        "must be \"regions/{region}/offers/{offer}\" with a "
                        "two-digit län code and a 26-character offer id",
                        name);
  }
  return OfferName{std::string(parts[1]), std::string(parts[3])};
}

std::string ClockName::ToString() const {
  return absl::StrCat("regions/", region, "/clocks/", id);
}

absl::StatusOr<ClockName> ParseClockName(absl::string_view field,
                                         absl::string_view name) {
  if (name.empty()) {
    return MissingField(field, "\"regions/{region}/clocks/{clock}\"");
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  const std::vector<absl::string_view> id =
      parts.size() == 4 ? absl::StrSplit(parts[3], '-')
                        : std::vector<absl::string_view>();
  int kind = 0, index = 0;
  if (parts.size() != 4 || parts[0] != "regions" || parts[2] != "clocks" ||
      !IsRegionCode(parts[1]) || id.size() != 3 || !IsResourceId(id[0]) ||
      !absl::SimpleAtoi(id[1], &kind) || !absl::SimpleAtoi(id[2], &index) ||
      kind <= 0 || index < 0) {
    return InvalidField(field,
                        "must be \"regions/{region}/clocks/{clock}\" with a "
                        "two-digit län code and a clock id "
                        "\"{referral id}-{kind}-{n}\"",
                        name);
  }
  return ClockName{std::string(parts[1]), std::string(parts[3]),
                   std::string(id[0])};
}

std::string QueueName::ToString() const {
  return absl::StrCat("regions/", region, "/queues/", activity_type, "~", area);
}

absl::StatusOr<QueueName> ParseQueueName(absl::string_view field,
                                         absl::string_view name) {
  if (name.empty()) {
    return MissingField(field,
                        "\"regions/{region}/queues/{activity_type}~{area}\"");
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  const std::vector<absl::string_view> queue =
      parts.size() == 4 ? absl::StrSplit(parts[3], '~')
                        : std::vector<absl::string_view>();
  if (parts.size() != 4 || parts[0] != "regions" || parts[2] != "queues" ||
      !IsRegionCode(parts[1]) || queue.size() != 2 ||
      !ValidateCode("", queue[0]).ok() ||
      !(queue[1] == parts[1] || (ValidateKommunCode("", queue[1]).ok() &&
                                 RegionOfKommun(queue[1]) == parts[1]))) {
    return InvalidField(field,
                        "must be \"regions/{region}/queues/"
                        "{activity_type}~{area}\" with a two-digit län code, "
                        "an activity type of 1..64 characters of [a-z0-9-] "
                        "and the region or one of its kommuner as the area",
                        name);
  }
  return QueueName{std::string(parts[1]), std::string(queue[0]),
                   std::string(queue[1])};
}

absl::StatusOr<std::string> ParseSimpleName(absl::string_view field,
                                            absl::string_view name,
                                            absl::string_view collection) {
  if (name.empty()) {
    return MissingField(field, absl::StrCat("\"", collection, "/{id}\""));
  }
  RETURN_IF_ERROR(ValidateSimpleName(field, name, collection,
                                     absl::StrCat(collection, "/{id}")));
  return std::string(name.substr(collection.size() + 1));
}

absl::Status ValidateProviderName(absl::string_view field,
                                  absl::string_view name) {
  return ValidateSimpleName(field, name, "providers", "providers/{provider}");
}

absl::Status ValidateFrameworkAgreementName(absl::string_view field,
                                            absl::string_view name) {
  return ValidateSimpleName(field, name, "frameworkAgreements",
                            "frameworkAgreements/{agreement}");
}

absl::Status ValidateOrganisationId(absl::string_view field,
                                    absl::string_view id) {
  if (id.empty()) return MissingField(field, "an organisation id");
  if (!IsSlugId(id)) {
    return InvalidField(field,
                        "must be 2..63 characters of [a-z0-9-], starting with "
                        "a letter",
                        id);
  }
  return absl::OkStatus();
}

}  // namespace slussen::core

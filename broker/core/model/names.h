// Swedish area codes (län and kommun) and Slussen's resource names.
//
// A region is a län, named by its two-digit code ("13" is Hallands län); a
// kommun by its four-digit SCB code, whose first two digits are its län
// ("1380" Halmstad lies in "13"). Referrals live in their region's partition:
// "regions/13/referrals/01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C".
//
//   ASSIGN_OR_RETURN(ReferralName name, ParseReferralName("name", text));
//   std::string again = name.ToString();
//
// Thread-safe: pure functions over constant tables.
#ifndef SLUSSEN_BROKER_CORE_MODEL_NAMES_H_
#define SLUSSEN_BROKER_CORE_MODEL_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slussen::core {

// "regions/-": every region the caller may see.
inline constexpr absl::string_view kAnyRegion = "-";

// The 21 län codes in order ("01", "03", ..., "25").
const std::vector<absl::string_view>& RegionCodes();

// Whether `code` is one of the 21 län codes.
bool IsRegionCode(absl::string_view code);

// The län's name ("Hallands län"), or empty for an unknown code.
absl::string_view RegionDisplayName(absl::string_view code);

// OK if `code` is four digits whose first two are a län code; otherwise
// INVALID_ARGUMENT naming `field`.
absl::Status ValidateKommunCode(absl::string_view field,
                                absl::string_view code);

// The län of a valid kommun code: its first two digits.
absl::string_view RegionOfKommun(absl::string_view kommun_code);

// Whether `id` is a server-made identifier: 26 characters of Crockford
// base32 (see ids.h).
bool IsResourceId(absl::string_view id);

// Whether `id` is a client-chosen identifier: 2..63 characters of [a-z0-9-],
// starting with a letter, not ending with '-'.
bool IsSlugId(absl::string_view id);

// "regions/{region}/referrals/{referral}".
struct ReferralName {
  std::string region;
  std::string id;

  std::string ToString() const;
};

absl::StatusOr<ReferralName> ParseReferralName(absl::string_view field,
                                               absl::string_view name);

// "regions/{region}/consents/{consent}": a consent is named by the referral
// it was given with (one consent per referral), so its id is that
// referral's.
absl::StatusOr<ReferralName> ParseConsentName(absl::string_view field,
                                              absl::string_view name);

// The region of a parent "regions/{region}"; with `allow_any_region`, also
// "regions/-", returned as kAnyRegion.
absl::StatusOr<std::string> ParseRegionParent(absl::string_view field,
                                              absl::string_view parent,
                                              bool allow_any_region);

// "providers/{provider}/offerings/{offering}".
struct OfferingName {
  std::string provider;
  std::string offering;

  std::string ToString() const;
  std::string ProviderName() const;  // "providers/{provider}"
};

absl::StatusOr<OfferingName> ParseOfferingName(absl::string_view field,
                                               absl::string_view name);

// "providers/{provider}/offerings/{offering}/cohorts/{cohort}".
struct CohortName {
  OfferingName offering;
  std::string cohort;

  std::string ToString() const;
};

absl::StatusOr<CohortName> ParseCohortName(absl::string_view field,
                                           absl::string_view name);

// "regions/{region}/offers/{offer}".
struct OfferName {
  std::string region;
  std::string id;

  std::string ToString() const;
};

absl::StatusOr<OfferName> ParseOfferName(absl::string_view field,
                                         absl::string_view name);

// "regions/{region}/clocks/{referral id}-{kind}-{n}".
struct ClockName {
  std::string region;
  std::string id;
  // The referral the clock belongs to.
  std::string referral_id;

  std::string ToString() const;
};

absl::StatusOr<ClockName> ParseClockName(absl::string_view field,
                                         absl::string_view name);

// "regions/{region}/queues/{activity_type}~{area}": the queue of one
// activity type in an area, the region itself or one of its kommuner.
struct QueueName {
  std::string region;
  std::string activity_type;
  std::string area;

  std::string ToString() const;
};

absl::StatusOr<QueueName> ParseQueueName(absl::string_view field,
                                         absl::string_view name);

// The id of "{collection}/{id}" (a slug id), e.g. of "providers/amia";
// INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> ParseSimpleName(absl::string_view field,
                                            absl::string_view name,
                                            absl::string_view collection);

// OK if `name` is "providers/{provider}" with a slug id.
absl::Status ValidateProviderName(absl::string_view field,
                                  absl::string_view name);

// OK if `name` is "frameworkAgreements/{agreement}" with a slug id.
absl::Status ValidateFrameworkAgreementName(absl::string_view field,
                                            absl::string_view name);

// OK if `id` is a valid organisation identifier: a slug id (see IsSlugId),
// for example "fk-lfc-halmstad".
absl::Status ValidateOrganisationId(absl::string_view field,
                                    absl::string_view id);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_NAMES_H_

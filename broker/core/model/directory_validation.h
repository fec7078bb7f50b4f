// Validation of the provider directory's resources: activity types,
// providers, framework agreements, offerings and their eligibility rules.
// Every rule of provider.proto's comments is checked here; the first broken
// one is INVALID_ARGUMENT naming the field path, the rule and the value.
// Output-only fields are ignored (cleared).
//
//   RETURN_IF_ERROR(ValidateProvider("provider", request.provider()));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_DIRECTORY_VALIDATION_H_
#define SLUSSEN_BROKER_CORE_MODEL_DIRECTORY_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "slussen/v1/provider.pb.h"

namespace slussen::core {

absl::Status ValidateEligibilityRules(absl::string_view field,
                                      const slussen::v1::EligibilityRules& r);

absl::Status ValidateActivityType(absl::string_view field,
                                  const slussen::v1::ActivityType& type);

absl::Status ValidateProvider(absl::string_view field,
                              const slussen::v1::Provider& provider);

absl::Status ValidateFrameworkAgreement(
    absl::string_view field, const slussen::v1::FrameworkAgreement& agreement);

// The offering's own fields (its capacity is published separately).
absl::Status ValidateOffering(absl::string_view field,
                              const slussen::v1::Offering& offering);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_DIRECTORY_VALIDATION_H_

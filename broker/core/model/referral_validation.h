// Validation of incoming referrals and of the requests that act on them.
//
// Every rule of referral.proto's comments is checked here, in the core, so
// that no bad input reaches storage. The first broken rule is reported as
// INVALID_ARGUMENT naming the field path ("referral.participant.pseudonym"),
// the rule and the value (withheld where it may be personal data).
//
//   ASSIGN_OR_RETURN(NewReferral input,
//                    ValidateCreateReferral(request, now, today));
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_REFERRAL_VALIDATION_H_
#define SLUSSEN_BROKER_CORE_MODEL_REFERRAL_VALIDATION_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/personnummer.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"

namespace slussen::core {

// A CreateReferral request that passed validation.
struct NewReferral {
  // The län code of the parent.
  std::string region;
  // Only the input fields of the request's referral; output-only fields are
  // dropped and the clear personnummer is removed.
  slussen::v1::Referral referral;
  // The parsed personnummer, when one was given.
  std::optional<Personnummer> personnummer;
};

// `now` bounds consent times; `today` (Europe/Stockholm) dates
// personnummer.
// The kind of `referral`, from which of its details is set (the kind field
// is output only); UNSPECIFIED when none is.
slussen::v1::ReferralKind KindOf(const slussen::v1::Referral& referral);

// The rules for a referral whose participant has protected personal data
// (Referral.protected_personal_data): not an impulse, no kommun of the
// participant's, and a referrer to reach them through. `prefix` is put
// before the field paths ("referral." in a create, "" for a stored one).
absl::Status ValidateProtection(const slussen::v1::Referral& referral,
                                absl::string_view prefix);

// What SUS registers at the start (`at_start`: income before and the
// level of education, required) or the end (income after; work, studies,
// Arbetsförmedlingen). An empty registration is valid (it is optional);
// one that is given needs its income sources (at least one, no
// duplicates, INCOME_SOURCE_NONE alone).
absl::Status ValidateSusRegistration(absl::string_view field,
                                     const slussen::v1::SusRegistration& sus,
                                     bool at_start);

absl::StatusOr<NewReferral> ValidateCreateReferral(
    const slussen::v1::CreateReferralRequest& request, absl::Time now,
    absl::CivilDay today);

// An agency's participant pseudonym: 4..64 characters of [A-Za-z0-9._-],
// never a personnummer (the value is withheld from that error).
absl::Status ValidatePseudonym(absl::string_view field,
                               absl::string_view pseudonym);

// The effective page size: `requested` if in 1..`max`, `default_size` for
// 0; INVALID_ARGUMENT otherwise.
absl::StatusOr<int> ValidatePageSize(absl::string_view field, int requested,
                                     int default_size, int max);

// Validates the filter of ListReferrals.
absl::Status ValidateReferralFilter(absl::string_view field,
                                    const slussen::v1::ReferralFilter& filter);

// Each outcome reason named and specified, none twice.
absl::Status ValidateOutcomeReasons(
    absl::string_view field,
    const google::protobuf::RepeatedField<int>& reasons);

// Validates the reason and note of CancelReferral.
absl::Status ValidateCancelReason(slussen::v1::CancelReason reason,
                                  absl::string_view note);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_REFERRAL_VALIDATION_H_

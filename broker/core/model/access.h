// Who may see which referral, and which of its fields: the access rules in
// one place (README.md, "Security", states them as a table).
//
// - An agency sees the referrals it made, whole; and the joint referrals
//   it is a party of (joint.h) as far as the consent names it (a class of
//   parties never covers an agency), unless protected personal data.
// - A provider sees the referrals held or served by it; personal fields only
//   as far as the participant's consent covers ASSIGNED_PROVIDER (or the
//   provider's organisation).
// - A coordinator sees the referrals of its region; personal fields only as
//   far as the consent covers REGION_COORDINATORS. Not a referral whose
//   participant has protected personal data (protected_personal_data):
//   only its referring agency and the provider holding or serving it learn
//   that it exists, and every read of it is audited.
// - An admin manages the directory and sees no referral.
// - The broker itself (ROLE_SYSTEM: matching, clocks) sees every referral;
//   no caller can take that role.
// A referral outside the caller's scope is NOT_FOUND, never
// PERMISSION_DENIED, so that its existence is not revealed.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_CORE_MODEL_ACCESS_H_
#define SLUSSEN_BROKER_CORE_MODEL_ACCESS_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/records.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"

namespace slussen::core {

// Whether `caller` may see `record` at all.
bool CanSee(const Caller& caller, const ReferralRecord& record);

// Whether `caller` may see `event` of `region`'s stream: a coordinator
// every event of its region but those of a referral with protected
// personal data; an agency the events of the referrals it
// made or is a party of (Event.joint_organisations); a provider those of
// referrals it holds or serves, the clocks that await it, and what it did
// itself (a decline).
bool MaySeeEvent(const Caller& caller, const std::string& region,
                 const slussen::v1::Event& event);

// PERMISSION_DENIED for a role that reads no referrals (admin, unknown).
absl::Status CheckMayReadReferrals(const Caller& caller);

// PERMISSION_DENIED when a coordinator asks for another region's `what`
// (referrals, offers, a queue, the worklist, events, reports): every RPC
// refuses another region the same way, rather than answer an empty list.
// `region` may be kAnyRegion ("-"): the coordinator's own. Other roles are
// not bound to a region.
absl::Status CheckOwnRegion(const Caller& caller, absl::string_view region,
                            absl::string_view what);

// Whether `caller` may see the participant's attributes of `record` at
// `now`: the referring agency always; others as far as the consent covers
// them for DATA_CATEGORY_ELIGIBILITY. Precondition: CanSee(caller, record).
bool MaySeeParticipant(const Caller& caller, const ReferralRecord& record,
                       absl::Time now);

// Whether the view `caller` gets of `record` at `now` holds personal data
// (the participant or case details), or the referral's participant has
// protected personal data (every read of it is recorded): a read to put in
// the audit trail. Precondition: CanSee(caller, record).
bool ShowsPersonalData(const Caller& caller, const ReferralRecord& record,
                       absl::Time now);

// Removes case details: free text about the participant's case (plan
// purpose, case summary, reason, notes, why a second referral, transition
// notes).
void ClearCaseDetails(slussen::v1::Referral& referral);

// Erases the participant's personal data from `record` at `now`: the
// participant, case details and notes, the matcher's reasons (which spell
// out the participant's facts), the SUS registrations (income, education,
// work), the personnummer's pseudonym and the audit subject. State, kind,
// times, consent scope and outcome reasons stay (anonymous statistics);
// personal_data_erase_time says when.
void ErasePersonalData(ReferralRecord& record, absl::Time now);

// The referral as `caller` may see it at `now`: its name, etag, the
// actions the caller may take and its consent as ConsentView shows it; history
// only in the FULL view; personal and case fields removed where the consent
// does not cover the caller (the history's reasons, which spell out the
// participant's facts, "age 34 within 18..64", as withheld; its SUS
// registrations unless the consent covers outcome data). Precondition:
// CanSee(caller, record).
slussen::v1::Referral ViewFor(const Caller& caller,
                              const ReferralRecord& record,
                              slussen::v1::ReferralView view, absl::Time now);

// The consent of `record` as the API shows it at `now`: named, with the
// state it has then (EXPIRED past its end time).
slussen::v1::Consent ConsentView(const ReferralRecord& record, absl::Time now);

// The offer as `caller` may see it at `now`, read with its referral
// (`referral`; null if there is none). Its personal parts live only in the
// referral's history, so that consent and erasure govern them in one
// place: why it fits (the OFFER transition's reasons) where the caller may
// see the participant, the decline note where the consent covers case
// details. For a participant with protected personal data it says so, with
// the referring agency's contact (the referral's referrer) to reach them
// through. Whatever an offer stored itself of either is never shown.
// Precondition: the caller may see the offer.
slussen::v1::Offer OfferViewFor(const Caller& caller, const OfferRecord& offer,
                                const ReferralRecord* referral, absl::Time now);

// Whether OfferViewFor's answer holds personal data, or is of a participant
// with protected personal data: a read to audit.
bool ShowsPersonalData(const slussen::v1::Offer& view);

// Whether `caller` may see `offer`, read with its referral (`referral`;
// null if there is none): a provider the offers made to it, a coordinator
// those of its region but a protected participant's (CanSee).
bool MaySeeOffer(const Caller& caller, const OfferRecord& offer,
                 const ReferralRecord* referral);

// Whether `caller` (a coordinator, or the provider) may register `record`'s
// participant in SUS by name at `now`: the consent covers it for outcome
// data, and the participant has no protected personal data (nor was
// erased). Otherwise the SUS registration is anonymous.
bool MayRegisterInSus(const Caller& caller, const ReferralRecord& record,
                      absl::Time now);

// Removes the participant's facts from `event`: its transition's reasons
// and SUS registration (the event is written without its note already). Events
// reach readers filtered by who may see them, not by the consent, which can
// change after they are written; a reader the consent covers finds the reasons
// in the referral. Applied when an event is made and again when it is read (for
// events written before).
void StripParticipantFacts(slussen::v1::Event& event);

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_ACCESS_H_

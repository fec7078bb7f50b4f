#include "broker/core/desks/consent_desk.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/model/access.h"
#include "broker/core/model/events.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kMaxAttempts = 5;

absl::Status ValidateStaffHandle(absl::string_view field,
                                 absl::string_view handle) {
  if (handle.empty()) return absl::OkStatus();
  if (ContainsPersonnummer(handle)) {
    return InvalidFieldWithheld(field,
                                "must be a staff handle, never a personnummer");
  }
  return ValidateRequestId(field, handle);
}

}  // namespace

ConsentDesk::ConsentDesk(ReferralRepository* referrals, AuditRepository& audit,
                         const Clock* clock)
    : referrals_(referrals),
      audit_(audit),
      clock_(clock),
      transitions_(referrals, clock) {}

absl::StatusOr<ReferralRecord> ConsentDesk::LoadConsent(
    const Caller& caller, absl::string_view name) const {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(const ReferralName referral, ParseConsentName("name", name));
  absl::StatusOr<ReferralRecord> record = transitions_.Load(caller, referral);
  if (absl::IsNotFound(record.status()) ||
      (record.ok() && !record->referral.has_consent())) {
    return absl::NotFoundError(absl::StrCat("consent ", name, " not found"));
  }
  return record;
}

absl::StatusOr<v1::Consent> ConsentDesk::GetConsent(
    const Caller& caller, const v1::GetConsentRequest& request) {
  ASSIGN_OR_RETURN(const ReferralRecord record,
                   LoadConsent(caller, request.name()));
  const absl::Time now = clock_->Now();
  if (ShowsPersonalData(caller, record, now)) {
    RETURN_IF_ERROR(RecordReads(
        audit_, caller, {{&record, ConsentView(record, now).name()}}, now));
  }
  return ConsentView(record, now);
}

absl::StatusOr<v1::ListConsentsResponse> ConsentDesk::ListConsents(
    const Caller& caller, const v1::ListConsentsRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/false));
  RETURN_IF_ERROR(ValidatePseudonym("participant_pseudonym",
                                    request.participant_pseudonym()));
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  const uint64_t query = QueryFingerprint(
      absl::StrCat(request.parent(), "\n", request.participant_pseudonym()));
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken("page_token", request.page_token(), query));

  ASSIGN_OR_RETURN(
      const std::vector<std::string> ids,
      referrals_->FindParticipant(region, request.participant_pseudonym(),
                                  /*by_personnummer=*/false));
  const absl::Time now = clock_->Now();
  // Listing by pseudonym tells which referrals are this person's: only
  // those whose participant the caller may see take part.
  // Read in chunks of the room left on the page, one round trip each.
  std::vector<std::string> pending;
  for (const std::string& id : ids) {
    if (id > after) pending.push_back(id);
  }
  std::vector<ReferralRecord> shown;
  std::string last;
  for (size_t next = 0;
       static_cast<int>(shown.size()) < page_size && next < pending.size();) {
    const size_t room = static_cast<size_t>(page_size) - shown.size();
    const std::vector<std::string> chunk(
        pending.begin() + next,
        pending.begin() + std::min(pending.size(), next + room));
    next += chunk.size();
    ASSIGN_OR_RETURN(std::vector<std::optional<ReferralRecord>> records,
                     referrals_->GetReferrals(region, chunk));
    for (std::optional<ReferralRecord>& record : records) {
      if (record.has_value() && record->referral.has_consent() &&
          CanSee(caller, *record) && MaySeeParticipant(caller, *record, now)) {
        shown.push_back(*std::move(record));
      }
    }
    last = chunk.back();
  }
  std::vector<AuditedRead> reads;
  v1::ListConsentsResponse response;
  for (const ReferralRecord& record : shown) {
    reads.push_back({&record, ConsentView(record, now).name()});
    *response.add_consents() = ConsentView(record, now);
  }
  RETURN_IF_ERROR(RecordReads(audit_, caller, reads, now));
  if (!last.empty() && last != ids.back()) {
    response.set_next_page_token(EncodePageToken(last, query));
  }
  return response;
}

absl::StatusOr<v1::Consent> ConsentDesk::WithdrawConsent(
    const Caller& caller, const v1::WithdrawConsentRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_WITHDRAW_CONSENT, caller.role));
  RETURN_IF_ERROR(
      ValidateStaffHandle("recorded_by_person", request.recorded_by_person()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  Caller recorder = caller;
  if (!request.recorded_by_person().empty()) {
    recorder.person = request.recorded_by_person();
  }
  ASSIGN_OR_RETURN(const ReferralName name,
                   ParseConsentName("name", request.name()));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(const ReferralRecord read,
                     LoadConsent(caller, request.name()));
    RETURN_IF_ERROR(CheckJointPartyMayTake(caller, read.referral,
                                           v1::ACTION_WITHDRAW_CONSENT));
    const absl::Time now = clock_->Now();
    if (read.referral.consent().state() == v1::CONSENT_STATE_WITHDRAWN) {
      return ConsentView(read, now);  // recorded before: nothing to do
    }
    auto withdraw = [&](v1::Referral& referral) {
      v1::Consent& consent = *referral.mutable_consent();
      consent.set_state(v1::CONSENT_STATE_WITHDRAWN);
      *consent.mutable_withdraw_time() = ToProtoTimestamp(now);
      *consent.mutable_withdrawn_by() = recorder.ToActor();
    };
    if (!IsTerminal(read.referral.state())) {
      // Ends the participation: offer, place and clocks go with it.
      ASSIGN_OR_RETURN(
          const ReferralRecord done,
          transitions_.Run(recorder, {.name = name,
                                      .action = v1::ACTION_WITHDRAW_CONSENT,
                                      .request_id = request.request_id(),
                                      .extend = [&](const ReferralRecord&,
                                                    ReferralChange& change) {
                                        withdraw(change.changed.referral);
                                      }}));
      return ConsentView(done, now);
    }
    // Finished: the state stays; the withdrawal is recorded and ends the
    // sharing.
    v1::Transition transition;
    transition.set_action(v1::ACTION_WITHDRAW_CONSENT);
    transition.set_from_state(read.referral.state());
    transition.set_to_state(read.referral.state());
    *transition.mutable_time() = ToProtoTimestamp(now);
    *transition.mutable_actor() = recorder.ToActor();
    transition.set_request_id(request.request_id());
    ReferralRecord changed = read;
    withdraw(changed.referral);
    *changed.referral.mutable_update_time() = ToProtoTimestamp(now);
    *changed.referral.add_history() = transition;
    absl::StatusOr<int64_t> version =
        referrals_->Update(read, changed, ReferralEvent(changed, transition));
    if (version.ok()) {
      changed.version = *version;
      return ConsentView(changed, now);
    }
    if (!absl::IsAborted(version.status())) return version.status();
  }
  return absl::AbortedError(absl::StrCat(
      request.name(), " kept changing while it was withdrawn; try again"));
}

}  // namespace slussen::core

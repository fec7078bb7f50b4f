#include "broker/core/referral_desk.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/access.h"
#include "broker/core/events.h"
#include "broker/core/field_error.h"
#include "broker/core/lifecycle.h"
#include "broker/core/page_token.h"
#include "broker/core/proto_time.h"
#include "broker/core/referral_validation.h"
#include "broker/core/status_macros.h"
#include "broker/core/text_rules.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// Lost races are retried this many times before answering ABORTED.
constexpr int kMaxAttempts = 5;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// The same message serialises to the same bytes (map order, unknown
// fields), so that a fingerprint of a retried request matches.
std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

absl::Status NotFound(const ReferralName& name) {
  return absl::NotFoundError(
      absl::StrCat("referral ", name.ToString(), " not found"));
}

absl::StatusOr<v1::ReferralView> EffectiveView(v1::ReferralView requested,
                                               v1::ReferralView fallback) {
  if (!v1::ReferralView_IsValid(requested)) {
    return InvalidField("view",
                        "must be REFERRAL_VIEW_BASIC or "
                        "REFERRAL_VIEW_FULL",
                        requested);
  }
  return requested == v1::REFERRAL_VIEW_UNSPECIFIED ? fallback : requested;
}

// Whether `request_id` was already applied to this referral by this
// organisation with this action: a retry to answer with the current state.
bool AlreadyApplied(const v1::Referral& referral, const Caller& caller,
                    v1::Action action, absl::string_view request_id) {
  if (request_id.empty()) return false;
  for (const v1::Transition& t : referral.history()) {
    if (t.request_id() == request_id && t.action() == action &&
        t.actor().organisation() == caller.organisation) {
      return true;
    }
  }
  return false;
}

v1::Transition NewTransition(const Caller& caller, v1::Action action,
                             v1::ReferralState from, v1::ReferralState to,
                             absl::Time now, absl::string_view request_id) {
  v1::Transition t;
  t.set_action(action);
  t.set_from_state(from);
  t.set_to_state(to);
  *t.mutable_time() = ToProtoTimestamp(now);
  *t.mutable_actor() = caller.ToActor();
  t.set_request_id(std::string(request_id));
  return t;
}

}  // namespace

ReferralDesk::ReferralDesk(ReferralRepository* repository, const Clock* clock,
                           IdGenerator* ids, const Pseudonymizer* pseudonymizer,
                           const SwedishCalendar* calendar)
    : repository_(repository),
      clock_(clock),
      ids_(ids),
      pseudonymizer_(pseudonymizer),
      calendar_(calendar) {}

absl::StatusOr<v1::Referral> ReferralDesk::CreateReferral(
    const Caller& caller, const v1::CreateReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_CREATE, caller.role));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(
      NewReferral input,
      ValidateCreateReferral(request, now, calendar_->LocalDay(now)));
  ReferralRecord record;
  record.region = input.region;
  record.id = ids_->NewId();
  if (input.personnummer.has_value()) {
    record.personal_identity_pseudonym =
        pseudonymizer_->Pseudonymize(*input.personnummer);
  }
  // The fingerprint covers the request body as the caller sent it (with the
  // personnummer as its keyed hash), before the server adds anything.
  const std::string fingerprint = pseudonymizer_->Fingerprint(
      absl::StrCat(DeterministicBytes(input.referral), "\n",
                   record.personal_identity_pseudonym));

  v1::Referral& referral = record.referral;
  referral = std::move(input.referral);
  referral.set_name(ReferralName{record.region, record.id}.ToString());
  referral.set_state(v1::REFERRAL_STATE_RECEIVED);
  referral.set_referring_organisation(caller.organisation);
  *referral.mutable_create_time() = ToProtoTimestamp(now);
  *referral.mutable_update_time() = ToProtoTimestamp(now);
  if (referral.has_participant()) {
    referral.mutable_participant()->set_has_personal_identity_number(
        !record.personal_identity_pseudonym.empty());
  }
  if (referral.has_consent()) {
    referral.mutable_consent()->set_state(v1::CONSENT_STATE_ACTIVE);
    *referral.mutable_consent()->mutable_recorded_by() = caller.ToActor();
  }
  const v1::Transition transition =
      NewTransition(caller, v1::ACTION_CREATE, v1::REFERRAL_STATE_UNSPECIFIED,
                    v1::REFERRAL_STATE_RECEIVED, now, request.request_id());
  *referral.add_history() = transition;

  std::optional<IdempotencyKey> key;
  if (!request.request_id().empty()) {
    key =
        IdempotencyKey{caller.organisation, request.request_id(), fingerprint};
  }
  ASSIGN_OR_RETURN(
      CreateOutcome outcome,
      repository_->Create(record, ReferralEvent(record, transition), key));
  if (!outcome.created && outcome.stored_fingerprint != fingerprint) {
    return InvalidField(
        "request_id",
        absl::StrCat("was already used by this organisation for a different "
                     "referral (",
                     outcome.record.referral.name(),
                     "); use a new request_id for a new referral"),
        request.request_id());
  }
  return ViewFor(caller, outcome.record, v1::REFERRAL_VIEW_FULL, now);
}

absl::StatusOr<v1::Referral> ReferralDesk::GetReferral(
    const Caller& caller, const v1::GetReferralRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(ReferralName name,
                   ParseReferralName("name", request.name()));
  ASSIGN_OR_RETURN(v1::ReferralView view,
                   EffectiveView(request.view(), v1::REFERRAL_VIEW_FULL));
  ASSIGN_OR_RETURN(ReferralRecord record, Load(caller, name));
  return ViewFor(caller, record, view, clock_->Now());
}

absl::StatusOr<v1::ListReferralsResponse> ReferralDesk::ListReferrals(
    const Caller& caller, const v1::ListReferralsRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/true));
  ASSIGN_OR_RETURN(int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  RETURN_IF_ERROR(ValidateReferralFilter("filter", request.filter()));
  ASSIGN_OR_RETURN(v1::ReferralView view,
                   EffectiveView(request.view(), v1::REFERRAL_VIEW_BASIC));
  const uint64_t query_fingerprint = QueryFingerprint(absl::StrCat(
      request.parent(), "\n", DeterministicBytes(request.filter())));
  ListQuery query;
  ASSIGN_OR_RETURN(
      query.before_id,
      DecodePageToken("page_token", request.page_token(), query_fingerprint));
  query.page_size = page_size;
  query.scan_limit = std::max(10 * page_size, 1000);
  for (int state : request.filter().states()) {
    query.states.push_back(static_cast<v1::ReferralState>(state));
  }
  for (int kind : request.filter().kinds()) {
    query.kinds.push_back(static_cast<v1::ReferralKind>(kind));
  }
  query.referring_organisation = request.filter().referring_organisation();

  // Which partitions and which index the caller's scope allows.
  if (caller.role == v1::ROLE_COORDINATOR) {
    if (region == kAnyRegion || region == caller.region) {
      query.regions = {caller.region};
    }
  } else if (region == kAnyRegion) {
    for (absl::string_view code : RegionCodes()) {
      query.regions.emplace_back(code);
    }
  } else {
    query.regions = {region};
  }
  switch (caller.role) {
    case v1::ROLE_AGENCY:
      query.index = ListIndex::kReferringOrganisation;
      query.organisation = caller.organisation;
      break;
    case v1::ROLE_PROVIDER:
      query.index = ListIndex::kAssignedOrganisation;
      query.organisation = caller.organisation;
      break;
    default:
      query.index = query.referring_organisation.empty()
                        ? ListIndex::kRegion
                        : ListIndex::kReferringOrganisation;
      query.organisation = query.referring_organisation;
      break;
  }

  v1::ListReferralsResponse response;
  if (query.regions.empty()) return response;
  ASSIGN_OR_RETURN(ListPage page, repository_->List(query));
  const absl::Time now = clock_->Now();
  for (const ReferralRecord& record : page.records) {
    if (CanSee(caller, record)) {
      *response.add_referrals() = ViewFor(caller, record, view, now);
    }
  }
  if (!page.resume_before_id.empty()) {
    response.set_next_page_token(
        EncodePageToken(page.resume_before_id, query_fingerprint));
  }
  return response;
}

absl::StatusOr<v1::Referral> ReferralDesk::CancelReferral(
    const Caller& caller, const v1::CancelReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_CANCEL, caller.role));
  ASSIGN_OR_RETURN(ReferralName name,
                   ParseReferralName("name", request.name()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  RETURN_IF_ERROR(ValidateCancelReason(request.reason(), request.note()));
  return Act(caller, {.name = std::move(name),
                      .action = v1::ACTION_CANCEL,
                      .etag = request.etag(),
                      .request_id = request.request_id(),
                      .describe = [&](v1::Transition& t) {
                        t.set_cancel_reason(request.reason());
                        t.set_note(request.note());
                      }});
}

absl::StatusOr<v1::Referral> ReferralDesk::Act(const Caller& caller,
                                               const ActionRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(request.action, caller.role));
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(const ReferralRecord read, Load(caller, request.name));
    ReferralRecord record = read;
    const absl::Time now = clock_->Now();
    v1::Referral& referral = record.referral;
    if (AlreadyApplied(referral, caller, request.action, request.request_id)) {
      return ViewFor(caller, record, v1::REFERRAL_VIEW_FULL, now);
    }
    const std::string etag = absl::StrCat(record.version);
    if (!request.etag.empty() && request.etag != etag) {
      return absl::AbortedError(absl::StrCat(
          "etag ", QuoteValue(request.etag), " of ", referral.name(),
          " is no longer current (now ", QuoteValue(etag),
          "): it changed since it was read; get it again"));
    }
    ASSIGN_OR_RETURN(v1::ReferralState next,
                     NextState(referral, request.action, caller.role));
    v1::Transition transition =
        NewTransition(caller, request.action, referral.state(), next, now,
                      request.request_id);
    if (request.describe) request.describe(transition);
    referral.set_state(next);
    *referral.mutable_update_time() = ToProtoTimestamp(now);
    *referral.add_history() = transition;
    absl::StatusOr<int64_t> version =
        repository_->Update(read, record, ReferralEvent(record, transition));
    if (version.ok()) {
      record.version = *version;
      return ViewFor(caller, record, v1::REFERRAL_VIEW_FULL, now);
    }
    if (!absl::IsAborted(version.status()) || !request.etag.empty()) {
      return version.status();
    }
  }
  return absl::AbortedError(
      absl::StrCat(request.name.ToString(),
                   " kept changing while the action was applied; try again"));
}

absl::StatusOr<ReferralRecord> ReferralDesk::Load(const Caller& caller,
                                                  const ReferralName& name) {
  absl::StatusOr<ReferralRecord> record =
      repository_->Get(name.region, name.id);
  if (absl::IsNotFound(record.status()) ||
      (record.ok() && !CanSee(caller, *record))) {
    return NotFound(name);
  }
  return record;
}

}  // namespace slussen::core

#include "broker/core/desks/referral_desk.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/core/model/access.h"
#include "broker/core/model/events.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/matcher.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

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

absl::Status MustExist(absl::string_view field, absl::string_view name,
                       absl::Status found) {
  if (absl::IsNotFound(found)) {
    return InvalidField(field, "must name an entry of the directory", name);
  }
  return found;
}

std::string IdOf(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

// What the referral names must exist: its activity type, its framework
// agreement (with the service), its team, the preferred provider.
absl::Status CheckReferralTargets(const v1::Referral& r,
                                  DirectoryRepository& directory) {
  std::string preferred;
  switch (r.details_case()) {
    case v1::Referral::kActivity:
      RETURN_IF_ERROR(MustExist(
          "referral.activity.activity_type", r.activity().activity_type(),
          directory.GetActivityType(r.activity().activity_type()).status()));
      preferred = r.activity().preferred_provider();
      break;
    case v1::Referral::kRehabServiceOrder: {
      const v1::RehabServiceOrder& order = r.rehab_service_order();
      const absl::StatusOr<v1::FrameworkAgreement> agreement =
          directory.GetFrameworkAgreement(IdOf(order.framework_agreement()));
      RETURN_IF_ERROR(
          MustExist("referral.rehab_service_order.framework_agreement",
                    order.framework_agreement(), agreement.status()));
      if (std::count(agreement->services().begin(), agreement->services().end(),
                     order.service()) == 0) {
        return InvalidField(
            "referral.rehab_service_order.service",
            absl::StrCat("must be a service of ", order.framework_agreement()),
            order.service());
      }
      preferred = order.preferred_provider();
      break;
    }
    case v1::Referral::kTeamHandover:
      RETURN_IF_ERROR(MustExist(
          "referral.team_handover.team", r.team_handover().team(),
          directory.GetProvider(IdOf(r.team_handover().team())).status()));
      break;
    default:
      break;
  }
  if (!preferred.empty()) {
    RETURN_IF_ERROR(MustExist("preferred_provider", preferred,
                              directory.GetProvider(IdOf(preferred)).status()));
  }
  return absl::OkStatus();
}

}  // namespace

ReferralDesk::ReferralDesk(ReferralRepository* repository, const Clock* clock,
                           IdGenerator* ids, const Pseudonymizer* pseudonymizer,
                           const SwedishCalendar* calendar,
                           AuditRepository& audit,
                           DirectoryRepository* directory)
    : repository_(repository),
      clock_(clock),
      ids_(ids),
      pseudonymizer_(pseudonymizer),
      calendar_(calendar),
      directory_(directory),
      audit_(audit),
      transitions_(repository, clock) {}

absl::StatusOr<v1::Referral> ReferralDesk::CreateReferral(
    const Caller& caller, const v1::CreateReferralRequest& request,
    const QueueAtOnce& queue_at_once, std::string* matching_changes) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_CREATE, caller.role));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(
      NewReferral input,
      ValidateCreateReferral(request, now, calendar_->LocalDay(now)));
  RETURN_IF_ERROR(
      CheckLeadIsNoParty(input.referral, caller.organisation, "referral."));
  if (directory_ != nullptr) {
    RETURN_IF_ERROR(CheckReferralTargets(input.referral, *directory_));
  }
  ReferralRecord record;
  record.region = input.region;
  record.id = ids_->NewId();
  if (input.personnummer.has_value()) {
    record.personal_identity_pseudonym =
        pseudonymizer_->Pseudonymize(*input.personnummer);
  }
  // The name the audit trail knows the participant by (none for an impulse,
  // which carries no personal data).
  if (!input.referral.participant().pseudonym().empty()) {
    record.audit_subject = pseudonymizer_->AuditSubject(
        record.personal_identity_pseudonym.empty()
            ? absl::StrCat(caller.organisation, "/",
                           input.referral.participant().pseudonym())
            : record.personal_identity_pseudonym);
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

  RETURN_IF_ERROR(CheckNoOpenTwin(caller, record, request.request_id()));

  std::optional<IdempotencyKey> key;
  if (!request.request_id().empty()) {
    key =
        IdempotencyKey{caller.organisation, request.request_id(), fingerprint};
  }
  std::vector<v1::Event> events = {ReferralEvent(record, transition)};
  if (queue_at_once && queue_at_once(record)) {
    const v1::Transition queued = NewTransition(
        SystemCaller(), v1::ACTION_QUEUE, v1::REFERRAL_STATE_RECEIVED,
        v1::REFERRAL_STATE_QUEUED, now, "");
    *referral.add_history() = queued;
    referral.set_state(v1::REFERRAL_STATE_QUEUED);
    events.push_back(ReferralEvent(record, queued));
  }
  ASSIGN_OR_RETURN(CreateOutcome outcome,
                   repository_->Create(record, events, key, {}));
  if (matching_changes != nullptr) *matching_changes = outcome.matching_changes;
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

absl::Status ReferralDesk::CheckNoOpenTwin(
    const Caller& caller, const ReferralRecord& record,
    const std::string& request_id) const {
  const v1::Referral& referral = record.referral;
  if (referral.has_impulse() || !referral.second_referral_reason().empty()) {
    return absl::OkStatus();
  }
  const std::string& pnr = record.personal_identity_pseudonym;
  const std::string& pseudonym = referral.participant().pseudonym();
  std::set<std::string> ids;
  for (const auto& [key, by_personnummer] :
       {std::pair{pnr, true}, std::pair{pseudonym, false}}) {
    if (key.empty()) continue;
    ASSIGN_OR_RETURN(
        const std::vector<std::string> found,
        repository_->FindParticipant(record.region, key, by_personnummer));
    ids.insert(found.begin(), found.end());
  }
  if (ids.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      const std::vector<std::optional<ReferralRecord>> others,
      repository_->GetReferrals(record.region, {ids.begin(), ids.end()}));
  const std::string type = ActivityTypeFor(referral);
  for (const std::optional<ReferralRecord>& other : others) {
    if (!other) continue;
    const v1::Referral& o = other->referral;
    if (IsTerminal(o.state()) || ActivityTypeFor(o) != type) continue;
    const bool own = o.referring_organisation() == caller.organisation;
    // Another agency's referral of a participant with protected personal
    // data is not to be revealed, not even as a twin.
    if (!own && o.protected_personal_data()) continue;
    const bool same_person =
        (!pnr.empty() && other->personal_identity_pseudonym == pnr) ||
        (own && !pseudonym.empty() && o.participant().pseudonym() == pseudonym);
    if (!same_person) continue;
    if (own && !request_id.empty() && o.history_size() > 0 &&
        o.history(0).request_id() == request_id) {
      continue;  // a retry: the create answers with the first referral
    }
    constexpr absl::string_view kWhy =
        "; if a second one is right, say why in "
        "referral.second_referral_reason";
    if (own) {
      return WithReason(
          absl::AlreadyExistsError(absl::StrCat(
              "the participant already has an open referral to ", type, ": ",
              o.name(), " (", StateName(o.state()), ")", kWhy)),
          "OPEN_REFERRAL_EXISTS");
    }
    return WithReason(
        absl::AlreadyExistsError(absl::StrCat(
            "the participant already has an open referral to ", type,
            " in region ", record.region,
            ", made by another organisation (not named here; the region's "
            "coordinators see it)",
            kWhy)),
        "OPEN_REFERRAL_EXISTS");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Referral> ReferralDesk::GetReferral(
    const Caller& caller, const v1::GetReferralRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(ReferralName name,
                   ParseReferralName("name", request.name()));
  ASSIGN_OR_RETURN(v1::ReferralView view,
                   EffectiveView(request.view(), v1::REFERRAL_VIEW_FULL));
  ASSIGN_OR_RETURN(ReferralRecord record, transitions_.Load(caller, name));
  const absl::Time now = clock_->Now();
  if (ShowsPersonalData(caller, record, now)) {
    RETURN_IF_ERROR(
        RecordReads(audit_, caller, {{&record, record.referral.name()}}, now));
  }
  return ViewFor(caller, record, view, now);
}

absl::StatusOr<v1::Referral> ReferralDesk::ViewAfterCreate(
    const Caller& caller, const std::string& name) {
  ASSIGN_OR_RETURN(ReferralName parsed, ParseReferralName("name", name));
  ASSIGN_OR_RETURN(ReferralRecord record, transitions_.Load(caller, parsed));
  return ViewFor(caller, record, v1::REFERRAL_VIEW_FULL, clock_->Now());
}

absl::StatusOr<v1::ListReferralsResponse> ReferralDesk::ListReferrals(
    const Caller& caller, const v1::ListReferralsRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/true));
  RETURN_IF_ERROR(CheckOwnRegion(caller, region, "referrals"));
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
    query.regions = {caller.region};
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
  std::vector<AuditedRead> reads;
  for (const ReferralRecord& record : page.records) {
    if (!CanSee(caller, record)) continue;
    if (ShowsPersonalData(caller, record, now)) {
      reads.push_back({&record, record.referral.name()});
    }
    *response.add_referrals() = ViewFor(caller, record, view, now);
  }
  RETURN_IF_ERROR(RecordReads(audit_, caller, reads, now));
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
  RETURN_IF_ERROR(ValidateEtag("etag", request.etag()));
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

namespace {

// The fields every action request with a note has (the provider's, and
// the agency's resubmit).
template <typename R>
absl::StatusOr<Transitions::Request> ProviderAction(const R& request,
                                                    v1::Action action,
                                                    bool note_required) {
  Transitions::Request out;
  ASSIGN_OR_RETURN(out.name, ParseReferralName("name", request.name()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  RETURN_IF_ERROR(ValidateEtag("etag", request.etag()));
  RETURN_IF_ERROR(ValidateText("note", request.note(),
                               {.min_chars = note_required ? 1u : 0u,
                                .max_chars = 2000,
                                .free_text = true}));
  out.action = action;
  out.etag = request.etag();
  out.request_id = request.request_id();
  const std::string note = request.note();
  out.describe = [note](v1::Transition& t) { t.set_note(note); };
  return out;
}

// Exit and completion carry outcome reasons.
template <typename R>
absl::StatusOr<Transitions::Request> EndAction(const R& request,
                                               v1::Action action) {
  const bool other =
      std::count(request.outcome_reasons().begin(),
                 request.outcome_reasons().end(), v1::OUTCOME_REASON_OTHER) > 0;
  if (request.outcome_reasons().empty()) {
    return MissingField("outcome_reasons",
                        "at least one outcome reason (several may hold)");
  }
  RETURN_IF_ERROR(
      ValidateOutcomeReasons("outcome_reasons", request.outcome_reasons()));
  const bool mistake = std::count(request.outcome_reasons().begin(),
                                  request.outcome_reasons().end(),
                                  v1::OUTCOME_REASON_REGISTRATION_ERROR) > 0;
  if (mistake &&
      (action != v1::ACTION_EXIT || request.outcome_reasons_size() != 1)) {
    return InvalidField(
        "outcome_reasons",
        "OUTCOME_REASON_REGISTRATION_ERROR closes a start recorded by "
        "mistake: only at exit, and as the only reason",
        absl::StrCat(request.outcome_reasons_size(), " reasons with ",
                     ActionName(action)));
  }
  if (other && request.note().empty()) {
    return MissingField("note", "say what, with OUTCOME_REASON_OTHER");
  }
  ASSIGN_OR_RETURN(Transitions::Request out,
                   ProviderAction(request, action, false));
  const std::string note = request.note();
  const std::vector<int> reasons(request.outcome_reasons().begin(),
                                 request.outcome_reasons().end());
  out.describe = [note, reasons](v1::Transition& t) {
    t.set_note(note);
    for (int reason : reasons)
      t.add_outcome_reasons(static_cast<v1::OutcomeReason>(reason));
  };
  return out;
}

}  // namespace

absl::StatusOr<v1::Referral> ReferralDesk::ResubmitReferral(
    const Caller& caller, const v1::ResubmitReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_RESUBMIT, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   ProviderAction(request, v1::ACTION_RESUBMIT, false));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::SetProtectedPersonalData(
    const Caller& caller, const v1::SetProtectedPersonalDataRequest& request) {
  RETURN_IF_ERROR(
      CheckRoleMayTake(v1::ACTION_SET_PROTECTED_PERSONAL_DATA, caller.role));
  ASSIGN_OR_RETURN(
      Transitions::Request action,
      ProviderAction(request, v1::ACTION_SET_PROTECTED_PERSONAL_DATA, true));
  if (request.has_referrer()) {
    RETURN_IF_ERROR(ValidateContactRoute("referrer", request.referrer(), true));
  }
  const bool protect = request.protected_personal_data();
  const std::optional<v1::ContactRoute> referrer =
      request.has_referrer() ? std::optional(request.referrer()) : std::nullopt;
  action.describe = [protect, note = request.note()](v1::Transition& t) {
    t.set_note(note);
    t.set_protected_personal_data(protect);
  };
  action.check = [protect, referrer](const ReferralRecord& read) {
    if (!protect || referrer.has_value() ||
        ValidateContactRoute("referrer", read.referral.referrer(), true).ok()) {
      return absl::OkStatus();
    }
    return WithReason(
        absl::FailedPreconditionError(absl::StrCat(
            read.referral.name(),
            " names no referrer to reach the participant by (a name, and a "
            "phone or e-mail): a participant with protected personal data is "
            "reached through the referring agency; give its contact in "
            "referrer")),
        "REFERRER_REQUIRED");
  };
  action.extend = [protect, referrer](const ReferralRecord&,
                                      ReferralChange& change) {
    v1::Referral& referral = change.changed.referral;
    referral.set_protected_personal_data(protect);
    if (referrer.has_value()) *referral.mutable_referrer() = *referrer;
    // Slussen keeps no kommun of a protected participant's: not in the
    // attributes, nor in the matcher's reasons in the history ("kommun 1380
    // served").
    const std::string kommun =
        referral.participant().attributes().kommun_code();
    if (protect && !kommun.empty()) {
      referral.mutable_participant()->mutable_attributes()->clear_kommun_code();
      for (v1::Transition& t : *referral.mutable_history()) {
        for (std::string& reason : *t.mutable_reasons()) {
          reason = absl::StrReplaceAll(reason, {{kommun, "(withheld)"}});
        }
      }
    }
  };
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::RecordContact(
    const Caller& caller, const v1::RecordContactRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_RECORD_CONTACT, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   ProviderAction(request, v1::ACTION_RECORD_CONTACT, false));
  return Act(caller, std::move(action));
}

namespace {

// Adds `sus` (validated) to what `action` describes in its transition.
absl::Status WithSus(const v1::SusRegistration& sus, bool at_start,
                     Transitions::Request& action) {
  RETURN_IF_ERROR(ValidateSusRegistration("sus", sus, at_start));
  if (sus.ByteSizeLong() == 0) return absl::OkStatus();
  action.describe = [describe = std::move(action.describe),
                     sus](v1::Transition& t) {
    describe(t);
    *t.mutable_sus() = sus;
  };
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Referral> ReferralDesk::StartReferral(
    const Caller& caller, const v1::StartReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_START, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   ProviderAction(request, v1::ACTION_START, false));
  RETURN_IF_ERROR(WithSus(request.sus(), /*at_start=*/true, action));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::RecordAttendanceDeviation(
    const Caller& caller, const v1::RecordAttendanceDeviationRequest& request) {
  RETURN_IF_ERROR(
      CheckRoleMayTake(v1::ACTION_RECORD_ATTENDANCE_DEVIATION, caller.role));
  ASSIGN_OR_RETURN(
      Transitions::Request action,
      ProviderAction(request, v1::ACTION_RECORD_ATTENDANCE_DEVIATION, true));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::CompleteReferral(
    const Caller& caller, const v1::CompleteReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_COMPLETE, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   EndAction(request, v1::ACTION_COMPLETE));
  RETURN_IF_ERROR(WithSus(request.sus(), /*at_start=*/false, action));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::ExitReferral(
    const Caller& caller, const v1::ExitReferralRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_EXIT, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   EndAction(request, v1::ACTION_EXIT));
  RETURN_IF_ERROR(WithSus(request.sus(), /*at_start=*/false, action));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::RecordFollowUp(
    const Caller& caller, const v1::RecordFollowUpRequest& request) {
  RETURN_IF_ERROR(CheckRoleMayTake(v1::ACTION_RECORD_FOLLOW_UP, caller.role));
  ASSIGN_OR_RETURN(Transitions::Request action,
                   EndAction(request, v1::ACTION_RECORD_FOLLOW_UP));
  return Act(caller, std::move(action));
}

absl::StatusOr<v1::Referral> ReferralDesk::Act(const Caller& caller,
                                               Transitions::Request request) {
  ASSIGN_OR_RETURN(const ReferralRecord done,
                   transitions_.Run(caller, request));
  return ViewFor(caller, done, v1::REFERRAL_VIEW_FULL, clock_->Now());
}

}  // namespace slussen::core

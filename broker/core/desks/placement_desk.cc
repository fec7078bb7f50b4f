#include "broker/core/desks/placement_desk.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/core/model/access.h"
#include "broker/core/model/capacity.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultHoldHours = 72;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// Whether `read`'s history holds `action` on `offer` by `request_id`.
bool AnsweredByRequest(const ReferralRecord& read, absl::string_view offer,
                       v1::Action action, absl::string_view request_id) {
  if (request_id.empty()) return false;
  for (const v1::Transition& t : read.referral.history()) {
    if (t.offer() == offer && t.action() == action &&
        t.request_id() == request_id) {
      return true;
    }
  }
  return false;
}

// FAILED_PRECONDITION for an answer to `offer`, which is no longer held:
// what became of it, by whom and when (in `zone`).
absl::Status NoLongerHeld(const v1::Offer& offer, absl::TimeZone zone) {
  const std::string when = absl::FormatTime(
      "%Y-%m-%d %H:%M:%S %Z", ToAbslTime(offer.close_time()), zone);
  std::string by = offer.answered_by().organisation();
  if (!offer.answered_by().person().empty()) {
    absl::StrAppend(&by, " (", offer.answered_by().person(), ")");
  }
  std::string what, reason = "OFFER_WITHDRAWN";
  switch (offer.state()) {
    case v1::OFFER_STATE_ACCEPTED:
      what = absl::StrCat("was already accepted by ", by, " at ", when);
      reason = "OFFER_ALREADY_ACCEPTED";
      break;
    case v1::OFFER_STATE_DECLINED:
      what = absl::StrCat("was already declined by ", by, " at ", when);
      reason = "OFFER_ALREADY_DECLINED";
      break;
    case v1::OFFER_STATE_EXPIRED:
      what = absl::StrCat("expired unanswered at ", when);
      reason = "OFFER_EXPIRED";
      break;
    default:
      what = absl::StrCat(
          "was withdrawn at ", when,
          " (the referral was cancelled or re-queued, or its consent "
          "withdrawn)");
      break;
  }
  return WithReason(absl::FailedPreconditionError(
                        absl::StrCat("offer ", offer.name(), " ", what,
                                     "; only a held offer can be answered")),
                    reason);
}

}  // namespace

Caller SystemCaller() {
  return Caller{.organisation = "slussen", .role = v1::ROLE_SYSTEM};
}

PlacementDesk::PlacementDesk(ReferralRepository* referrals,
                             DirectoryDesk* directory, AuditRepository& audit,
                             const Clock* clock, IdGenerator* ids,
                             const SwedishCalendar* calendar)
    : referrals_(referrals),
      directory_(directory),
      audit_(audit),
      clock_(clock),
      ids_(ids),
      calendar_(calendar),
      transitions_(referrals, clock) {}

absl::StatusOr<OfferRecord> PlacementDesk::LoadOffer(
    const Caller& caller, absl::string_view field,
    absl::string_view name) const {
  ASSIGN_OR_RETURN(const OfferName parsed, ParseOfferName(field, name));
  absl::StatusOr<OfferRecord> offer =
      referrals_->GetOffer(parsed.region, parsed.id);
  // (Whether its referral lets the caller see it is View's to check.)
  if (absl::IsNotFound(offer.status()) ||
      (offer.ok() && !MaySeeOffer(caller, *offer, nullptr))) {
    return absl::NotFoundError(absl::StrCat("offer ", name, " not found"));
  }
  return offer;
}

absl::StatusOr<std::vector<v1::Offer>> PlacementDesk::View(
    const Caller& caller, const std::vector<OfferRecord>& offers) const {
  // The referrals, read together per region.
  std::map<std::string, std::vector<std::string>> ids;
  for (const OfferRecord& offer : offers) {
    ASSIGN_OR_RETURN(
        const ReferralName referral,
        ParseReferralName("offer.referral", offer.offer.referral()));
    ids[referral.region].push_back(referral.id);
  }
  std::map<std::pair<std::string, std::string>, ReferralRecord> referrals;
  for (const auto& [region, wanted] : ids) {
    ASSIGN_OR_RETURN(const std::vector<std::optional<ReferralRecord>> read,
                     referrals_->GetReferrals(region, wanted));
    for (const std::optional<ReferralRecord>& record : read) {
      if (record) referrals[{record->region, record->id}] = *record;
    }
  }
  const absl::Time now = clock_->Now();
  std::vector<v1::Offer> views;
  std::vector<AuditedRead> reads;
  for (const OfferRecord& offer : offers) {
    const ReferralName referral =
        *ParseReferralName("offer.referral", offer.offer.referral());
    const auto it = referrals.find({referral.region, referral.id});
    const ReferralRecord* record =
        it == referrals.end() ? nullptr : &it->second;
    if (!MaySeeOffer(caller, offer, record)) continue;
    views.push_back(OfferViewFor(caller, offer, record, now));
    if (record != nullptr && ShowsPersonalData(views.back())) {
      reads.push_back({record, offer.offer.name()});
    }
  }
  RETURN_IF_ERROR(RecordReads(audit_, caller, reads, now));
  return views;
}

absl::StatusOr<v1::Offer> PlacementDesk::GetOffer(
    const Caller& caller, const v1::GetOfferRequest& request) {
  ASSIGN_OR_RETURN(const OfferRecord offer,
                   LoadOffer(caller, "name", request.name()));
  return ViewOne(caller, offer);
}

absl::StatusOr<v1::Offer> PlacementDesk::ViewOne(
    const Caller& caller, const OfferRecord& offer) const {
  ASSIGN_OR_RETURN(std::vector<v1::Offer> views, View(caller, {offer}));
  if (views.empty()) {
    return absl::NotFoundError(
        absl::StrCat("offer ", offer.offer.name(), " not found"));
  }
  return std::move(views.front());
}

absl::StatusOr<v1::ListOffersResponse> PlacementDesk::ListOffers(
    const Caller& caller, const v1::ListOffersRequest& request) {
  if (caller.role != v1::ROLE_PROVIDER && caller.role != v1::ROLE_COORDINATOR) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " may not list offers; providers and coordinators may"));
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent("parent", request.parent(), true));
  RETURN_IF_ERROR(CheckOwnRegion(caller, region, "offers"));
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  RETURN_IF_ERROR(ValidateEnumSet<v1::OfferState>("states", request.states()));
  if (!request.provider().empty()) {
    RETURN_IF_ERROR(ValidateProviderName("provider", request.provider()));
  }
  std::string states;
  for (int state : request.states()) absl::StrAppend(&states, state, ",");
  const uint64_t fingerprint = QueryFingerprint(
      absl::StrCat(request.parent(), "|", states, "|", request.provider()));
  OfferQuery query;
  ASSIGN_OR_RETURN(
      query.after_id,
      DecodePageToken("page_token", request.page_token(), fingerprint));
  query.page_size = page_size;
  for (int state : request.states()) {
    query.states.push_back(static_cast<v1::OfferState>(state));
  }
  if (caller.role == v1::ROLE_PROVIDER) {
    query.provider_organisation = caller.organisation;
    if (region == kAnyRegion) {
      for (absl::string_view code : RegionCodes()) {
        query.regions.emplace_back(code);
      }
    } else {
      query.regions = {region};
    }
  } else {
    query.regions = {caller.region};
  }
  v1::ListOffersResponse response;
  if (query.regions.empty()) return response;
  ASSIGN_OR_RETURN(const OfferPage page, referrals_->ListOffers(query));
  std::vector<OfferRecord> wanted;
  for (const OfferRecord& offer : page.records) {
    if (request.provider().empty() ||
        offer.offer.provider() == request.provider()) {
      wanted.push_back(offer);
    }
  }
  ASSIGN_OR_RETURN(std::vector<v1::Offer> views, View(caller, wanted));
  for (v1::Offer& view : views) *response.add_offers() = std::move(view);
  if (!page.resume_after_id.empty()) {
    response.set_next_page_token(
        EncodePageToken(page.resume_after_id, fingerprint));
  }
  return response;
}

absl::StatusOr<v1::Offer> PlacementDesk::Answer(
    const Caller& caller, absl::string_view name, v1::Action action,
    const std::string& request_id,
    std::function<void(v1::Transition&)> describe) {
  RETURN_IF_ERROR(CheckRoleMayTake(action, caller.role));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request_id));
  ASSIGN_OR_RETURN(const OfferRecord offer, LoadOffer(caller, "name", name));
  ASSIGN_OR_RETURN(const ReferralName referral,
                   ParseReferralName("offer.referral", offer.offer.referral()));
  const std::string offer_name = offer.offer.name();
  const absl::StatusOr<ReferralRecord> ran = transitions_.Run(
      caller, {.name = referral,
               .action = action,
               .request_id = request_id,
               .describe = std::move(describe),
               .check = [&](const ReferralRecord& read) -> absl::Status {
                 if (read.referral.current_offer() != offer_name) {
                   return absl::FailedPreconditionError(
                       absl::StrCat("offer ", offer_name, " is ",
                                    v1::OfferState_Name(offer.offer.state()),
                                    "; only a held offer can be answered"));
                 }
                 // A hold that ran out has expired even before the hold
                 // clock's sweep (ExpireHold) gets to it.
                 const absl::Time expires =
                     ToAbslTime(offer.offer.hold_expire_time());
                 if (clock_->Now() >= expires) {
                   return absl::FailedPreconditionError(absl::StrCat(
                       "offer ", offer_name, " expired at ",
                       absl::FormatTime(absl::RFC3339_sec, expires,
                                        absl::UTCTimeZone()),
                       " unanswered; only a held offer can be answered"));
                 }
                 return absl::OkStatus();
               }});
  if (!ran.ok() && !absl::IsNotFound(ran.status()) &&
      !absl::IsFailedPrecondition(ran.status())) {
    return ran.status();
  }
  ASSIGN_OR_RETURN(const OfferRecord answered,
                   referrals_->GetOffer(offer.region, offer.id));
  if (!ran.ok()) {
    // Another answer (or a cancel, or the hold's expiry) came first. A
    // retry of this very answer (its request id) gets the answer again;
    // any other hears what became of the offer, by whom and when.
    if (answered.offer.state() == v1::OFFER_STATE_HELD) return ran.status();
    ASSIGN_OR_RETURN(const ReferralRecord read,
                     referrals_->Get(referral.region, referral.id));
    if (!AnsweredByRequest(read, offer_name, action, request_id)) {
      return NoLongerHeld(answered.offer, calendar_->time_zone());
    }
  }
  return ViewOne(caller, answered);
}

absl::StatusOr<v1::Offer> PlacementDesk::AcceptOffer(
    const Caller& caller, const v1::AcceptOfferRequest& request) {
  RETURN_IF_ERROR(ValidateRequestId("person", request.person()));
  Caller answering = caller;
  if (!request.person().empty()) answering.person = request.person();
  return Answer(answering, request.name(), v1::ACTION_ACCEPT,
                request.request_id(), nullptr);
}

absl::StatusOr<v1::Offer> PlacementDesk::DeclineOffer(
    const Caller& caller, const v1::DeclineOfferRequest& request) {
  RETURN_IF_ERROR(ValidateRequestId("person", request.person()));
  RETURN_IF_ERROR(
      ValidateEnum<v1::DeclineReason>("reason", request.reason(), true));
  if (request.reason() == v1::DECLINE_REASON_OTHER && request.note().empty()) {
    return MissingField("note", "say why, with DECLINE_REASON_OTHER");
  }
  RETURN_IF_ERROR(ValidateText("note", request.note(),
                               {.max_chars = 2000, .free_text = true}));
  Caller answering = caller;
  if (!request.person().empty()) answering.person = request.person();
  const v1::DeclineReason reason = request.reason();
  const std::string note = request.note();
  return Answer(answering, request.name(), v1::ACTION_DECLINE,
                request.request_id(), [reason, note](v1::Transition& t) {
                  t.set_decline_reason(reason);
                  t.set_note(note);
                });
}

absl::StatusOr<std::vector<ReferralRecord>> PlacementDesk::PlacedIn(
    const std::string& region, const std::string& organisation,
    const std::string& cohort) const {
  std::vector<ReferralRecord> placed;
  ListQuery query{
      .regions = {region},
      .index = ListIndex::kAssignedOrganisation,
      .organisation = organisation,
      .states = {v1::REFERRAL_STATE_OFFERED, v1::REFERRAL_STATE_ACCEPTED},
      .page_size = 1000,
      .scan_limit = 10000};
  do {
    ASSIGN_OR_RETURN(const ListPage page, referrals_->List(query));
    for (const ReferralRecord& record : page.records) {
      if (record.referral.cohort() == cohort) placed.push_back(record);
    }
    query.before_id = page.resume_before_id;
  } while (!query.before_id.empty());
  return placed;
}

absl::StatusOr<v1::Cohort> PlacementDesk::DecideCohort(
    const Caller& caller, const v1::DecideCohortRequest& request) {
  ASSIGN_OR_RETURN(const CohortName name,
                   ParseCohortName("name", request.name()));
  RETURN_IF_ERROR(
      ValidateEnum<v1::CohortDecision>("decision", request.decision(), true));
  std::string merge_unit;
  if (request.decision() == v1::COHORT_DECISION_MERGE) {
    ASSIGN_OR_RETURN(const CohortName target,
                     ParseCohortName("merge_into", request.merge_into()));
    if (target.offering.ToString() != name.offering.ToString()) {
      return InvalidField("merge_into", "must be a cohort of the same offering",
                          request.merge_into());
    }
    merge_unit = target.cohort;
  }
  ASSIGN_OR_RETURN(const Versioned<v1::Offering> offering,
                   directory_->LoadOffering("name", name.offering.ToString()));
  RETURN_IF_ERROR(directory_->CheckOwnsOffering(caller, offering.value));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(
      const CohortDecisionPlan plan,
      PlanCohortDecision(offering.value, name.cohort, request.decision(),
                         merge_unit, calendar_->LocalDay(now)));
  v1::Event event;
  event.set_type(v1::EVENT_TYPE_COHORT_DECIDED);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_actor() = caller.ToActor();
  event.set_offering(offering.value.name());
  event.set_provider(name.offering.ProviderName());
  RETURN_IF_ERROR(directory_->WriteCapacity(offering, plan.capacity, event));

  if (request.decision() != v1::COHORT_DECISION_START) {
    // The places in a closed cohort: back to the queue, or into the other.
    ASSIGN_OR_RETURN(const std::string provider_org,
                     directory_->ProviderOrganisation(name.offering.provider));
    ASSIGN_OR_RETURN(
        const std::vector<ReferralRecord> placed,
        PlacedIn(offering.value.region(), provider_org, request.name()));
    for (const ReferralRecord& record : placed) {
      const bool merge = request.decision() == v1::COHORT_DECISION_MERGE;
      const std::string target = request.merge_into();
      RETURN_IF_ERROR(
          transitions_
              .Run(SystemCaller(), {.name = {record.region, record.id},
                                    .action = merge ? v1::ACTION_MOVE_PLACE
                                                    : v1::ACTION_REQUEUE,
                                    .describe =
                                        [&](v1::Transition& t) {
                                          if (merge) t.set_cohort(target);
                                        }})
              .status());
    }
  }
  ASSIGN_OR_RETURN(const Versioned<v1::Offering> decided,
                   directory_->LoadOffering("name", name.offering.ToString()));
  for (const v1::Cohort& cohort :
       decided.value.capacity().cohorts().cohorts()) {
    if (cohort.name() == request.name()) return cohort;
  }
  return absl::InternalError("the decided cohort is gone");
}

absl::StatusOr<ReferralRecord> PlacementDesk::Queue(
    const ReferralRecord& read) {
  return transitions_.Run(SystemCaller(), {.name = {read.region, read.id},
                                           .action = v1::ACTION_QUEUE,
                                           .etag = absl::StrCat(read.version)});
}

absl::StatusOr<ReferralRecord> PlacementDesk::Reject(
    const ReferralRecord& read, std::vector<std::string> reasons) {
  return transitions_.Run(SystemCaller(), {.name = {read.region, read.id},
                                           .action = v1::ACTION_REJECT,
                                           .etag = absl::StrCat(read.version),
                                           .describe = [&](v1::Transition& t) {
                                             for (std::string& reason : reasons)
                                               t.add_reasons(std::move(reason));
                                           }});
}

absl::StatusOr<ReferralRecord> PlacementDesk::MakeOffer(
    const ReferralRecord& read, const OfferPlan& plan) {
  const v1::Offering& offering = *plan.offering;
  const absl::Time now = clock_->Now();
  OfferRecord offer{.region = read.region,
                    .id = ids_->NewId(),
                    .provider_organisation = plan.provider_organisation};
  offer.unit = plan.cohort.empty()
                   ? std::string(kWholeOfferingUnit)
                   : plan.cohort.substr(plan.cohort.rfind('/') + 1);
  const std::string offer_name = OfferName{read.region, offer.id}.ToString();
  const std::string provider =
      ParseOfferingName("", offering.name())->ProviderName();
  v1::Offer& o = offer.offer;
  o.set_name(offer_name);
  o.set_referral(read.referral.name());
  o.set_offering(offering.name());
  o.set_cohort(plan.cohort);
  o.set_provider(provider);
  o.set_state(v1::OFFER_STATE_HELD);
  *o.mutable_create_time() = ToProtoTimestamp(now);
  const int hold_hours = offering.offer_hold_hours() > 0
                             ? offering.offer_hold_hours()
                             : kDefaultHoldHours;
  *o.mutable_hold_expire_time() =
      ToProtoTimestamp(now + absl::Hours(hold_hours));
  // Why it fits is kept in the OFFER transition only (OfferViewFor).
  *o.mutable_explanation() = plan.explanation;
  o.mutable_explanation()->clear_reasons();
  return transitions_.Run(
      SystemCaller(),
      {.name = {read.region, read.id},
       .action = v1::ACTION_OFFER,
       .etag = absl::StrCat(read.version),
       .describe =
           [&](v1::Transition& t) {
             t.set_offer(offer_name);
             t.set_offering(offering.name());
             t.set_cohort(plan.cohort);
             for (const std::string& reason : plan.explanation.reasons()) {
               t.add_reasons(reason);
             }
           },
       .extend =
           [&](const ReferralRecord&, ReferralChange& change) {
             v1::Referral& r = change.changed.referral;
             change.changed.assigned_organisation = plan.provider_organisation;
             r.set_assigned_provider(provider);
             r.set_assigned_offering(offering.name());
             r.set_current_offer(offer_name);
             r.set_cohort(plan.cohort);
             change.capacity.push_back({.offering = offering.name(),
                                        .unit = offer.unit,
                                        .held = 1,
                                        .require_room = true});
             change.offer = offer;
           }});
}

absl::Status PlacementDesk::ExpireHold(const std::string& region,
                                       const std::string& id) {
  ASSIGN_OR_RETURN(const OfferRecord offer, referrals_->GetOffer(region, id));
  if (offer.offer.state() != v1::OFFER_STATE_HELD ||
      ToAbslTime(offer.offer.hold_expire_time()) > clock_->Now()) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const ReferralName referral,
                   ParseReferralName("offer.referral", offer.offer.referral()));
  const absl::StatusOr<ReferralRecord> expired = transitions_.Run(
      SystemCaller(),
      {.name = referral,
       .action = v1::ACTION_EXPIRE_OFFER,
       .check = [&](const ReferralRecord& read) -> absl::Status {
         return read.referral.current_offer() == offer.offer.name()
                    ? absl::OkStatus()
                    : absl::FailedPreconditionError("no longer live");
       }});
  // Answered meanwhile: nothing left to expire.
  if (absl::IsFailedPrecondition(expired.status())) return absl::OkStatus();
  return expired.status();
}

}  // namespace slussen::core

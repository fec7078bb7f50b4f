// Who may do what, as a table: every RPC of the public services, called
// over mutual TLS by every role, once as the tenant that owns what the call
// names and once as another tenant of the same role, with the exact
// outcome expected of each (README, Security; broker/core/model/access.h). The
// callers and targets are described in tests/support/access_matrix.h.
//
// Outside the caller's scope is NOT_FOUND (or, in a list, the thing is
// omitted); an action the role may not take is PERMISSION_DENIED, and so is
// a coordinator's list of another region (its referrals, offers, queues,
// worklist, events, reports).
//
// Each table runs twice: with each caller's own certificate, and through a
// gateway's certificate naming the caller in headers (urn:slussen:gateway:
// web-1, README, Security), where every row must come out as it does
// directly, except that a gateway may not act for an admin at all
// (ThroughGateway in tests/support/access_matrix.h).
//
// Adding an RPC: one Case in its service's table, saying what it acts on
// (a Target), whether a successful call changes it, how to call it
// (NameCall for a request that names the target, or a lambda returning a
// Result; Listed for a list), and the outcome for each role as
// {own, foreign}. A new service gets its own table and TEST_F at the end.
#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "broker/core/model/priority_policy.h"
#include "broker/core/model/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/consent_service.grpc.pb.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/privacy_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/access_matrix.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing::matrix {
namespace {

namespace v1 = ::slussen::v1;

// Service.Method(request[, &response]) over the call context's channel.
#define SLUSSEN_CALL(Service, Method, request, ...)                    \
  Unary(&v1::Service::Stub::Method, v1::Service::NewStub(ctx.channel), \
        request __VA_OPT__(, ) __VA_ARGS__)

// --- ReferralService -----------------------------------------------------

// Region 13's referrals, and whether the target's is among them.
Result ListReferralsOf13(const CallContext& ctx) {
  v1::ListReferralsRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1000);
  v1::ListReferralsResponse response;
  grpc::Status status =
      SLUSSEN_CALL(ReferralService, ListReferrals, request, &response).status;
  return Listed(
      status, response.referrals(),
      [](const v1::Referral& r) { return r.name(); }, ctx.target.referral);
}

// Sets (or lifts) the target's protected personal data.
Call SetProtection(bool protect) {
  return NameCall(&v1::ReferralService::NewStub,
                  &v1::ReferralService::Stub::SetProtectedPersonalData,
                  &Names::referral,
                  [protect](v1::SetProtectedPersonalDataRequest& r) {
                    r.set_protected_personal_data(protect);
                    r.set_note("Sekretessmarkering enligt Skatteverket");
                  });
}

std::vector<Case> ReferralServiceCases() {
  std::vector<Case> cases;
  cases.push_back(
      {.rpc = "CreateReferral",
       .target = Target::kNothing,
       .changes_target = true,
       .call =
           [](const CallContext& ctx) {
             v1::CreateReferralRequest request = SampleImpulse("13");
             request.set_request_id(absl::StrCat("matrix-create-", ctx.serial));
             return SLUSSEN_CALL(ReferralService, CreateReferral, request);
           },
       .agency = {OK, OK},
       .provider = {DENIED, DENIED},
       .coordinator = {DENIED, DENIED},
       .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "GetReferral",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::GetReferral,
                                    &Names::referral),
                   .agency = {OK, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {OK, NOT_FOUND},
                   .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "ListReferrals",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = ListReferralsOf13,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {LISTED, DENIED},
                   .admin = {DENIED, DENIED}});
  // A participant with protected personal data: only the referring agency
  // and the provider holding the referral learn of it, not even the
  // region's coordinator.
  cases.push_back({.rpc = "GetReferral (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::GetReferral,
                                    &Names::referral),
                   .agency = {OK, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {NOT_FOUND, NOT_FOUND},
                   .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "ListReferrals (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = ListReferralsOf13,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, DENIED},
                   .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "CancelReferral",
                   .target = Target::kOfferedReferral,
                   .changes_target = true,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::CancelReferral,
                                    &Names::referral,
                                    [](v1::CancelReferralRequest& r) {
                                      r.set_reason(
                                          v1::CANCEL_REASON_SENT_IN_ERROR);
                                    }),
                   .agency = {OK, NOT_FOUND},
                   .provider = {DENIED, DENIED},
                   .coordinator = {DENIED, DENIED},
                   .admin = {DENIED, DENIED}});
  cases.push_back(
      {.rpc = "ResubmitReferral",
       .target = Target::kReturnedReferral,
       .changes_target = true,
       .call = NameCall(&v1::ReferralService::NewStub,
                        &v1::ReferralService::Stub::ResubmitReferral,
                        &Names::referral),
       .agency = {OK, NOT_FOUND},
       .provider = {DENIED, DENIED},
       .coordinator = {DENIED, DENIED},
       .admin = {DENIED, DENIED}});
  // The provider's actions: only the provider holding the referral.
  cases.push_back({.rpc = "RecordContact",
                   .target = Target::kAcceptedReferral,
                   .changes_target = true,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::RecordContact,
                                    &Names::referral),
                   .agency = kDeniedBoth,
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {DENIED, DENIED},
                   .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "StartReferral",
                   .target = Target::kAcceptedReferral,
                   .changes_target = true,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::StartReferral,
                                    &Names::referral),
                   .agency = kDeniedBoth,
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {DENIED, DENIED},
                   .admin = {DENIED, DENIED}});
  cases.push_back(
      {.rpc = "RecordAttendanceDeviation",
       .target = Target::kStartedReferral,
       .changes_target = true,
       .call = NameCall(&v1::ReferralService::NewStub,
                        &v1::ReferralService::Stub::RecordAttendanceDeviation,
                        &Names::referral,
                        [](v1::RecordAttendanceDeviationRequest& r) {
                          r.set_note("absent twice this week");
                        }),
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = {DENIED, DENIED},
       .admin = {DENIED, DENIED}});
  cases.push_back(
      {.rpc = "CompleteReferral",
       .target = Target::kStartedReferral,
       .changes_target = true,
       .call = NameCall(&v1::ReferralService::NewStub,
                        &v1::ReferralService::Stub::CompleteReferral,
                        &Names::referral,
                        [](v1::CompleteReferralRequest& r) {
                          r.add_outcome_reasons(v1::OUTCOME_REASON_WORK);
                        }),
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = {DENIED, DENIED},
       .admin = {DENIED, DENIED}});
  cases.push_back(
      {.rpc = "ExitReferral",
       .target = Target::kStartedReferral,
       .changes_target = true,
       .call =
           NameCall(&v1::ReferralService::NewStub,
                    &v1::ReferralService::Stub::ExitReferral, &Names::referral,
                    [](v1::ExitReferralRequest& r) {
                      r.add_outcome_reasons(v1::OUTCOME_REASON_STUDIES);
                    }),
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = {DENIED, DENIED},
       .admin = {DENIED, DENIED}});
  cases.push_back({.rpc = "RecordFollowUp",
                   .target = Target::kExitedReferral,
                   .changes_target = true,
                   .call = NameCall(&v1::ReferralService::NewStub,
                                    &v1::ReferralService::Stub::RecordFollowUp,
                                    &Names::referral,
                                    [](v1::RecordFollowUpRequest& r) {
                                      r.add_outcome_reasons(
                                          v1::OUTCOME_REASON_WORK);
                                    }),
                   .agency = kDeniedBoth,
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {DENIED, DENIED},
                   .admin = {DENIED, DENIED}});
  // Only the referring agency says that its participant has protected
  // personal data (the sample names the referrer that needs)...
  cases.push_back({.rpc = "SetProtectedPersonalData",
                   .target = Target::kOfferedReferral,
                   .changes_target = true,
                   .call = SetProtection(true),
                   .agency = {OK, NOT_FOUND},
                   .provider = kDeniedBoth,
                   .coordinator = kDeniedBoth,
                   .admin = kDeniedBoth});
  // ...or that they no longer have.
  cases.push_back({.rpc = "SetProtectedPersonalData (lifted)",
                   .target = Target::kProtectedReferral,
                   .changes_target = true,
                   .call = SetProtection(false),
                   .agency = {OK, NOT_FOUND},
                   .provider = kDeniedBoth,
                   .coordinator = kDeniedBoth,
                   .admin = kDeniedBoth});
  return cases;
}

// --- ProviderDirectory -----------------------------------------------------

std::vector<Case> ProviderDirectoryCases() {
  std::vector<Case> cases;
  cases.push_back(
      {.rpc = "CreateProvider",
       .target = Target::kNothing,
       .changes_target = true,
       .call =
           [](const CallContext& ctx) {
             v1::CreateProviderRequest request;
             request.set_provider_id(absl::StrCat("matrix-p", ctx.serial));
             v1::Provider* p = request.mutable_provider();
             p->set_display_name("Matrix provider");
             p->set_organisation(request.provider_id());
             p->set_kind(v1::PROVIDER_KIND_ACTIVITY);
             p->add_regions("13");
             return SLUSSEN_CALL(ProviderDirectory, CreateProvider, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = kDeniedBoth,
       .admin = {OK, OK}});
  cases.push_back({.rpc = "GetProvider",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetProviderRequest request;
                         request.set_name("providers/halsosam-halmstad");
                         return SLUSSEN_CALL(ProviderDirectory, GetProvider,
                                             request);
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  cases.push_back({.rpc = "ListProviders",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::ListProvidersRequest request;
                         request.set_region("13");
                         request.set_page_size(1000);
                         v1::ListProvidersResponse response;
                         grpc::Status status =
                             SLUSSEN_CALL(ProviderDirectory, ListProviders,
                                          request, &response)
                                 .status;
                         return Listed(
                             status, response.providers(),
                             [](const v1::Provider& p) { return p.name(); },
                             "providers/halsosam-halmstad");
                       },
                   .agency = kAnyoneListed,
                   .provider = kAnyoneListed,
                   .coordinator = kAnyoneListed,
                   .admin = kAnyoneListed});
  cases.push_back(
      {.rpc = "UpdateProvider",
       .target = Target::kNothing,
       .changes_target = true,
       .call =
           [](const CallContext& ctx) {
             v1::UpdateProviderRequest request;
             request.mutable_provider()->set_name("providers/redo-halland");
             request.mutable_provider()->set_display_name(
                 absl::StrCat("ReDO Halland ", ctx.serial));
             request.mutable_update_mask()->add_paths("display_name");
             return SLUSSEN_CALL(ProviderDirectory, UpdateProvider, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = kDeniedBoth,
       .admin = {OK, OK}});
  cases.push_back({.rpc = "CreateOffering",
                   .target = Target::kNothing,
                   .changes_target = true,
                   .call =
                       [](const CallContext& ctx) {
                         v1::CreateOfferingRequest request;
                         request.set_parent("providers/redo-halland");
                         request.set_offering_id(absl::StrCat("o", ctx.serial));
                         v1::Offering* o = request.mutable_offering();
                         o->set_display_name("ReDO Halmstad");
                         o->set_activity_type("redo");
                         o->set_region("13");
                         o->set_kommun_code("1380");
                         return SLUSSEN_CALL(ProviderDirectory, CreateOffering,
                                             request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = kDeniedBoth,
                   .admin = {OK, OK}});
  cases.push_back({.rpc = "GetOffering",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetOfferingRequest request;
                         request.set_name(kPlacesOffering);
                         return SLUSSEN_CALL(ProviderDirectory, GetOffering,
                                             request);
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  cases.push_back({.rpc = "ListOfferings",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::ListOfferingsRequest request;
                         request.set_parent("providers/halsosam-halmstad");
                         request.set_page_size(1000);
                         v1::ListOfferingsResponse response;
                         grpc::Status status =
                             SLUSSEN_CALL(ProviderDirectory, ListOfferings,
                                          request, &response)
                                 .status;
                         return Listed(
                             status, response.offerings(),
                             [](const v1::Offering& o) { return o.name(); },
                             kPlacesOffering);
                       },
                   .agency = kAnyoneListed,
                   .provider = kAnyoneListed,
                   .coordinator = kAnyoneListed,
                   .admin = kAnyoneListed});
  cases.push_back(
      {.rpc = "UpdateOffering",
       .target = Target::kNothing,
       .changes_target = true,
       .call =
           [](const CallContext& ctx) {
             v1::UpdateOfferingRequest request;
             request.mutable_offering()->set_name(kPlacesOffering);
             request.mutable_offering()->set_display_name(
                 absl::StrCat("Hälsosam Halmstad ", ctx.serial));
             request.mutable_update_mask()->add_paths("display_name");
             return SLUSSEN_CALL(ProviderDirectory, UpdateOffering, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = kDeniedBoth,
       .admin = {OK, OK}});
  // The provider publishes its own capacity; an admin may too (loading the
  // catalogue does).
  cases.push_back(
      {.rpc = "PublishCapacity",
       .target = Target::kNothing,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::PublishCapacityRequest request;
             request.set_offering(kPlacesOffering);
             request.mutable_capacity()->mutable_places()->set_total(1000);
             return SLUSSEN_CALL(ProviderDirectory, PublishCapacity, request);
           },
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = kDeniedBoth,
       .admin = {OK, OK}});
  // The README gives cohort decisions to the provider only; admins may
  // take them too (pinned in placement_desk_test as well).
  cases.push_back({.rpc = "DecideCohort",
                   .target = Target::kOpenCohort,
                   .changes_target = true,
                   .call = NameCall(&v1::ProviderDirectory::NewStub,
                                    &v1::ProviderDirectory::Stub::DecideCohort,
                                    &Names::cohort,
                                    [](v1::DecideCohortRequest& r) {
                                      r.set_decision(v1::COHORT_DECISION_START);
                                    }),
                   .agency = kDeniedBoth,
                   .provider = {OK, NOT_FOUND},
                   .coordinator = kDeniedBoth,
                   .admin = {OK, OK}});
  cases.push_back({.rpc = "CreateActivityType",
                   .target = Target::kNothing,
                   .changes_target = true,
                   .call =
                       [](const CallContext& ctx) {
                         v1::CreateActivityTypeRequest request;
                         request.set_activity_type_id(
                             absl::StrCat("matrix-t", ctx.serial));
                         request.mutable_activity_type()->set_display_name(
                             "Matrix activity");
                         return SLUSSEN_CALL(ProviderDirectory,
                                             CreateActivityType, request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = kDeniedBoth,
                   .admin = {OK, OK}});
  cases.push_back({.rpc = "GetActivityType",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetActivityTypeRequest request;
                         request.set_name("activityTypes/halsosam");
                         return SLUSSEN_CALL(ProviderDirectory, GetActivityType,
                                             request);
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  cases.push_back({.rpc = "ListActivityTypes",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::ListActivityTypesRequest request;
                         request.set_page_size(1000);
                         v1::ListActivityTypesResponse response;
                         grpc::Status status =
                             SLUSSEN_CALL(ProviderDirectory, ListActivityTypes,
                                          request, &response)
                                 .status;
                         return Listed(
                             status, response.activity_types(),
                             [](const v1::ActivityType& t) { return t.name(); },
                             "activityTypes/halsosam");
                       },
                   .agency = kAnyoneListed,
                   .provider = kAnyoneListed,
                   .coordinator = kAnyoneListed,
                   .admin = kAnyoneListed});
  cases.push_back(
      {.rpc = "CreateFrameworkAgreement",
       .target = Target::kNothing,
       .changes_target = true,
       .call =
           [](const CallContext& ctx) {
             v1::CreateFrameworkAgreementRequest request;
             request.set_framework_agreement_id(
                 absl::StrCat("matrix-fa", ctx.serial));
             v1::FrameworkAgreement* a = request.mutable_framework_agreement();
             a->set_display_name("Matrix agreement");
             a->set_procuring_agency(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
             a->add_services("arbetslivsinriktad-rehabilitering");
             a->add_regions("13");
             v1::RankedSupplier* supplier = a->add_suppliers();
             supplier->set_provider("providers/work-for-you");
             supplier->set_rank(1);
             *a->mutable_start_date() = DateIn(-30);
             *a->mutable_end_date() = DateIn(700);
             return SLUSSEN_CALL(ProviderDirectory, CreateFrameworkAgreement,
                                 request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = kDeniedBoth,
       .admin = {OK, OK}});
  cases.push_back({.rpc = "GetFrameworkAgreement",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetFrameworkAgreementRequest request;
                         request.set_name("frameworkAgreements/fk-rehab-2025");
                         return SLUSSEN_CALL(ProviderDirectory,
                                             GetFrameworkAgreement, request);
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  cases.push_back(
      {.rpc = "ListFrameworkAgreements",
       .target = Target::kNothing,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::ListFrameworkAgreementsRequest request;
             request.set_page_size(1000);
             v1::ListFrameworkAgreementsResponse response;
             grpc::Status status =
                 SLUSSEN_CALL(ProviderDirectory, ListFrameworkAgreements,
                              request, &response)
                     .status;
             return Listed(
                 status, response.framework_agreements(),
                 [](const v1::FrameworkAgreement& a) { return a.name(); },
                 "frameworkAgreements/fk-rehab-2025");
           },
       .agency = kAnyoneListed,
       .provider = kAnyoneListed,
       .coordinator = kAnyoneListed,
       .admin = kAnyoneListed});
  return cases;
}

// --- OfferService ------------------------------------------------------------

// Region 13's offers, and whether the target's is among them.
Result ListOffersOf13(const CallContext& ctx) {
  v1::ListOffersRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1000);
  v1::ListOffersResponse response;
  grpc::Status status =
      SLUSSEN_CALL(OfferService, ListOffers, request, &response).status;
  return Listed(
      status, response.offers(), [](const v1::Offer& o) { return o.name(); },
      ctx.target.offer);
}

std::vector<Case> OfferServiceCases() {
  std::vector<Case> cases;
  // Agencies and admins: an offer is outside their scope (NOT_FOUND),
  // while listing offers is an action they may not take (PERMISSION_DENIED).
  cases.push_back(
      {.rpc = "GetOffer",
       .target = Target::kOfferedReferral,
       .changes_target = false,
       .call = NameCall(&v1::OfferService::NewStub,
                        &v1::OfferService::Stub::GetOffer, &Names::offer),
       .agency = {NOT_FOUND, NOT_FOUND},
       .provider = {OK, NOT_FOUND},
       .coordinator = {OK, NOT_FOUND},
       .admin = {NOT_FOUND, NOT_FOUND}});
  cases.push_back({.rpc = "ListOffers",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = ListOffersOf13,
                   .agency = kDeniedBoth,
                   .provider = {LISTED, OMITTED},
                   .coordinator = {LISTED, DENIED},
                   .admin = kDeniedBoth});
  // The offer of a protected referral: its provider's alone.
  cases.push_back(
      {.rpc = "GetOffer (protected)",
       .target = Target::kProtectedReferral,
       .changes_target = false,
       .call = NameCall(&v1::OfferService::NewStub,
                        &v1::OfferService::Stub::GetOffer, &Names::offer),
       .agency = {NOT_FOUND, NOT_FOUND},
       .provider = {OK, NOT_FOUND},
       .coordinator = {NOT_FOUND, NOT_FOUND},
       .admin = {NOT_FOUND, NOT_FOUND}});
  cases.push_back({.rpc = "ListOffers (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = ListOffersOf13,
                   .agency = kDeniedBoth,
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, DENIED},
                   .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "AcceptOffer",
       .target = Target::kOfferedReferral,
       .changes_target = true,
       .call = NameCall(&v1::OfferService::NewStub,
                        &v1::OfferService::Stub::AcceptOffer, &Names::offer),
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = kDeniedBoth,
       .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "DeclineOffer",
       .target = Target::kOfferedReferral,
       .changes_target = true,
       .call = NameCall(&v1::OfferService::NewStub,
                        &v1::OfferService::Stub::DeclineOffer, &Names::offer,
                        // (Not NO_CAPACITY: that would close the unit
                        // the next cases' referrals are offered.)
                        [](v1::DeclineOfferRequest& r) {
                          r.set_reason(v1::DECLINE_REASON_NOT_ELIGIBLE);
                        }),
       .agency = kDeniedBoth,
       .provider = {OK, NOT_FOUND},
       .coordinator = kDeniedBoth,
       .admin = kDeniedBoth});
  return cases;
}

// --- QueueService ------------------------------------------------------------

Result GetQueuePositionOf(const CallContext& ctx) {
  v1::GetQueuePositionRequest request;
  request.set_referral(ctx.target.referral);
  return SLUSSEN_CALL(QueueService, GetQueuePosition, request);
}

std::vector<Case> QueueServiceCases() {
  std::vector<Case> cases;
  // A waiting referral is assigned to no provider: none sees it.
  cases.push_back({.rpc = "GetQueuePosition",
                   .target = Target::kQueuedReferral,
                   .changes_target = false,
                   .call = GetQueuePositionOf,
                   .agency = {OK, NOT_FOUND},
                   .provider = {NOT_FOUND, NOT_FOUND},
                   .coordinator = {OK, NOT_FOUND},
                   .admin = kDeniedBoth});
  // An offered referral is in scope for its provider, but has left the
  // queue.
  cases.push_back({.rpc = "GetQueuePosition (offered)",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = GetQueuePositionOf,
                   .agency = {PRECONDITION, NOT_FOUND},
                   .provider = {PRECONDITION, NOT_FOUND},
                   .coordinator = {PRECONDITION, NOT_FOUND},
                   .admin = kDeniedBoth});
  // A protected one likewise, except that the coordinator does not learn
  // of it.
  cases.push_back({.rpc = "GetQueuePosition (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = GetQueuePositionOf,
                   .agency = {PRECONDITION, NOT_FOUND},
                   .provider = {PRECONDITION, NOT_FOUND},
                   .coordinator = {NOT_FOUND, NOT_FOUND},
                   .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "ListQueueEntries",
       .target = Target::kQueuedReferral,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::ListQueueEntriesRequest request;
             request.set_queue(ctx.target.queue);
             request.set_page_size(1000);
             v1::ListQueueEntriesResponse response;
             grpc::Status status = SLUSSEN_CALL(QueueService, ListQueueEntries,
                                                request, &response)
                                       .status;
             return Listed(
                 status, response.entries(),
                 [](const v1::QueuePosition& p) { return p.referral(); },
                 ctx.target.referral);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = {LISTED, DENIED},
       .admin = kDeniedBoth});
  cases.push_back({.rpc = "GetPriorityPolicy",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         return SLUSSEN_CALL(QueueService, GetPriorityPolicy,
                                             v1::GetPriorityPolicyRequest());
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  // Region 13's queues under the policy in force as the candidate.
  cases.push_back(
      {.rpc = "PreviewPriorityPolicy",
       .target = Target::kNothing,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::PreviewPriorityPolicyRequest request;
             request.set_parent("regions/13");
             *request.mutable_policy() = core::DefaultPriorityPolicy();
             return SLUSSEN_CALL(QueueService, PreviewPriorityPolicy, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = {OK, DENIED},
       .admin = kDeniedBoth});
  return cases;
}

// --- CoordinatorService ------------------------------------------------------

// Region 13's worklist for a year ahead, and whether the target's clock is
// in it.
Result ListWorklistOf13(const CallContext& ctx) {
  v1::ListWorklistRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1000);
  request.mutable_due_within()->set_seconds(365 * 24 * 3600);
  v1::ListWorklistResponse response;
  grpc::Status status =
      SLUSSEN_CALL(CoordinatorService, ListWorklist, request, &response).status;
  return Listed(
      status, response.items(),
      [](const v1::WorklistItem& i) { return i.clock().name(); },
      ctx.target.clock);
}

std::vector<Case> CoordinatorServiceCases() {
  std::vector<Case> cases;
  cases.push_back({.rpc = "ListWorklist",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = ListWorklistOf13,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {LISTED, DENIED},
                   .admin = kDeniedBoth});
  // A protected referral's clock: the referring agency's and the awaited
  // provider's; its escalation reaches no coordinator.
  cases.push_back({.rpc = "ListWorklist (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = ListWorklistOf13,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, DENIED},
                   .admin = kDeniedBoth});
  // The reports: the region's coordinators only. Another region's
  // coordinator is PERMISSION_DENIED here and in the event service, where
  // the lists of referrals, offers, queues and the worklist answer it with
  // nothing.
  const Expect region_coordinator{OK, DENIED};
  cases.push_back({.rpc = "GetQueueOverview",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetQueueOverviewRequest request;
                         request.set_parent("regions/13");
                         return SLUSSEN_CALL(CoordinatorService,
                                             GetQueueOverview, request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = region_coordinator,
                   .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "GetResponseTimeStatistics",
       .target = Target::kNothing,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::GetResponseTimeStatisticsRequest request;
             request.set_parent("regions/13");
             *request.mutable_start_time() =
                 core::ToProtoTimestamp(absl::Now() - absl::Hours(24 * 30));
             *request.mutable_end_time() =
                 core::ToProtoTimestamp(absl::Now() + absl::Hours(1));
             return SLUSSEN_CALL(CoordinatorService, GetResponseTimeStatistics,
                                 request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = region_coordinator,
       .admin = kDeniedBoth});
  cases.push_back({.rpc = "GetOutcomeReport",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::GetOutcomeReportRequest request;
                         request.set_parent("regions/13");
                         *request.mutable_start_date() = DateIn(-30);
                         *request.mutable_end_date() = DateIn(0);
                         return SLUSSEN_CALL(CoordinatorService,
                                             GetOutcomeReport, request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = region_coordinator,
                   .admin = kDeniedBoth});
  // The SUS export: the region's coordinators; and a provider, of the
  // referrals it holds, in whichever region it names (the foreign
  // provider's export of region 13 is its own, and empty).
  cases.push_back({.rpc = "ExportSusRegistrations",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::ExportSusRegistrationsRequest request;
                         request.set_parent("regions/13");
                         *request.mutable_start_date() = DateIn(-30);
                         *request.mutable_end_date() = DateIn(0);
                         return SLUSSEN_CALL(CoordinatorService,
                                             ExportSusRegistrations, request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kAnyone,
                   .coordinator = region_coordinator,
                   .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "GetClock",
       .target = Target::kOfferedReferral,
       .changes_target = false,
       .call = NameCall(&v1::CoordinatorService::NewStub,
                        &v1::CoordinatorService::Stub::GetClock, &Names::clock),
       .agency = {OK, NOT_FOUND},
       .provider = {OK, NOT_FOUND},
       .coordinator = {OK, NOT_FOUND},
       .admin = kDeniedBoth});
  cases.push_back(
      {.rpc = "GetClock (protected)",
       .target = Target::kProtectedReferral,
       .changes_target = false,
       .call = NameCall(&v1::CoordinatorService::NewStub,
                        &v1::CoordinatorService::Stub::GetClock, &Names::clock),
       .agency = {OK, NOT_FOUND},
       .provider = {OK, NOT_FOUND},
       .coordinator = {NOT_FOUND, NOT_FOUND},
       .admin = kDeniedBoth});
  // The awaited provider or the region's coordinator: the agency sees the
  // clock but may not pause it.
  cases.push_back({.rpc = "PauseClock",
                   .target = Target::kOfferedReferral,
                   .changes_target = true,
                   .call = NameCall(&v1::CoordinatorService::NewStub,
                                    &v1::CoordinatorService::Stub::PauseClock,
                                    &Names::clock,
                                    [](v1::PauseClockRequest& r) {
                                      r.set_cause(v1::DELAY_CAUSE_PARTICIPANT);
                                    }),
                   .agency = {DENIED, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {OK, NOT_FOUND},
                   .admin = kDeniedBoth});
  cases.push_back({.rpc = "ResumeClock",
                   .target = Target::kPausedClock,
                   .changes_target = true,
                   .call = NameCall(&v1::CoordinatorService::NewStub,
                                    &v1::CoordinatorService::Stub::ResumeClock,
                                    &Names::clock),
                   .agency = {DENIED, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {OK, NOT_FOUND},
                   .admin = kDeniedBoth});
  cases.push_back({.rpc = "ListDeadlineRuleSets",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::ListDeadlineRuleSetsRequest request;
                         return SLUSSEN_CALL(CoordinatorService,
                                             ListDeadlineRuleSets, request);
                       },
                   .agency = kAnyone,
                   .provider = kAnyone,
                   .coordinator = kAnyone,
                   .admin = kAnyone});
  cases.push_back({.rpc = "CreateDeadlineRuleSet",
                   .target = Target::kNothing,
                   .changes_target = true,
                   .call =
                       [](const CallContext& ctx) {
                         v1::CreateDeadlineRuleSetRequest request;
                         request.set_rule_set_id("impulse");
                         v1::DeadlineRuleSet* set = request.mutable_rule_set();
                         set->set_referral_kind(v1::REFERRAL_KIND_IMPULSE);
                         v1::ClockRule* rule = set->add_rules();
                         rule->set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
                         rule->set_start_on(v1::ACTION_CREATE);
                         rule->add_stop_on(v1::ACTION_RECORD_CONTACT);
                         rule->set_length(3);
                         rule->set_unit(v1::DURATION_UNIT_WORKING_DAYS);
                         rule->set_awaited_role(v1::ROLE_PROVIDER);
                         return SLUSSEN_CALL(CoordinatorService,
                                             CreateDeadlineRuleSet, request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = kDeniedBoth,
                   .admin = {OK, OK}});
  return cases;
}

// --- EventService ------------------------------------------------------------

// The events of the target's referral, and whether any is listed.
Result ListEventsOf(const CallContext& ctx) {
  v1::ListEventsRequest request;
  request.set_parent("regions/13");
  request.set_referral(ctx.target.referral);
  request.set_page_size(1000);
  v1::ListEventsResponse response;
  grpc::Status status =
      SLUSSEN_CALL(EventService, ListEvents, request, &response).status;
  return Listed(
      status, response.events(),
      [](const v1::Event& e) { return e.referral(); }, ctx.target.referral);
}

std::vector<Case> EventServiceCases() {
  std::vector<Case> cases;
  // A watch that is let in stays open until its deadline (no event comes):
  // DEADLINE_EXCEEDED here means it was accepted.
  cases.push_back(
      {.rpc = "WatchEvents",
       .target = Target::kNothing,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             auto stub = v1::EventService::NewStub(ctx.channel);
             grpc::ClientContext context;
             context.set_deadline(
                 absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
             v1::WatchEventsRequest request;
             request.set_parent("regions/13");
             auto reader = stub->WatchEvents(&context, request);
             v1::WatchEventsResponse response;
             while (reader->Read(&response)) {
             }
             grpc::Status status = reader->Finish();
             if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
               status = grpc::Status::OK;
             }
             return Result{status};
           },
       .agency = kAnyone,
       .provider = kAnyone,
       .coordinator = {OK, DENIED},
       .admin = kDeniedBoth});
  cases.push_back({.rpc = "ListEvents",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = ListEventsOf,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {LISTED, DENIED},
                   .admin = kDeniedBoth});
  // A protected referral's events reach no coordinator.
  cases.push_back({.rpc = "ListEvents (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = ListEventsOf,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, DENIED},
                   .admin = kDeniedBoth});
  return cases;
}

// --- ConsentService and PrivacyService ----------------------------------

// The consent given with the target referral.
std::string ConsentOf(const CallContext& ctx) {
  std::string name = ctx.target.referral;
  return name.replace(name.find("/referrals/"), 11, "/consents/");
}

Result GetConsentOf(const CallContext& ctx) {
  v1::GetConsentRequest request;
  request.set_name(ConsentOf(ctx));
  return SLUSSEN_CALL(ConsentService, GetConsent, request);
}

// The consents under the target's pseudonym, and whether the target's is
// among them.
Result ListConsentsOf(const CallContext& ctx) {
  v1::ListConsentsRequest request;
  request.set_parent("regions/13");
  request.set_participant_pseudonym(ctx.target.pseudonym);
  request.set_page_size(500);
  v1::ListConsentsResponse response;
  grpc::Status status =
      SLUSSEN_CALL(ConsentService, ListConsents, request, &response).status;
  return Listed(
      status, response.consents(),
      [](const v1::Consent& c) { return c.name(); }, ConsentOf(ctx));
}

std::vector<Case> ConsentServiceCases() {
  std::vector<Case> cases;
  cases.push_back({.rpc = "GetConsent",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = GetConsentOf,
                   .agency = {OK, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {OK, NOT_FOUND},
                   .admin = kDeniedBoth});
  // Listing by pseudonym reveals whose referral it is: only where the
  // caller may see the participant (the sample consent gives coordinators
  // outcomes only).
  cases.push_back({.rpc = "ListConsents",
                   .target = Target::kOfferedReferral,
                   .changes_target = false,
                   .call = ListConsentsOf,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, OMITTED},
                   .admin = kDeniedBoth});
  // A protected referral's consent: the region's coordinator does not
  // learn of it.
  cases.push_back({.rpc = "GetConsent (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = GetConsentOf,
                   .agency = {OK, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = {NOT_FOUND, NOT_FOUND},
                   .admin = kDeniedBoth});
  cases.push_back({.rpc = "ListConsents (protected)",
                   .target = Target::kProtectedReferral,
                   .changes_target = false,
                   .call = ListConsentsOf,
                   .agency = {LISTED, OMITTED},
                   .provider = {LISTED, OMITTED},
                   .coordinator = {OMITTED, OMITTED},
                   .admin = kDeniedBoth});
  cases.push_back({.rpc = "WithdrawConsent",
                   .target = Target::kOfferedReferral,
                   .changes_target = true,
                   .call =
                       [](const CallContext& ctx) {
                         v1::WithdrawConsentRequest request;
                         request.set_name(ConsentOf(ctx));
                         return SLUSSEN_CALL(ConsentService, WithdrawConsent,
                                             request);
                       },
                   .agency = {OK, NOT_FOUND},
                   .provider = {OK, NOT_FOUND},
                   .coordinator = kDeniedBoth,
                   .admin = kDeniedBoth});
  return cases;
}

std::vector<Case> PrivacyServiceCases() {
  std::vector<Case> cases;
  cases.push_back(
      {.rpc = "ListAuditRecords",
       .target = Target::kOfferedReferral,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::ListAuditRecordsRequest request;
             request.set_parent("regions/13");
             request.set_participant_pseudonym(ctx.target.pseudonym);
             return SLUSSEN_CALL(PrivacyService, ListAuditRecords, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = {OK, DENIED},
       .admin = kAnyone});
  cases.push_back({.rpc = "VerifyAuditChain",
                   .target = Target::kNothing,
                   .changes_target = false,
                   .call =
                       [](const CallContext& ctx) {
                         v1::VerifyAuditChainRequest request;
                         request.set_parent("regions/13");
                         return SLUSSEN_CALL(PrivacyService, VerifyAuditChain,
                                             request);
                       },
                   .agency = kDeniedBoth,
                   .provider = kDeniedBoth,
                   .coordinator = {OK, DENIED},
                   .admin = kAnyone});
  // The participant's referral is open: erasure waits (after the access
  // check, so who may ask still shows).
  cases.push_back(
      {.rpc = "EraseParticipant",
       .target = Target::kOfferedReferral,
       .changes_target = false,
       .call =
           [](const CallContext& ctx) {
             v1::EraseParticipantRequest request;
             request.set_parent("regions/13");
             request.set_participant_pseudonym(ctx.target.pseudonym);
             request.set_reason("Begäran om radering");
             return SLUSSEN_CALL(PrivacyService, EraseParticipant, request);
           },
       .agency = kDeniedBoth,
       .provider = kDeniedBoth,
       .coordinator = {PRECONDITION, DENIED},
       .admin = {PRECONDITION, PRECONDITION}});
  return cases;
}

class AccessMatrixE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status started = world_.Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  void Run(const std::vector<Case>& cases, Path path = Path::kDirect) {
    const std::vector<std::string> wrong = world_.Run(cases, path);
    EXPECT_TRUE(wrong.empty())
        << wrong.size() << " rows differ:\n  " << absl::StrJoin(wrong, "\n  ");
  }

  World world_;
};

TEST_F(AccessMatrixE2eTest, ReferralService) { Run(ReferralServiceCases()); }
TEST_F(AccessMatrixE2eTest, ProviderDirectory) {
  Run(ProviderDirectoryCases());
}
TEST_F(AccessMatrixE2eTest, OfferService) { Run(OfferServiceCases()); }
TEST_F(AccessMatrixE2eTest, QueueService) { Run(QueueServiceCases()); }
TEST_F(AccessMatrixE2eTest, CoordinatorService) {
  Run(CoordinatorServiceCases());
}
TEST_F(AccessMatrixE2eTest, EventService) { Run(EventServiceCases()); }
TEST_F(AccessMatrixE2eTest, ConsentService) { Run(ConsentServiceCases()); }
TEST_F(AccessMatrixE2eTest, PrivacyService) { Run(PrivacyServiceCases()); }

// The same tables through a gateway acting for each caller.
TEST_F(AccessMatrixE2eTest, ReferralServiceThroughAGateway) {
  Run(ReferralServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, ProviderDirectoryThroughAGateway) {
  Run(ProviderDirectoryCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, OfferServiceThroughAGateway) {
  Run(OfferServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, QueueServiceThroughAGateway) {
  Run(QueueServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, CoordinatorServiceThroughAGateway) {
  Run(CoordinatorServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, EventServiceThroughAGateway) {
  Run(EventServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, ConsentServiceThroughAGateway) {
  Run(ConsentServiceCases(), Path::kGateway);
}
TEST_F(AccessMatrixE2eTest, PrivacyServiceThroughAGateway) {
  Run(PrivacyServiceCases(), Path::kGateway);
}

}  // namespace
}  // namespace slussen::testing::matrix

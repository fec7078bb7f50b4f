#include "tests/support/access_matrix.h"

#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing::matrix {
namespace {

namespace v1 = ::slussen::v1;

const Identity kOwnAgency = kHalmstadKommun;
const Identity kForeignAgency = kLaholmKommun;
const Identity kOwnProvider{"halsosam-halmstad", "provider", "13"};
const Identity kForeignProvider{"redo-halland", "provider", "13"};
const Identity kOwnCoordinator = kHallandCoordinator;
const Identity kForeignCoordinator{"samordning-vastmanland", "coordinator",
                                   "19"};
const Identity kOwnAdmin = kAdmin;
const Identity kForeignAdmin{"slussen-drift", "admin", ""};

}  // namespace

const Identity& CallerOf(Role role, Tenant tenant) {
  const bool own = tenant == Tenant::kOwn;
  switch (role) {
    case Role::kAgency:
      return own ? kOwnAgency : kForeignAgency;
    case Role::kProvider:
      return own ? kOwnProvider : kForeignProvider;
    case Role::kCoordinator:
      return own ? kOwnCoordinator : kForeignCoordinator;
    case Role::kAdmin:
      return own ? kOwnAdmin : kForeignAdmin;
  }
  return kOwnAdmin;
}

Expect ThroughGateway(Role role, Expect direct) {
  return role == Role::kAdmin ? kDeniedBoth : direct;
}

std::string OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "OK";
    case Outcome::kListed:
      return "OK, listed";
    case Outcome::kOmitted:
      return "OK, omitted";
    case Outcome::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Outcome::kNotFound:
      return "NOT_FOUND";
    case Outcome::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Outcome::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Outcome::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Outcome::kOther:
      return "another code";
  }
  return "?";
}

Outcome Classify(const Result& result) {
  switch (result.status.error_code()) {
    case grpc::StatusCode::OK:
      if (!result.listed.has_value()) return Outcome::kOk;
      return *result.listed ? Outcome::kListed : Outcome::kOmitted;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Outcome::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND:
      return Outcome::kNotFound;
    case grpc::StatusCode::PERMISSION_DENIED:
      return Outcome::kPermissionDenied;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return Outcome::kFailedPrecondition;
    case grpc::StatusCode::UNAUTHENTICATED:
      return Outcome::kUnauthenticated;
    default:
      return Outcome::kOther;
  }
}

v1::Date DateIn(int days) {
  const absl::CivilDay day =
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) + days;
  v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::Status World::Start() {
  BrokerHarness::Options options;
  options.tls = true;
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start(std::move(options));
  if (!harness.ok()) return harness.status();
  harness_ = *std::move(harness);
  return MakeDirectory();
}

const Names& World::Get(Target target) {
  auto it = made_.find(target);
  if (it == made_.end()) it = made_.emplace(target, Make(target)).first;
  return it->second;
}

#define SLUSSEN_AS(who, Service, Method, request, response) \
  As(who, &v1::Service::NewStub, &v1::Service::Stub::Method, request, response)

absl::Status World::MakeDirectory() {
  for (const auto& [id, kind] :
       std::vector<std::pair<std::string, v1::ProviderKind>>{
           {"halsosam-halmstad", v1::PROVIDER_KIND_ACTIVITY},
           {"redo-halland", v1::PROVIDER_KIND_ACTIVITY}}) {
    v1::CreateProviderRequest request;
    request.set_provider_id(id);
    v1::Provider* p = request.mutable_provider();
    p->set_display_name(id);
    p->set_organisation(id);
    p->set_kind(kind);
    p->add_regions("13");
    v1::Provider made;
    SLUSSEN_AS(kOwnAdmin, ProviderDirectory, CreateProvider, request, &made);
  }
  for (const auto& [id, type] :
       std::vector<std::pair<std::string, std::string>>{
           {"halsosam-platser", "halsosam"}, {"redo-grupp", "redo"}}) {
    v1::CreateOfferingRequest request;
    request.set_parent("providers/halsosam-halmstad");
    request.set_offering_id(id);
    v1::Offering* o = request.mutable_offering();
    o->set_display_name(id);
    o->set_activity_type(type);
    o->set_region("13");
    o->set_kommun_code("1380");
    o->mutable_eligibility()->set_min_age_years(18);
    o->mutable_eligibility()->set_max_age_years(64);
    v1::Offering made;
    SLUSSEN_AS(kOwnAdmin, ProviderDirectory, CreateOffering, request, &made);
  }
  v1::PublishCapacityRequest places;
  places.set_offering(kPlacesOffering);
  places.mutable_capacity()->mutable_places()->set_total(1000);
  v1::Offering published;
  SLUSSEN_AS(kOwnProvider, ProviderDirectory, PublishCapacity, places,
             &published);
  return ::testing::Test::HasFailure()
             ? absl::InternalError("making the directory failed")
             : absl::OkStatus();
}

Names World::Make(Target target) {
  if (target == Target::kNothing) return {};
  if (target == Target::kQueuedReferral) return MakeQueued();
  if (target == Target::kOpenCohort) return MakeCohort();
  if (target == Target::kProtectedReferral) {
    return MakeOffered(/*protected_personal_data=*/true);
  }
  Names names = MakeOffered();
  if (target == Target::kOfferedReferral) return names;
  if (target == Target::kPausedClock) {
    v1::PauseClockRequest pause;
    pause.set_name(names.clock);
    pause.set_cause(v1::DELAY_CAUSE_PARTICIPANT);
    v1::Clock paused;
    SLUSSEN_AS(kOwnCoordinator, CoordinatorService, PauseClock, pause, &paused);
    return names;
  }
  if (target == Target::kReturnedReferral) {
    v1::DeclineOfferRequest decline;
    decline.set_name(names.offer);
    decline.set_reason(v1::DECLINE_REASON_COULD_NOT_CONTACT);
    v1::Offer declined;
    SLUSSEN_AS(kOwnProvider, OfferService, DeclineOffer, decline, &declined);
    return names;
  }
  v1::AcceptOfferRequest accept;
  accept.set_name(names.offer);
  v1::Offer accepted;
  SLUSSEN_AS(kOwnProvider, OfferService, AcceptOffer, accept, &accepted);
  if (target == Target::kAcceptedReferral) return names;
  v1::StartReferralRequest start;
  start.set_name(names.referral);
  v1::Referral started;
  SLUSSEN_AS(kOwnProvider, ReferralService, StartReferral, start, &started);
  if (target == Target::kStartedReferral) return names;
  v1::ExitReferralRequest exit;
  exit.set_name(names.referral);
  exit.add_outcome_reasons(v1::OUTCOME_REASON_WORK);
  v1::Referral exited;
  SLUSSEN_AS(kOwnProvider, ReferralService, ExitReferral, exit, &exited);
  return names;
}

Names World::MakeOffered(bool protected_personal_data) {
  v1::CreateReferralRequest create = SampleActivityReferral("13");
  const int n = NextSerial();
  create.set_request_id(absl::StrCat("matrix-", n));
  create.mutable_referral()->mutable_participant()->set_pseudonym(
      absl::StrCat("matrix-", n));
  if (protected_personal_data) {
    // The sample names its referrer; protection forbids the kommun.
    create.mutable_referral()->set_protected_personal_data(true);
    create.mutable_referral()
        ->mutable_participant()
        ->mutable_attributes()
        ->clear_kommun_code();
  }
  v1::Referral referral;
  SLUSSEN_AS(kOwnAgency, ReferralService, CreateReferral, create, &referral);
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_OFFERED)
      << "the sample referral was not offered at once";
  Names names{.referral = referral.name(),
              .pseudonym = absl::StrCat("matrix-", n),
              .offer = referral.current_offer()};
  // The offer's answer clock, which awaits the provider.
  v1::ListWorklistRequest worklist;
  worklist.set_parent("regions/13");
  worklist.set_page_size(1000);
  worklist.mutable_due_within()->set_seconds(365 * 24 * 3600);
  v1::ListWorklistResponse items;
  SLUSSEN_AS(protected_personal_data ? kOwnAgency : kOwnCoordinator,
             CoordinatorService, ListWorklist, worklist, &items);
  for (const v1::WorklistItem& item : items.items()) {
    if (item.clock().referral() == names.referral &&
        item.clock().awaited_organisation() == kOwnProvider.organisation) {
      names.clock = item.clock().name();
    }
  }
  EXPECT_FALSE(names.clock.empty()) << "no clock awaits the provider";
  return names;
}

Names World::MakeQueued() {
  // The only redo offering runs cohorts whose intake has not opened.
  (void)Get(Target::kOpenCohort);
  v1::CreateReferralRequest create = SampleActivityReferral("13");
  const int n = NextSerial();
  create.set_request_id(absl::StrCat("matrix-", n));
  create.mutable_referral()->mutable_participant()->set_pseudonym(
      absl::StrCat("matrix-", n));
  create.mutable_referral()->mutable_activity()->set_activity_type("redo");
  v1::Referral referral;
  SLUSSEN_AS(kOwnAgency, ReferralService, CreateReferral, create, &referral);
  EXPECT_EQ(referral.state(), v1::REFERRAL_STATE_QUEUED);
  v1::GetQueuePositionRequest request;
  request.set_referral(referral.name());
  v1::QueuePosition position;
  SLUSSEN_AS(kOwnAgency, QueueService, GetQueuePosition, request, &position);
  EXPECT_FALSE(position.queue().empty()) << position.DebugString();
  return Names{.referral = referral.name(), .queue = position.queue()};
}

Names World::MakeCohort() {
  const std::string cohort =
      absl::StrCat(kCohortOffering, "/cohorts/c", NextSerial());
  v1::PublishCapacityRequest publish;
  publish.set_offering(kCohortOffering);
  v1::Cohort* c = publish.mutable_capacity()->mutable_cohorts()->add_cohorts();
  c->set_name(cohort);
  *c->mutable_start_date() = DateIn(200);
  c->set_min_size(8);
  c->set_max_size(12);
  v1::Offering published;
  SLUSSEN_AS(kOwnProvider, ProviderDirectory, PublishCapacity, publish,
             &published);
  return Names{.cohort = cohort};
}

#undef SLUSSEN_AS

std::vector<std::string> World::Run(const std::vector<Case>& cases, Path path) {
  const bool gateway = path == Path::kGateway;
  std::vector<std::string> wrong;
  for (const Case& c : cases) {
    for (const auto& [role, role_name, direct] :
         std::vector<std::tuple<Role, const char*, Expect>>{
             {Role::kAgency, "agency", c.agency},
             {Role::kProvider, "provider", c.provider},
             {Role::kCoordinator, "coordinator", c.coordinator},
             {Role::kAdmin, "admin", c.admin}}) {
      const Expect expect = gateway ? ThroughGateway(role, direct) : direct;
      for (const Tenant tenant : {Tenant::kOwn, Tenant::kForeign}) {
        const Identity& who = CallerOf(role, tenant);
        const Names target = Get(c.target);
        const CallContext ctx{gateway
                                  ? harness_->GatewayChannelFor(who, kGateway)
                                  : harness_->ChannelFor(who),
                              target, NextSerial()};
        const Result result = c.call(ctx);
        if (c.changes_target && result.status.ok()) Forget(c.target);
        const Outcome want =
            tenant == Tenant::kOwn ? expect.own : expect.foreign;
        const Outcome got = Classify(result);
        if (got != want) {
          wrong.push_back(absl::StrCat(
              c.rpc, " as ", role_name,
              tenant == Tenant::kOwn ? " (own) " : " (foreign) ",
              who.organisation, gateway ? " via gateway " : "",
              gateway ? kGateway : "", ": want ", OutcomeName(want), ", got ",
              OutcomeName(got), " ", result.status.error_message()));
        }
      }
    }
  }
  return wrong;
}

}  // namespace slussen::testing::matrix

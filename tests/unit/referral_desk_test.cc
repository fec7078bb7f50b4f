// The referral desk's use cases over an in-memory repository: the logic
// between validation and storage (identity, idempotency, etags, lost races,
// visibility, paging, the provider's SUS registrations). The Redis store
// is tested on its own against a real redis-server; the whole path end to
// end in tests/e2e.
#include "broker/core/desks/referral_desk.h"

#include <memory>
#include <set>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryReferralRepository;
using ::slussen::testing::SampleActivityReferral;
using ::slussen::testing::SampleImpulse;
using ::slussen::testing::SampleJointMapping;
using ::slussen::testing::SampleOfEveryKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const Caller kHalmstad{"kommun-halmstad-eb", v1::ROLE_AGENCY, "13", ""};
const Caller kLaholm{"kommun-laholm-eb", v1::ROLE_AGENCY, "13", ""};
const Caller kHallandCoordinator{"samordning-halland", v1::ROLE_COORDINATOR,
                                 "13", ""};
const Caller kSkaneCoordinator{"samordning-skane", v1::ROLE_COORDINATOR, "12",
                               ""};
const Caller kProvider{"halsosam-halmstad", v1::ROLE_PROVIDER, "13", ""};
const Caller kAdmin{"slussen-admin", v1::ROLE_ADMIN, "", ""};

// What SUS registers at the start: income before, education.
v1::SusRegistration InRegistration() {
  v1::SusRegistration sus;
  sus.add_income_sources(v1::INCOME_SOURCE_SICKNESS_BENEFIT);
  sus.set_education_level(v1::EDUCATION_LEVEL_UPPER_SECONDARY);
  return sus;
}

// What SUS registers at the end: income after, work, AF.
v1::SusRegistration OutRegistration() {
  v1::SusRegistration sus;
  sus.add_income_sources(v1::INCOME_SOURCE_EMPLOYMENT);
  sus.set_work_kind(v1::WORK_KIND_SUBSIDISED);
  sus.set_registered_with_af(true);
  return sus;
}

class ReferralDeskTest : public ::testing::Test {
 protected:
  ReferralDeskTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               absl::UTCTimeZone())),
        ids_(&clock_),
        pseudonymizer_(*Pseudonymizer::FromKey(std::string(40, 'k'))),
        calendar_(*SwedishCalendar::Create()),
        desk_(&repository_, &clock_, &ids_, &pseudonymizer_, &calendar_,
              audit_) {}

  v1::Referral Create(const Caller& caller, v1::CreateReferralRequest request) {
    absl::StatusOr<v1::Referral> made = desk_.CreateReferral(caller, request);
    EXPECT_TRUE(made.ok()) << made.status();
    clock_.Advance(absl::Milliseconds(1));  // distinct, ordered ids
    return made.value_or(v1::Referral());
  }

  absl::StatusOr<v1::Referral> Cancel(const Caller& caller,
                                      const std::string& name,
                                      const std::string& request_id = "",
                                      const std::string& etag = "") {
    v1::CancelReferralRequest request;
    request.set_name(name);
    request.set_reason(v1::CANCEL_REASON_NO_LONGER_NEEDED);
    request.set_request_id(request_id);
    request.set_etag(etag);
    return desk_.CancelReferral(caller, request);
  }

  absl::StatusOr<v1::Referral> Get(const Caller& caller,
                                   const std::string& name) {
    v1::GetReferralRequest request;
    request.set_name(name);
    return desk_.GetReferral(caller, request);
  }

  ReferralRecord Stored(const std::string& name) {
    const ReferralName parsed = *ParseReferralName("name", name);
    const absl::StatusOr<ReferralRecord> record =
        repository_.Get(parsed.region, parsed.id);
    EXPECT_TRUE(record.ok()) << record.status();
    return record.value_or(ReferralRecord());
  }

  // `made` as the matcher and kProvider leave it once the provider has
  // accepted its offer (the placement desk's part, tested there): from
  // here on the provider's actions are this desk's.
  void Accept(const v1::Referral& made) {
    const ReferralRecord read = Stored(made.name());
    ReferralRecord accepted = read;
    accepted.assigned_organisation = kProvider.organisation;
    v1::Referral& r = accepted.referral;
    r.set_state(v1::REFERRAL_STATE_ACCEPTED);
    r.set_assigned_provider("providers/halsosam-halmstad");
    r.set_assigned_offering(
        "providers/halsosam-halmstad/offerings/halsosam-platser");
    v1::Transition* t = r.add_history();
    t->set_action(v1::ACTION_ACCEPT);
    t->set_from_state(v1::REFERRAL_STATE_OFFERED);
    t->set_to_state(v1::REFERRAL_STATE_ACCEPTED);
    *t->mutable_time() = ToProtoTimestamp(clock_.Now());
    *t->mutable_actor() = kProvider.ToActor();
    v1::Event event;
    event.set_type(v1::EVENT_TYPE_OFFER_ACCEPTED);
    event.set_referral(made.name());
    const absl::StatusOr<int64_t> written =
        repository_.Update(read, accepted, event);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  // A referral of kHalmstad's, accepted and started by kProvider with an
  // in-registration; its name.
  std::string Started() {
    const v1::Referral made = Create(kHalmstad, SampleActivityReferral());
    Accept(made);
    v1::StartReferralRequest request;
    request.set_name(made.name());
    *request.mutable_sus() = InRegistration();
    const absl::StatusOr<v1::Referral> started =
        desk_.StartReferral(kProvider, request);
    EXPECT_TRUE(started.ok()) << started.status();
    clock_.Advance(absl::Minutes(1));
    return made.name();
  }

  // The last transition of the stored referral `name`.
  v1::Transition Last(const std::string& name) {
    const ReferralRecord record = Stored(name);
    if (record.referral.history().empty()) return v1::Transition();
    return record.referral.history(record.referral.history_size() - 1);
  }

  FakeClock clock_;
  UlidGenerator ids_;
  Pseudonymizer pseudonymizer_;
  SwedishCalendar calendar_;
  InMemoryReferralRepository repository_;
  slussen::testing::InMemoryAuditRepository audit_;
  ReferralDesk desk_;
};

TEST_F(ReferralDeskTest, CreatesEveryKindReceivedWithHistoryAndEvent) {
  for (const v1::CreateReferralRequest& request : SampleOfEveryKind()) {
    const v1::Referral made = Create(kHalmstad, request);
    EXPECT_TRUE(absl::StartsWith(made.name(), "regions/13/referrals/"));
    EXPECT_EQ(made.state(), v1::REFERRAL_STATE_RECEIVED);
    EXPECT_EQ(made.referring_organisation(), "kommun-halmstad-eb");
    EXPECT_EQ(made.etag(), "1");
    ASSERT_EQ(made.history_size(), 1);
    EXPECT_EQ(made.history(0).action(), v1::ACTION_CREATE);
    EXPECT_EQ(made.history(0).actor().organisation(), "kommun-halmstad-eb");
    EXPECT_THAT(made.allowed_actions(), ::testing::Contains(v1::ACTION_CANCEL));
  }
  const std::vector<v1::Event> events = repository_.events();
  ASSERT_EQ(events.size(), 5u);
  std::set<int> kinds;
  for (const v1::Event& event : events) {
    EXPECT_EQ(event.type(), v1::EVENT_TYPE_REFERRAL_CREATED);
    kinds.insert(event.referral_kind());
  }
  EXPECT_EQ(kinds.size(), 5u);
}

TEST_F(ReferralDeskTest, OnlyAgenciesCreate) {
  for (const Caller& caller : {kProvider, kHallandCoordinator, kAdmin}) {
    const absl::StatusOr<v1::Referral> made =
        desk_.CreateReferral(caller, SampleImpulse());
    EXPECT_EQ(made.status().code(), absl::StatusCode::kPermissionDenied);
  }
  EXPECT_TRUE(repository_.events().empty());
}

TEST_F(ReferralDeskTest, KeepsThePersonnummerOnlyAsAKeyedHash) {
  const v1::Referral made = Create(kHalmstad, SampleJointMapping());
  EXPECT_TRUE(made.participant().has_personal_identity_number());
  EXPECT_TRUE(made.participant().personal_identity_number().empty());
  const ReferralName name = *ParseReferralName("name", made.name());
  const ReferralRecord stored = *repository_.Get(name.region, name.id);
  EXPECT_TRUE(absl::StartsWith(stored.personal_identity_pseudonym,
                               pseudonymizer_.key_id() + ":"));
  const std::string bytes = stored.referral.SerializeAsString();
  EXPECT_THAT(bytes, Not(HasSubstr("191212121212")));
  EXPECT_THAT(bytes, Not(HasSubstr("1212121212")));
}

TEST_F(ReferralDeskTest, RetriedCreateReturnsTheFirstReferral) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  request.set_request_id("retry-1");
  const v1::Referral first = Create(kHalmstad, request);
  const v1::Referral second = Create(kHalmstad, request);
  EXPECT_EQ(second.name(), first.name());
  EXPECT_EQ(repository_.events().size(), 1u);
}

// One participant, one open referral per activity type: a second is
// refused naming the first, unless it says why it is right; a closed one,
// another activity type or a retry of the first create is no twin.
TEST_F(ReferralDeskTest, ASecondOpenReferralOfOneParticipantIsRefused) {
  const v1::Referral first = Create(kHalmstad, SampleActivityReferral());
  absl::StatusOr<v1::Referral> second =
      desk_.CreateReferral(kHalmstad, SampleActivityReferral());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists)
      << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr(first.name()));
  EXPECT_THAT(second.status().message(),
              HasSubstr("referral.second_referral_reason"));
  ASSERT_TRUE(ErrorInfoOf(second.status()).has_value());
  EXPECT_EQ(ErrorInfoOf(second.status())->reason(), "OPEN_REFERRAL_EXISTS");
  EXPECT_EQ(repository_.events().size(), 1u);

  // Another activity type is no twin.
  v1::CreateReferralRequest redo = SampleActivityReferral();
  redo.mutable_referral()->mutable_activity()->set_activity_type("redo");
  Create(kHalmstad, redo);
  // Saying why lets it through, and keeps the reason with it.
  v1::CreateReferralRequest reasoned = SampleActivityReferral();
  reasoned.mutable_referral()->set_second_referral_reason(
      "Byter till kvällsgruppen efter ny anställning");
  const v1::Referral with_reason = Create(kHalmstad, reasoned);
  EXPECT_EQ(with_reason.second_referral_reason(),
            "Byter till kvällsgruppen efter ny anställning");
  // Once both are closed, a new one is welcome.
  ASSERT_TRUE(Cancel(kHalmstad, first.name()).ok());
  ASSERT_TRUE(Cancel(kHalmstad, with_reason.name()).ok());
  Create(kHalmstad, SampleActivityReferral());
  // Another agency's pseudonym may name another person: no twin.
  Create(kLaholm, SampleActivityReferral());
}

// The same personnummer is the same person whoever refers: another
// agency's open referral counts, but is not named to the caller.
TEST_F(ReferralDeskTest, TheSamePersonnummerFromAnotherAgencyIsATwinUnnamed) {
  const v1::Referral first = Create(kHalmstad, SampleJointMapping());
  v1::CreateReferralRequest again = SampleJointMapping();
  again.mutable_referral()->mutable_participant()->set_pseudonym("laholm-7");
  const absl::StatusOr<v1::Referral> second =
      desk_.CreateReferral(kLaholm, again);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists)
      << second.status();
  EXPECT_THAT(second.status().message(), Not(HasSubstr(first.name())));
  EXPECT_THAT(second.status().message(), HasSubstr("another organisation"));
}

TEST_F(ReferralDeskTest, ARetriedCreateIsNoSecondReferral) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  request.set_request_id("retry-twin");
  const v1::Referral first = Create(kHalmstad, request);
  const absl::StatusOr<v1::Referral> again =
      desk_.CreateReferral(kHalmstad, request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->name(), first.name());
}

TEST_F(ReferralDeskTest, ReusedRequestIdWithAnotherBodyIsRefused) {
  v1::CreateReferralRequest request = SampleActivityReferral();
  request.set_request_id("reused");
  const v1::Referral first = Create(kHalmstad, request);
  request.mutable_referral()->mutable_activity()->set_activity_type("redo");
  const absl::StatusOr<v1::Referral> second =
      desk_.CreateReferral(kHalmstad, request);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(second.status().message(), HasSubstr("request_id"));
  EXPECT_THAT(second.status().message(), HasSubstr(first.name()));
  EXPECT_EQ(repository_.events().size(), 1u);
}

TEST_F(ReferralDeskTest, RequestIdsAreScopedToTheOrganisation) {
  v1::CreateReferralRequest request = SampleImpulse();
  request.set_request_id("same-id");
  const v1::Referral halmstad = Create(kHalmstad, request);
  const v1::Referral laholm = Create(kLaholm, request);
  EXPECT_NE(halmstad.name(), laholm.name());
}

TEST_F(ReferralDeskTest, AnotherAgencysReferralIsNotFoundLikeAMissingOne) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  const absl::StatusOr<v1::Referral> foreign = Get(kLaholm, made.name());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kNotFound);
  const std::string missing_name =
      absl::StrCat("regions/13/referrals/", ids_.NewId());
  const absl::StatusOr<v1::Referral> missing = Get(kLaholm, missing_name);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // The same words either way, so the answer reveals nothing.
  EXPECT_EQ(std::string(foreign.status().message())
                .replace(foreign.status().message().find(made.name()),
                         made.name().size(), "X"),
            std::string(missing.status().message())
                .replace(missing.status().message().find(missing_name),
                         missing_name.size(), "X"));
}

TEST_F(ReferralDeskTest, CoordinatorsSeeTheirRegionOnly) {
  const v1::Referral made = Create(kHalmstad, SampleActivityReferral());
  EXPECT_TRUE(Get(kHallandCoordinator, made.name()).ok());
  EXPECT_EQ(Get(kSkaneCoordinator, made.name()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Get(kAdmin, made.name()).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A provider sees nothing it was not offered.
  EXPECT_EQ(Get(kProvider, made.name()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ReferralDeskTest, CancelWithdrawsAndRecordsTheReason) {
  const v1::Referral made = Create(kHalmstad, SampleActivityReferral());
  const absl::StatusOr<v1::Referral> cancelled = Cancel(kHalmstad, made.name());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::REFERRAL_STATE_WITHDRAWN);
  EXPECT_EQ(cancelled->etag(), "2");
  // Nothing left to do but say the participant has protected personal data.
  EXPECT_EQ(cancelled->allowed_actions_size(), 1);
  EXPECT_EQ(cancelled->allowed_actions(0),
            v1::ACTION_SET_PROTECTED_PERSONAL_DATA);
  ASSERT_EQ(cancelled->history_size(), 2);
  EXPECT_EQ(cancelled->history(1).cancel_reason(),
            v1::CANCEL_REASON_NO_LONGER_NEEDED);
  EXPECT_EQ(cancelled->history(1).from_state(), v1::REFERRAL_STATE_RECEIVED);
  ASSERT_EQ(repository_.events().size(), 2u);
  EXPECT_EQ(repository_.events()[1].type(), v1::EVENT_TYPE_REFERRAL_CANCELLED);
}

TEST_F(ReferralDeskTest, SecondCancelIsAFailedPrecondition) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  ASSERT_TRUE(Cancel(kHalmstad, made.name()).ok());
  const absl::StatusOr<v1::Referral> again = Cancel(kHalmstad, made.name());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("WITHDRAWN"));
}

TEST_F(ReferralDeskTest, RetriedCancelWithItsRequestIdSucceedsOnce) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  ASSERT_TRUE(Cancel(kHalmstad, made.name(), "cancel-1").ok());
  const absl::StatusOr<v1::Referral> retried =
      Cancel(kHalmstad, made.name(), "cancel-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->history_size(), 2);
  EXPECT_EQ(repository_.events().size(), 2u);
}

TEST_F(ReferralDeskTest, StaleEtagIsAborted) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  const absl::StatusOr<v1::Referral> cancelled =
      Cancel(kHalmstad, made.name(), "", "7");
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(Get(kHalmstad, made.name())->state(), v1::REFERRAL_STATE_RECEIVED);
  EXPECT_TRUE(Cancel(kHalmstad, made.name(), "", "1").ok());
}

TEST_F(ReferralDeskTest, AnEtagTheServerCannotHaveGivenIsInvalid) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  for (const std::string& etag : {std::string("W/1"), std::string(64, '1')}) {
    const absl::StatusOr<v1::Referral> cancelled =
        Cancel(kHalmstad, made.name(), "", etag);
    EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(cancelled.status().message(), HasSubstr("etag"));
  }
  // The provider actions check theirs the same way.
  v1::RecordContactRequest contact;
  contact.set_name(made.name());
  contact.set_etag("one");
  EXPECT_EQ(desk_.RecordContact(kProvider, contact).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(repository_.events().size(), 1u);  // the create's only
}

TEST_F(ReferralDeskTest, LostRacesAreRetriedOnAFreshRead) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  repository_.FailNextUpdatesWithAborted(2);
  const absl::StatusOr<v1::Referral> cancelled = Cancel(kHalmstad, made.name());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::REFERRAL_STATE_WITHDRAWN);
}

TEST_F(ReferralDeskTest, EndlessRacesEndInAborted) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  repository_.FailNextUpdatesWithAborted(100);
  EXPECT_EQ(Cancel(kHalmstad, made.name()).status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(ReferralDeskTest, PinnedEtagIsNotRetriedAfterALostRace) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  repository_.FailNextUpdatesWithAborted(1);
  EXPECT_EQ(Cancel(kHalmstad, made.name(), "", "1").status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(ReferralDeskTest, OnlyTheReferringAgencyCancels) {
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  EXPECT_EQ(Cancel(kProvider, made.name()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Cancel(kHallandCoordinator, made.name()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Cancel(kLaholm, made.name()).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ReferralDeskTest, CancelValidatesBeforeReading) {
  v1::CancelReferralRequest request;
  request.set_name("regions/13/referrals/not-an-id");
  request.set_reason(v1::CANCEL_REASON_NO_LONGER_NEEDED);
  EXPECT_THAT(desk_.CancelReferral(kHalmstad, request).status().message(),
              HasSubstr("name"));
  const v1::Referral made = Create(kHalmstad, SampleImpulse());
  request.set_name(made.name());
  request.set_reason(v1::CANCEL_REASON_OTHER);
  const absl::StatusOr<v1::Referral> no_note =
      desk_.CancelReferral(kHalmstad, request);
  EXPECT_EQ(no_note.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_note.status().message(), HasSubstr("note"));
}

TEST_F(ReferralDeskTest, ListShowsTheAgencysOwnNewestFirstAcrossPages) {
  std::vector<std::string> made;
  for (int i = 0; i < 7; ++i) {
    made.push_back(Create(kHalmstad, SampleImpulse()).name());
    Create(kLaholm, SampleImpulse());
  }
  v1::ListReferralsRequest request;
  request.set_parent("regions/13");
  request.set_page_size(3);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    const absl::StatusOr<v1::ListReferralsResponse> response =
        desk_.ListReferrals(kHalmstad, request);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const v1::Referral& r : response->referrals()) {
      seen.push_back(r.name());
      EXPECT_TRUE(r.history().empty()) << "BASIC view by default";
    }
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  const std::vector<std::string> newest_first(made.rbegin(), made.rend());
  EXPECT_EQ(seen, newest_first);
}

TEST_F(ReferralDeskTest, PageTokenOfAnotherFilterIsRefused) {
  for (int i = 0; i < 3; ++i) Create(kHalmstad, SampleImpulse());
  v1::ListReferralsRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1);
  const std::string token =
      desk_.ListReferrals(kHalmstad, request)->next_page_token();
  ASSERT_FALSE(token.empty());
  request.set_page_token(token);
  request.mutable_filter()->add_states(v1::REFERRAL_STATE_RECEIVED);
  const absl::StatusOr<v1::ListReferralsResponse> response =
      desk_.ListReferrals(kHalmstad, request);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(response.status().message(), HasSubstr("page_token"));
}

TEST_F(ReferralDeskTest, ListFiltersOnStateAndKind) {
  const v1::Referral impulse = Create(kHalmstad, SampleImpulse());
  const v1::Referral activity = Create(kHalmstad, SampleActivityReferral());
  ASSERT_TRUE(Cancel(kHalmstad, impulse.name()).ok());
  v1::ListReferralsRequest request;
  request.set_parent("regions/13");
  request.mutable_filter()->add_states(v1::REFERRAL_STATE_WITHDRAWN);
  absl::StatusOr<v1::ListReferralsResponse> withdrawn =
      desk_.ListReferrals(kHalmstad, request);
  ASSERT_EQ(withdrawn->referrals_size(), 1);
  EXPECT_EQ(withdrawn->referrals(0).name(), impulse.name());
  request.clear_filter();
  request.mutable_filter()->add_kinds(v1::REFERRAL_KIND_ACTIVITY);
  absl::StatusOr<v1::ListReferralsResponse> activities =
      desk_.ListReferrals(kHalmstad, request);
  ASSERT_EQ(activities->referrals_size(), 1);
  EXPECT_EQ(activities->referrals(0).name(), activity.name());
}

TEST_F(ReferralDeskTest, AnyRegionMergesAnAgencysRegions) {
  const v1::Referral halland = Create(kHalmstad, SampleImpulse("13"));
  const v1::Referral skane = Create(kHalmstad, SampleImpulse("12"));
  v1::ListReferralsRequest request;
  request.set_parent("regions/-");
  const absl::StatusOr<v1::ListReferralsResponse> response =
      desk_.ListReferrals(kHalmstad, request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->referrals_size(), 2);
  EXPECT_EQ(response->referrals(0).name(), skane.name());
  EXPECT_EQ(response->referrals(1).name(), halland.name());
}

TEST_F(ReferralDeskTest, CoordinatorsListTheirRegionAndAdminsNothing) {
  Create(kHalmstad, SampleImpulse("13"));
  Create(kLaholm, SampleImpulse("13"));
  Create(kHalmstad, SampleImpulse("12"));
  v1::ListReferralsRequest request;
  request.set_parent("regions/-");
  EXPECT_EQ(desk_.ListReferrals(kHallandCoordinator, request)->referrals_size(),
            2);
  request.set_parent("regions/13");
  // Another region's coordinator is refused, not answered with nothing.
  EXPECT_EQ(desk_.ListReferrals(kSkaneCoordinator, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(desk_.ListReferrals(kAdmin, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  request.mutable_filter()->set_referring_organisation("kommun-laholm-eb");
  EXPECT_EQ(desk_.ListReferrals(kHallandCoordinator, request)->referrals_size(),
            1);
}

// --- SUS registrations ----------------------------------------------------

TEST_F(ReferralDeskTest, StartKeepsTheSusRegistrationInItsTransition) {
  const v1::Referral made = Create(kHalmstad, SampleActivityReferral());
  Accept(made);
  v1::StartReferralRequest request;
  request.set_name(made.name());
  *request.mutable_sus() = InRegistration();
  const absl::StatusOr<v1::Referral> started =
      desk_.StartReferral(kProvider, request);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->state(), v1::REFERRAL_STATE_STARTED);

  const v1::Transition start = Last(made.name());
  EXPECT_EQ(start.action(), v1::ACTION_START);
  EXPECT_THAT(start.sus().income_sources(),
              ElementsAre(v1::INCOME_SOURCE_SICKNESS_BENEFIT));
  EXPECT_EQ(start.sus().education_level(), v1::EDUCATION_LEVEL_UPPER_SECONDARY);
  // The event carries none of it: events are not filtered by the consent.
  int starts = 0;
  for (const v1::Event& event : repository_.events()) {
    if (event.type() != v1::EVENT_TYPE_PARTICIPATION_STARTED) continue;
    ++starts;
    EXPECT_FALSE(event.transition().has_sus());
  }
  EXPECT_EQ(starts, 1);
  // The referring agency sees it, and so do the coordinators, whom the
  // sample consent gives outcome data; the provider, whom it gives none,
  // does not, not even in the answer to its own start.
  const auto sus_seen_by = [&](const Caller& caller) {
    const absl::StatusOr<v1::Referral> view = Get(caller, made.name());
    EXPECT_TRUE(view.ok()) << view.status();
    if (!view.ok() || view->history().empty()) return false;
    return view->history(view->history_size() - 1).has_sus();
  };
  EXPECT_TRUE(sus_seen_by(kHalmstad));
  EXPECT_TRUE(sus_seen_by(kHallandCoordinator));
  EXPECT_FALSE(sus_seen_by(kProvider));
  ASSERT_FALSE(started->history().empty());
  EXPECT_FALSE(started->history(started->history_size() - 1).has_sus());
}

TEST_F(ReferralDeskTest, StartWithAnInvalidSusRegistrationChangesNothing) {
  const v1::Referral made = Create(kHalmstad, SampleActivityReferral());
  Accept(made);
  const int64_t version = Stored(made.name()).version;
  const size_t events = repository_.events().size();
  v1::StartReferralRequest request;
  request.set_name(made.name());
  *request.mutable_sus() = InRegistration();
  request.mutable_sus()->set_work_kind(v1::WORK_KIND_UNSUBSIDISED);
  absl::StatusOr<v1::Referral> started =
      desk_.StartReferral(kProvider, request);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(started.status().message(), HasSubstr("sus.work_kind"));
  // Without the level of education, which the start requires.
  request.mutable_sus()->clear_work_kind();
  request.mutable_sus()->clear_education_level();
  started = desk_.StartReferral(kProvider, request);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(started.status().message(), HasSubstr("sus.education_level"));
  const ReferralRecord after = Stored(made.name());
  EXPECT_EQ(after.version, version);
  EXPECT_EQ(after.referral.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(repository_.events().size(), events);

  // Without any registration it starts, with none recorded.
  request.clear_sus();
  started = desk_.StartReferral(kProvider, request);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(Last(made.name()).action(), v1::ACTION_START);
  EXPECT_FALSE(Last(made.name()).has_sus());
}

TEST_F(ReferralDeskTest, CompleteAndExitKeepTheirOutRegistration) {
  const std::string completed = Started();
  v1::CompleteReferralRequest complete;
  complete.set_name(completed);
  complete.add_outcome_reasons(v1::OUTCOME_REASON_PROGRAMME_COMPLETED);
  *complete.mutable_sus() = OutRegistration();
  ASSERT_TRUE(desk_.CompleteReferral(kProvider, complete).ok());
  const v1::Transition done = Last(completed);
  EXPECT_EQ(done.action(), v1::ACTION_COMPLETE);
  EXPECT_THAT(done.sus().income_sources(),
              ElementsAre(v1::INCOME_SOURCE_EMPLOYMENT));
  EXPECT_EQ(done.sus().work_kind(), v1::WORK_KIND_SUBSIDISED);
  EXPECT_TRUE(done.sus().registered_with_af());

  // An out-registration without income is refused, and nothing changes.
  const std::string exited = Started();
  v1::ExitReferralRequest exit;
  exit.set_name(exited);
  exit.add_outcome_reasons(v1::OUTCOME_REASON_NEW_SICK_LEAVE);
  exit.mutable_sus()->set_studies(true);
  const absl::StatusOr<v1::Referral> refused =
      desk_.ExitReferral(kProvider, exit);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("sus.income_sources"));
  EXPECT_EQ(Stored(exited).referral.state(), v1::REFERRAL_STATE_STARTED);
  exit.mutable_sus()->add_income_sources(v1::INCOME_SOURCE_SICKNESS_BENEFIT);
  ASSERT_TRUE(desk_.ExitReferral(kProvider, exit).ok());
  EXPECT_EQ(Last(exited).action(), v1::ACTION_EXIT);
  EXPECT_TRUE(Last(exited).sus().studies());
}

TEST_F(ReferralDeskTest, ARegistrationErrorClosesAStartAtExitAndAlone) {
  const std::string name = Started();
  // With another reason: refused.
  v1::ExitReferralRequest exit;
  exit.set_name(name);
  exit.add_outcome_reasons(v1::OUTCOME_REASON_REGISTRATION_ERROR);
  exit.add_outcome_reasons(v1::OUTCOME_REASON_WORK);
  const absl::StatusOr<v1::Referral> with_another =
      desk_.ExitReferral(kProvider, exit);
  EXPECT_EQ(with_another.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(with_another.status().message(), HasSubstr("outcome_reasons"));
  EXPECT_EQ(Stored(name).referral.state(), v1::REFERRAL_STATE_STARTED);
  // At completion: refused.
  v1::CompleteReferralRequest complete;
  complete.set_name(name);
  complete.add_outcome_reasons(v1::OUTCOME_REASON_REGISTRATION_ERROR);
  const absl::StatusOr<v1::Referral> completed =
      desk_.CompleteReferral(kProvider, complete);
  EXPECT_EQ(completed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(completed.status().message(), HasSubstr("outcome_reasons"));
  EXPECT_EQ(Stored(name).referral.state(), v1::REFERRAL_STATE_STARTED);

  // At exit, alone: the start is closed.
  exit.clear_outcome_reasons();
  exit.add_outcome_reasons(v1::OUTCOME_REASON_REGISTRATION_ERROR);
  const absl::StatusOr<v1::Referral> exited =
      desk_.ExitReferral(kProvider, exit);
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_EQ(exited->state(), v1::REFERRAL_STATE_EXITED);
  EXPECT_THAT(Last(name).outcome_reasons(),
              ElementsAre(v1::OUTCOME_REASON_REGISTRATION_ERROR));
}

}  // namespace
}  // namespace slussen::core

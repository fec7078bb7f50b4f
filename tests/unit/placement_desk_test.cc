// The placement desk over in-memory repositories and a fake clock: an offer
// holds a unit of the offering until the provider answers or the hold runs
// out; an expired hold sends the referral back to the queue, never to that
// offering again, and frees the unit. Time only moves when the test moves
// it. Cohort decisions re-queue or move the places they close.
#include "broker/core/desks/placement_desk.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/directory_desk.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/access.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/pseudonymizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_directory_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryAuditRepository;
using ::slussen::testing::InMemoryDirectoryRepository;
using ::slussen::testing::InMemoryReferralRepository;
using ::slussen::testing::SampleActivityReferral;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kProviderOrg[] = "halsosam-halmstad";
constexpr char kPlaces[] = "providers/halsosam-halmstad/offerings/kom-igang";
constexpr char kGroups[] = "providers/halsosam-halmstad/offerings/grupper";
constexpr int kPlacesHoldHours = 48;

const Caller kFk{"fk-lfc-halmstad", v1::ROLE_AGENCY, "13", ""};
const Caller kProvider{kProviderOrg, v1::ROLE_PROVIDER, "13", ""};
const Caller kOtherProvider{"redo-halmstad", v1::ROLE_PROVIDER, "13", ""};
const Caller kAdmin{"slussen-admin", v1::ROLE_ADMIN, "", ""};

std::string Cohort(const std::string& id) {
  return absl::StrCat(kGroups, "/cohorts/", id);
}

class PlacementDeskTest : public ::testing::Test {
 protected:
  PlacementDeskTest()
      : calendar_(*SwedishCalendar::Create()),
        // A Monday morning in Halmstad.
        clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               calendar_.time_zone())),
        ids_(&clock_),
        pseudonymizer_(*Pseudonymizer::FromKey(std::string(40, 'k'))),
        directory_(&referrals_),
        directory_desk_(&directory_, &clock_, &calendar_),
        referral_desk_(&referrals_, &clock_, &ids_, &pseudonymizer_, &calendar_,
                       audit_),
        desk_(&referrals_, &directory_desk_, audit_, &clock_, &ids_,
              &calendar_) {}

  void SetUp() override {
    v1::Provider provider;
    provider.set_name("providers/halsosam-halmstad");
    provider.set_display_name("Hälsosam Halmstad");
    provider.set_organisation(kProviderOrg);
    provider.set_kind(v1::PROVIDER_KIND_ACTIVITY);
    provider.add_regions("13");
    ASSERT_TRUE(directory_.CreateProvider(provider).ok());

    // One place, held 48 hours; and cohorts with the default hold.
    v1::Offering places;
    places.set_name(kPlaces);
    places.set_display_name("Hälsosam kom igång");
    places.set_activity_type("halsosam");
    places.set_region("13");
    places.set_kommun_code("1380");
    places.set_offer_hold_hours(kPlacesHoldHours);
    ASSERT_TRUE(directory_.CreateOffering(places).ok());
    v1::Capacity one_place;
    one_place.mutable_places()->set_total(1);
    ASSERT_TRUE(Publish(kPlaces, one_place).ok());

    v1::Offering groups = places;
    groups.set_name(kGroups);
    groups.clear_offer_hold_hours();
    ASSERT_TRUE(directory_.CreateOffering(groups).ok());
    const absl::CivilDay today = calendar_.LocalDay(clock_.Now());
    v1::Capacity cohorts;
    for (const auto& [id, days, max] :
         std::vector<std::tuple<std::string, int, int>>{{"host", 20, 2},
                                                        {"vinter", 70, 12}}) {
      v1::Cohort* cohort = cohorts.mutable_cohorts()->add_cohorts();
      cohort->set_name(Cohort(id));
      *cohort->mutable_start_date() = ToProtoDate(today + days);
      cohort->set_min_size(2);
      cohort->set_max_size(max);
    }
    ASSERT_TRUE(Publish(kGroups, cohorts).ok());
  }

  absl::StatusOr<v1::Offering> Publish(const std::string& offering,
                                       const v1::Capacity& capacity) {
    v1::PublishCapacityRequest request;
    request.set_offering(offering);
    *request.mutable_capacity() = capacity;
    return directory_desk_.PublishCapacity(kProvider, request);
  }

  // A new activity referral, queued by the broker.
  ReferralRecord Queued() {
    v1::CreateReferralRequest request = SampleActivityReferral("13");
    request.mutable_referral()->mutable_participant()->set_pseudonym(
        absl::StrCat("deltagare-", ++referrals_made_));
    const absl::StatusOr<v1::Referral> made =
        referral_desk_.CreateReferral(kFk, request);
    EXPECT_TRUE(made.ok()) << made.status();
    clock_.Advance(absl::Milliseconds(1));  // distinct, ordered ids
    const absl::StatusOr<ReferralRecord> queued = desk_.Queue(Stored(*made));
    EXPECT_TRUE(queued.ok()) << queued.status();
    return queued.value_or(ReferralRecord());
  }

  ReferralRecord Stored(const v1::Referral& referral) {
    const ReferralName name = *ParseReferralName("", referral.name());
    return *referrals_.Get(name.region, name.id);
  }
  ReferralRecord Stored(const ReferralRecord& record) {
    return *referrals_.Get(record.region, record.id);
  }

  absl::StatusOr<ReferralRecord> Offer(const ReferralRecord& record,
                                       const std::string& offering,
                                       const std::string& cohort = "") {
    const absl::StatusOr<Versioned<v1::Offering>> loaded =
        directory_desk_.LoadOffering("offering", offering);
    if (!loaded.ok()) return loaded.status();
    PlacementDesk::OfferPlan plan{.offering = &loaded->value,
                                  .provider_organisation = kProviderOrg,
                                  .cohort = cohort};
    plan.explanation.add_reasons("age 34 within 18..64");
    return desk_.MakeOffer(record, plan);
  }

  // The referral offered a place of `offering`; fails the test otherwise.
  ReferralRecord Offered(const std::string& offering = kPlaces,
                         const std::string& cohort = "") {
    const absl::StatusOr<ReferralRecord> offered =
        Offer(Queued(), offering, cohort);
    EXPECT_TRUE(offered.ok()) << offered.status();
    return offered.value_or(ReferralRecord());
  }

  OfferRecord OfferOf(const std::string& offer_name) {
    const OfferName name = *ParseOfferName("", offer_name);
    return *referrals_.GetOffer(name.region, name.id);
  }

  v1::Capacity CapacityOf(const std::string& offering) {
    const absl::StatusOr<Versioned<v1::Offering>> loaded =
        directory_desk_.LoadOffering("offering", offering);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? loaded->value.capacity() : v1::Capacity();
  }
  v1::Cohort CohortOf(const std::string& id) {
    const v1::Capacity capacity = CapacityOf(kGroups);
    for (const v1::Cohort& cohort : capacity.cohorts().cohorts()) {
      if (cohort.name() == Cohort(id)) return cohort;
    }
    ADD_FAILURE() << "no cohort " << id;
    return v1::Cohort();
  }

  std::vector<std::string> DueHolds() {
    return *referrals_.DueHolds("13", clock_.Now());
  }

  // Expires every due hold, as the matchmaker's pass does first.
  void Sweep() {
    for (const std::string& id : DueHolds()) {
      EXPECT_TRUE(desk_.ExpireHold("13", id).ok());
    }
  }

  absl::StatusOr<v1::Offer> Accept(const std::string& offer,
                                   const Caller& caller = kProvider) {
    v1::AcceptOfferRequest request;
    request.set_name(offer);
    request.set_person("anna.handledare");
    return desk_.AcceptOffer(caller, request);
  }

  absl::StatusOr<v1::Offer> Decline(
      const std::string& offer,
      v1::DeclineReason reason = v1::DECLINE_REASON_COULD_NOT_CONTACT,
      const std::string& note = "") {
    v1::DeclineOfferRequest request;
    request.set_name(offer);
    request.set_reason(reason);
    request.set_note(note);
    request.set_person("bo.samordnare");
    return desk_.DeclineOffer(kProvider, request);
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  UlidGenerator ids_;
  Pseudonymizer pseudonymizer_;
  InMemoryReferralRepository referrals_;
  InMemoryDirectoryRepository directory_;
  InMemoryAuditRepository audit_;
  DirectoryDesk directory_desk_;
  ReferralDesk referral_desk_;
  PlacementDesk desk_;
  int referrals_made_ = 0;
};

// --- Making an offer ---------------------------------------------------------

TEST_F(PlacementDeskTest, AnOfferHoldsAUnitForTheOfferingsHoldHours) {
  const absl::Time offered_at = clock_.Now() + absl::Milliseconds(1);
  const ReferralRecord offered = Offered();
  EXPECT_EQ(offered.referral.state(), v1::REFERRAL_STATE_OFFERED);
  EXPECT_EQ(offered.referral.assigned_offering(), kPlaces);
  EXPECT_EQ(offered.assigned_organisation, kProviderOrg);
  ASSERT_FALSE(offered.referral.current_offer().empty());

  const OfferRecord offer = OfferOf(offered.referral.current_offer());
  EXPECT_EQ(offer.offer.state(), v1::OFFER_STATE_HELD);
  EXPECT_EQ(offer.offer.referral(), offered.referral.name());
  EXPECT_EQ(offer.unit, "-");
  EXPECT_EQ(ToAbslTime(offer.offer.create_time()), offered_at);
  EXPECT_EQ(ToAbslTime(offer.offer.hold_expire_time()),
            offered_at + absl::Hours(kPlacesHoldHours));

  const v1::Capacity capacity = CapacityOf(kPlaces);
  EXPECT_EQ(capacity.places().held(), 1);
  EXPECT_EQ(capacity.places().occupied(), 0);
}

TEST_F(PlacementDeskTest, WhyAnOfferFitsIsReadFromItsReferralUnderTheConsent) {
  const ReferralRecord offered = Offered();
  const std::string name = offered.referral.current_offer();
  // The offer keeps none of the participant's facts; its referral's OFFER
  // transition does, where consent and erasure govern them.
  EXPECT_THAT(OfferOf(name).offer.explanation().reasons(), IsEmpty());
  v1::GetOfferRequest request;
  request.set_name(name);
  const int64_t audited = audit_.size();
  absl::StatusOr<v1::Offer> seen = desk_.GetOffer(kProvider, request);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->explanation().reasons(),
              ElementsAre("age 34 within 18..64"));
  EXPECT_EQ(audit_.size(), audited + 1);
  // The consent covers coordinators for outcomes only: no reasons, and
  // nothing personal read.
  const Caller coordinator{"samordning-halland", v1::ROLE_COORDINATOR, "13",
                           ""};
  seen = desk_.GetOffer(coordinator, request);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_THAT(seen->explanation().reasons(), IsEmpty());
  EXPECT_EQ(seen->name(), name);
  EXPECT_EQ(audit_.size(), audited + 1);
}

TEST_F(PlacementDeskTest, AHeldUnitIsNotOfferedTwice) {
  Offered();
  const absl::StatusOr<ReferralRecord> second = Offer(Queued(), kPlaces);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 1);
}

// offer_hold_hours 0 means 72 (provider.proto, Offering.offer_hold_hours).
TEST_F(PlacementDeskTest, TheHoldDefaultsToSeventyTwoHours) {
  const ReferralRecord offered = Offered(kGroups, Cohort("vinter"));
  const OfferRecord offer = OfferOf(offered.referral.current_offer());
  EXPECT_EQ(ToAbslTime(offer.offer.hold_expire_time()) -
                ToAbslTime(offer.offer.create_time()),
            absl::Hours(72));
  EXPECT_EQ(offer.unit, "vinter");
  EXPECT_EQ(CohortOf("vinter").held(), 1);
}

// --- Expiry ------------------------------------------------------------------

TEST_F(PlacementDeskTest, AHoldNotYetDueIsNotExpired) {
  const ReferralRecord offered = Offered();
  const OfferRecord offer = OfferOf(offered.referral.current_offer());
  clock_.Set(ToAbslTime(offer.offer.hold_expire_time()) -
             absl::Milliseconds(1));
  EXPECT_THAT(DueHolds(), IsEmpty());
  // Asked to expire it anyway (a sweep that read the hold list early).
  EXPECT_TRUE(desk_.ExpireHold("13", offer.id).ok());
  EXPECT_EQ(OfferOf(offer.offer.name()).offer.state(), v1::OFFER_STATE_HELD);
  EXPECT_EQ(Stored(offered).referral.state(), v1::REFERRAL_STATE_OFFERED);
  EXPECT_EQ(Stored(offered).version, offered.version);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 1);
}

TEST_F(PlacementDeskTest, AnExpiredHoldRequeuesExcludingTheOfferingAndFrees) {
  const ReferralRecord offered = Offered();
  const OfferRecord offer = OfferOf(offered.referral.current_offer());
  const absl::Time expires = ToAbslTime(offer.offer.hold_expire_time());
  clock_.Set(expires);  // due at, not only after, its expiry time
  EXPECT_THAT(DueHolds(), ElementsAre(offer.id));

  ASSERT_TRUE(desk_.ExpireHold("13", offer.id).ok());

  const OfferRecord expired = OfferOf(offer.offer.name());
  EXPECT_EQ(expired.offer.state(), v1::OFFER_STATE_EXPIRED);
  EXPECT_EQ(ToAbslTime(expired.offer.close_time()), expires);
  EXPECT_FALSE(expired.offer.has_answered_by());

  const ReferralRecord requeued = Stored(offered);
  EXPECT_EQ(requeued.referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_THAT(requeued.referral.excluded_offerings(), Contains(kPlaces));
  EXPECT_TRUE(requeued.referral.current_offer().empty());
  EXPECT_TRUE(requeued.referral.assigned_offering().empty());
  EXPECT_TRUE(requeued.assigned_organisation.empty());
  ASSERT_GT(requeued.referral.history_size(), 0);
  const v1::Transition& last =
      requeued.referral.history(requeued.referral.history_size() - 1);
  EXPECT_EQ(last.action(), v1::ACTION_EXPIRE_OFFER);
  EXPECT_EQ(last.actor().role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(last.offer(), offer.offer.name());

  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
  EXPECT_EQ(CapacityOf(kPlaces).places().occupied(), 0);
  EXPECT_THAT(DueHolds(), IsEmpty());
}

TEST_F(PlacementDeskTest, TheProviderHoldingAnOfferHearsOfItsCancel) {
  const ReferralRecord offered = Offered();
  v1::CancelReferralRequest cancel;
  cancel.set_name(offered.referral.name());
  cancel.set_reason(v1::CANCEL_REASON_NO_LONGER_NEEDED);
  ASSERT_TRUE(referral_desk_.CancelReferral(kFk, cancel).ok());
  const std::vector<v1::Event> events = referrals_.events();
  ASSERT_FALSE(events.empty());
  const v1::Event& cancelled = events.back();
  EXPECT_EQ(cancelled.transition().action(), v1::ACTION_CANCEL);
  EXPECT_EQ(cancelled.provider_organisation(), kProviderOrg);
  EXPECT_TRUE(MaySeeEvent(kProvider, "13", cancelled));
  EXPECT_FALSE(MaySeeEvent(kOtherProvider, "13", cancelled));
}

TEST_F(PlacementDeskTest, AnExpiredHoldFreesTheUnitForTheNextReferral) {
  const ReferralRecord first = Offered();
  const ReferralRecord waiting = Queued();
  EXPECT_FALSE(Offer(waiting, kPlaces).ok());
  clock_.Advance(absl::Hours(kPlacesHoldHours));
  Sweep();
  const absl::StatusOr<ReferralRecord> next = Offer(Stored(waiting), kPlaces);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->referral.state(), v1::REFERRAL_STATE_OFFERED);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 1);
  EXPECT_EQ(Stored(first).referral.state(), v1::REFERRAL_STATE_QUEUED);
}

TEST_F(PlacementDeskTest, ExpiringTwiceChangesNothingMore) {
  const ReferralRecord offered = Offered();
  const OfferRecord offer = OfferOf(offered.referral.current_offer());
  clock_.Advance(absl::Hours(kPlacesHoldHours + 1));
  ASSERT_TRUE(desk_.ExpireHold("13", offer.id).ok());
  const ReferralRecord once = Stored(offered);
  const size_t events = referrals_.events().size();
  EXPECT_TRUE(desk_.ExpireHold("13", offer.id).ok());
  EXPECT_EQ(Stored(offered).version, once.version);
  EXPECT_EQ(referrals_.events().size(), events);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
}

TEST_F(PlacementDeskTest, CohortHoldExpiresFromItsCohort) {
  const ReferralRecord offered = Offered(kGroups, Cohort("host"));
  EXPECT_EQ(CohortOf("host").held(), 1);
  clock_.Advance(absl::Hours(72));
  Sweep();
  EXPECT_EQ(CohortOf("host").held(), 0);
  EXPECT_EQ(CohortOf("vinter").held(), 0);
  const ReferralRecord requeued = Stored(offered);
  EXPECT_EQ(requeued.referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_TRUE(requeued.referral.cohort().empty());
  EXPECT_THAT(requeued.referral.excluded_offerings(), Contains(kGroups));
}

// --- Answers -----------------------------------------------------------------

TEST_F(PlacementDeskTest, AcceptBeforeExpiryTakesThePlace) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Advance(absl::Hours(kPlacesHoldHours) - absl::Seconds(1));
  const absl::StatusOr<v1::Offer> accepted = Accept(offer);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->state(), v1::OFFER_STATE_ACCEPTED);
  EXPECT_EQ(accepted->answered_by().organisation(), kProviderOrg);
  EXPECT_EQ(accepted->answered_by().role(), v1::ROLE_PROVIDER);
  EXPECT_EQ(accepted->answered_by().person(), "anna.handledare");
  EXPECT_EQ(ToAbslTime(accepted->close_time()), clock_.Now());

  const ReferralRecord referral = Stored(offered);
  EXPECT_EQ(referral.referral.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_TRUE(referral.referral.current_offer().empty());
  EXPECT_EQ(referral.referral.assigned_offering(), kPlaces);
  EXPECT_THAT(referral.referral.excluded_offerings(), IsEmpty());
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
  EXPECT_EQ(CapacityOf(kPlaces).places().occupied(), 1);

  // The hold clock finds nothing to expire once it was answered.
  clock_.Advance(absl::Hours(1));
  EXPECT_THAT(DueHolds(), IsEmpty());
  EXPECT_TRUE(desk_.ExpireHold("13", OfferOf(offer).id).ok());
  EXPECT_EQ(Stored(offered).referral.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(CapacityOf(kPlaces).places().occupied(), 1);
}

TEST_F(PlacementDeskTest, AcceptAfterTheSweepExpiredTheHoldIsRefused) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Advance(absl::Hours(kPlacesHoldHours));
  Sweep();
  const absl::StatusOr<v1::Offer> late = Accept(offer);
  EXPECT_FALSE(late.ok());
  EXPECT_EQ(OfferOf(offer).offer.state(), v1::OFFER_STATE_EXPIRED);
  EXPECT_EQ(Stored(offered).referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_EQ(CapacityOf(kPlaces).places().occupied(), 0);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
}

// The provider still sees the offer (GetOffer answers EXPIRED), though no
// longer the referral: the answer says what became of the offer, not
// "referral ... not found".
TEST_F(PlacementDeskTest, AnsweringAnExpiredOfferSaysItExpired) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Advance(absl::Hours(kPlacesHoldHours));
  Sweep();
  const absl::StatusOr<v1::Offer> late = Accept(offer);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition)
      << late.status();
  EXPECT_THAT(std::string(late.status().message()),
              HasSubstr(absl::StrCat("offer ", offer, " expired unanswered at ",
                                     "2026-11-25 09:00:00 CET")));
}

// Two answers to one offer: the second hears which answer came first, by
// whom and when (Stockholm time), whichever it was.
TEST_F(PlacementDeskTest, TheLaterOfTwoAnswersSaysWhichCameFirst) {
  const std::string accepted = Offered().referral.current_offer();
  ASSERT_TRUE(Accept(accepted).ok());
  absl::StatusOr<v1::Offer> late = Decline(accepted);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition)
      << late.status();
  EXPECT_THAT(std::string(late.status().message()),
              HasSubstr("was already accepted by halsosam-halmstad "
                        "(anna.handledare) at 2026-11-23 09:00:00 CET"));
  ASSERT_TRUE(ErrorInfoOf(late.status()).has_value());
  EXPECT_EQ(ErrorInfoOf(late.status())->reason(), "OFFER_ALREADY_ACCEPTED");

  const std::string declined =
      Offered(kGroups, Cohort("host")).referral.current_offer();
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(Decline(declined).ok());
  late = Accept(declined);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition)
      << late.status();
  EXPECT_THAT(std::string(late.status().message()),
              HasSubstr("was already declined by halsosam-halmstad "
                        "(bo.samordnare) at 2026-11-23 09:05:00 CET"));
}

// A decline sent again with its request id (a retry after a lost answer)
// is the decline already made, not a refusal.
TEST_F(PlacementDeskTest, ARetriedDeclineIsAnsweredAsTheFirst) {
  const std::string offer = Offered().referral.current_offer();
  v1::DeclineOfferRequest request;
  request.set_name(offer);
  request.set_reason(v1::DECLINE_REASON_COULD_NOT_CONTACT);
  request.set_request_id("decline-1");
  ASSERT_TRUE(desk_.DeclineOffer(kProvider, request).ok());
  const absl::StatusOr<v1::Offer> again =
      desk_.DeclineOffer(kProvider, request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), v1::OFFER_STATE_DECLINED);
  request.set_request_id("decline-2");
  EXPECT_EQ(desk_.DeclineOffer(kProvider, request).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PlacementDeskTest, AcceptAfterTheHoldRanOutIsRefusedBeforeTheSweep) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Set(ToAbslTime(OfferOf(offer).offer.hold_expire_time()));
  const absl::StatusOr<v1::Offer> late = Accept(offer);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition)
      << late.status();
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("expired"));
  EXPECT_THAT(std::string(late.status().message()), HasSubstr(offer));
  EXPECT_EQ(CapacityOf(kPlaces).places().occupied(), 0);
  // The sweep then expires it as usual.
  Sweep();
  EXPECT_EQ(OfferOf(offer).offer.state(), v1::OFFER_STATE_EXPIRED);
  EXPECT_EQ(Stored(offered).referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
}

// "No capacity": the provider's published capacity was wrong. The unit
// closes at what it holds, the referral waits for that offering still, and
// publishing capacity opens the unit again.
TEST_F(PlacementDeskTest, ANoCapacityDeclineClosesTheUnitNotTheOffering) {
  const ReferralRecord offered = Offered();
  ASSERT_TRUE(
      Decline(offered.referral.current_offer(), v1::DECLINE_REASON_NO_CAPACITY)
          .ok());
  const ReferralRecord waiting = Stored(offered);
  EXPECT_EQ(waiting.referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_THAT(waiting.referral.excluded_offerings(), IsEmpty());
  EXPECT_EQ(CapacityOf(kPlaces).places().total(), 0);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);

  v1::Capacity places;
  places.mutable_places()->set_total(2);
  ASSERT_TRUE(Publish(kPlaces, places).ok());
  EXPECT_EQ(CapacityOf(kPlaces).places().total(), 2);
}

TEST_F(PlacementDeskTest, DeclineBeforeExpiryRecordsWhoAndWhyAndFrees) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Advance(absl::Hours(3));
  const absl::StatusOr<v1::Offer> declined =
      Decline(offer, v1::DECLINE_REASON_OTHER, "gruppen passar inte");
  ASSERT_TRUE(declined.ok()) << declined.status();
  EXPECT_EQ(declined->state(), v1::OFFER_STATE_DECLINED);
  EXPECT_EQ(declined->decline_reason(), v1::DECLINE_REASON_OTHER);
  EXPECT_EQ(declined->decline_note(), "gruppen passar inte");
  EXPECT_EQ(declined->answered_by().organisation(), kProviderOrg);
  EXPECT_EQ(declined->answered_by().person(), "bo.samordnare");
  EXPECT_EQ(ToAbslTime(declined->close_time()), clock_.Now());

  const ReferralRecord requeued = Stored(offered);
  EXPECT_EQ(requeued.referral.state(), v1::REFERRAL_STATE_QUEUED);
  EXPECT_THAT(requeued.referral.excluded_offerings(), Contains(kPlaces));
  EXPECT_TRUE(requeued.assigned_organisation.empty());
  const v1::Transition& last =
      requeued.referral.history(requeued.referral.history_size() - 1);
  EXPECT_EQ(last.action(), v1::ACTION_DECLINE);
  EXPECT_EQ(last.decline_reason(), v1::DECLINE_REASON_OTHER);
  EXPECT_EQ(last.actor().person(), "bo.samordnare");

  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 0);
  EXPECT_THAT(DueHolds(), IsEmpty());
  // The unit is free: the next referral gets it.
  EXPECT_TRUE(Offer(Queued(), kPlaces).ok());
}

TEST_F(PlacementDeskTest, DeclineNeedsACodedReasonAndANoteForOther) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  const absl::StatusOr<v1::Offer> no_reason =
      Decline(offer, v1::DECLINE_REASON_UNSPECIFIED);
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_reason.status().message()), HasSubstr("reason"));
  const absl::StatusOr<v1::Offer> no_note =
      Decline(offer, v1::DECLINE_REASON_OTHER, "");
  EXPECT_EQ(no_note.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_note.status().message()), HasSubstr("note"));
  EXPECT_EQ(OfferOf(offer).offer.state(), v1::OFFER_STATE_HELD);
  EXPECT_EQ(CapacityOf(kPlaces).places().held(), 1);
}

TEST_F(PlacementDeskTest, DeclineAfterExpiryIsRefused) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  clock_.Advance(absl::Hours(kPlacesHoldHours) + absl::Minutes(1));
  EXPECT_EQ(Decline(offer).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Sweep();
  EXPECT_FALSE(Decline(offer).ok());
  const OfferRecord expired = OfferOf(offer);
  EXPECT_EQ(expired.offer.state(), v1::OFFER_STATE_EXPIRED);
  EXPECT_EQ(expired.offer.decline_reason(), v1::DECLINE_REASON_UNSPECIFIED);
}

TEST_F(PlacementDeskTest, AnotherProviderNeitherSeesNorAnswersTheOffer) {
  const ReferralRecord offered = Offered();
  const std::string offer = offered.referral.current_offer();
  EXPECT_EQ(Accept(offer, kOtherProvider).status().code(),
            absl::StatusCode::kNotFound);
  v1::GetOfferRequest get;
  get.set_name(offer);
  EXPECT_EQ(desk_.GetOffer(kOtherProvider, get).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(desk_.GetOffer(kProvider, get).ok());
  EXPECT_EQ(OfferOf(offer).offer.state(), v1::OFFER_STATE_HELD);
}

// --- Cohort decisions
// ----------------------------------------------------------

TEST_F(PlacementDeskTest, CancellingACohortRequeuesItsOffersAndClosesIt) {
  const ReferralRecord a = Offered(kGroups, Cohort("host"));
  const ReferralRecord b = Offered(kGroups, Cohort("host"));
  ASSERT_EQ(CohortOf("host").held(), 2);
  v1::DecideCohortRequest request;
  request.set_name(Cohort("host"));
  request.set_decision(v1::COHORT_DECISION_CANCEL);
  const absl::StatusOr<v1::Cohort> decided =
      desk_.DecideCohort(kProvider, request);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->state(), v1::COHORT_STATE_CANCELLED);
  EXPECT_EQ(decided->decision(), v1::COHORT_DECISION_CANCEL);
  EXPECT_EQ(decided->held(), 0);
  for (const ReferralRecord& offered : {a, b}) {
    const ReferralRecord requeued = Stored(offered);
    EXPECT_EQ(requeued.referral.state(), v1::REFERRAL_STATE_QUEUED);
    // Not the provider's doing: the offering stays open to them.
    EXPECT_THAT(requeued.referral.excluded_offerings(), Not(Contains(kGroups)));
    EXPECT_EQ(OfferOf(offered.referral.current_offer()).offer.state(),
              v1::OFFER_STATE_WITHDRAWN);
  }
  // Closed: no new offers into it.
  EXPECT_FALSE(Offer(Queued(), kGroups, Cohort("host")).ok());
}

TEST_F(PlacementDeskTest, MergingACohortMovesItsHeldPlaces) {
  const ReferralRecord offered = Offered(kGroups, Cohort("host"));
  v1::DecideCohortRequest request;
  request.set_name(Cohort("host"));
  request.set_decision(v1::COHORT_DECISION_MERGE);
  request.set_merge_into(Cohort("vinter"));
  const absl::StatusOr<v1::Cohort> decided =
      desk_.DecideCohort(kProvider, request);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->state(), v1::COHORT_STATE_MERGED);
  EXPECT_EQ(decided->merged_into(), Cohort("vinter"));
  EXPECT_EQ(CohortOf("host").held(), 0);
  EXPECT_EQ(CohortOf("vinter").held(), 1);
  const ReferralRecord moved = Stored(offered);
  EXPECT_EQ(moved.referral.state(), v1::REFERRAL_STATE_OFFERED);
  EXPECT_EQ(moved.referral.cohort(), Cohort("vinter"));
  const OfferRecord offer = OfferOf(moved.referral.current_offer());
  EXPECT_EQ(offer.offer.cohort(), Cohort("vinter"));
  EXPECT_EQ(offer.unit, "vinter");
  // The hold keeps its time, and expires from the cohort it moved to.
  clock_.Advance(absl::Hours(72));
  Sweep();
  EXPECT_EQ(CohortOf("vinter").held(), 0);
}

TEST_F(PlacementDeskTest, OnlyTheOwningProviderDecidesItsCohorts) {
  v1::DecideCohortRequest request;
  request.set_name(Cohort("host"));
  request.set_decision(v1::COHORT_DECISION_START);
  EXPECT_EQ(desk_.DecideCohort(kOtherProvider, request).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(desk_.DecideCohort(kFk, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(desk_.DecideCohort(kAdmin, request).ok());
}

}  // namespace
}  // namespace slussen::core

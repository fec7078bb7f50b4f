// The matcher on small, hand-made snapshots: the three capacity models, the
// order in which referrals get units, the choice among candidates (the
// participant's choice, the supplier's rank, the earliest start, the own
// kommun), referrals that fit nowhere, stale capacity, incremental
// placement, and the explanation of every waiting position.
#include "broker/core/model/matcher.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = MatchDecision::Kind;

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

const absl::CivilDay kToday(2026, 12, 1);

absl::Time Now() {
  return absl::FromCivil(absl::CivilHour(2026, 12, 1, 10), Stockholm());
}

// A kommun's own provider, serving every kommun of its regions.
v1::Provider KommunProvider() {
  v1::Provider provider;
  provider.set_name("providers/halsosam");
  provider.set_agency_kind(v1::AGENCY_KIND_KOMMUN);
  provider.add_regions("13");
  return provider;
}

MatchOffering Places(const std::string& provider, const std::string& id,
                     int capacity, int taken = 0) {
  MatchOffering o;
  o.name = absl::StrCat("providers/", provider, "/offerings/", id);
  o.display_name = absl::StrCat(provider, " ", id);
  o.provider = absl::StrCat("providers/", provider);
  o.activity_type = "halsosam";
  o.region = "13";
  o.kommun_code = "1380";
  o.model = v1::CAPACITY_MODEL_PLACES;
  o.capacity = capacity;
  o.taken = taken;
  o.capacity_update_time = Now() - absl::Hours(24);
  return o;
}

CohortSlot Cohort(const std::string& offering, const std::string& id,
                  absl::CivilDay start, int max_size, int taken = 0) {
  CohortSlot c;
  c.name = absl::StrCat(offering, "/cohorts/", id);
  c.start = start;
  c.intake_start = start - 28;
  c.min_size = 6;
  c.max_size = max_size;
  c.taken = taken;
  return c;
}

MatchReferral Referral(int n, const std::string& organisation = "fk") {
  MatchReferral r;
  r.name = absl::StrCat("regions/13/referrals/r", n < 10 ? "0" : "", n);
  r.state = v1::REFERRAL_STATE_RECEIVED;
  r.activity_type = "halsosam";
  r.region = "13";
  r.facts.kind = v1::REFERRAL_KIND_ACTIVITY;
  r.facts.age_years = 40;
  r.facts.kommun_code = "1380";
  r.priority.name = r.name;
  r.priority.referring_organisation = organisation;
  r.priority.waiting_since = Now() - absl::Hours(100 - n);
  return r;
}

MatchInput Input(std::vector<MatchOffering> offerings,
                 std::vector<MatchReferral> referrals) {
  MatchInput input;
  input.now = Now();
  input.zone = Stockholm();
  input.policy = DefaultPriorityPolicy();
  input.offerings = std::move(offerings);
  input.referrals = std::move(referrals);
  return input;
}

// referral name -> offering name of its offer.
std::map<std::string, std::string> Offers(
    const MatchInput& input, const std::vector<MatchDecision>& decisions) {
  std::map<std::string, std::string> out;
  for (const MatchDecision& d : decisions) {
    if (d.kind != Kind::kOffer) continue;
    std::string target = input.offerings[d.offering].name;
    if (d.cohort >= 0) {
      target = input.offerings[d.offering].cohorts[d.cohort].name;
    }
    out[input.referrals[d.referral].name] = target;
  }
  return out;
}

std::vector<Kind> KindsFor(const std::vector<MatchDecision>& decisions,
                           int referral) {
  std::vector<Kind> out;
  for (const MatchDecision& d : decisions) {
    if (d.referral == referral) out.push_back(d.kind);
  }
  return out;
}

TEST(MatcherTest, PlacesAreFilledInPriorityOrderAndTheRestWait) {
  std::vector<MatchReferral> referrals = {Referral(1), Referral(2),
                                          Referral(3)};
  referrals[2].priority.due = Now() + absl::Hours(48);  // r03 goes first
  Matcher matcher(Input({Places("p", "o", 3, /*taken=*/1)}, referrals));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();

  EXPECT_THAT(
      Offers(matcher.input(), decisions),
      ElementsAre(
          std::pair("regions/13/referrals/r01", "providers/p/offerings/o"),
          std::pair("regions/13/referrals/r03", "providers/p/offerings/o")));
  EXPECT_THAT(KindsFor(decisions, 0), ElementsAre(Kind::kQueue, Kind::kOffer));
  EXPECT_THAT(KindsFor(decisions, 1), ElementsAre(Kind::kQueue));
  EXPECT_EQ(matcher.offerings()[0].taken, 3);
  EXPECT_EQ(matcher.input().offerings[0].taken, 1) << "the input is kept";

  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].referral, 1);
  EXPECT_EQ(queues[0].queue, "regions/13/queues/halsosam~13");
  EXPECT_EQ(queues[0].position, 1);
  EXPECT_EQ(queues[0].length, 1);
  EXPECT_EQ(queues[0].reasons.size(), 5u);
  EXPECT_FALSE(queues[0].estimated_start.has_value())
      << "no place is known to free";
  EXPECT_THAT(queues[0].estimate_basis,
              HasSubstr("no published capacity ahead"));
}

TEST(MatcherTest, AQueuedReferralIsNotQueuedAgain) {
  MatchReferral queued = Referral(1);
  queued.state = v1::REFERRAL_STATE_QUEUED;
  Matcher matcher(Input({Places("p", "o", 1, 1)}, {queued}));
  EXPECT_THAT(matcher.MatchAll(), IsEmpty());
  EXPECT_EQ(matcher.ExplainQueues().size(), 1u);
}

TEST(MatcherTest, CaseloadIsCountedLikePlaces) {
  MatchOffering team = Places("fk-team", "handlaggare", 2, 1);
  team.model = v1::CAPACITY_MODEL_CASELOAD;
  Matcher matcher(Input({team}, {Referral(1), Referral(2)}));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  EXPECT_EQ(Offers(matcher.input(), decisions).size(), 1u);
  EXPECT_EQ(matcher.offerings()[0].taken, 2);
}

TEST(MatcherTest, CohortIntakeIsOpenFromIntakeStartUntilTheStart) {
  MatchOffering o = Places("halsosam", "halmstad", 0);
  o.model = v1::CAPACITY_MODEL_COHORTS;
  // Starts today: intake closed. Starts in 40 days: intake not yet open.
  // Starts in 21 days: open.
  o.cohorts = {Cohort(o.name, "today", kToday, 12),
               Cohort(o.name, "in21", kToday + 21, 12),
               Cohort(o.name, "in40", kToday + 40, 12)};
  Matcher matcher(Input({o}, {Referral(1)}));
  EXPECT_THAT(Offers(matcher.input(), matcher.MatchAll()),
              ElementsAre(std::pair("regions/13/referrals/r01",
                                    o.name + "/cohorts/in21")));

  o.cohorts = {Cohort(o.name, "today", kToday, 12),
               Cohort(o.name, "in40", kToday + 40, 12)};
  Matcher closed(Input({o}, {Referral(1)}));
  EXPECT_THAT(Offers(closed.input(), closed.MatchAll()), IsEmpty());
  const std::vector<QueueExplanation> queues = closed.ExplainQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].estimated_start, kToday + 40);
  EXPECT_EQ(queues[0].estimated_cohort, o.name + "/cohorts/in40");
}

TEST(MatcherTest, TwelveInTheFirstCohortEightWaitForTheSecond) {
  // The seeds' scenario: a Hälsosam cohort of 12 in three weeks, one in
  // ten weeks (intake not open yet); 20 referrals.
  MatchOffering o = Places("halsosam", "halmstad", 0);
  o.model = v1::CAPACITY_MODEL_COHORTS;
  o.cohorts = {Cohort(o.name, "first", kToday + 21, 12),
               Cohort(o.name, "second", kToday + 70, 12)};
  std::vector<MatchReferral> referrals;
  for (int n = 1; n <= 20; ++n) referrals.push_back(Referral(n));
  Matcher matcher(Input({o}, referrals));
  const std::map<std::string, std::string> offers =
      Offers(matcher.input(), matcher.MatchAll());
  ASSERT_EQ(offers.size(), 12u);
  for (int n = 1; n <= 12; ++n) {
    EXPECT_EQ(offers.at(referrals[n - 1].name), o.name + "/cohorts/first");
  }
  EXPECT_EQ(matcher.offerings()[0].cohorts[0].taken, 12);

  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 8u);
  for (int p = 0; p < 8; ++p) {
    EXPECT_EQ(queues[p].referral, 12 + p);
    EXPECT_EQ(queues[p].position, p + 1);
    EXPECT_EQ(queues[p].length, 8);
    EXPECT_EQ(queues[p].estimated_start, kToday + 70);
    EXPECT_EQ(queues[p].estimated_cohort, o.name + "/cohorts/second");
  }
  EXPECT_THAT(queues[0].estimate_basis,
              AllOf(HasSubstr("1st waiting"), HasSubstr("12 of 12")));
  EXPECT_THAT(queues[7].estimate_basis, HasSubstr("8th waiting"));
}

TEST(MatcherTest, EstimatesMoveToALaterCohortWhenTheFirstFillsUp) {
  MatchOffering o = Places("halsosam", "halmstad", 0);
  o.model = v1::CAPACITY_MODEL_COHORTS;
  o.cohorts = {Cohort(o.name, "a", kToday + 50, 2),
               Cohort(o.name, "b", kToday + 90, 12)};
  Matcher matcher(
      Input({o}, {Referral(1), Referral(2), Referral(3), Referral(4)}));
  EXPECT_THAT(Offers(matcher.input(), matcher.MatchAll()), IsEmpty());
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 4u);
  EXPECT_EQ(queues[0].estimated_start, kToday + 50);
  EXPECT_EQ(queues[1].estimated_start, kToday + 50);
  EXPECT_EQ(queues[2].estimated_start, kToday + 90);
  EXPECT_EQ(queues[3].estimated_start, kToday + 90);
}

TEST(MatcherTest, PlaceEstimatesUseExpectedFreesInOrder) {
  MatchOffering o = Places("p", "o", 1, 1);
  o.expected_frees = {kToday + 10, kToday + 30};
  Matcher matcher(Input({o}, {Referral(1), Referral(2), Referral(3)}));
  matcher.MatchAll();
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 3u);
  EXPECT_EQ(queues[0].estimated_start, kToday + 10);
  EXPECT_EQ(queues[1].estimated_start, kToday + 30);
  EXPECT_FALSE(queues[2].estimated_start.has_value());
  EXPECT_THAT(queues[0].estimate_basis, HasSubstr("expected to free"));
}

TEST(MatcherTest, StaleCapacityIsNotUsedAndIsReported) {
  MatchOffering stale = Places("old", "o", 5);
  stale.stale = true;
  Matcher matcher(Input({stale}, {Referral(1)}));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  EXPECT_THAT(KindsFor(decisions, 0), ElementsAre(Kind::kQueue));
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_THAT(queues[0].estimate_basis,
              AllOf(HasSubstr("old o left out"), HasSubstr("last published")));
}

TEST(MatcherTest, AReferralThatFitsNowhereIsRejectedWithEveryReason) {
  MatchOffering young = Places("a", "young", 5);
  young.eligibility.max_age_years = 29;
  young.display_name = "Unga vuxna";
  MatchOffering women = Places("b", "women", 5);
  women.eligibility.genders = 1u << v1::GENDER_FEMALE;
  women.display_name = "Kvinnocoacher";
  MatchReferral r = Referral(1);
  r.facts.gender = v1::GENDER_MALE;
  Matcher matcher(Input({young, women}, {r}));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].kind, Kind::kReject);
  EXPECT_THAT(decisions[0].reasons,
              ElementsAre("Unga vuxna: age 40 is outside at most 29",
                          "Kvinnocoacher: admits FEMALE only"));
  EXPECT_THAT(matcher.ExplainQueues(), IsEmpty());
}

TEST(MatcherTest, AnEligibleReferralWaitsWhenItsOfferingIsFull) {
  MatchOffering full = Places("a", "full", 1, 1);
  MatchOffering other = Places("b", "other", 5);
  other.eligibility.max_age_years = 29;  // not for a 40-year-old
  Matcher matcher(Input({full, other}, {Referral(1)}));
  EXPECT_THAT(KindsFor(matcher.MatchAll(), 0), ElementsAre(Kind::kQueue));
}

TEST(MatcherTest, NoOfferingOfTheTypeYetMeansWaitNotReject) {
  MatchReferral r = Referral(1);
  r.activity_type = "redo";
  Matcher matcher(Input({Places("p", "o", 5)}, {r}));
  EXPECT_THAT(KindsFor(matcher.MatchAll(), 0), ElementsAre(Kind::kQueue));
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].queue, "regions/13/queues/redo~13");
  EXPECT_EQ(queues[0].estimate_basis,
            "no provider offers redo in region 13 yet");
}

TEST(MatcherTest, OfferingsInAnotherRegionAreNotCandidates) {
  MatchOffering elsewhere = Places("p", "o", 5);
  elsewhere.region = "19";
  Matcher matcher(Input({elsewhere}, {Referral(1)}));
  EXPECT_THAT(KindsFor(matcher.MatchAll(), 0), ElementsAre(Kind::kQueue));
}

TEST(MatcherTest, ExcludedOfferingsAreSkippedAndWhenAllAreTheReferralEnds) {
  MatchReferral r = Referral(1);
  r.excluded_offerings = {"providers/a/offerings/o"};
  Matcher next(Input({Places("a", "o", 5), Places("b", "o", 5)}, {r}));
  EXPECT_THAT(Offers(next.input(), next.MatchAll()),
              ElementsAre(std::pair(r.name, "providers/b/offerings/o")));

  r.excluded_offerings = {"providers/a/offerings/o", "providers/b/offerings/o"};
  Matcher none(Input({Places("a", "o", 5), Places("b", "o", 5)}, {r}));
  const std::vector<MatchDecision> decisions = none.MatchAll();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].kind, Kind::kReject);
  EXPECT_THAT(decisions[0].reasons,
              Contains(HasSubstr("declined the referral or let its offer "
                                 "expire")));
}

TEST(MatcherTest, ThePreferredProviderIsHonouredWhereItCanBe) {
  MatchOffering near = Places("near", "o", 5);
  MatchOffering chosen = Places("chosen", "o", 1);
  chosen.kommun_code = "1381";  // another kommun, still chosen
  MatchReferral a = Referral(1);
  a.preferred_provider = "providers/chosen";
  MatchReferral b = Referral(2);
  b.preferred_provider = "providers/chosen";
  Matcher matcher(Input({near, chosen}, {a, b}));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  EXPECT_THAT(Offers(matcher.input(), decisions),
              ElementsAre(std::pair(a.name, chosen.name),
                          std::pair(b.name, near.name)));
  for (const MatchDecision& d : decisions) {
    if (d.kind != Kind::kOffer) continue;
    EXPECT_EQ(d.preferred_provider_honoured, d.referral == 0);
    if (d.referral == 0) {
      EXPECT_THAT(d.reasons, Contains("the participant's choice of provider"));
    }
  }
}

TEST(MatcherTest, EarliestStartThenOwnKommunThenName) {
  MatchOffering later = Places("a", "later", 0);
  later.model = v1::CAPACITY_MODEL_COHORTS;
  later.cohorts = {Cohort(later.name, "c", kToday + 20, 12)};
  MatchOffering sooner = Places("b", "sooner", 0);
  sooner.model = v1::CAPACITY_MODEL_COHORTS;
  sooner.kommun_code = "1381";
  sooner.cohorts = {Cohort(sooner.name, "c", kToday + 10, 12)};
  Matcher by_start(Input({later, sooner}, {Referral(1)}));
  EXPECT_THAT(Offers(by_start.input(), by_start.MatchAll()),
              ElementsAre(std::pair("regions/13/referrals/r01",
                                    sooner.name + "/cohorts/c")));

  MatchOffering away = Places("a", "away", 5);
  away.kommun_code = "1381";
  MatchOffering home = Places("z", "home", 5);
  Matcher by_kommun(Input({away, home}, {Referral(1)}));
  EXPECT_THAT(Offers(by_kommun.input(), by_kommun.MatchAll()),
              ElementsAre(std::pair("regions/13/referrals/r01", home.name)));

  Matcher by_name(
      Input({Places("z", "o", 5), Places("a", "o", 5)}, {Referral(1)}));
  EXPECT_THAT(Offers(by_name.input(), by_name.MatchAll()),
              ElementsAre(std::pair("regions/13/referrals/r01",
                                    "providers/a/offerings/o")));
}

TEST(MatcherTest, AnAvropGoesToTheBestRankedSupplierForItsKommun) {
  MatchAgreement agreement;
  agreement.name = "frameworkAgreements/fk-rehab-2025";
  agreement.suppliers = {{"providers/first", 1, {"1380"}},
                         {"providers/second", 2, {}},
                         {"providers/first", 3, {}}};
  std::vector<MatchOffering> offerings;
  for (const char* provider : {"first", "second", "outsider"}) {
    MatchOffering o = Places(provider, "rehab", 1);
    o.activity_type = "arbetslivsinriktad-rehabilitering";
    o.framework_agreement =
        std::string(provider) == "outsider" ? "" : agreement.name;
    offerings.push_back(o);
  }
  const auto avrop = [&](int n, const std::string& kommun) {
    MatchReferral r = Referral(n);
    r.facts.kind = v1::REFERRAL_KIND_REHAB_SERVICE_ORDER;
    r.activity_type = "arbetslivsinriktad-rehabilitering";
    r.framework_agreement = agreement.name;
    r.facts.kommun_code = kommun;
    return r;
  };
  for (MatchOffering& o : offerings) {
    o.eligibility.referral_kinds = 1u << v1::REFERRAL_KIND_REHAB_SERVICE_ORDER;
  }
  MatchInput input =
      Input(offerings, {avrop(1, "1381"), avrop(2, "1380"), avrop(3, "1380")});
  input.agreements = {agreement};
  Matcher matcher(input);
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  // r01 (Laholm): first is rank 3 there, second rank 2 -> second.
  // r02 (Halmstad): first is rank 1 -> first. r03: first is full; second
  // is full; the outsider is not a supplier -> waits.
  EXPECT_THAT(Offers(matcher.input(), decisions),
              ElementsAre(std::pair("regions/13/referrals/r01",
                                    "providers/second/offerings/rehab"),
                          std::pair("regions/13/referrals/r02",
                                    "providers/first/offerings/rehab")));
  for (const MatchDecision& d : decisions) {
    if (d.kind != Kind::kOffer) continue;
    EXPECT_EQ(d.framework_rank, d.referral == 0 ? 2 : 1);
    EXPECT_THAT(d.reasons, Contains(HasSubstr("of " + agreement.name)));
  }
  EXPECT_THAT(KindsFor(decisions, 2), ElementsAre(Kind::kQueue));

  // Once the first-ranked supplier declined, the next one is offered.
  MatchReferral declined = avrop(4, "1380");
  declined.excluded_offerings = {"providers/first/offerings/rehab"};
  MatchInput next_input = Input(offerings, {declined});
  next_input.agreements = {agreement};
  Matcher next(next_input);
  EXPECT_THAT(Offers(next.input(), next.MatchAll()),
              ElementsAre(std::pair("regions/13/referrals/r04",
                                    "providers/second/offerings/rehab")));
}

TEST(MatcherTest, AnAvropUnderAnUnknownAgreementWaits) {
  MatchReferral r = Referral(1);
  r.framework_agreement = "frameworkAgreements/none";
  Matcher matcher(Input({Places("p", "o", 5)}, {r}));
  EXPECT_THAT(KindsFor(matcher.MatchAll(), 0), ElementsAre(Kind::kQueue));
}

TEST(MatcherTest, TeamHandoverAndJointMappingAreNarrowedToTheirTeam) {
  MatchOffering fk = Places("fk-lfc", "team", 5);
  fk.provider_agency_kind = v1::AGENCY_KIND_FORSAKRINGSKASSAN;
  MatchOffering af = Places("af-halmstad", "team", 5);
  af.provider_agency_kind = v1::AGENCY_KIND_ARBETSFORMEDLINGEN;
  MatchReferral handover = Referral(1);
  handover.required_provider = "providers/fk-lfc";
  MatchReferral mapping = Referral(2);
  mapping.required_agency_kind = v1::AGENCY_KIND_ARBETSFORMEDLINGEN;
  // Name order alone would give both af-halmstad.
  Matcher matcher(Input({fk, af}, {handover, mapping}));
  EXPECT_THAT(Offers(matcher.input(), matcher.MatchAll()),
              ElementsAre(std::pair(handover.name, fk.name),
                          std::pair(mapping.name, af.name)));
}

TEST(MatcherTest, PlaceTakesAFreeUnitOrWaitsAtTheEnd) {
  Matcher matcher(Input({Places("p", "o", 2)}, {Referral(1)}));
  EXPECT_EQ(Offers(matcher.input(), matcher.MatchAll()).size(), 1u);

  const std::vector<MatchDecision> second = matcher.Place(Referral(2));
  EXPECT_THAT(KindsFor(second, 1), ElementsAre(Kind::kQueue, Kind::kOffer));
  EXPECT_EQ(matcher.offerings()[0].taken, 2);

  const std::vector<MatchDecision> third = matcher.Place(Referral(3));
  EXPECT_THAT(KindsFor(third, 2), ElementsAre(Kind::kQueue));
  const std::vector<MatchDecision> fourth = matcher.Place(Referral(4));
  EXPECT_THAT(KindsFor(fourth, 3), ElementsAre(Kind::kQueue));
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 2u);
  EXPECT_EQ(queues[0].referral, 2);
  EXPECT_EQ(queues[1].referral, 3);
  EXPECT_EQ(queues[1].position, 2);
}

TEST(MatcherTest, PlacedReferralsOfOneAgencyCountInItsFairShare) {
  // fk has two waiting; a new af referral goes ahead of fk's second.
  Matcher matcher(
      Input({Places("p", "o", 0)}, {Referral(1, "fk"), Referral(2, "fk")}));
  matcher.MatchAll();
  matcher.Place(Referral(3, "af"));
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 3u);
  EXPECT_EQ(queues[0].referral, 0);
  EXPECT_EQ(queues[1].referral, 2);
  EXPECT_EQ(queues[2].referral, 1);
}

// An offering that names no home kommuner admits those its provider
// serves: a referral from another kommun is not a candidate, and its queue
// position does not explain that offering as left out for stale capacity
// (issue 19: "Explanations must be true").
TEST(MatcherTest, AnOfferingAdmitsTheKommunerItsProviderServes) {
  v1::Offering offering;
  offering.set_name("providers/halsosam/offerings/halmstad");
  offering.set_display_name("Hälsosam Halmstad");
  offering.set_activity_type("halsosam");
  offering.set_region("13");
  offering.set_kommun_code("1380");
  offering.mutable_capacity()->mutable_places()->set_total(8);  // stale
  v1::Provider halmstad = KommunProvider();
  halmstad.add_kommun_codes("1380");
  const MatchOffering o =
      ToMatchOffering(offering, halmstad, Now(), Stockholm());
  EXPECT_THAT(o.eligibility.kommun_codes, ElementsAre("1380"));
  EXPECT_TRUE(o.stale);
  // The offering's own rule, when it has one, stands.
  offering.mutable_eligibility()->add_kommun_codes("1382");
  EXPECT_THAT(ToMatchOffering(offering, halmstad, Now(), Stockholm())
                  .eligibility.kommun_codes,
              ElementsAre("1382"));

  MatchReferral falkenberg = Referral(1);
  falkenberg.facts.kommun_code = "1382";
  MatchReferral here = Referral(2);
  Matcher matcher(Input({o}, {falkenberg, here}));
  const std::vector<MatchDecision> decisions = matcher.MatchAll();
  EXPECT_THAT(KindsFor(decisions, 0), ElementsAre(Kind::kReject));
  for (const MatchDecision& d : decisions) {
    if (d.referral == 0) {
      EXPECT_THAT(d.reasons, ElementsAre(HasSubstr("1382 is not served")));
    }
  }
  const std::vector<QueueExplanation> queues = matcher.ExplainQueues();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_EQ(queues[0].referral, 1);
  EXPECT_THAT(queues[0].estimate_basis, HasSubstr("left out: capacity"));
}

TEST(MatcherTest, ToMatchOfferingReadsEachCapacityModel) {
  v1::Offering offering;
  offering.set_name("providers/halsosam/offerings/halmstad");
  offering.set_display_name("Hälsosam Halmstad");
  offering.set_activity_type("halsosam");
  offering.set_region("13");
  offering.set_kommun_code("1380");
  offering.mutable_eligibility()->set_min_age_years(18);
  v1::Capacity* capacity = offering.mutable_capacity();
  *capacity->mutable_update_time() = ToProtoTimestamp(Now() - absl::Hours(24));
  capacity->mutable_places()->set_total(8);
  capacity->mutable_places()->set_occupied(3);
  capacity->mutable_places()->set_held(2);
  MatchOffering o =
      ToMatchOffering(offering, KommunProvider(), Now(), Stockholm());
  EXPECT_EQ(o.provider, "providers/halsosam");
  EXPECT_EQ(o.model, v1::CAPACITY_MODEL_PLACES);
  EXPECT_EQ(o.capacity, 8);
  EXPECT_EQ(o.taken, 5);
  EXPECT_FALSE(o.stale);
  EXPECT_EQ(o.eligibility.min_age_years, 18);

  capacity->mutable_caseload()->set_max_open_cases(30);
  capacity->mutable_caseload()->set_open_cases(29);
  o = ToMatchOffering(offering, KommunProvider(), Now(), Stockholm());
  EXPECT_EQ(o.model, v1::CAPACITY_MODEL_CASELOAD);
  EXPECT_EQ(o.capacity, 30);
  EXPECT_EQ(o.taken, 29);

  v1::CohortCapacity* cohorts = capacity->mutable_cohorts();
  v1::Cohort* late = cohorts->add_cohorts();
  late->set_name(offering.name() + "/cohorts/late");
  *late->mutable_start_date() = ToProtoDate(kToday + 70);
  late->set_max_size(12);
  late->set_state(v1::COHORT_STATE_OPEN);
  v1::Cohort* early = cohorts->add_cohorts();
  early->set_name(offering.name() + "/cohorts/early");
  *early->mutable_start_date() = ToProtoDate(kToday + 21);
  early->set_min_size(6);
  early->set_max_size(12);
  early->set_enrolled(4);
  early->set_held(1);
  early->set_state(v1::COHORT_STATE_OPEN);
  v1::Cohort* cancelled = cohorts->add_cohorts();
  cancelled->set_name(offering.name() + "/cohorts/cancelled");
  *cancelled->mutable_start_date() = ToProtoDate(kToday + 5);
  cancelled->set_max_size(12);
  cancelled->set_state(v1::COHORT_STATE_CANCELLED);
  offering.set_cohort_intake_days(30);
  o = ToMatchOffering(offering, KommunProvider(), Now(), Stockholm());
  EXPECT_EQ(o.model, v1::CAPACITY_MODEL_COHORTS);
  ASSERT_EQ(o.cohorts.size(), 2u) << "a cancelled cohort takes no one";
  EXPECT_EQ(o.cohorts[0].name, early->name());
  EXPECT_EQ(o.cohorts[0].start, kToday + 21);
  EXPECT_EQ(o.cohorts[0].intake_start, kToday + 21 - 30);
  EXPECT_EQ(o.cohorts[0].taken, 5);
  EXPECT_EQ(o.cohorts[1].name, late->name());

  *late->mutable_intake_start_date() = ToProtoDate(kToday + 1);
  o = ToMatchOffering(offering, KommunProvider(), Now(), Stockholm());
  EXPECT_EQ(o.cohorts[1].intake_start, kToday + 1);
}

TEST(MatcherTest, CapacityIsStaleAfterItsDays) {
  v1::Offering offering;
  offering.set_name("providers/p/offerings/o");
  offering.mutable_capacity()->mutable_places()->set_total(1);
  EXPECT_TRUE(
      ToMatchOffering(offering, KommunProvider(), Now(), Stockholm()).stale)
      << "never published";
  *offering.mutable_capacity()->mutable_update_time() =
      ToProtoTimestamp(Now() - absl::Hours(24 * 13));
  EXPECT_FALSE(
      ToMatchOffering(offering, KommunProvider(), Now(), Stockholm()).stale)
      << "default: 14 days";
  *offering.mutable_capacity()->mutable_update_time() =
      ToProtoTimestamp(Now() - absl::Hours(24 * 15));
  EXPECT_TRUE(
      ToMatchOffering(offering, KommunProvider(), Now(), Stockholm()).stale);
  offering.set_stale_after_days(30);
  EXPECT_FALSE(
      ToMatchOffering(offering, KommunProvider(), Now(), Stockholm()).stale);
}

TEST(MatcherTest, ToMatchReferralNarrowsByKind) {
  v1::Referral activity = testing::SampleActivityReferral("13").referral();
  activity.set_name("regions/13/referrals/01A");
  activity.mutable_activity()->set_preferred_provider("providers/chosen");
  activity.add_excluded_offerings("providers/z/offerings/o");
  activity.add_excluded_offerings("providers/a/offerings/o");
  const absl::Time due = Now() + absl::Hours(72);
  MatchReferral r = ToMatchReferral(activity, due);
  EXPECT_EQ(r.region, "13");
  EXPECT_EQ(r.activity_type, activity.activity().activity_type());
  EXPECT_EQ(r.preferred_provider, "providers/chosen");
  EXPECT_EQ(r.priority.due, due);
  EXPECT_EQ(r.priority.referring_organisation,
            activity.referring_organisation());
  EXPECT_THAT(r.excluded_offerings, ElementsAre("providers/a/offerings/o",
                                                "providers/z/offerings/o"));

  v1::Referral impulse = testing::SampleImpulse("13").referral();
  impulse.set_name("regions/13/referrals/01B");
  EXPECT_EQ(ToMatchReferral(impulse, std::nullopt).activity_type,
            kImpulseActivityType);

  v1::Referral mapping = testing::SampleJointMapping("13").referral();
  mapping.set_name("regions/13/referrals/01C");
  r = ToMatchReferral(mapping, std::nullopt);
  EXPECT_EQ(r.activity_type, kJointMappingActivityType);
  EXPECT_EQ(r.required_agency_kind, mapping.joint_mapping().counterpart());

  v1::Referral avrop = testing::SampleRehabServiceOrder("13").referral();
  avrop.set_name("regions/13/referrals/01D");
  r = ToMatchReferral(avrop, std::nullopt);
  EXPECT_EQ(r.activity_type, avrop.rehab_service_order().service());
  EXPECT_EQ(r.framework_agreement,
            avrop.rehab_service_order().framework_agreement());

  v1::Referral handover = testing::SampleTeamHandover("13").referral();
  handover.set_name("regions/13/referrals/01E");
  r = ToMatchReferral(handover, std::nullopt);
  EXPECT_EQ(r.activity_type, kTeamHandoverActivityType);
  EXPECT_EQ(r.required_provider, handover.team_handover().team());
}

}  // namespace
}  // namespace slussen::core

// The coordinator's reports on hand-made records: response times (median,
// 90th percentile, breach rate, participant pauses left out), the
// outcome report (who took part, starts, exits and their reasons, income
// before and after, the CSV) and the SUS export (its rows, named or
// anonymous, the monthly counts, the CSV).
#include "broker/core/model/reports.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/caller.h"
#include "broker/core/model/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

absl::TimeZone Stockholm() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
  return zone;
}

absl::Time Day(int month, int day, int hour = 10) {
  return absl::FromCivil(absl::CivilHour(2026, month, day, hour), Stockholm());
}

v1::Clock Clock(const std::string& party, v1::ClockState state,
                absl::Time start, absl::Duration took) {
  v1::Clock clock;
  clock.set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  clock.set_awaited_organisation(party);
  clock.set_state(state);
  *clock.mutable_start_time() = ToProtoTimestamp(start);
  *clock.mutable_due_time() = ToProtoTimestamp(start + absl::Hours(72));
  if (state != v1::CLOCK_STATE_RUNNING && state != v1::CLOCK_STATE_BREACHED) {
    *clock.mutable_stop_time() = ToProtoTimestamp(start + took);
  }
  if (state == v1::CLOCK_STATE_BREACHED) clock.set_escalation_level(1);
  return clock;
}

TEST(ReportsTest, AgeBandsAreSus) {
  EXPECT_EQ(AgeBand(std::nullopt), "unknown");
  EXPECT_EQ(AgeBand(15), "under 16");
  EXPECT_EQ(AgeBand(16), "16-24");
  EXPECT_EQ(AgeBand(24), "16-24");
  EXPECT_EQ(AgeBand(25), "25-29");
  EXPECT_EQ(AgeBand(39), "30-39");
  EXPECT_EQ(AgeBand(64), "60-64");
  EXPECT_EQ(AgeBand(65), "65-");
}

TEST(ReportsTest, ResponseTimesPerPartyWithPercentilesAndBreachRate) {
  std::vector<v1::Clock> clocks;
  // FK: ten clocks met after 1..10 hours, the last one late.
  for (int h = 1; h <= 10; ++h) {
    clocks.push_back(
        Clock("fk", h == 10 ? v1::CLOCK_STATE_MET_LATE : v1::CLOCK_STATE_MET,
              Day(11, 2), absl::Hours(h)));
  }
  // AF: one breached and open, one running and not yet due (left out),
  // one cancelled (left out), one started outside the period (left out).
  clocks.push_back(
      Clock("af", v1::CLOCK_STATE_BREACHED, Day(11, 3), absl::ZeroDuration()));
  clocks.push_back(
      Clock("af", v1::CLOCK_STATE_RUNNING, Day(11, 20), absl::ZeroDuration()));
  clocks.push_back(
      Clock("af", v1::CLOCK_STATE_CANCELLED, Day(11, 4), absl::Hours(1)));
  clocks.push_back(
      Clock("af", v1::CLOCK_STATE_MET, Day(10, 1), absl::Hours(1)));

  const std::vector<v1::ResponseTimeRow> rows =
      ResponseTimes(clocks, Day(11, 1, 0), Day(12, 1, 0), Day(11, 21));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].party(), "af");
  EXPECT_EQ(rows[0].clocks(), 1);
  EXPECT_EQ(rows[0].breach_rate(), 1.0);
  EXPECT_EQ(rows[0].median().seconds(),
            absl::ToInt64Seconds(Day(11, 21) - Day(11, 3)));
  EXPECT_EQ(rows[1].party(), "fk");
  EXPECT_EQ(rows[1].clocks(), 10);
  EXPECT_EQ(rows[1].clock_kind(), v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  EXPECT_EQ(rows[1].median().seconds(), 5 * 3600);  // nearest rank: 5th
  EXPECT_EQ(rows[1].p90().seconds(), 9 * 3600);     // 9th of 10
  EXPECT_DOUBLE_EQ(rows[1].breach_rate(), 0.1);
}

TEST(ReportsTest, TimePausedForTheParticipantIsNotCounted) {
  v1::Clock clock =
      Clock("fk", v1::CLOCK_STATE_MET, Day(11, 2), absl::Hours(30));
  v1::ClockPause* participant = clock.add_pauses();
  participant->set_cause(v1::DELAY_CAUSE_PARTICIPANT);
  *participant->mutable_start_time() = ToProtoTimestamp(Day(11, 2, 12));
  *participant->mutable_end_time() = ToProtoTimestamp(Day(11, 3, 12));
  v1::ClockPause* provider = clock.add_pauses();
  provider->set_cause(v1::DELAY_CAUSE_PROVIDER);
  *provider->mutable_start_time() = ToProtoTimestamp(Day(11, 3, 13));
  *provider->mutable_end_time() = ToProtoTimestamp(Day(11, 3, 14));
  const std::vector<v1::ResponseTimeRow> rows =
      ResponseTimes({clock}, Day(11, 1, 0), Day(12, 1, 0), Day(11, 21));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].median().seconds(), 6 * 3600) << "30 h less 24 h";
}

// A referral of a new participant (an audit subject of its own), or of
// `person` when given.
ReferralRecord Participant(v1::Gender gender, int age, const std::string& type,
                           const std::string& person = "") {
  static int people = 0;
  ReferralRecord record;
  record.audit_subject =
      person.empty() ? absl::StrCat("person-", ++people) : person;
  v1::Referral& r = record.referral;
  r.mutable_activity()->set_activity_type(type);
  r.mutable_participant()->mutable_attributes()->set_gender(gender);
  r.mutable_participant()->mutable_attributes()->set_age_years(age);
  return record;
}

void Add(ReferralRecord& record, v1::Action action, absl::Time at,
         std::vector<v1::OutcomeReason> reasons = {}) {
  v1::Transition* t = record.referral.add_history();
  t->set_action(action);
  *t->mutable_time() = ToProtoTimestamp(at);
  for (v1::OutcomeReason reason : reasons) t->add_outcome_reasons(reason);
}

TEST(ReportsTest, OutcomeReportCountsTakingPartStartsAndExits) {
  std::vector<ReferralRecord> referrals;
  // Started before the period, exited in it to work.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 34, "halsosam"));
  Add(referrals.back(), v1::ACTION_START, Day(9, 1));
  Add(referrals.back(), v1::ACTION_EXIT, Day(11, 10),
      {v1::OUTCOME_REASON_WORK});
  // ... and followed up: on sickness benefit again (not positive).
  Add(referrals.back(), v1::ACTION_RECORD_FOLLOW_UP, Day(11, 20),
      {v1::OUTCOME_REASON_SICKNESS_BENEFIT});
  // Started in the period, still taking part.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 31, "halsosam"));
  Add(referrals.back(), v1::ACTION_START, Day(11, 3));
  // Completed in the period.
  referrals.push_back(Participant(v1::GENDER_MALE, 22, "halsosam"));
  Add(referrals.back(), v1::ACTION_START, Day(10, 1));
  Add(referrals.back(), v1::ACTION_COMPLETE, Day(11, 28),
      {v1::OUTCOME_REASON_PROGRAMME_COMPLETED, v1::OUTCOME_REASON_STUDIES});
  // Left out: exited before the period; never started; another activity.
  referrals.push_back(Participant(v1::GENDER_MALE, 50, "halsosam"));
  Add(referrals.back(), v1::ACTION_START, Day(8, 1));
  Add(referrals.back(), v1::ACTION_EXIT, Day(10, 31));
  referrals.push_back(Participant(v1::GENDER_MALE, 50, "halsosam"));
  referrals.push_back(Participant(v1::GENDER_MALE, 40, "redo"));
  Add(referrals.back(), v1::ACTION_START, Day(11, 5));

  const v1::OutcomeReport report =
      OutcomeReportOf(referrals, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "halsosam", Stockholm());
  ASSERT_EQ(report.counts_size(), 2);
  // FEMALE (1) before MALE (2); within, by band.
  EXPECT_EQ(report.counts(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(report.counts(0).age_band(), "30-39");
  EXPECT_EQ(report.counts(0).participants(), 2);
  EXPECT_EQ(report.counts(0).starts(), 1);
  EXPECT_EQ(report.counts(0).exits(), 1);
  EXPECT_EQ(report.counts(1).gender(), v1::GENDER_MALE);
  EXPECT_EQ(report.counts(1).age_band(), "16-24");
  EXPECT_EQ(report.counts(1).participants(), 1);
  EXPECT_EQ(report.counts(1).starts(), 0);
  EXPECT_EQ(report.counts(1).exits(), 1);
  ASSERT_EQ(report.exit_reasons_size(), 3);
  EXPECT_EQ(report.exit_reasons(0).reason(), v1::OUTCOME_REASON_WORK);
  EXPECT_EQ(report.exit_reasons(0).count(), 1);
  EXPECT_EQ(report.followed_up(), 1);
  EXPECT_EQ(report.followed_up_positive(), 0);
  EXPECT_THAT(report.csv(),
              HasSubstr("followed_up;followed_up_positive\n1;0\n"));
  EXPECT_THAT(report.csv(),
              HasSubstr("gender;age_band;participants;starts;exits\n"
                        "FEMALE;30-39;2;1;1\nMALE;16-24;1;0;1\n"));
  EXPECT_THAT(report.csv(), HasSubstr("exit_reason;count\nWORK;1\n"));

  // Without the activity filter, ReDO's participant counts too.
  const v1::OutcomeReport all =
      OutcomeReportOf(referrals, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "", Stockholm());
  int participants = 0;
  for (const v1::OutcomeCount& c : all.counts())
    participants += c.participants();
  EXPECT_EQ(participants, 4);
}

TEST(ReportsTest, ParticipantsArePeopleAndImpulsesAreCountedApart) {
  std::vector<ReferralRecord> referrals;
  // One woman, referred twice in the period (a second activity after the
  // first): one participant, two starts.
  referrals.push_back(
      Participant(v1::GENDER_FEMALE, 34, "halsosam", "subject-anna"));
  Add(referrals.back(), v1::ACTION_START, Day(11, 2));
  Add(referrals.back(), v1::ACTION_EXIT, Day(11, 9));
  referrals.push_back(
      Participant(v1::GENDER_FEMALE, 34, "halsosam", "subject-anna"));
  Add(referrals.back(), v1::ACTION_START, Day(11, 16));
  // Two erased referrals: their people are no longer known, each counts.
  referrals.push_back(Participant(v1::GENDER_MALE, 40, "halsosam", ""));
  referrals.back().audit_subject.clear();
  Add(referrals.back(), v1::ACTION_START, Day(11, 3));
  referrals.push_back(referrals.back());
  // Impulses: one made and taken up in the period, one made before it and
  // ended in it, one made in it and still waiting.
  for (int i = 0; i < 3; ++i) {
    ReferralRecord impulse;
    impulse.referral.mutable_impulse()->set_kommun_code("1380");
    *impulse.referral.mutable_create_time() =
        ToProtoTimestamp(i == 1 ? Day(10, 20) : Day(11, 4));
    referrals.push_back(impulse);
  }
  Add(referrals[4], v1::ACTION_START, Day(11, 5));
  Add(referrals[5], v1::ACTION_START, Day(10, 21));
  Add(referrals[5], v1::ACTION_COMPLETE, Day(11, 6));

  const v1::OutcomeReport report =
      OutcomeReportOf(referrals, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "", Stockholm());
  ASSERT_EQ(report.counts_size(), 2);
  EXPECT_EQ(report.counts(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(report.counts(0).participants(), 1);
  EXPECT_EQ(report.counts(0).starts(), 2);
  EXPECT_EQ(report.counts(1).gender(), v1::GENDER_MALE);
  EXPECT_EQ(report.counts(1).participants(), 2);
  EXPECT_EQ(report.impulses().received(), 2);
  EXPECT_EQ(report.impulses().started(), 1);
  EXPECT_EQ(report.impulses().ended(), 1);
  EXPECT_THAT(report.csv(),
              HasSubstr("impulses_received;impulses_started;impulses_ended\n"
                        "2;1;1\n"));
  // An activity filter leaves the impulses out.
  EXPECT_EQ(
      OutcomeReportOf(referrals, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "halsosam", Stockholm())
          .impulses()
          .received(),
      0);
}

// --- Income before and after ------------------------------------------

// A SUS registration of `sources` (and, at the start, `education`).
v1::SusRegistration Income(
    std::initializer_list<v1::IncomeSource> sources,
    v1::EducationLevel education = v1::EDUCATION_LEVEL_UNSPECIFIED) {
  v1::SusRegistration sus;
  for (v1::IncomeSource source : sources) sus.add_income_sources(source);
  sus.set_education_level(education);
  return sus;
}

// Adds `action` at `at` as Transitions::Run records it (naming the
// offering the referral is assigned), with `sus` unless it is empty.
void Step(ReferralRecord& record, v1::Action action, absl::Time at,
          const v1::SusRegistration& sus = v1::SusRegistration(),
          std::vector<v1::OutcomeReason> reasons = {}) {
  Add(record, action, at, std::move(reasons));
  v1::Transition* t =
      record.referral.mutable_history(record.referral.history_size() - 1);
  t->set_offering(record.referral.assigned_offering());
  if (sus.ByteSizeLong() > 0) *t->mutable_sus() = sus;
}

// "SICKNESS_BENEFIT > EMPLOYMENT: 2".
std::vector<std::string> IncomeChanges(const v1::OutcomeReport& report) {
  std::vector<std::string> out;
  for (const v1::IncomeChange& change : report.income_changes()) {
    out.push_back(
        absl::StrCat(v1::IncomeSource_Name(change.before()).substr(14), " > ",
                     v1::IncomeSource_Name(change.after()).substr(14), ": ",
                     change.participants()));
  }
  return out;
}

TEST(ReportsTest, OutcomeReportPairsIncomeBeforeAndAfter) {
  std::vector<ReferralRecord> referrals;
  // Sickness benefit and financial assistance before, employment after:
  // two pairs, one person moved to work.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 34, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 3),
       Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT,
               v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE},
              v1::EDUCATION_LEVEL_UPPER_SECONDARY));
  Step(referrals.back(), v1::ACTION_COMPLETE, Day(11, 24),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED});
  // Sickness benefit before, employment after: the same pair again.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 36, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 9),
       Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT},
              v1::EDUCATION_LEVEL_UPPER_SECONDARY));
  Step(referrals.back(), v1::ACTION_COMPLETE, Day(11, 29),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}), {v1::OUTCOME_REASON_WORK});
  // Employment before and after: known, but no move.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 31, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 4),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}, v1::EDUCATION_LEVEL_PRIMARY));
  Step(referrals.back(), v1::ACTION_EXIT, Day(11, 20),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}), {v1::OUTCOME_REASON_WORK});
  // Financial assistance before; activity support after, but in
  // subsidised work: moved, by the kind of work.
  referrals.push_back(Participant(v1::GENDER_MALE, 22, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 5),
       Income({v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE},
              v1::EDUCATION_LEVEL_PRIMARY));
  v1::SusRegistration working = Income({v1::INCOME_SOURCE_ACTIVITY_SUPPORT});
  working.set_work_kind(v1::WORK_KIND_SUBSIDISED);
  Step(referrals.back(), v1::ACTION_EXIT, Day(11, 25), working,
       {v1::OUTCOME_REASON_WORK});
  // Sickness compensation before; unemployment benefit after, studying:
  // moved, by the studies.
  referrals.push_back(Participant(v1::GENDER_MALE, 45, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 6),
       Income({v1::INCOME_SOURCE_SICKNESS_COMPENSATION},
              v1::EDUCATION_LEVEL_POST_SECONDARY));
  v1::SusRegistration studying =
      Income({v1::INCOME_SOURCE_UNEMPLOYMENT_BENEFIT});
  studying.set_studies(true);
  Step(referrals.back(), v1::ACTION_COMPLETE, Day(11, 26), studying,
       {v1::OUTCOME_REASON_STUDIES});
  // Sickness benefit before and after, registered with AF: no move.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 52, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 7),
       Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT},
              v1::EDUCATION_LEVEL_UPPER_SECONDARY));
  v1::SusRegistration with_af = Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT});
  with_af.set_registered_with_af(true);
  Step(referrals.back(), v1::ACTION_EXIT, Day(11, 27), with_af,
       {v1::OUTCOME_REASON_NEW_SICK_LEAVE});
  // No in-registration: the income is not known, though work after.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 41, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 8));
  Step(referrals.back(), v1::ACTION_EXIT, Day(11, 28),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}), {v1::OUTCOME_REASON_WORK});

  const v1::OutcomeReport report =
      OutcomeReportOf(referrals, absl::CivilDay(2026, 11, 1),
                      absl::CivilDay(2026, 11, 30), "halsosam", Stockholm());
  EXPECT_EQ(report.income_known(), 6);
  EXPECT_EQ(report.moved_to_work_or_studies(), 4);
  // In IncomeSource order, before then after.
  EXPECT_THAT(IncomeChanges(report),
              ElementsAre("EMPLOYMENT > EMPLOYMENT: 1",
                          "SICKNESS_BENEFIT > EMPLOYMENT: 2",
                          "SICKNESS_BENEFIT > SICKNESS_BENEFIT: 1",
                          "SICKNESS_COMPENSATION > UNEMPLOYMENT_BENEFIT: 1",
                          "FINANCIAL_ASSISTANCE > EMPLOYMENT: 1",
                          "FINANCIAL_ASSISTANCE > ACTIVITY_SUPPORT: 1"));
  EXPECT_THAT(report.csv(),
              HasSubstr("income_before;income_after;participants\n"
                        "EMPLOYMENT;EMPLOYMENT;1\n"
                        "SICKNESS_BENEFIT;EMPLOYMENT;2\n"));
  EXPECT_THAT(report.csv(),
              HasSubstr("income_known;moved_to_work_or_studies\n6;4\n"));
}

TEST(ReportsTest, AStartClosedAsARegistrationErrorIsLeftOutOfEveryCount) {
  const absl::CivilDay from(2026, 11, 1), to(2026, 11, 30);
  std::vector<ReferralRecord> referrals;
  // Started by mistake, and closed so: with registrations that would
  // count as a move to work.
  referrals.push_back(Participant(v1::GENDER_MALE, 22, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 3),
       Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT},
              v1::EDUCATION_LEVEL_PRIMARY));
  Step(referrals.back(), v1::ACTION_EXIT, Day(11, 4),
       Income({v1::INCOME_SOURCE_EMPLOYMENT}),
       {v1::OUTCOME_REASON_REGISTRATION_ERROR});
  // Someone who did start.
  referrals.push_back(Participant(v1::GENDER_FEMALE, 34, "halsosam"));
  Step(referrals.back(), v1::ACTION_START, Day(11, 5));

  const v1::OutcomeReport report =
      OutcomeReportOf(referrals, from, to, "", Stockholm());
  ASSERT_EQ(report.counts_size(), 1);
  EXPECT_EQ(report.counts(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(report.counts(0).participants(), 1);
  EXPECT_EQ(report.counts(0).starts(), 1);
  EXPECT_EQ(report.counts(0).exits(), 0);
  EXPECT_THAT(report.exit_reasons(), IsEmpty());
  EXPECT_EQ(report.income_known(), 0);
  EXPECT_EQ(report.moved_to_work_or_studies(), 0);
  EXPECT_THAT(report.income_changes(), IsEmpty());
  EXPECT_THAT(report.csv(), Not(HasSubstr("REGISTRATION_ERROR")));

  // The same exit for another reason counts everywhere.
  referrals[0].referral.mutable_history(1)->set_outcome_reasons(
      0, v1::OUTCOME_REASON_NEW_SICK_LEAVE);
  const v1::OutcomeReport counted =
      OutcomeReportOf(referrals, from, to, "", Stockholm());
  EXPECT_EQ(counted.counts_size(), 2);
  EXPECT_EQ(counted.exit_reasons_size(), 1);
  EXPECT_EQ(counted.income_known(), 1);
  EXPECT_EQ(counted.moved_to_work_or_studies(), 1);
}

// --- The SUS export ----------------------------------------------------

constexpr char kHalsosam[] =
    "providers/halsosam-halmstad/offerings/halsosam-platser";
constexpr char kRedo[] = "providers/redo-halland/offerings/redo-grupp";

const Caller kCoordinator{"samordning-halland", v1::ROLE_COORDINATOR, "13", ""};
const Caller kHalsosamProvider{"halsosam-halmstad", v1::ROLE_PROVIDER, "", ""};

// A referral "regions/13/referrals/{id}" of a new participant ("hb-{id}")
// to `offering`, made by kommun-halmstad-eb and held by halsosam-halmstad.
// Its consent, in force without end, gives the region's coordinators
// outcome data; unless `outcome_consent`, eligibility and case details
// instead.
ReferralRecord SusParticipant(const std::string& id, v1::Gender gender, int age,
                              const std::string& offering = kHalsosam,
                              bool outcome_consent = true) {
  ReferralRecord record = Participant(gender, age, "halsosam");
  record.region = "13";
  record.id = id;
  record.assigned_organisation = "halsosam-halmstad";
  v1::Referral& r = record.referral;
  r.set_name(absl::StrCat("regions/13/referrals/", id));
  r.set_referring_organisation("kommun-halmstad-eb");
  r.set_assigned_offering(offering);
  r.mutable_participant()->set_pseudonym(absl::StrCat("hb-", id));
  v1::Consent* consent = r.mutable_consent();
  consent->set_state(v1::CONSENT_STATE_ACTIVE);
  v1::ConsentScope* scope = consent->add_scopes();
  scope->set_party_class(v1::PARTY_CLASS_REGION_COORDINATORS);
  if (outcome_consent) {
    scope->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
  } else {
    scope->add_data_categories(v1::DATA_CATEGORY_ELIGIBILITY);
    scope->add_data_categories(v1::DATA_CATEGORY_CASE_DETAILS);
  }
  return record;
}

// Lets the provider holding `record` register its participant by name.
void GiveTheProviderOutcomes(ReferralRecord& record) {
  v1::ConsentScope* scope = record.referral.mutable_consent()->add_scopes();
  scope->set_party_class(v1::PARTY_CLASS_ASSIGNED_PROVIDER);
  scope->add_data_categories(v1::DATA_CATEGORY_OUTCOME);
}

v1::SusRegistration InRegistration() {
  return Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT,
                 v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE},
                v1::EDUCATION_LEVEL_UPPER_SECONDARY);
}

v1::SusRegistration OutRegistration() {
  v1::SusRegistration sus = Income({v1::INCOME_SOURCE_EMPLOYMENT});
  sus.set_work_kind(v1::WORK_KIND_SUBSIDISED);
  sus.set_registered_with_af(true);
  return sus;
}

// November 2026 (or [from, to]) as `reader` has it after the year's end.
v1::SusExport Export(const std::vector<ReferralRecord>& referrals,
                     const Caller& reader, const std::string& offering = "",
                     absl::CivilDay from = absl::CivilDay(2026, 11, 1),
                     absl::CivilDay to = absl::CivilDay(2026, 11, 30)) {
  return SusExportOf(referrals, from, to, offering, reader, Day(12, 31, 20),
                     Stockholm());
}

// "2026-11-03"; "" for no date.
std::string DayOf(const v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::FormatCivilTime(
      absl::CivilDay(date.year(), date.month(), date.day()));
}

TEST(ReportsTest, SusExportNamesAParticipantTheConsentCovers) {
  ReferralRecord anna = SusParticipant("01anna", v1::GENDER_FEMALE, 34);
  Step(anna, v1::ACTION_CREATE, Day(10, 20));
  Step(anna, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(anna, v1::ACTION_COMPLETE, Day(11, 24), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED, v1::OUTCOME_REASON_WORK});

  const v1::SusExport out = Export({anna}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  const v1::SusRow& in = out.rows(0);
  EXPECT_EQ(in.moment(), v1::SUS_MOMENT_IN);
  EXPECT_EQ(DayOf(in.date()), "2026-11-03");
  EXPECT_EQ(in.offering(), kHalsosam);
  EXPECT_EQ(in.activity_type(), "halsosam");
  EXPECT_EQ(in.referral(), "regions/13/referrals/01anna");
  EXPECT_FALSE(in.anonymous());
  EXPECT_EQ(in.gender(), v1::GENDER_FEMALE);
  ASSERT_TRUE(in.has_age_years());
  EXPECT_EQ(in.age_years(), 34);
  EXPECT_EQ(DayOf(in.start_date()), "2026-11-03");
  EXPECT_EQ(in.ending(), v1::SUS_ENDING_UNSPECIFIED);
  EXPECT_EQ(in.referring_organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(in.participant_pseudonym(), "hb-01anna");
  EXPECT_THAT(in.registration().income_sources(),
              ElementsAre(v1::INCOME_SOURCE_SICKNESS_BENEFIT,
                          v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE));
  EXPECT_EQ(in.registration().education_level(),
            v1::EDUCATION_LEVEL_UPPER_SECONDARY);
  EXPECT_THAT(in.outcome_reasons(), IsEmpty());

  const v1::SusRow& left = out.rows(1);
  EXPECT_EQ(left.moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(DayOf(left.date()), "2026-11-24");
  EXPECT_EQ(DayOf(left.start_date()), "2026-11-03");
  EXPECT_EQ(DayOf(left.end_date()), "2026-11-24");
  EXPECT_EQ(left.ending(), v1::SUS_ENDING_COMPLETED);
  EXPECT_FALSE(left.anonymous());
  EXPECT_EQ(left.referral(), "regions/13/referrals/01anna");
  EXPECT_EQ(left.referring_organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(left.participant_pseudonym(), "hb-01anna");
  EXPECT_THAT(left.registration().income_sources(),
              ElementsAre(v1::INCOME_SOURCE_EMPLOYMENT));
  EXPECT_EQ(left.registration().work_kind(), v1::WORK_KIND_SUBSIDISED);
  EXPECT_FALSE(left.registration().studies());
  EXPECT_TRUE(left.registration().registered_with_af());
  EXPECT_THAT(left.outcome_reasons(),
              ElementsAre(v1::OUTCOME_REASON_PROGRAMME_COMPLETED,
                          v1::OUTCOME_REASON_WORK));
}

TEST(ReportsTest, SusExportCallsAnExitDiscontinued) {
  ReferralRecord berit = SusParticipant("01berit", v1::GENDER_FEMALE, 31);
  Step(berit, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(berit, v1::ACTION_EXIT, Day(11, 10),
       Income({v1::INCOME_SOURCE_SICKNESS_BENEFIT}),
       {v1::OUTCOME_REASON_NEW_SICK_LEAVE});

  const v1::SusExport out = Export({berit}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  EXPECT_EQ(out.rows(1).moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(out.rows(1).ending(), v1::SUS_ENDING_DISCONTINUED);
  EXPECT_THAT(out.rows(1).outcome_reasons(),
              ElementsAre(v1::OUTCOME_REASON_NEW_SICK_LEAVE));
  // Not working is NONE; neither studying nor registered with AF.
  EXPECT_THAT(out.csv(),
              HasSubstr(";DISCONTINUED;kommun-halmstad-eb;hb-01berit;"
                        "SICKNESS_BENEFIT;;NONE;no;no;NEW_SICK_LEAVE\n"));
}

TEST(ReportsTest, SusExportEndsAParticipationAtAConsentWithdrawal) {
  ReferralRecord carl = SusParticipant("01carl", v1::GENDER_MALE, 45);
  Step(carl, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(carl, v1::ACTION_WITHDRAW_CONSENT, Day(11, 12));
  // As the withdrawal leaves it: the consent withdrawn, the place given up.
  carl.referral.mutable_consent()->set_state(v1::CONSENT_STATE_WITHDRAWN);
  carl.referral.clear_assigned_offering();
  carl.assigned_organisation.clear();
  // A withdrawal before any start ends no participation.
  ReferralRecord dan = SusParticipant("01dan", v1::GENDER_MALE, 50);
  Step(dan, v1::ACTION_WITHDRAW_CONSENT, Day(11, 5));

  const v1::SusExport out = Export({carl, dan}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  EXPECT_EQ(out.rows(0).moment(), v1::SUS_MOMENT_IN);
  const v1::SusRow& left = out.rows(1);
  // Anonymous: no referral named; the start date pairs it with its in-row.
  EXPECT_EQ(left.referral(), "");
  EXPECT_EQ(DayOf(left.start_date()), "2026-11-03");
  EXPECT_EQ(left.moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(DayOf(left.date()), "2026-11-12");
  EXPECT_EQ(DayOf(left.end_date()), "2026-11-12");
  EXPECT_EQ(left.ending(), v1::SUS_ENDING_DISCONTINUED);
  // The insats is the one started, though the place is given up.
  EXPECT_EQ(left.offering(), kHalsosam);
  // The consent no longer lets anyone register them by name.
  EXPECT_TRUE(left.anonymous());
  EXPECT_FALSE(out.rows(0).has_registration());
}

TEST(ReportsTest, SusExportIsAnonymousWhereTheConsentDoesNotCoverOutcomes) {
  ReferralRecord dora = SusParticipant("01dora", v1::GENDER_FEMALE, 52,
                                       kHalsosam, /*outcome_consent=*/false);
  Step(dora, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(dora, v1::ACTION_EXIT, Day(11, 20), OutRegistration(),
       {v1::OUTCOME_REASON_NEW_SICK_LEAVE});

  const v1::SusExport out = Export({dora}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  for (const v1::SusRow& row : out.rows()) {
    SCOPED_TRACE(v1::SusMoment_Name(row.moment()));
    EXPECT_TRUE(row.anonymous());
    EXPECT_EQ(row.gender(), v1::GENDER_FEMALE);
    EXPECT_EQ(row.age_years(), 52);
    EXPECT_EQ(DayOf(row.start_date()), "2026-11-03");
    EXPECT_EQ(row.referral(), "");
    EXPECT_EQ(row.referring_organisation(), "");
    EXPECT_EQ(row.participant_pseudonym(), "");
    EXPECT_FALSE(row.has_registration());
    EXPECT_THAT(row.outcome_reasons(), IsEmpty());
  }
  EXPECT_EQ(DayOf(out.rows(0).date()), "2026-11-03");
  EXPECT_FALSE(out.rows(0).has_end_date());  // an in-row has no end
  EXPECT_EQ(DayOf(out.rows(1).end_date()), "2026-11-20");
  EXPECT_EQ(out.rows(1).ending(), v1::SUS_ENDING_DISCONTINUED);
  EXPECT_THAT(out.csv(), Not(HasSubstr("hb-01dora")));
  EXPECT_THAT(out.csv(), Not(HasSubstr("kommun-halmstad-eb")));
  EXPECT_THAT(out.csv(), Not(HasSubstr("SICKNESS_BENEFIT")));
  EXPECT_THAT(out.csv(), Not(HasSubstr("NEW_SICK_LEAVE")));

  // Outcome data for the provider holding it: named to that provider,
  // still to no coordinator.
  GiveTheProviderOutcomes(dora);
  const v1::SusExport held = Export({dora}, kHalsosamProvider);
  ASSERT_EQ(held.rows_size(), 2);
  EXPECT_FALSE(held.rows(0).anonymous());
  EXPECT_EQ(held.rows(0).participant_pseudonym(), "hb-01dora");
  EXPECT_TRUE(held.rows(0).has_registration());
  EXPECT_TRUE(Export({dora}, kCoordinator).rows(0).anonymous());
}

TEST(ReportsTest, SusExportOfAProtectedParticipantNamesNoOneToACoordinator) {
  ReferralRecord eva = SusParticipant("01eva", v1::GENDER_FEMALE, 29);
  GiveTheProviderOutcomes(eva);
  eva.referral.set_protected_personal_data(true);
  Step(eva, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(eva, v1::ACTION_COMPLETE, Day(11, 24), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED});

  // The consent would name her to the coordinator; the protection does
  // not, and the coordinator, who may not see the referral, gets no name.
  const v1::SusExport out = Export({eva}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  for (const v1::SusRow& row : out.rows()) {
    SCOPED_TRACE(v1::SusMoment_Name(row.moment()));
    EXPECT_TRUE(row.anonymous());
    EXPECT_EQ(row.referral(), "");
    EXPECT_EQ(row.participant_pseudonym(), "");
    EXPECT_EQ(row.referring_organisation(), "");
    EXPECT_FALSE(row.has_registration());
    EXPECT_EQ(row.gender(), v1::GENDER_FEMALE);
    EXPECT_EQ(row.age_years(), 29);
  }
  EXPECT_EQ(out.rows(1).ending(), v1::SUS_ENDING_COMPLETED);
  EXPECT_THAT(out.csv(), Not(HasSubstr("01eva")));

  // The provider holding it may not register her by name either: its
  // rows are as anonymous (no referral named).
  const v1::SusExport held = Export({eva}, kHalsosamProvider);
  ASSERT_EQ(held.rows_size(), 2);
  EXPECT_EQ(held.rows(0).referral(), "");
  EXPECT_TRUE(held.rows(0).anonymous());
  EXPECT_EQ(held.rows(0).participant_pseudonym(), "");
  EXPECT_FALSE(held.rows(0).has_registration());

  // Unprotected, the same referral is named to both.
  ReferralRecord unprotected = eva;
  unprotected.referral.set_protected_personal_data(false);
  EXPECT_FALSE(Export({unprotected}, kCoordinator).rows(0).anonymous());
  EXPECT_FALSE(Export({unprotected}, kHalsosamProvider).rows(0).anonymous());
}

TEST(ReportsTest, SusExportRegistersAJointMappingsRequestAndMeetings) {
  ReferralRecord fia = SusParticipant("01fia", v1::GENDER_FEMALE, 40);
  fia.referral.mutable_joint_mapping()->set_counterpart(
      v1::AGENCY_KIND_ARBETSFORMEDLINGEN);
  Step(fia, v1::ACTION_CREATE, Day(11, 2));
  Step(fia, v1::ACTION_START, Day(11, 9), InRegistration());
  Step(fia, v1::ACTION_COMPLETE, Day(11, 30), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED});
  // Asked for, not yet met.
  ReferralRecord gun = SusParticipant("01gun", v1::GENDER_MALE, 58);
  gun.referral.mutable_joint_mapping()->set_counterpart(
      v1::AGENCY_KIND_FORSAKRINGSKASSAN);
  Step(gun, v1::ACTION_CREATE, Day(11, 20));

  const v1::SusExport out = Export({fia, gun}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 4);
  EXPECT_EQ(out.rows(0).moment(), v1::SUS_MOMENT_REQUEST);
  EXPECT_EQ(out.rows(0).referral(), "regions/13/referrals/01fia");
  EXPECT_EQ(DayOf(out.rows(0).date()), "2026-11-02");
  EXPECT_EQ(out.rows(0).ending(), v1::SUS_ENDING_UNSPECIFIED);
  EXPECT_EQ(out.rows(1).moment(), v1::SUS_MOMENT_FIRST_MEETING);
  EXPECT_EQ(DayOf(out.rows(1).date()), "2026-11-09");
  EXPECT_EQ(out.rows(2).moment(), v1::SUS_MOMENT_REQUEST);
  EXPECT_EQ(out.rows(2).referral(), "regions/13/referrals/01gun");
  EXPECT_EQ(out.rows(3).moment(), v1::SUS_MOMENT_LAST_MEETING);
  EXPECT_EQ(DayOf(out.rows(3).date()), "2026-11-30");
  EXPECT_EQ(out.rows(3).ending(), v1::SUS_ENDING_COMPLETED);
  EXPECT_THAT(out.csv(), HasSubstr("\nREQUEST;2026-11-02;"));
  EXPECT_THAT(out.csv(), HasSubstr("\nFIRST_MEETING;2026-11-09;"));
  EXPECT_THAT(out.csv(), HasSubstr("\nLAST_MEETING;2026-11-30;"));
  // A request is no start: the month counts the meetings only.
  ASSERT_EQ(out.monthly_size(), 1);
  EXPECT_EQ(out.monthly(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(out.monthly(0).started(), 1);
  EXPECT_EQ(out.monthly(0).ended(), 1);
}

TEST(ReportsTest, SusExportLeavesOutWhatLiesOutsideThePeriod) {
  // Started before the period, completed in it: the out-row only.
  ReferralRecord anna = SusParticipant("01anna", v1::GENDER_FEMALE, 34);
  Step(anna, v1::ACTION_START, Day(10, 20), InRegistration());
  Step(anna, v1::ACTION_COMPLETE, Day(11, 10), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED});
  // Started half an hour into 1 December in Stockholm (still 30 November
  // in UTC): after the period.
  ReferralRecord bo = SusParticipant("01bo", v1::GENDER_MALE, 30);
  Step(bo, v1::ACTION_START, Day(12, 1, 0) + absl::Minutes(30),
       InRegistration());
  // Started late on 30 November: in it.
  ReferralRecord cia = SusParticipant("01cia", v1::GENDER_FEMALE, 25);
  Step(cia, v1::ACTION_START, Day(11, 30, 23), InRegistration());
  // Started and ended before it.
  ReferralRecord dan = SusParticipant("01dan", v1::GENDER_MALE, 50);
  Step(dan, v1::ACTION_START, Day(9, 1), InRegistration());
  Step(dan, v1::ACTION_EXIT, Day(10, 31, 23), OutRegistration(),
       {v1::OUTCOME_REASON_WORK});

  const v1::SusExport out = Export({anna, bo, cia, dan}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 2);
  EXPECT_EQ(out.rows(0).referral(), "regions/13/referrals/01anna");
  EXPECT_EQ(out.rows(0).moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(DayOf(out.rows(0).start_date()), "2026-10-20");
  EXPECT_EQ(out.rows(1).referral(), "regions/13/referrals/01cia");
  EXPECT_EQ(out.rows(1).moment(), v1::SUS_MOMENT_IN);
  EXPECT_EQ(DayOf(out.rows(1).date()), "2026-11-30");
}

TEST(ReportsTest, SusExportFiltersOnTheOffering) {
  ReferralRecord anna = SusParticipant("01anna", v1::GENDER_FEMALE, 34);
  Step(anna, v1::ACTION_START, Day(11, 3), InRegistration());
  ReferralRecord bo = SusParticipant("01bo", v1::GENDER_MALE, 30, kRedo);
  Step(bo, v1::ACTION_START, Day(11, 5), InRegistration());

  EXPECT_EQ(Export({anna, bo}, kCoordinator).rows_size(), 2);
  const v1::SusExport redo = Export({anna, bo}, kCoordinator, kRedo);
  ASSERT_EQ(redo.rows_size(), 1);
  EXPECT_EQ(redo.rows(0).referral(), "regions/13/referrals/01bo");
  EXPECT_EQ(redo.rows(0).offering(), kRedo);
  ASSERT_EQ(redo.monthly_size(), 1);
  EXPECT_EQ(redo.monthly(0).offering(), kRedo);
  EXPECT_EQ(
      Export({anna, bo}, kCoordinator, "providers/redo-halland/offerings/annan")
          .rows_size(),
      0);
}

TEST(ReportsTest, SusExportShowsARegistrationErrorButDoesNotCountIt) {
  ReferralRecord bo = SusParticipant("01bo", v1::GENDER_MALE, 22);
  Step(bo, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(bo, v1::ACTION_EXIT, Day(11, 4), v1::SusRegistration(),
       {v1::OUTCOME_REASON_REGISTRATION_ERROR});
  ReferralRecord cia = SusParticipant("01cia", v1::GENDER_FEMALE, 34);
  Step(cia, v1::ACTION_START, Day(11, 5), InRegistration());

  const v1::SusExport out = Export({bo, cia}, kCoordinator);
  ASSERT_EQ(out.rows_size(), 3);
  EXPECT_EQ(out.rows(0).referral(), "regions/13/referrals/01bo");
  EXPECT_EQ(out.rows(0).moment(), v1::SUS_MOMENT_IN);
  EXPECT_EQ(out.rows(0).ending(), v1::SUS_ENDING_UNSPECIFIED);
  EXPECT_EQ(out.rows(1).referral(), "regions/13/referrals/01bo");
  EXPECT_EQ(out.rows(1).moment(), v1::SUS_MOMENT_OUT);
  EXPECT_EQ(out.rows(1).ending(), v1::SUS_ENDING_REGISTRATION_ERROR);
  EXPECT_THAT(out.rows(1).outcome_reasons(),
              ElementsAre(v1::OUTCOME_REASON_REGISTRATION_ERROR));
  EXPECT_EQ(out.rows(2).referral(), "regions/13/referrals/01cia");
  EXPECT_THAT(out.csv(), HasSubstr(";REGISTRATION_ERROR;"));
  // The monthly counts hold the real start only.
  ASSERT_EQ(out.monthly_size(), 1);
  EXPECT_EQ(out.monthly(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(out.monthly(0).started(), 1);
  EXPECT_EQ(out.monthly(0).ended(), 0);
}

TEST(ReportsTest, SusExportCountsPerMonthOfferingGenderAndAgeBand) {
  ReferralRecord anna = SusParticipant("01anna", v1::GENDER_FEMALE, 34);
  Step(anna, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(anna, v1::ACTION_COMPLETE, Day(12, 2), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED});
  // Anonymous rows count as much as named ones.
  ReferralRecord berit = SusParticipant("01berit", v1::GENDER_FEMALE, 31,
                                        kHalsosam, /*outcome_consent=*/false);
  Step(berit, v1::ACTION_START, Day(11, 10), InRegistration());
  ReferralRecord carl = SusParticipant("01carl", v1::GENDER_MALE, 22);
  Step(carl, v1::ACTION_START, Day(11, 12), InRegistration());
  ReferralRecord dan = SusParticipant("01dan", v1::GENDER_MALE, 40, kRedo);
  Step(dan, v1::ACTION_START, Day(12, 5), InRegistration());
  Step(dan, v1::ACTION_EXIT, Day(12, 20), OutRegistration(),
       {v1::OUTCOME_REASON_WORK});

  const v1::SusExport out =
      Export({anna, berit, carl, dan}, kCoordinator, "",
             absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 12, 31));
  ASSERT_EQ(out.monthly_size(), 4);
  EXPECT_EQ(out.monthly(0).month(), "2026-11");
  EXPECT_EQ(out.monthly(0).offering(), kHalsosam);
  EXPECT_EQ(out.monthly(0).gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(out.monthly(0).age_band(), "30-39");
  EXPECT_EQ(out.monthly(0).started(), 2);
  EXPECT_EQ(out.monthly(0).ended(), 0);
  EXPECT_EQ(out.monthly_csv(),
            absl::StrCat("month;offering;gender;age_band;started;ended\n",  //
                         "2026-11;", kHalsosam, ";FEMALE;30-39;2;0\n",      //
                         "2026-11;", kHalsosam, ";MALE;16-24;1;0\n",        //
                         "2026-12;", kHalsosam, ";FEMALE;30-39;0;1\n",      //
                         "2026-12;", kRedo, ";MALE;40-49;1;1\n"));
}

TEST(ReportsTest, SusExportCsvHasTheDocumentedColumns) {
  ReferralRecord anna = SusParticipant("01anna", v1::GENDER_FEMALE, 34);
  Step(anna, v1::ACTION_START, Day(11, 3), InRegistration());
  Step(anna, v1::ACTION_COMPLETE, Day(11, 24), OutRegistration(),
       {v1::OUTCOME_REASON_PROGRAMME_COMPLETED, v1::OUTCOME_REASON_WORK});

  const std::string csv = Export({anna}, kCoordinator).csv();
  EXPECT_THAT(csv,
              StartsWith("moment;date;offering;activity_type;referral;"
                         "anonymous;gender;age_years;start_date;end_date;"
                         "ending;referring_organisation;participant_pseudonym;"
                         "income_sources;education_level;work_kind;studies;"
                         "registered_with_af;outcome_reasons\n"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_THAT(csv, HasSubstr(absl::StrCat(
                       "\nOUT;2026-11-24;", kHalsosam,
                       ";halsosam;regions/13/referrals/01anna;no;FEMALE;34;"
                       "2026-11-03;2026-11-24;COMPLETED;kommun-halmstad-eb;"
                       "hb-01anna;EMPLOYMENT;;SUBSIDISED;no;yes;"
                       "PROGRAMME_COMPLETED,WORK\n")));
  // The in-row: what was registered at the start, no end-only cells.
  EXPECT_THAT(csv, HasSubstr(absl::StrCat("\nIN;2026-11-03;", kHalsosam,
                                          ";halsosam;")));
  EXPECT_THAT(csv, HasSubstr(";hb-01anna;SICKNESS_BENEFIT,FINANCIAL_ASSISTANCE;"
                             "UPPER_SECONDARY;;;;\n"));
}

}  // namespace
}  // namespace slussen::core

// The coordinator's reports on hand-made records: response times (median,
// 90th percentile, breach rate, participant pauses left out) and the
// outcome report (who took part, starts, exits and their reasons, the CSV).
#include "broker/core/reports.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace slussen::core

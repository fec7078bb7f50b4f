#include "broker/core/reports.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "broker/core/deadlines.h"
#include "broker/core/matcher.h"
#include "broker/core/proto_time.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

// Nearest rank: the smallest value with at least `percent` % at or below.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted,
                          int percent) {
  const size_t n = sorted.size();
  size_t rank = (n * percent + 99) / 100;  // ceil(n * p / 100)
  rank = std::max<size_t>(rank, 1);
  return sorted[rank - 1];
}

bool Late(const v1::Clock& clock) {
  return clock.state() == v1::CLOCK_STATE_MET_LATE ||
         clock.state() == v1::CLOCK_STATE_BREACHED ||
         clock.escalation_level() > 0;
}

std::string GenderName(v1::Gender gender) {
  return gender == v1::GENDER_UNSPECIFIED
             ? "UNKNOWN"
             : v1::Gender_Name(gender).substr(sizeof("GENDER_") - 1);
}

}  // namespace

std::string AgeBand(std::optional<int> age) {
  if (!age.has_value()) return "unknown";
  if (*age < 16) return "under 16";
  if (*age <= 24) return "16-24";
  if (*age <= 29) return "25-29";
  if (*age <= 39) return "30-39";
  if (*age <= 49) return "40-49";
  if (*age <= 59) return "50-59";
  if (*age <= 64) return "60-64";
  return "65-";
}

std::vector<v1::ResponseTimeRow> ResponseTimes(
    const std::vector<v1::Clock>& clocks, absl::Time start, absl::Time end,
    absl::Time now) {
  struct Group {
    std::vector<absl::Duration> times;
    int late = 0;
  };
  std::map<std::pair<std::string, int>, Group> groups;
  for (const v1::Clock& clock : clocks) {
    const absl::Time started = ToAbslTime(clock.start_time());
    if (started < start || started >= end) continue;
    if (clock.state() == v1::CLOCK_STATE_CANCELLED) continue;
    const bool open = IsOpen(clock);
    if (open && !Late(clock)) continue;  // not yet known
    const absl::Time stopped = open ? now : ToAbslTime(clock.stop_time());
    const absl::Duration took =
        stopped - started -
        PausedFor(clock, v1::DELAY_CAUSE_PARTICIPANT, stopped);
    Group& group = groups[{clock.awaited_organisation().empty()
                               ? std::string("(none)")
                               : clock.awaited_organisation(),
                           clock.kind()}];
    group.times.push_back(std::max(took, absl::ZeroDuration()));
    group.late += Late(clock) ? 1 : 0;
  }
  std::vector<v1::ResponseTimeRow> rows;
  for (auto& [key, group] : groups) {
    std::sort(group.times.begin(), group.times.end());
    v1::ResponseTimeRow& row = rows.emplace_back();
    row.set_party(key.first);
    row.set_clock_kind(static_cast<v1::ClockKind>(key.second));
    row.set_clocks(static_cast<int>(group.times.size()));
    *row.mutable_median() = ToProtoDuration(Percentile(group.times, 50));
    *row.mutable_p90() = ToProtoDuration(Percentile(group.times, 90));
    row.set_breach_rate(static_cast<double>(group.late) /
                        static_cast<double>(group.times.size()));
  }
  return rows;
}

v1::OutcomeReport OutcomeReportOf(const std::vector<ReferralRecord>& records,
                                  absl::CivilDay from, absl::CivilDay to,
                                  const std::string& activity_type,
                                  absl::TimeZone zone) {
  const auto day_of = [&](const google::protobuf::Timestamp& t) {
    return absl::ToCivilDay(ToAbslTime(t), zone);
  };
  const auto in_period = [&](const google::protobuf::Timestamp& t) {
    const absl::CivilDay day = day_of(t);
    return from <= day && day <= to;
  };
  std::map<std::tuple<int, std::string>, v1::OutcomeCount> counts;
  // The people counted in each row, by audit subject.
  std::map<std::tuple<int, std::string>, std::set<std::string>> people;
  std::map<int, int> reasons;
  int followed_up = 0, positive = 0;
  v1::ImpulseCounts impulses;
  for (const ReferralRecord& record : records) {
    const v1::Referral& referral = record.referral;
    if (!activity_type.empty() && ActivityTypeFor(referral) != activity_type) {
      continue;
    }
    if (referral.has_impulse()) {
      if (in_period(referral.create_time())) {
        impulses.set_received(impulses.received() + 1);
      }
      for (const v1::Transition& t : referral.history()) {
        if (!in_period(t.time())) continue;
        if (t.action() == v1::ACTION_START) {
          impulses.set_started(impulses.started() + 1);
        } else if (t.action() == v1::ACTION_EXIT ||
                   t.action() == v1::ACTION_COMPLETE) {
          impulses.set_ended(impulses.ended() + 1);
        }
      }
      continue;
    }
    std::optional<absl::CivilDay> started, ended;
    std::vector<const v1::Transition*> exits;
    const v1::Transition* follow_up = nullptr;
    for (const v1::Transition& t : referral.history()) {
      if (t.action() == v1::ACTION_START && !started)
        started = day_of(t.time());
      if (t.action() == v1::ACTION_EXIT || t.action() == v1::ACTION_COMPLETE) {
        ended = day_of(t.time());
        exits.push_back(&t);
      }
      if (t.action() == v1::ACTION_RECORD_FOLLOW_UP) follow_up = &t;
    }
    if (!started || *started > to || (ended && *ended < from)) continue;
    const v1::ParticipantAttributes& a = referral.participant().attributes();
    const v1::Gender gender = a.gender();
    const std::string band = AgeBand(
        a.has_age_years() ? std::optional<int>(a.age_years()) : std::nullopt);
    v1::OutcomeCount& count = counts[{gender, band}];
    count.set_gender(gender);
    count.set_age_band(band);
    if (record.audit_subject.empty() ||
        people[{gender, band}].insert(record.audit_subject).second) {
      count.set_participants(count.participants() + 1);
    }
    if (*started >= from) count.set_starts(count.starts() + 1);
    bool exited_in_period = false;
    for (const v1::Transition* exit : exits) {
      const absl::CivilDay day = day_of(exit->time());
      if (day < from || day > to) continue;
      exited_in_period = true;
      count.set_exits(count.exits() + 1);
      for (int reason : exit->outcome_reasons()) ++reasons[reason];
    }
    // The follow-up of an exit in the period: in work, studies or an AF
    // programme counts as positive.
    if (exited_in_period && follow_up != nullptr) {
      ++followed_up;
      for (int reason : follow_up->outcome_reasons()) {
        if (reason == v1::OUTCOME_REASON_WORK ||
            reason == v1::OUTCOME_REASON_OWN_BUSINESS ||
            reason == v1::OUTCOME_REASON_STUDIES ||
            reason == v1::OUTCOME_REASON_AF_PROGRAMME) {
          ++positive;
          break;
        }
      }
    }
  }
  v1::OutcomeReport report;
  report.set_followed_up(followed_up);
  report.set_followed_up_positive(positive);
  std::string csv = "gender;age_band;participants;starts;exits\n";
  for (const auto& [key, count] : counts) {
    *report.add_counts() = count;
    absl::StrAppend(&csv, GenderName(count.gender()), ";", count.age_band(),
                    ";", count.participants(), ";", count.starts(), ";",
                    count.exits(), "\n");
  }
  absl::StrAppend(&csv, "\nexit_reason;count\n");
  for (const auto& [reason, n] : reasons) {
    v1::ExitReasonCount* row = report.add_exit_reasons();
    row->set_reason(static_cast<v1::OutcomeReason>(reason));
    row->set_count(n);
    absl::StrAppend(
        &csv,
        v1::OutcomeReason_Name(static_cast<v1::OutcomeReason>(reason))
            .substr(sizeof("OUTCOME_REASON_") - 1),
        ";", n, "\n");
  }
  absl::StrAppend(&csv, "\nfollowed_up;followed_up_positive\n", followed_up,
                  ";", positive, "\n");
  absl::StrAppend(&csv, "\nimpulses_received;impulses_started;impulses_ended\n",
                  impulses.received(), ";", impulses.started(), ";",
                  impulses.ended(), "\n");
  *report.mutable_impulses() = impulses;
  report.set_csv(std::move(csv));
  return report;
}

}  // namespace slussen::core

#include "broker/core/model/reports.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/access.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/matcher.h"
#include "broker/core/model/proto_time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

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

// The enum value's name without its prefix ("SICKNESS_BENEFIT").
template <typename E>
std::string ShortName(E value, absl::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* d =
      google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  if (d == nullptr) return absl::StrCat(static_cast<int>(value));
  absl::string_view name = d->name();
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

bool HasReason(const v1::Transition& t, v1::OutcomeReason reason) {
  return std::count(t.outcome_reasons().begin(), t.outcome_reasons().end(),
                    reason) > 0;
}

// The referral's participation as SUS sees it: its start, its end, and
// whether the start was a mistake (closed with a registration error).
struct Participation {
  const v1::Transition* request = nullptr;  // a joint mapping's creation
  const v1::Transition* start = nullptr;
  const v1::Transition* end = nullptr;
  bool mistake = false;
};

Participation ParticipationOf(const v1::Referral& referral) {
  Participation p;
  for (const v1::Transition& t : referral.history()) {
    switch (t.action()) {
      case v1::ACTION_CREATE:
        if (p.request == nullptr) p.request = &t;
        break;
      case v1::ACTION_START:
        if (p.start == nullptr) p.start = &t;
        break;
      case v1::ACTION_COMPLETE:
      case v1::ACTION_EXIT:
        if (p.end == nullptr) p.end = &t;
        break;
      case v1::ACTION_WITHDRAW_CONSENT:
        // A withdrawn consent ends a participation that had started.
        if (p.end == nullptr && p.start != nullptr) p.end = &t;
        break;
      default:
        break;
    }
  }
  p.mistake = p.end != nullptr && p.end->action() == v1::ACTION_EXIT &&
              HasReason(*p.end, v1::OUTCOME_REASON_REGISTRATION_ERROR);
  return p;
}

// Income that is work, own business or studies; and support while out of
// work (sickness benefit or compensation, financial assistance).
bool IsOwnIncome(int source) {
  return source == v1::INCOME_SOURCE_EMPLOYMENT ||
         source == v1::INCOME_SOURCE_OWN_BUSINESS ||
         source == v1::INCOME_SOURCE_STUDY_SUPPORT;
}
bool IsSickOrAssisted(int source) {
  return source == v1::INCOME_SOURCE_SICKNESS_BENEFIT ||
         source == v1::INCOME_SOURCE_SICKNESS_COMPENSATION ||
         source == v1::INCOME_SOURCE_FINANCIAL_ASSISTANCE;
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
  int income_known = 0, moved = 0;
  std::map<std::pair<int, int>, int> income_changes;
  v1::ImpulseCounts impulses;
  // Joint referrals per agency, and how many were made.
  std::map<std::string, v1::JointReferralCount> joint;
  int joint_made = 0;
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
    // A start recorded by mistake leaves the statistics.
    const Participation participation = ParticipationOf(referral);
    if (referral.has_joint()) {
      const bool made = in_period(referral.create_time());
      const bool started_in_period = !participation.mistake &&
                                     participation.start != nullptr &&
                                     in_period(participation.start->time());
      if (made) ++joint_made;
      const auto count_for = [&](const std::string& organisation,
                                 v1::JointPartyRole role) {
        if (!made && !started_in_period) return;
        v1::JointReferralCount& row = joint[organisation];
        row.set_organisation(organisation);
        if (made && role == v1::JOINT_PARTY_ROLE_LEAD) {
          row.set_led(row.led() + 1);
        } else if (made && role == v1::JOINT_PARTY_ROLE_CO_REFERRER) {
          row.set_co_referred(row.co_referred() + 1);
        } else if (made) {
          row.set_informed(row.informed() + 1);
        }
        if (started_in_period) row.set_started(row.started() + 1);
      };
      count_for(referral.referring_organisation(), v1::JOINT_PARTY_ROLE_LEAD);
      for (const v1::JointParty& party : referral.joint().parties()) {
        count_for(party.organisation(), party.role());
      }
    }
    if (participation.mistake) continue;
    std::optional<absl::CivilDay> started, ended;
    std::vector<const v1::Transition*> exits;
    const v1::Transition* start_transition = nullptr;
    const v1::Transition* follow_up = nullptr;
    for (const v1::Transition& t : referral.history()) {
      if (t.action() == v1::ACTION_START && !started) {
        started = day_of(t.time());
        start_transition = &t;
      }
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
      // Income before and after, where both registrations were recorded.
      const v1::SusRegistration& after = exit->sus();
      if (start_transition == nullptr ||
          start_transition->sus().income_sources().empty() ||
          after.income_sources().empty()) {
        continue;
      }
      const v1::SusRegistration& before = start_transition->sus();
      ++income_known;
      for (int b : before.income_sources()) {
        for (int a : after.income_sources()) ++income_changes[{b, a}];
      }
      const bool was_out =
          std::any_of(before.income_sources().begin(),
                      before.income_sources().end(), IsSickOrAssisted);
      const bool is_in =
          std::any_of(after.income_sources().begin(),
                      after.income_sources().end(), IsOwnIncome) ||
          after.work_kind() != v1::WORK_KIND_UNSPECIFIED || after.studies();
      if (was_out && is_in) ++moved;
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
  report.set_income_known(income_known);
  report.set_moved_to_work_or_studies(moved);
  absl::StrAppend(&csv, "\nincome_before;income_after;participants\n");
  for (const auto& [pair, n] : income_changes) {
    v1::IncomeChange* row = report.add_income_changes();
    row->set_before(static_cast<v1::IncomeSource>(pair.first));
    row->set_after(static_cast<v1::IncomeSource>(pair.second));
    row->set_participants(n);
    absl::StrAppend(&csv, ShortName(row->before(), "INCOME_SOURCE_"), ";",
                    ShortName(row->after(), "INCOME_SOURCE_"), ";", n, "\n");
  }
  absl::StrAppend(&csv, "\nincome_known;moved_to_work_or_studies\n",
                  income_known, ";", moved, "\n");
  report.set_joint_referrals_made(joint_made);
  absl::StrAppend(&csv,
                  "\njoint_referral_organisation;led;co_referred;informed;"
                  "started\n");
  for (const auto& [organisation, row] : joint) {
    *report.add_joint_referrals() = row;
    absl::StrAppend(&csv, organisation, ";", row.led(), ";", row.co_referred(),
                    ";", row.informed(), ";", row.started(), "\n");
  }
  absl::StrAppend(&csv, "\njoint_referrals_made\n", joint_made, "\n");
  report.set_csv(std::move(csv));
  return report;
}

namespace {

std::string DateText(const v1::Date& date) {
  if (date.year() == 0) return "";
  return absl::FormatCivilTime(
      absl::CivilDay(date.year(), date.month(), date.day()));
}

template <typename E, typename Repeated>
std::string NamesOf(const Repeated& values, absl::string_view prefix) {
  std::vector<std::string> names;
  for (int value : values) {
    names.push_back(ShortName(static_cast<E>(value), prefix));
  }
  return absl::StrJoin(names, ",");
}

// A CSV cell: the separator and line breaks are not allowed in the
// values written here (codes, names, dates), so this only guards.
std::string Cell(absl::string_view value) {
  std::string out(value);
  std::replace(out.begin(), out.end(), ';', ',');
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

}  // namespace

v1::SusExport SusExportOf(const std::vector<ReferralRecord>& records,
                          absl::CivilDay from, absl::CivilDay to,
                          const std::string& offering, const Caller& reader,
                          absl::Time now, absl::TimeZone zone) {
  const auto day_of = [&](const v1::Transition& t) {
    return absl::ToCivilDay(ToAbslTime(t.time()), zone);
  };
  const auto in_period = [&](const v1::Transition* t) {
    if (t == nullptr) return false;
    const absl::CivilDay day = day_of(*t);
    return from <= day && day <= to;
  };
  struct Keyed {
    absl::CivilDay day;
    std::string referral;
    int moment;
    v1::SusRow row;
    bool counted;  // in the monthly counts (not a mistaken start)
  };
  std::vector<Keyed> rows;
  for (const ReferralRecord& record : records) {
    const v1::Referral& referral = record.referral;
    if (referral.has_impulse()) continue;  // no participant to register
    const Participation p = ParticipationOf(referral);
    const std::string insats =
        p.start != nullptr ? p.start->offering() : referral.assigned_offering();
    if (!offering.empty() && insats != offering) continue;
    const bool joint = referral.has_joint_mapping();
    const bool by_name = MayRegisterInSus(reader, record, now);
    v1::SusRow base;
    base.set_offering(insats);
    base.set_activity_type(ActivityTypeFor(referral));
    base.set_anonymous(!by_name);
    const v1::ParticipantAttributes& a = referral.participant().attributes();
    base.set_gender(a.gender());
    if (a.has_age_years()) base.set_age_years(a.age_years());
    if (p.start != nullptr)
      *base.mutable_start_date() = ToProtoDate(day_of(*p.start));
    if (by_name) {
      // An anonymous row names nothing that leads to the person, not even
      // the referral (its out-row carries the start date to pair it by).
      base.set_referral(referral.name());
      base.set_referring_organisation(referral.referring_organisation());
      base.set_participant_pseudonym(referral.participant().pseudonym());
    }
    const auto add = [&](const v1::Transition& t, v1::SusMoment moment) {
      v1::SusRow row = base;
      row.set_moment(moment);
      *row.mutable_date() = ToProtoDate(day_of(t));
      if (moment == v1::SUS_MOMENT_OUT ||
          moment == v1::SUS_MOMENT_LAST_MEETING) {
        *row.mutable_end_date() = ToProtoDate(day_of(t));
        row.set_ending(p.mistake ? v1::SUS_ENDING_REGISTRATION_ERROR
                       : t.action() == v1::ACTION_COMPLETE
                           ? v1::SUS_ENDING_COMPLETED
                           : v1::SUS_ENDING_DISCONTINUED);
        if (by_name) *row.mutable_outcome_reasons() = t.outcome_reasons();
      }
      if (by_name && t.has_sus()) *row.mutable_registration() = t.sus();
      rows.push_back({day_of(t), referral.name(), moment, std::move(row),
                      !p.mistake && moment != v1::SUS_MOMENT_REQUEST});
    };
    if (joint && in_period(p.request)) add(*p.request, v1::SUS_MOMENT_REQUEST);
    if (in_period(p.start)) {
      add(*p.start, joint ? v1::SUS_MOMENT_FIRST_MEETING : v1::SUS_MOMENT_IN);
    }
    if (in_period(p.end)) {
      add(*p.end, joint ? v1::SUS_MOMENT_LAST_MEETING : v1::SUS_MOMENT_OUT);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Keyed& x, const Keyed& y) {
    return std::tie(x.day, x.referral, x.moment) <
           std::tie(y.day, y.referral, y.moment);
  });

  v1::SusExport out;
  std::string csv =
      "moment;date;offering;activity_type;referral;anonymous;gender;"
      "age_years;start_date;end_date;ending;referring_organisation;"
      "participant_pseudonym;income_sources;education_level;work_kind;"
      "studies;registered_with_af;outcome_reasons\n";
  std::map<std::tuple<std::string, std::string, int, std::string>,
           v1::SusMonthlyCount>
      monthly;
  for (const Keyed& keyed : rows) {
    const v1::SusRow& row = keyed.row;
    *out.add_rows() = row;
    const v1::SusRegistration& r = row.registration();
    const bool end = row.ending() != v1::SUS_ENDING_UNSPECIFIED;
    absl::StrAppend(
        &csv, ShortName(row.moment(), "SUS_MOMENT_"), ";", DateText(row.date()),
        ";", Cell(row.offering()), ";", Cell(row.activity_type()), ";",
        Cell(row.referral()), ";", row.anonymous() ? "yes" : "no", ";",
        GenderName(row.gender()), ";",
        row.has_age_years() ? absl::StrCat(row.age_years()) : "", ";",
        DateText(row.start_date()), ";", DateText(row.end_date()), ";",
        end ? ShortName(row.ending(), "SUS_ENDING_") : "", ";",
        Cell(row.referring_organisation()), ";",
        Cell(row.participant_pseudonym()), ";",
        NamesOf<v1::IncomeSource>(r.income_sources(), "INCOME_SOURCE_"), ";",
        r.education_level() == v1::EDUCATION_LEVEL_UNSPECIFIED
            ? ""
            : ShortName(r.education_level(), "EDUCATION_LEVEL_"),
        ";",
        end && row.has_registration()
            ? (r.work_kind() == v1::WORK_KIND_UNSPECIFIED
                   ? std::string("NONE")
                   : ShortName(r.work_kind(), "WORK_KIND_"))
            : "",
        ";", end && row.has_registration() ? (r.studies() ? "yes" : "no") : "",
        ";",
        end && row.has_registration() ? (r.registered_with_af() ? "yes" : "no")
                                      : "",
        ";",
        NamesOf<v1::OutcomeReason>(row.outcome_reasons(), "OUTCOME_REASON_"),
        "\n");
    if (!keyed.counted) continue;
    const std::string month =
        absl::FormatCivilTime(absl::CivilMonth(keyed.day));
    const std::string band =
        AgeBand(row.has_age_years() ? std::optional<int>(row.age_years())
                                    : std::nullopt);
    v1::SusMonthlyCount& count =
        monthly[{month, row.offering(), row.gender(), band}];
    count.set_month(month);
    count.set_offering(row.offering());
    count.set_gender(row.gender());
    count.set_age_band(band);
    if (end) {
      count.set_ended(count.ended() + 1);
    } else {
      count.set_started(count.started() + 1);
    }
  }
  std::string monthly_csv = "month;offering;gender;age_band;started;ended\n";
  for (const auto& [key, count] : monthly) {
    *out.add_monthly() = count;
    absl::StrAppend(&monthly_csv, count.month(), ";", Cell(count.offering()),
                    ";", GenderName(count.gender()), ";", count.age_band(), ";",
                    count.started(), ";", count.ended(), "\n");
  }
  out.set_csv(std::move(csv));
  out.set_monthly_csv(std::move(monthly_csv));
  return out;
}

}  // namespace slussen::core

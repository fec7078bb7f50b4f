#include "broker/core/desks/queue_desk.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "broker/core/model/access.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/forecast.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/ports/ids.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr char kPolicyName[] = "priorityPolicies/default/versions/1";

// The policy in force, named.
v1::PriorityPolicy PolicyInForce() {
  v1::PriorityPolicy policy = DefaultPriorityPolicy();
  policy.set_name(kPolicyName);
  return policy;
}

// The matcher's view of a region, with every waiting referral explained.
struct Explained {
  RegionSnapshot snapshot;
  std::vector<QueueExplanation> queues;
};

// The day `record` started, from its history.
std::optional<absl::CivilDay> StartDay(const ReferralRecord& record,
                                       absl::TimeZone zone) {
  for (const v1::Transition& t : record.referral.history()) {
    if (t.action() == v1::ACTION_START) {
      return absl::ToCivilDay(ToAbslTime(t.time()), zone);
    }
  }
  return std::nullopt;
}

// Fills the expected frees of the snapshot's place and caseload offerings
// with a programme length: for each participant started there, the day
// the programme ends (today, if it has run over).
absl::Status AddExpectedFrees(ReferralRepository& referrals,
                              const std::string& region,
                              RegionSnapshot& snapshot) {
  const absl::TimeZone zone = snapshot.input.zone;
  const absl::CivilDay today = absl::ToCivilDay(snapshot.input.now, zone);
  // Offering name -> (index, weeks), and the organisations to ask.
  std::map<std::string, std::pair<int, int>> timed;
  std::set<std::string> organisations;
  for (size_t i = 0; i < snapshot.offerings.size(); ++i) {
    const v1::Offering& o = snapshot.offerings[i].value;
    const int weeks = o.schedule().weeks();
    if (weeks <= 0 || o.capacity().has_cohorts()) continue;
    timed[o.name()] = {static_cast<int>(i), weeks};
    const absl::StatusOr<OfferingName> name =
        ParseOfferingName("offering", o.name());
    if (name.ok())
      organisations.insert(snapshot.provider_organisations[name->provider]);
  }
  for (const std::string& organisation : organisations) {
    ListQuery query{.regions = {region},
                    .index = ListIndex::kAssignedOrganisation,
                    .organisation = organisation,
                    .states = {v1::REFERRAL_STATE_STARTED},
                    .page_size = 1000};
    do {
      ASSIGN_OR_RETURN(const ListPage page, referrals.List(query));
      for (const ReferralRecord& record : page.records) {
        const auto it = timed.find(record.referral.assigned_offering());
        const std::optional<absl::CivilDay> start = StartDay(record, zone);
        if (it == timed.end() || !start) continue;
        snapshot.input.offerings[it->second.first].expected_frees.push_back(
            std::max(today, *start + 7 * it->second.second));
      }
      query.before_id = page.resume_before_id;
    } while (!query.before_id.empty());
  }
  for (MatchOffering& o : snapshot.input.offerings) {
    std::sort(o.expected_frees.begin(), o.expected_frees.end());
  }
  return absl::OkStatus();
}

// Referrals created in `region` since `since`, by the queue they joined.
absl::StatusOr<std::map<std::string, int>> ArrivalsSince(
    ReferralRepository& referrals, const std::string& region,
    absl::Time since) {
  const std::string oldest = MinIdAt(since);
  std::map<std::string, int> arrivals;
  ListQuery query{.regions = {region}, .page_size = 1000};
  do {
    ASSIGN_OR_RETURN(const ListPage page, referrals.List(query));
    for (const ReferralRecord& record : page.records) {
      if (record.id < oldest) return arrivals;  // newest first
      ++arrivals[QueueName{region, ActivityTypeFor(record.referral), region}
                     .ToString()];
    }
    query.before_id = page.resume_before_id;
  } while (!query.before_id.empty() && query.before_id >= oldest);
  return arrivals;
}

v1::ShortfallForecast ToProto(const ShortfallForecast& f,
                              const ForecastInput& input, int warning_weeks) {
  v1::ShortfallForecast out;
  out.set_recent_arrivals(input.arrivals);
  out.set_window_weeks(input.window_weeks);
  for (const ForecastWeek& week : f.weeks) {
    v1::ForecastWeek* w = out.add_weeks();
    *w->mutable_start_date() = ToProtoDate(week.start);
    w->set_arrivals(week.arrivals);
    w->set_capacity(week.capacity);
    w->set_waiting(week.waiting);
    if (week.wait_weeks) {
      w->set_wait_weeks(*week.wait_weeks);
    } else {
      w->set_wait_unbounded(true);
    }
  }
  if (f.peak_wait_weeks) {
    out.set_peak_wait_weeks(*f.peak_wait_weeks);
  } else {
    out.set_peak_wait_unbounded(true);
  }
  out.set_warning_weeks(warning_weeks);
  if (f.warning_week)
    *out.mutable_warning_week() = ToProtoDate(*f.warning_week);
  return out;
}

absl::StatusOr<Explained> Explain(Matchmaker& matchmaker,
                                  ReferralRepository& referrals,
                                  const std::string& region) {
  Explained out;
  ASSIGN_OR_RETURN(out.snapshot, matchmaker.Snapshot(region));
  RETURN_IF_ERROR(AddExpectedFrees(referrals, region, out.snapshot));
  Matcher matcher(out.snapshot.input);
  matcher.MatchAll();
  out.queues = matcher.ExplainQueues();
  return out;
}

v1::QueuePosition ToPosition(const Explained& explained,
                             const QueueExplanation& e, bool personal,
                             absl::Time now) {
  v1::QueuePosition position;
  position.set_referral(
      explained.snapshot.referrals[e.referral].referral.name());
  position.set_queue(e.queue);
  position.set_position(e.position);
  position.set_queue_length(e.length);
  for (const v1::PositionReason& reason : e.reasons) {
    v1::PositionReason* out = position.add_reasons();
    *out = reason;
    if (!personal &&
        reason.criterion() == v1::PRIORITY_CRITERION_SICKNESS_DAYS_LEFT) {
      out->set_explanation(
          "withheld: the participant's consent does not cover you");
    }
  }
  if (e.estimated_start.has_value()) {
    *position.mutable_estimated_start_date() = ToProtoDate(*e.estimated_start);
  }
  position.set_estimated_cohort(e.estimated_cohort);
  position.set_estimate_basis(e.estimate_basis);
  *position.mutable_compute_time() = ToProtoTimestamp(now);
  return position;
}

}  // namespace

absl::StatusOr<v1::QueuePosition> QueueDesk::GetQueuePosition(
    const Caller& caller, const v1::GetQueuePositionRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(const ReferralName name,
                   ParseReferralName("referral", request.referral()));
  ASSIGN_OR_RETURN(const ReferralRecord record,
                   transitions_.Load(caller, name));
  const v1::ReferralState state = record.referral.state();
  if (state != v1::REFERRAL_STATE_RECEIVED &&
      state != v1::REFERRAL_STATE_QUEUED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "referral ", request.referral(), " is ", StateName(state),
        "; only a referral waiting for capacity has a queue position"));
  }
  ASSIGN_OR_RETURN(const Explained explained,
                   Explain(*matchmaker_, *referrals_, name.region));
  const absl::Time now = clock_->Now();
  for (const QueueExplanation& e : explained.queues) {
    if (explained.snapshot.referrals[e.referral].id == name.id) {
      return ToPosition(explained, e, MaySeeParticipant(caller, record, now),
                        now);
    }
  }
  // Not waiting in the matcher's view: a place is free for it, or it fits
  // nowhere; the next pass acts on it.
  v1::QueuePosition position;
  position.set_referral(request.referral());
  position.set_estimate_basis(
      "a matching pass is about to offer it a place or answer why it fits "
      "nowhere; ask again in a moment");
  *position.mutable_compute_time() = ToProtoTimestamp(now);
  return position;
}

absl::StatusOr<v1::ListQueueEntriesResponse> QueueDesk::ListQueueEntries(
    const Caller& caller, const v1::ListQueueEntriesRequest& request) {
  if (caller.role != v1::ROLE_COORDINATOR) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " may not list whole queues; coordinators may"));
  }
  ASSIGN_OR_RETURN(const QueueName queue,
                   ParseQueueName("queue", request.queue()));
  const std::string& region = queue.region;
  RETURN_IF_ERROR(CheckOwnRegion(caller, region, "queues"));
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  const uint64_t fingerprint = QueryFingerprint(request.queue());
  ASSIGN_OR_RETURN(const std::string cursor,
                   DecodePageToken("page_token", request.page_token(),
                                   fingerprint, IsSlugId));
  int after = 0;
  if (!cursor.empty() && !absl::SimpleAtoi(cursor.substr(1), &after)) {
    return InvalidField("page_token", "is not a queue position", cursor);
  }
  v1::ListQueueEntriesResponse response;
  ASSIGN_OR_RETURN(const Explained explained,
                   Explain(*matchmaker_, *referrals_, region));
  // A queue is a region's activity type: one no offering of the region
  // and no referral in it has is no queue (NOT_FOUND, not an empty list).
  const MatchInput& input = explained.snapshot.input;
  const bool known =
      queue.area == region &&
      (std::any_of(input.offerings.begin(), input.offerings.end(),
                   [&](const MatchOffering& o) {
                     return o.activity_type == queue.activity_type;
                   }) ||
       std::any_of(input.referrals.begin(), input.referrals.end(),
                   [&](const MatchReferral& r) {
                     return r.activity_type == queue.activity_type;
                   }));
  if (!known) {
    return absl::NotFoundError(absl::StrCat(
        "queue ", request.queue(), " does not exist: region ", region,
        " has no offering of activity type \"", queue.activity_type, "\"",
        queue.area == region ? "" : absl::StrCat(" in area ", queue.area),
        " (reports queues lists the region's queues)"));
  }
  const absl::Time now = clock_->Now();
  for (const QueueExplanation& e : explained.queues) {
    if (e.queue != request.queue() || e.position <= after) continue;
    const ReferralRecord& record = explained.snapshot.referrals[e.referral];
    // A protected participant's place counts in the positions and the
    // queue's length, but the coordinator is not told whose it is.
    if (!CanSee(caller, record)) continue;
    if (response.entries_size() == page_size) {
      response.set_next_page_token(
          EncodePageToken(absl::StrCat("p", after), fingerprint));
      break;
    }
    *response.add_entries() =
        ToPosition(explained, e, MaySeeParticipant(caller, record, now), now);
    after = e.position;
  }
  return response;
}

absl::StatusOr<v1::PriorityPolicyPreview> QueueDesk::PreviewPriorityPolicy(
    const Caller& caller, const v1::PreviewPriorityPolicyRequest& request) {
  if (caller.role != v1::ROLE_COORDINATOR) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " may not preview the priority policy; coordinators may"));
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/false));
  RETURN_IF_ERROR(CheckOwnRegion(caller, region, "queues"));
  if (!request.has_policy()) {
    return MissingField("policy",
                        "the candidate priority policy (GetPriorityPolicy "
                        "gives the one in force to start from)");
  }
  v1::PriorityPolicy candidate = request.policy();
  candidate.clear_name();
  RETURN_IF_ERROR(ValidatePriorityPolicy(candidate));

  // The region as it is, placed by each policy.
  ASSIGN_OR_RETURN(const Explained now,
                   Explain(*matchmaker_, *referrals_, region));
  MatchInput input = now.snapshot.input;
  input.policy = candidate;
  Matcher matcher(std::move(input));
  matcher.MatchAll();
  const std::vector<QueueExplanation> then = matcher.ExplainQueues();
  std::map<int, const QueueExplanation*> then_of;  // by referral index
  for (const QueueExplanation& e : then) then_of[e.referral] = &e;

  v1::PriorityPolicyPreview preview;
  *preview.mutable_current() = PolicyInForce();
  *preview.mutable_candidate() = candidate;
  std::map<std::string, v1::AgencyShift> agencies;
  std::vector<v1::PositionChange> changes;
  for (const QueueExplanation& e : now.queues) {
    const auto it = then_of.find(e.referral);
    if (it == then_of.end()) continue;  // placed under one policy only
    const QueueExplanation& t = *it->second;
    const ReferralRecord& record = now.snapshot.referrals[e.referral];
    const std::string& organisation = record.referral.referring_organisation();
    const int gained = e.position - t.position;
    v1::AgencyShift& shift = agencies[organisation];
    shift.set_referring_organisation(organisation);
    shift.set_referrals(shift.referrals() + 1);
    shift.set_net_positions(shift.net_positions() + gained);
    if (gained > 0) {
      shift.set_moved_up(shift.moved_up() + 1);
      shift.set_largest_move_up(std::max(shift.largest_move_up(), gained));
      preview.set_moved_up(preview.moved_up() + 1);
    } else if (gained < 0) {
      shift.set_moved_down(shift.moved_down() + 1);
      shift.set_largest_move_down(std::max(shift.largest_move_down(), -gained));
      preview.set_moved_down(preview.moved_down() + 1);
    } else {
      preview.set_unchanged(preview.unchanged() + 1);
    }
    // A protected participant's referral moves others, but is not named.
    if (!CanSee(caller, record)) continue;
    v1::PositionChange& change = changes.emplace_back();
    change.set_referral(record.referral.name());
    change.set_queue(e.queue);
    change.set_referring_organisation(organisation);
    change.set_current_position(e.position);
    change.set_preview_position(t.position);
    if (e.estimated_start) {
      *change.mutable_current_estimated_start_date() =
          ToProtoDate(*e.estimated_start);
    }
    if (t.estimated_start) {
      *change.mutable_preview_estimated_start_date() =
          ToProtoDate(*t.estimated_start);
    }
  }
  std::sort(changes.begin(), changes.end(),
            [](const v1::PositionChange& a, const v1::PositionChange& b) {
              return std::forward_as_tuple(a.queue(), a.preview_position()) <
                     std::forward_as_tuple(b.queue(), b.preview_position());
            });
  for (v1::PositionChange& change : changes) {
    *preview.add_changes() = std::move(change);
  }
  for (auto& [organisation, shift] : agencies) {
    *preview.add_agencies() = std::move(shift);
  }
  return preview;
}

absl::StatusOr<v1::QueueOverview> QueueDesk::Overview(
    const std::string& region) {
  ASSIGN_OR_RETURN(const Explained explained,
                   Explain(*matchmaker_, *referrals_, region));
  const MatchInput& input = explained.snapshot.input;
  const absl::Time now = clock_->Now();
  // Queue name -> summary, in name order.
  std::map<std::string, v1::QueueSummary> summaries;
  for (const QueueExplanation& e : explained.queues) {
    const MatchReferral& r = input.referrals[e.referral];
    v1::QueueSummary& s = summaries[e.queue];
    if (s.activity_type().empty()) {
      s.set_activity_type(r.activity_type);
      s.set_area(r.region);
      for (const MatchOffering& o : input.offerings) {
        if (o.activity_type == r.activity_type && o.stale) {
          s.set_stale_offerings(s.stale_offerings() + 1);
        }
      }
    }
    s.set_length(s.length() + 1);
    const absl::Time since = r.priority.waiting_since;
    if (!s.has_oldest_wait_start_time() ||
        since < ToAbslTime(s.oldest_wait_start_time())) {
      *s.mutable_oldest_wait_start_time() = ToProtoTimestamp(since);
    }
    // Positions come in order: the last one's estimate is a newcomer's.
    if (e.position == e.length) {
      if (e.estimated_start.has_value()) {
        const absl::Duration wait =
            std::max(absl::ZeroDuration(),
                     absl::FromCivil(*e.estimated_start, input.zone) - now);
        s.mutable_estimated_wait()->set_seconds(absl::ToInt64Seconds(wait));
      } else {
        s.clear_estimated_wait();
      }
    }
  }
  // The forecasts: every queue someone waits in or joined in the window.
  const absl::CivilDay today = absl::ToCivilDay(now, input.zone);
  ASSIGN_OR_RETURN(
      const auto arrivals,
      ArrivalsSince(
          *referrals_, region,
          absl::FromCivil(today - 7 * kForecastWindowWeeks, input.zone)));
  ASSIGN_OR_RETURN(const std::vector<v1::ActivityType> types,
                   matchmaker_->ActivityTypes());
  std::map<std::string, int> warning_weeks;  // by activity type id
  for (const v1::ActivityType& type : types) {
    warning_weeks[std::string(absl::StripPrefix(
        type.name(), "activityTypes/"))] = type.shortfall_warning_weeks();
  }
  for (const auto& [name, count] : arrivals) {
    if (summaries.count(name)) continue;
    // A referral whose kind names no activity type joins no queue.
    const absl::StatusOr<QueueName> queue = ParseQueueName("queue", name);
    if (!queue.ok() || queue->activity_type.empty()) continue;
    v1::QueueSummary& s = summaries[name];
    s.set_activity_type(queue->activity_type);
    s.set_area(queue->area);
  }
  for (auto& [name, s] : summaries) {
    s.set_queue(name);
    ForecastInput in{.today = today, .waiting = s.length()};
    if (const auto it = arrivals.find(name); it != arrivals.end()) {
      in.arrivals = it->second;
    }
    for (const MatchOffering& o : input.offerings) {
      if (o.activity_type != s.activity_type() || o.region != region) continue;
      for (const absl::CivilDay day : CapacityDays(o, today)) {
        in.capacity_days.push_back(day);
      }
    }
    const int warn = warning_weeks[s.activity_type()];
    const ShortfallForecast forecast = ForecastShortfall(
        in, warn > 0 ? std::optional<absl::Duration>(absl::Hours(24 * 7 * warn))
                     : std::nullopt);
    *s.mutable_forecast() = ToProto(forecast, in, warn);
  }
  v1::QueueOverview overview;
  for (auto& [name, summary] : summaries) {
    *overview.add_queues() = std::move(summary);
  }
  return overview;
}

absl::StatusOr<int> QueueDesk::WarnShortfalls(const std::string& region,
                                              EventLog& log) {
  ASSIGN_OR_RETURN(const v1::QueueOverview overview, Overview(region));
  const absl::Time now = clock_->Now();
  // The Monday of this week names the week.
  const absl::CivilDay monday = MondayOf(matchmaker_->Today());
  int appended = 0;
  for (const v1::QueueSummary& queue : overview.queues()) {
    if (!queue.forecast().has_warning_week()) continue;
    v1::Event event;
    event.set_type(v1::EVENT_TYPE_QUEUE_SHORTFALL_FORECAST);
    *event.mutable_time() = ToProtoTimestamp(now);
    event.mutable_actor()->set_organisation("slussen");
    event.mutable_actor()->set_role(v1::ROLE_SYSTEM);
    event.set_queue(queue.queue());
    event.set_activity_type(
        absl::StrCat("activityTypes/", queue.activity_type()));
    *event.mutable_forecast() = queue.forecast();
    ASSIGN_OR_RETURN(
        const bool told,
        log.AppendOnce(region,
                       absl::StrCat("shortfall:", queue.queue(), ":",
                                    absl::FormatCivilTime(monday)),
                       event, absl::Hours(24 * 8)));
    if (told) ++appended;
  }
  return appended;
}

absl::StatusOr<v1::PriorityPolicy> QueueDesk::GetPriorityPolicy(
    const Caller& caller, const v1::GetPriorityPolicyRequest& request) {
  if (caller.role == v1::ROLE_UNSPECIFIED) {
    return absl::PermissionDeniedError("an identified caller is required");
  }
  return PolicyInForce();
}

}  // namespace slussen::core

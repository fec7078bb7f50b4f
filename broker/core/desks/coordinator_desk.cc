#include "broker/core/desks/coordinator_desk.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/model/access.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/reports.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
// Open clocks of a region looked at for one worklist page at most; past
// them, the page ends early, with a token to go on from there.
constexpr int kMaxOpenClocks = 20000;
// Open clocks read first for a worklist page (more if the page needs them).
constexpr int kFirstOpenClocks = 256;
// Referrals read in one round trip for a worklist page at least.
constexpr int kMinReferralReads = 32;
// Records read for one report at most.
constexpr size_t kMaxReportClocks = 200000;
constexpr int kMaxReportReferrals = 200000;

// The offset "o<n>" of a page token's cursor, 0..`max` (0 for none): the
// rows of a listing read whole that earlier pages returned. A number out
// of range cannot come from this server.
absl::StatusOr<int> OffsetCursor(absl::string_view field,
                                 absl::string_view cursor, int max) {
  int offset = 0;
  if (!cursor.empty() &&
      (cursor[0] != 'o' || !absl::SimpleAtoi(cursor.substr(1), &offset) ||
       offset < 0 || offset > max)) {
    return InvalidField(field, "is not a position in this listing", cursor);
  }
  return offset;
}

// A worklist page token's cursor: the due time (Unix ms) and the id of the
// last clock the page returned, "<ms>_<id>"; the next page starts after it.
std::string WorklistCursor(const ClockRecord& record) {
  return absl::StrCat(absl::ToUnixMillis(ToAbslTime(record.clock.due_time())),
                      "_", record.id);
}

OpenClockPosition PositionOf(const ClockRecord& record) {
  return {ToAbslTime(record.clock.due_time()), record.id};
}

// "<ms>_<id>" into the position it names; nullopt if it is not one.
std::optional<OpenClockPosition> ParseWorklistCursor(absl::string_view cursor) {
  const size_t underscore = cursor.find('_');
  int64_t millis = 0;
  if (underscore == absl::string_view::npos ||
      !absl::SimpleAtoi(cursor.substr(0, underscore), &millis)) {
    return std::nullopt;
  }
  const absl::string_view id = cursor.substr(underscore + 1);
  if (id.empty() || id.size() > 100) return std::nullopt;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return std::nullopt;
    }
  }
  return OpenClockPosition{absl::FromUnixMillis(millis), std::string(id)};
}

bool IsWorklistCursor(absl::string_view cursor) {
  return ParseWorklistCursor(cursor).has_value();
}

// Whether the worklist `request` of `caller` shows a clock of `referral`.
bool Shows(const Caller& caller, const v1::ListWorklistRequest& request,
           const ReferralRecord& referral) {
  if (!CanSee(caller, referral)) return false;
  const v1::Referral& r = referral.referral;
  if (!request.provider().empty() &&
      r.assigned_provider() != request.provider()) {
    return false;
  }
  if (!request.referring_organisation().empty() &&
      r.referring_organisation() != request.referring_organisation()) {
    return false;
  }
  return request.kinds().empty() ||
         std::find(request.kinds().begin(), request.kinds().end(), KindOf(r)) !=
             request.kinds().end();
}

v1::WorklistItem WorklistItemOf(const v1::Clock& clock,
                                const ReferralRecord& referral,
                                absl::Time now) {
  v1::WorklistItem item;
  *item.mutable_clock() = clock;
  item.set_referral_kind(KindOf(referral.referral));
  item.set_awaited_action(AwaitedAction(clock.kind()));
  item.set_awaited_organisation(clock.awaited_organisation());
  *item.mutable_since_time() = clock.start_time();
  *item.mutable_lateness() =
      ToProtoDuration(now - ToAbslTime(clock.due_time()));
  return item;
}

}  // namespace

std::string AwaitedAction(v1::ClockKind kind) {
  switch (kind) {
    case v1::CLOCK_KIND_IMPULSE_CALL_BACK:
      return "a call-back to the referring unit";
    case v1::CLOCK_KIND_JOINT_MAPPING_FIRST_MEETING:
      return "the first joint mapping meeting";
    case v1::CLOCK_KIND_JOINT_MAPPING_COMPLETION:
      return "the joint mapping completed";
    case v1::CLOCK_KIND_TEAM_FIRST_CONTACT:
      return "first contact with the participant";
    case v1::CLOCK_KIND_OFFER_ANSWER:
      return "an answer to the offer";
    case v1::CLOCK_KIND_FOLLOW_UP:
      return "the follow-up after exit";
    case v1::CLOCK_KIND_START:
      return "the participant's start";
    case v1::CLOCK_KIND_RETURNED_ANSWER:
      return "the agency's answer to a returned referral (resubmit or cancel)";
    default:
      return "an action";
  }
}

absl::StatusOr<CoordinatorDesk::Visible> CoordinatorDesk::Load(
    const Caller& caller, absl::string_view field, const std::string& name) {
  ASSIGN_OR_RETURN(const ClockName clock_name, ParseClockName(field, name));
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("clock ", name, " not found"));
  absl::StatusOr<ReferralRecord> referral = transitions_.Load(
      caller, ReferralName{clock_name.region, clock_name.referral_id});
  if (absl::IsNotFound(referral.status())) return not_found;
  RETURN_IF_ERROR(referral.status());
  absl::StatusOr<ClockRecord> clock =
      keeper_->GetClock(clock_name.region, clock_name.id);
  if (absl::IsNotFound(clock.status())) return not_found;
  RETURN_IF_ERROR(clock.status());
  return Visible{*std::move(clock), *std::move(referral)};
}

absl::Status CoordinatorDesk::CheckMayPause(const Caller& caller,
                                            const ClockRecord& clock) {
  if ((caller.role == v1::ROLE_COORDINATOR && caller.region == clock.region) ||
      (caller.role == v1::ROLE_PROVIDER &&
       caller.organisation == clock.clock.awaited_organisation())) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("only the organisation the clock awaits (",
                   clock.clock.awaited_organisation().empty()
                       ? "none yet"
                       : clock.clock.awaited_organisation(),
                   ") or the region's coordinator may pause or resume it"));
}

absl::StatusOr<v1::Clock> CoordinatorDesk::GetClock(
    const Caller& caller, const v1::GetClockRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(Visible visible, Load(caller, "name", request.name()));
  return std::move(visible.clock.clock);
}

absl::StatusOr<v1::Clock> CoordinatorDesk::PauseClock(
    const Caller& caller, const v1::PauseClockRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  RETURN_IF_ERROR(ValidateEnum<v1::DelayCause>("cause", request.cause(),
                                               /*required=*/true));
  RETURN_IF_ERROR(ValidateText("note", request.note(),
                               {.max_chars = 2000, .free_text = true}));
  ASSIGN_OR_RETURN(const Visible visible, Load(caller, "name", request.name()));
  RETURN_IF_ERROR(CheckMayPause(caller, visible.clock));
  ASSIGN_OR_RETURN(
      ClockRecord paused,
      keeper_->Pause(visible.clock.region, visible.clock.id, request.cause(),
                     request.note(), caller, clock_->Now()));
  return std::move(paused.clock);
}

absl::StatusOr<v1::Clock> CoordinatorDesk::ResumeClock(
    const Caller& caller, const v1::ResumeClockRequest& request) {
  RETURN_IF_ERROR(CheckMayReadReferrals(caller));
  ASSIGN_OR_RETURN(const Visible visible, Load(caller, "name", request.name()));
  RETURN_IF_ERROR(CheckMayPause(caller, visible.clock));
  ASSIGN_OR_RETURN(
      ClockRecord resumed,
      keeper_->Resume(visible.clock.region, visible.clock.id, clock_->Now()));
  return std::move(resumed.clock);
}

absl::StatusOr<v1::ListWorklistResponse> CoordinatorDesk::ListWorklist(
    const Caller& caller, const v1::ListWorklistRequest& request) {
  if (caller.role != v1::ROLE_COORDINATOR && caller.role != v1::ROLE_PROVIDER &&
      caller.role != v1::ROLE_AGENCY) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " has no worklist; coordinators, providers and "
                     "agencies do"));
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/false));
  if (!request.provider().empty()) {
    RETURN_IF_ERROR(ValidateProviderName("provider", request.provider()));
  }
  if (!request.referring_organisation().empty()) {
    RETURN_IF_ERROR(ValidateOrganisationId("referring_organisation",
                                           request.referring_organisation()));
  }
  RETURN_IF_ERROR(ValidateEnumSet<v1::ReferralKind>("kinds", request.kinds()));
  if (request.due_within().seconds() < 0 ||
      request.due_within().seconds() > 366 * 24 * 3600) {
    return InvalidField("due_within", "must be 0..366 days",
                        request.due_within().seconds());
  }
  RETURN_IF_ERROR(ValidateIntRange("due_within.nanos",
                                   request.due_within().nanos(), 0, 999999999));
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  v1::ListWorklistRequest canonical = request;
  canonical.clear_page_token();
  canonical.clear_page_size();
  const uint64_t fingerprint = QueryFingerprint(
      absl::StrCat(caller.organisation, "\n", canonical.SerializeAsString()));
  ASSIGN_OR_RETURN(const std::string cursor,
                   DecodePageToken("page_token", request.page_token(),
                                   fingerprint, IsWorklistCursor));
  const absl::Time now = clock_->Now();
  const absl::Time horizon =
      request.has_due_within()
          ? now + absl::Seconds(request.due_within().seconds())
          : calendar_->WorkingDaysDeadline(now, 1);
  v1::ListWorklistResponse response;
  RETURN_IF_ERROR(CheckOwnRegion(caller, region, "worklist"));
  Page page{.caller = caller,
            .request = request,
            .region = region,
            .page_size = page_size,
            .fingerprint = fingerprint,
            .now = now,
            .horizon = horizon,
            .response = &response};
  RETURN_IF_ERROR(FillWorklist(page, ParseWorklistCursor(cursor)));
  return response;
}

absl::Status CoordinatorDesk::FillWorklist(
    Page& page, std::optional<OpenClockPosition> after) {
  // Open clocks by due time, then id: the most overdue first, then the
  // soonest due; from just after the last clock of the page before. Read
  // in growing batches: a page mostly needs only its own clocks and the
  // one after, but a filtered worklist may have to look through many.
  int looked_at = 0;
  for (int batch = std::max(kFirstOpenClocks, 2 * page.page_size);;
       batch = std::min(8 * batch, kMaxOpenClocks - looked_at)) {
    ASSIGN_OR_RETURN(const std::vector<ClockRecord> open,
                     keeper_->ListOpenClocks(page.region, after, batch));
    std::vector<const ClockRecord*> candidates;
    bool past_horizon = false;
    for (const ClockRecord& record : open) {
      if (ToAbslTime(record.clock.due_time()) > page.horizon) {
        past_horizon = true;
        break;
      }
      if (page.caller.role != v1::ROLE_PROVIDER ||
          record.clock.awaited_organisation() == page.caller.organisation) {
        candidates.push_back(&record);
      }
    }
    ASSIGN_OR_RETURN(const bool full, AddItems(page, candidates));
    looked_at += static_cast<int>(open.size());
    if (full || past_horizon || static_cast<int>(open.size()) < batch) {
      return absl::OkStatus();
    }
    after = PositionOf(open.back());
    if (looked_at >= kMaxOpenClocks) {
      // Enough for one call: the next page goes on from here.
      page.response->set_next_page_token(
          EncodePageToken(WorklistCursor(open.back()), page.fingerprint));
      return absl::OkStatus();
    }
  }
}

absl::StatusOr<bool> CoordinatorDesk::AddItems(
    Page& page, const std::vector<const ClockRecord*>& candidates) {
  v1::ListWorklistResponse& response = *page.response;
  // Their referrals, read in one round trip per slice as large as the page
  // still needs (and one more: whether another page follows).
  for (size_t begin = 0; begin < candidates.size();) {
    const size_t slice = std::min(
        candidates.size() - begin,
        static_cast<size_t>(std::max(
            kMinReferralReads, page.page_size - response.items_size() + 1)));
    std::vector<std::string> referral_ids;
    for (size_t i = begin; i < begin + slice; ++i) {
      ASSIGN_OR_RETURN(const ClockName name,
                       ParseClockName("clock", candidates[i]->clock.name()));
      referral_ids.push_back(name.referral_id);
    }
    ASSIGN_OR_RETURN(const std::vector<std::optional<ReferralRecord>> referrals,
                     keeper_->GetReferrals(page.region, referral_ids));
    for (size_t i = 0; i < slice; ++i) {
      const std::optional<ReferralRecord>& referral = referrals.at(i);
      if (!referral.has_value() ||
          !Shows(page.caller, page.request, *referral)) {
        continue;
      }
      const ClockRecord& record = *candidates[begin + i];
      if (response.items_size() == page.page_size) {
        // Another follows: the next page starts after this page's last.
        response.set_next_page_token(
            EncodePageToken(page.last_cursor, page.fingerprint));
        return true;
      }
      *response.add_items() = WorklistItemOf(record.clock, *referral, page.now);
      page.last_cursor = WorklistCursor(record);
    }
    begin += slice;
  }
  return false;
}

absl::StatusOr<std::string> CoordinatorDesk::CoordinatedRegion(
    const Caller& caller, const std::string& parent) {
  ASSIGN_OR_RETURN(
      const std::string region,
      ParseRegionParent("parent", parent, /*allow_any_region=*/false));
  if (caller.role != v1::ROLE_COORDINATOR || caller.region != region) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the reports of region ", region, " are for its coordinators"));
  }
  return region;
}

absl::StatusOr<v1::QueueOverview> CoordinatorDesk::GetQueueOverview(
    const Caller& caller, const v1::GetQueueOverviewRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   CoordinatedRegion(caller, request.parent()));
  return queues_->Overview(region);
}

absl::StatusOr<v1::ResponseTimeStatistics>
CoordinatorDesk::GetResponseTimeStatistics(
    const Caller& caller, const v1::GetResponseTimeStatisticsRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   CoordinatedRegion(caller, request.parent()));
  if (!request.has_start_time()) {
    return MissingField("start_time", "the start of the period");
  }
  if (!request.has_end_time()) {
    return MissingField("end_time", "the end of the period");
  }
  RETURN_IF_ERROR(ValidateTimestamp("start_time", request.start_time()));
  RETURN_IF_ERROR(ValidateTimestamp("end_time", request.end_time()));
  const absl::Time start = ToAbslTime(request.start_time());
  const absl::Time end = ToAbslTime(request.end_time());
  if (end <= start) {
    return InvalidField("end_time", "must lie after start_time",
                        absl::FormatTime(end));
  }
  ASSIGN_OR_RETURN(
      const std::vector<ClockRecord> records,
      keeper_->ListClocksStarted(region, start, end, kMaxReportClocks));
  if (records.size() == kMaxReportClocks) {
    return absl::FailedPreconditionError(
        absl::StrCat("the period holds more than ", kMaxReportClocks,
                     " clocks; ask for a shorter one"));
  }
  std::vector<v1::Clock> clocks;
  clocks.reserve(records.size());
  for (const ClockRecord& r : records) clocks.push_back(r.clock);
  v1::ResponseTimeStatistics statistics;
  for (v1::ResponseTimeRow& row :
       ResponseTimes(clocks, start, end, clock_->Now())) {
    *statistics.add_rows() = std::move(row);
  }
  return statistics;
}

absl::StatusOr<v1::OutcomeReport> CoordinatorDesk::GetOutcomeReport(
    const Caller& caller, const v1::GetOutcomeReportRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   CoordinatedRegion(caller, request.parent()));
  ASSIGN_OR_RETURN(const absl::CivilDay from,
                   ToCivilDay("start_date", request.start_date()));
  ASSIGN_OR_RETURN(const absl::CivilDay to,
                   ToCivilDay("end_date", request.end_date()));
  if (to < from) {
    return InvalidField("end_date", "must not lie before start_date",
                        absl::FormatCivilTime(to));
  }
  if (!request.activity_type().empty()) {
    RETURN_IF_ERROR(ValidateCode("activity_type", request.activity_type()));
  }
  ASSIGN_OR_RETURN(
      const std::vector<ReferralRecord> referrals,
      EveryReferral(
          {.regions = {region}, .page_size = 1000, .scan_limit = 1000}));
  return OutcomeReportOf(referrals, from, to, request.activity_type(),
                         calendar_->time_zone());
}

absl::StatusOr<std::vector<ReferralRecord>> CoordinatorDesk::EveryReferral(
    ListQuery query) const {
  std::vector<ReferralRecord> referrals;
  do {
    ASSIGN_OR_RETURN(const ListPage page, keeper_->List(query));
    for (const ReferralRecord& record : page.records) {
      referrals.push_back(record);
    }
    query.before_id = page.resume_before_id;
  } while (!query.before_id.empty() &&
           static_cast<int>(referrals.size()) < kMaxReportReferrals);
  if (static_cast<int>(referrals.size()) >= kMaxReportReferrals) {
    return absl::FailedPreconditionError(
        absl::StrCat("region ", absl::StrJoin(query.regions, ", "),
                     " holds more than ", kMaxReportReferrals,
                     " referrals; the report cannot be made in one call yet"));
  }
  return referrals;
}

absl::StatusOr<v1::SusExport> CoordinatorDesk::ExportSusRegistrations(
    const Caller& caller, const v1::ExportSusRegistrationsRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent("parent", request.parent(),
                                     /*allow_any_region=*/false));
  ListQuery query{.regions = {region}, .page_size = 1000, .scan_limit = 1000};
  switch (caller.role) {
    case v1::ROLE_COORDINATOR:
      RETURN_IF_ERROR(CheckOwnRegion(caller, region, "SUS registrations"));
      break;
    case v1::ROLE_PROVIDER:
      break;  // its own insatser: see below
    default:
      return absl::PermissionDeniedError(absl::StrCat(
          "role ", RoleName(caller.role),
          " may not export SUS registrations; the region's coordinators and "
          "providers (of their own insatser) may"));
  }
  ASSIGN_OR_RETURN(const absl::CivilDay from,
                   ToCivilDay("start_date", request.start_date()));
  ASSIGN_OR_RETURN(const absl::CivilDay to,
                   ToCivilDay("end_date", request.end_date()));
  if (to < from || to - from > 365) {
    return InvalidField("end_date",
                        "must lie on or after start_date, at most 366 days "
                        "on (export a year at a time)",
                        absl::FormatCivilTime(to));
  }
  if (!request.offering().empty()) {
    RETURN_IF_ERROR(ParseOfferingName("offering", request.offering()).status());
  }
  ASSIGN_OR_RETURN(std::vector<ReferralRecord> referrals, EveryReferral(query));
  if (caller.role == v1::ROLE_PROVIDER) {
    // The participations it served: started by it (a consent withdrawn
    // after the start unassigns the referral, but the provider still has
    // both registrations to make), or held by it now.
    std::erase_if(referrals, [&](const ReferralRecord& record) {
      if (record.assigned_organisation == caller.organisation) return false;
      for (const v1::Transition& t : record.referral.history()) {
        if (t.action() == v1::ACTION_START &&
            t.actor().organisation() == caller.organisation) {
          return false;
        }
      }
      return true;
    });
  }
  const absl::Time now = clock_->Now();
  v1::SusExport out = SusExportOf(referrals, from, to, request.offering(),
                                  caller, now, calendar_->time_zone());
  // The rows that name a participant are a read of their personal data.
  std::set<std::string> named;
  for (const v1::SusRow& row : out.rows()) {
    if (!row.anonymous()) named.insert(row.referral());
  }
  std::vector<AuditedRead> reads;
  const std::string resource =
      absl::StrCat("regions/", region, "/susRegistrations");
  for (const ReferralRecord& record : referrals) {
    if (named.count(record.referral.name())) {
      reads.push_back({&record, resource});
    }
  }
  if (!reads.empty()) RETURN_IF_ERROR(RecordReads(audit_, caller, reads, now));
  return out;
}

absl::StatusOr<v1::DeadlineRuleSet> CoordinatorDesk::CreateDeadlineRuleSet(
    const Caller& caller, const v1::CreateDeadlineRuleSetRequest& request) {
  if (caller.role != v1::ROLE_ADMIN) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " may not change deadline rules; admins may"));
  }
  return keeper_->AddRuleSetVersion(request.rule_set_id(), request.rule_set(),
                                    caller, clock_->Now());
}

absl::StatusOr<v1::ListDeadlineRuleSetsResponse>
CoordinatorDesk::ListDeadlineRuleSets(
    const Caller& caller, const v1::ListDeadlineRuleSetsRequest& request) {
  if (caller.role == v1::ROLE_UNSPECIFIED) {
    return absl::PermissionDeniedError("an identified caller is required");
  }
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  const uint64_t fingerprint = QueryFingerprint("deadlineRuleSets");
  ASSIGN_OR_RETURN(const std::string cursor,
                   DecodePageToken("page_token", request.page_token(),
                                   fingerprint, IsSlugId));
  const std::vector<v1::DeadlineRuleSet> sets = keeper_->rule_sets();
  ASSIGN_OR_RETURN(const int skip, OffsetCursor("page_token", cursor,
                                                static_cast<int>(sets.size())));
  v1::ListDeadlineRuleSetsResponse response;
  const int end = std::min(static_cast<int>(sets.size()), skip + page_size);
  for (int i = skip; i < end; ++i) *response.add_rule_sets() = sets[i];
  if (end < static_cast<int>(sets.size())) {
    response.set_next_page_token(
        EncodePageToken(absl::StrCat("o", end), fingerprint));
  }
  return response;
}

}  // namespace slussen::core

#include "broker/core/desks/event_desk.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/access.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// Events examined per ListEvents call at most.
constexpr int kScanLimit = 5000;

bool Wanted(const std::set<int>& types, const v1::Event& event) {
  return types.empty() || types.count(event.type()) > 0;
}

// How long a region's set of protected referrals is used before it is read
// again.
constexpr absl::Duration kHiddenTtl = absl::Seconds(1);

}  // namespace

bool EventDesk::Shows(const Caller& caller, const std::string& region,
                      const v1::Event& event,
                      const std::set<std::string>* hidden) {
  if (!MaySeeEvent(caller, region, event)) return false;
  if (hidden == nullptr || event.referral().empty()) return true;
  const absl::string_view name = event.referral();
  return hidden->count(std::string(name.substr(name.rfind('/') + 1))) == 0;
}

absl::StatusOr<std::shared_ptr<const std::set<std::string>>> EventDesk::Hidden(
    const Caller& caller, const std::string& region) {
  if (referrals_ == nullptr || caller.role != v1::ROLE_COORDINATOR) {
    return nullptr;
  }
  const absl::Time now = absl::Now();  // a cache's age, not business time
  {
    absl::MutexLock lock(&mu_);
    const auto it = hidden_.find(region);
    if (it != hidden_.end() && now - it->second.read < kHiddenTtl) {
      return it->second.ids;
    }
  }
  absl::StatusOr<std::vector<std::string>> read =
      referrals_->ProtectedReferrals(region);
  if (!read.ok()) {
    // A store that cannot be reached now: the last set read, if any (a
    // referral protected since carries the flag in its new events).
    absl::MutexLock lock(&mu_);
    const auto it = hidden_.find(region);
    if (it != hidden_.end()) return it->second.ids;
    return read.status();
  }
  const std::vector<std::string>& ids = *read;
  auto set =
      std::make_shared<const std::set<std::string>>(ids.begin(), ids.end());
  absl::MutexLock lock(&mu_);
  hidden_[region] = Cached{now, set};
  return set;
}

absl::StatusOr<std::vector<std::string>> EventDesk::Regions(
    const Caller& caller, absl::string_view field, const std::string& parent) {
  if (caller.role != v1::ROLE_COORDINATOR && caller.role != v1::ROLE_AGENCY &&
      caller.role != v1::ROLE_PROVIDER) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " watches no events; coordinators, agencies and "
                     "providers do"));
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ParseRegionParent(field, parent, /*allow_any_region=*/true));
  if (caller.role == v1::ROLE_COORDINATOR) {
    RETURN_IF_ERROR(CheckOwnRegion(caller, region, "events"));
    return std::vector<std::string>{caller.region};
  }
  if (region != kAnyRegion) return std::vector<std::string>{region};
  std::vector<std::string> all;
  for (absl::string_view code : RegionCodes()) all.emplace_back(code);
  return all;
}

absl::Status EventDesk::CheckNothingRemovedAfter(const std::string& region,
                                                 const std::string& position,
                                                 absl::string_view field) {
  ASSIGN_OR_RETURN(const std::string removed, log_->RemovedBefore(region));
  if (removed.empty() || CompareStreamPositions(position, removed) >= 0) {
    return absl::OkStatus();
  }
  return WithReason(
      absl::OutOfRangeError(absl::StrCat(
          field, " is older than the events of region ", region,
          " still kept: events up to ", removed,
          " were removed after the retention period (--retention_days); start "
          "again without it, and read the current state (ListReferrals, "
          "GetReferral) for what happened before")),
      "EVENTS_REMOVED");
}

absl::StatusOr<EventDesk::Watch> EventDesk::StartWatch(
    const Caller& caller, const v1::WatchEventsRequest& request) {
  ASSIGN_OR_RETURN(const std::vector<std::string> regions,
                   Regions(caller, "parent", request.parent()));
  RETURN_IF_ERROR(ValidateEnumSet<v1::EventType>("types", request.types()));
  ASSIGN_OR_RETURN(
      const auto resumed,
      DecodeWatchPositions("resume_token", request.resume_token()));
  Watch watch;
  watch.types.insert(request.types().begin(), request.types().end());
  for (const std::string& region : regions) {
    const auto it = resumed.find(region);
    if (it != resumed.end()) {
      RETURN_IF_ERROR(
          CheckNothingRemovedAfter(region, it->second, "resume_token"));
      watch.positions[region] = it->second;
    } else {
      ASSIGN_OR_RETURN(watch.positions[region], log_->LastPosition(region));
    }
  }
  return watch;
}

absl::StatusOr<std::vector<v1::WatchEventsResponse>> EventDesk::Poll(
    const Caller& caller, Watch& watch, int limit) {
  std::vector<v1::WatchEventsResponse> out;
  for (auto& [region, position] : watch.positions) {
    ASSIGN_OR_RETURN(std::vector<LoggedEvent> events,
                     log_->ReadAfter(region, position, limit));
    if (events.empty()) continue;
    ASSIGN_OR_RETURN(const std::shared_ptr<const std::set<std::string>> hidden,
                     Hidden(caller, region));
    for (LoggedEvent& logged : events) {
      position = logged.position;
      if (!Wanted(watch.types, logged.event) ||
          !Shows(caller, region, logged.event, hidden.get())) {
        continue;
      }
      StripParticipantFacts(logged.event);
      v1::WatchEventsResponse& response = out.emplace_back();
      *response.mutable_event() = std::move(logged.event);
      response.set_resume_token(EncodeWatchPositions(watch.positions));
    }
  }
  return out;
}

absl::StatusOr<v1::ListEventsResponse> EventDesk::ListEvents(
    const Caller& caller, const v1::ListEventsRequest& request) {
  ASSIGN_OR_RETURN(const std::vector<std::string> regions,
                   Regions(caller, "parent", request.parent()));
  if (regions.size() != 1) {
    return InvalidField("parent", "must name one region", request.parent());
  }
  const std::string& region = regions[0];
  RETURN_IF_ERROR(ValidateEnumSet<v1::EventType>("types", request.types()));
  if (!request.referral().empty()) {
    RETURN_IF_ERROR(ParseReferralName("referral", request.referral()).status());
  }
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  v1::ListEventsRequest canonical = request;
  canonical.clear_page_size();
  canonical.clear_page_token();
  const uint64_t fingerprint = QueryFingerprint(
      absl::StrCat(caller.organisation, "\n", canonical.SerializeAsString()));
  ASSIGN_OR_RETURN(std::string position,
                   DecodePageToken("page_token", request.page_token(),
                                   fingerprint, IsStreamPosition));
  if (!request.page_token().empty()) {
    RETURN_IF_ERROR(CheckNothingRemovedAfter(region, position, "page_token"));
  }
  const std::set<int> types(request.types().begin(), request.types().end());
  ASSIGN_OR_RETURN(const std::shared_ptr<const std::set<std::string>> hidden,
                   Hidden(caller, region));
  v1::ListEventsResponse response;
  int examined = 0;
  while (examined < kScanLimit) {
    ASSIGN_OR_RETURN(std::vector<LoggedEvent> events,
                     listing_->ReadAfter(region, position, 500));
    if (events.empty()) return response;  // the end: no token
    for (LoggedEvent& logged : events) {
      ++examined;
      position = logged.position;
      if (!Wanted(types, logged.event) ||
          !Shows(caller, region, logged.event, hidden.get()) ||
          (!request.referral().empty() &&
           logged.event.referral() != request.referral())) {
        continue;
      }
      StripParticipantFacts(logged.event);
      *response.add_events() = std::move(logged.event);
      if (response.events_size() == page_size) {
        response.set_next_page_token(EncodePageToken(position, fingerprint));
        return response;
      }
    }
  }
  response.set_next_page_token(EncodePageToken(position, fingerprint));
  return response;
}

}  // namespace slussen::core

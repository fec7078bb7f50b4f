// The clocks of InMemoryReferralRepository, kept as the Redis store keeps
// them (broker/store/redis_referral_store_clocks.cc) so that what a caller
// sees through the interface is the same: a clock as last written with its
// plan, a place in its region's due set (the next step to take), one in
// its open clocks, and per region how far planned steps have fired and the
// events prepared ahead of their instant. FirePlanned follows the store's
// script step by step; a read merges the steps that have fired, and counts
// them in the version, as the store's reader does. The contract suite
// (tests/contract/) holds the two to the same cases.
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/proto_time.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

// Times as the store keeps them: milliseconds.
int64_t Millis(absl::Time t) { return absl::ToUnixMillis(t); }

// The longest field of a stored plan step (its byte of length).
constexpr size_t kMaxStepField = 255;

}  // namespace

std::vector<InMemoryReferralRepository::Step>
InMemoryReferralRepository::PlanOf(const core::ClockWrite& write) {
  // As EncodePlan: no plan unless it starts at the clock's next firing,
  // its times never go back and each step's fields fit.
  std::vector<Step> out;
  if (write.plan.empty() || write.record.next_fire != write.plan[0].at) {
    return out;
  }
  absl::Time last = write.plan[0].at;
  for (const core::PlannedStep& step : write.plan) {
    if (step.at < last || step.set.ByteSizeLong() > kMaxStepField) return {};
    last = step.at;
    out.push_back(
        {.at_ms = Millis(step.at), .type = step.type, .set = step.set});
  }
  if (write.after_plan.has_value()) {
    if (*write.after_plan < last) return {};
    out.push_back({.at_ms = Millis(*write.after_plan), .tail = true});
  }
  return out;
}

core::ClockRecord InMemoryReferralRepository::ReadClock(
    const StoredClock& stored) const {
  core::ClockRecord out = stored.written;
  // Fired: the steps before the place that the region has fired past. A
  // region that never fired (a store from before steps were prepared)
  // has only the place to tell; a clock with no place, only the region.
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  const auto region = firing_.find(out.region);
  const int64_t fired = region == firing_.end()
                            ? kNever
                            : region->second.fired_ms.value_or(kNever);
  const int64_t place = stored.place.value_or(kNever);
  size_t n = 0;
  while (n < stored.plan.size() && stored.plan[n].at_ms < place &&
         stored.plan[n].at_ms <= fired) {
    out.clock.MergeFrom(stored.plan[n].set);
    ++n;
  }
  out.version += static_cast<int64_t>(n);
  if (stored.plan.empty()) {
    if (out.next_fire.has_value()) {
      out.next_fire = absl::FromUnixMillis(Millis(*out.next_fire));
    }
  } else if (n < stored.plan.size()) {
    out.next_fire = absl::FromUnixMillis(stored.plan[n].at_ms);
  } else {
    out.next_fire = std::nullopt;
  }
  return out;
}

std::optional<core::ClockRecord> InMemoryReferralRepository::ReadClock(
    const std::string& region, const std::string& id) const {
  const auto it = clocks_.find({region, id});
  if (it == clocks_.end()) return std::nullopt;
  return ReadClock(it->second);
}

std::vector<core::ClockRecord> InMemoryReferralRepository::ReadInOrder(
    std::vector<Scored> scored, int limit) const {
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    return std::tie(a.first, a.second->written.id) <
           std::tie(b.first, b.second->written.id);
  });
  std::vector<core::ClockRecord> out;
  for (const auto& [score, clock] : scored) {
    if (static_cast<int>(out.size()) >= limit) break;
    out.push_back(ReadClock(*clock));
  }
  return out;
}

absl::Status InMemoryReferralRepository::CheckClocks(
    const std::vector<core::ClockWrite>& writes) const {
  for (const core::ClockWrite& write : writes) {
    const core::ClockRecord& r = write.record;
    const std::optional<core::ClockRecord> stored = ReadClock(r.region, r.id);
    if (r.version == 0) {
      if (stored.has_value()) {
        return absl::AbortedError(
            absl::StrCat("clock ", r.clock.name(), " exists"));
      }
      continue;
    }
    if (!stored.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("clock ", r.clock.name(), " not found"));
    }
    if (stored->version != r.version) {
      return absl::AbortedError(
          absl::StrCat("clock ", r.clock.name(), " changed (version ",
                       stored->version, ", expected ", r.version, ")"));
    }
  }
  return absl::OkStatus();
}

void InMemoryReferralRepository::WriteClocks(
    const std::vector<core::ClockWrite>& writes) {
  for (const core::ClockWrite& write : writes) {
    const core::ClockRecord& r = write.record;
    StoredClock& stored = clocks_[{r.region, r.id}];
    if (r.version == 0) {
      stored = StoredClock();
      stored.started_ms = Millis(core::ToAbslTime(r.clock.start_time()));
    } else if (const std::optional<int64_t> fired = firing_[r.region].fired_ms;
               fired.has_value()) {
      // Withdraws the events prepared for its steps not yet fired: the new
      // plan replaces them.
      auto& prepared = firing_[r.region].prepared;
      for (const Step& step : stored.plan) {
        if (stored.place.has_value() && step.at_ms >= *stored.place) break;
        if (step.at_ms <= *fired) continue;
        const auto instant = prepared.find(step.at_ms);
        if (instant == prepared.end()) continue;
        instant->second.erase(r.id);
        if (instant->second.empty()) prepared.erase(instant);
      }
    }
    stored.written = r;
    stored.written.version = r.version + 1;
    stored.plan = PlanOf(write);
    stored.plan_event = stored.plan.empty() ? v1::Event() : write.plan_event;
    stored.place = r.next_fire.has_value()
                       ? std::optional<int64_t>(Millis(*r.next_fire))
                       : std::nullopt;
    stored.open_due = core::IsOpen(r.clock)
                          ? std::optional<int64_t>(
                                Millis(core::ToAbslTime(r.clock.due_time())))
                          : std::nullopt;
    if (write.event.has_value()) Log(r.region, *write.event);
  }
}

absl::StatusOr<std::vector<core::ClockRecord>>
InMemoryReferralRepository::ListClocks(const std::string& region,
                                       const std::string& referral_id) {
  absl::MutexLock lock(&mu_);
  std::vector<core::ClockRecord> out;
  for (const auto& [key, clock] : clocks_) {
    if (key.first == region &&
        absl::StartsWith(key.second, referral_id + "-")) {
      out.push_back(ReadClock(clock));
    }
  }
  return out;
}

absl::StatusOr<core::ClockRecord> InMemoryReferralRepository::GetClock(
    const std::string& region, const std::string& id) {
  absl::MutexLock lock(&mu_);
  std::optional<core::ClockRecord> read = ReadClock(region, id);
  if (!read.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("clock regions/", region, "/clocks/", id, " not found"));
  }
  return *std::move(read);
}

absl::StatusOr<std::vector<std::optional<core::ClockRecord>>>
InMemoryReferralRepository::GetClocks(const std::string& region,
                                      const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  std::vector<std::optional<core::ClockRecord>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(ReadClock(region, id));
  return out;
}

absl::StatusOr<std::vector<std::string>> InMemoryReferralRepository::DueClocks(
    const std::string& region, absl::Time now, int limit) {
  absl::MutexLock lock(&mu_);
  // The due set: by place, then id.
  std::vector<std::pair<int64_t, std::string>> due;
  for (const auto& [key, clock] : clocks_) {
    if (key.first == region && clock.place.has_value() &&
        *clock.place <= Millis(now)) {
      due.emplace_back(*clock.place, key.second);
    }
  }
  std::sort(due.begin(), due.end());
  std::vector<std::string> out;
  for (auto& [place, id] : due) {
    if (static_cast<int>(out.size()) == limit) break;
    out.push_back(std::move(id));
  }
  return out;
}

absl::StatusOr<std::vector<core::ClockRecord>>
InMemoryReferralRepository::ListOpenClocks(
    const std::string& region,
    const std::optional<core::OpenClockPosition>& after, int limit) {
  absl::MutexLock lock(&mu_);
  // The open clocks: by due time (ms), then id.
  std::vector<Scored> open;
  for (const auto& [key, clock] : clocks_) {
    if (key.first != region || !clock.open_due.has_value()) continue;
    if (after.has_value() &&
        std::make_pair(*clock.open_due, key.second) <=
            std::make_pair(Millis(after->due), after->id)) {
      continue;
    }
    open.emplace_back(*clock.open_due, &clock);
  }
  return ReadInOrder(std::move(open), limit);
}

absl::StatusOr<std::vector<core::ClockRecord>>
InMemoryReferralRepository::ListClocksStarted(const std::string& region,
                                              absl::Time start, absl::Time end,
                                              int limit) {
  absl::MutexLock lock(&mu_);
  // The clocks started: by start time (ms), then id; [start, end).
  std::vector<Scored> started;
  for (const auto& [key, clock] : clocks_) {
    if (key.first == region && clock.started_ms >= Millis(start) &&
        clock.started_ms < Millis(end)) {
      started.emplace_back(clock.started_ms, &clock);
    }
  }
  return ReadInOrder(std::move(started), limit);
}

absl::StatusOr<int64_t> InMemoryReferralRepository::ApplyClock(
    const core::ClockWrite& write) {
  absl::MutexLock lock(&mu_);
  if (absl::Status ok = CheckClocks({write}); !ok.ok()) return ok;
  WriteClocks({write});
  return write.record.version + 1;
}

absl::StatusOr<std::vector<absl::Status>>
InMemoryReferralRepository::ApplyClocks(
    const std::vector<core::ClockWrite>& writes) {
  absl::MutexLock lock(&mu_);
  std::vector<absl::Status> out;
  out.reserve(writes.size());
  for (const core::ClockWrite& write : writes) {
    out.push_back(CheckClocks({write}));
    if (out.back().ok()) WriteClocks({write});
  }
  return out;
}

absl::StatusOr<core::PlannedFiring> InMemoryReferralRepository::FirePlanned(
    const std::string& region, absl::Time now, absl::Time prepare_until,
    int limit) {
  absl::MutexLock lock(&mu_);
  RegionFiring& firing = firing_[region];
  const int64_t now_ms = Millis(now);
  const int64_t horizon = Millis(std::max(now, prepare_until));
  if (!firing.fired_ms.has_value()) firing.fired_ms = now_ms;
  // Steps up to `upto` are appended; the fired time moves to it only when
  // some are.
  const int64_t upto = std::max(*firing.fired_ms, now_ms);
  int steps = 0;
  std::map<int64_t, int> by_instant;  // the steps appended, by instant
  // The prepared instants passed, soonest first.
  for (auto instant = firing.prepared.begin();
       instant != firing.prepared.end() && instant->first <= upto;
       instant = firing.prepared.erase(instant)) {
    for (const auto& [id, events] : instant->second) {
      for (const v1::Event& event : events) Log(region, event);
      steps += static_cast<int>(events.size());
      by_instant[instant->first] += static_cast<int>(events.size());
    }
  }
  // The clocks due by the horizon, by place and then id, at most `limit`.
  std::vector<std::pair<int64_t, std::string>> due;
  for (const auto& [key, clock] : clocks_) {
    if (key.first == region && clock.place.has_value() &&
        *clock.place <= horizon) {
      due.emplace_back(*clock.place, key.second);
    }
  }
  std::sort(due.begin(), due.end());
  if (limit >= 0 && static_cast<int>(due.size()) > limit) due.resize(limit);

  core::PlannedFiring out;
  out.clocks = static_cast<int>(due.size());
  for (const auto& [place, id] : due) {
    StoredClock& clock = clocks_.at({region, id});
    bool at_place = false;
    std::optional<int64_t> next;
    bool next_due = false;
    std::map<int64_t, std::vector<v1::Event>> kept;  // by instant
    for (const Step& step : clock.plan) {
      if (step.at_ms < place) continue;
      if (!at_place) {
        // A place that is none of its steps: stale, left to the keeper.
        if (step.at_ms != place) break;
        at_place = true;
      }
      if (step.tail || step.at_ms > horizon) {
        next = step.at_ms;
        next_due = step.tail && step.at_ms <= now_ms;
        break;
      }
      v1::Event event = clock.plan_event;
      event.set_type(step.type);
      *event.mutable_time() =
          core::ToProtoTimestamp(absl::FromUnixMillis(step.at_ms));
      if (step.at_ms <= upto) {
        Log(region, event);
        ++steps;
        ++by_instant[step.at_ms];
      } else {
        kept[step.at_ms].push_back(std::move(event));
      }
    }
    for (auto& [at, events] : kept) firing.prepared[at][id] = std::move(events);
    if (!at_place) {
      if (place <= now_ms) out.unplanned.push_back(id);
    } else {
      clock.place = next;
      if (next_due) out.unplanned.push_back(id);
    }
  }
  if (steps > 0 && *firing.fired_ms < upto) firing.fired_ms = upto;
  out.steps = steps;
  for (const auto& [at_ms, n] : by_instant) {
    out.fired.push_back({.at = absl::FromUnixMillis(at_ms), .steps = n});
  }
  return out;
}

absl::StatusOr<std::vector<core::ClockTally>>
InMemoryReferralRepository::CountClocks(const std::string& region) {
  absl::MutexLock lock(&mu_);
  std::map<std::pair<v1::ClockKind, core::ClockStage>, int64_t> counts;
  for (const auto& [key, stored] : clocks_) {
    if (key.first != region) continue;
    const core::ClockRecord read = ReadClock(stored);
    if (!core::IsOpen(read.clock)) continue;
    ++counts[{read.clock.kind(), core::StageOf(read.clock)}];
  }
  std::vector<core::ClockTally> out;
  for (const auto& [kind_and_stage, clocks] : counts) {
    out.push_back({.kind = kind_and_stage.first,
                   .stage = kind_and_stage.second,
                   .clocks = clocks});
  }
  return out;
}

}  // namespace slussen::testing

#include "broker/service/event_feed.h"

#include <algorithm>
#include <utility>

#include "broker/core/model/status_macros.h"
#include "broker/service/json_log.h"

namespace slussen::service {

EventFeed::EventFeed(core::EventLog* source, Options options)
    : source_(source), options_(options) {}

EventFeed::~EventFeed() { Stop(); }

void EventFeed::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void EventFeed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status EventFeed::Subscribe(const std::vector<std::string>& regions,
                                  Listener* listener) {
  // Where each region not read yet starts: its newest event now. Asked
  // outside the lock; a region another subscriber started meanwhile keeps
  // its start.
  std::map<std::string, std::string> starts;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& region : regions) {
      if (regions_.count(region) == 0) starts[region];
    }
  }
  for (auto& [region, start] : starts) {
    ASSIGN_OR_RETURN(start, source_->LastPosition(region));
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& region : regions) {
    auto [it, added] = regions_.try_emplace(region);
    if (added) it->second.start = it->second.head = starts[region];
    it->second.listeners.insert(listener);
  }
  return absl::OkStatus();
}

void EventFeed::Unsubscribe(Listener* listener) {
  absl::MutexLock notifying(&notify_mu_);
  absl::MutexLock lock(&mu_);
  for (auto& [region, state] : regions_) state.listeners.erase(listener);
}

absl::StatusOr<std::vector<core::LoggedEvent>> EventFeed::ReadAfter(
    const std::string& region, const std::string& position, int limit) {
  {
    absl::MutexLock lock(&mu_);
    const auto it = regions_.find(region);
    if (it != regions_.end() &&
        core::CompareStreamPositions(position, it->second.start) >= 0) {
      const std::deque<core::LoggedEvent>& kept = it->second.kept;
      auto next = std::partition_point(
          kept.begin(), kept.end(), [&](const core::LoggedEvent& logged) {
            return core::CompareStreamPositions(logged.position, position) <= 0;
          });
      std::vector<core::LoggedEvent> out;
      for (; next != kept.end() && static_cast<int>(out.size()) < limit;
           ++next) {
        out.push_back(*next);
      }
      return out;
    }
  }
  return source_->ReadAfter(region, position, limit);
}

absl::StatusOr<std::string> EventFeed::LastPosition(const std::string& region) {
  return source_->LastPosition(region);
}

absl::StatusOr<std::string> EventFeed::RemovedBefore(
    const std::string& region) {
  return source_->RemovedBefore(region);
}

void EventFeed::Loop() {
  const auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stopping_;
  };
  for (;;) {
    const bool more = ReadOnce();
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!more) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping), options_.poll_interval);
      if (stopping_) return;
    }
  }
}

bool EventFeed::ReadOnce() {
  std::map<std::string, std::string> heads;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [region, state] : regions_) heads[region] = state.head;
  }
  if (heads.empty()) return false;
  const bool can_wait = source_->CanWait();
  absl::StatusOr<std::map<std::string, std::vector<core::LoggedEvent>>> read =
      source_->ReadAfterEach(heads, options_.entries_per_read,
                             can_wait ? options_.wait : absl::ZeroDuration());
  if (read.ok() == failing_) {
    failing_ = !read.ok();
    Log(failing_ ? LogLevel::kWarning : LogLevel::kInfo,
        failing_ ? "event feed cannot read" : "event feed reads again",
        {{"error", read.status().message()}});
  }
  if (!read.ok()) {
    // Not at once again: the log is down or refusing.
    absl::MutexLock lock(&mu_);
    const auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stopping_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&stopping),
                         std::max(options_.wait, options_.poll_interval));
    return true;
  }
  if (read->empty()) return can_wait;
  // Listeners are called under notify_mu_, taken before they are looked
  // up, so that none is unsubscribed (and gone) in between.
  absl::MutexLock notifying(&notify_mu_);
  std::set<Listener*> told;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [region, events] : *read) {
      Region& state = regions_[region];
      for (core::LoggedEvent& logged : events) {
        // Read after `heads`, which only this thread moves: all new.
        state.head = logged.position;
        state.kept.push_back(std::move(logged));
      }
      while (static_cast<int>(state.kept.size()) > options_.kept_per_region) {
        state.start = state.kept.front().position;
        state.kept.pop_front();
      }
      told.insert(state.listeners.begin(), state.listeners.end());
    }
  }
  for (Listener* listener : told) listener->OnEvents();
  return true;
}

}  // namespace slussen::service

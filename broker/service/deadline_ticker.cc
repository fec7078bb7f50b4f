#include "broker/service/deadline_ticker.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "broker/core/names.h"
#include "broker/service/json_log.h"

namespace slussen::service {

void DeadlineTicker::Start() {
  thread_ = std::thread([this] {
    bool backlog = false;
    for (int n = 1; !stopping_.WaitForNotificationWithTimeout(
             backlog ? absl::ZeroDuration() : options_.interval);
         ++n) {
      // New rule versions another replica added: every ~5 s.
      if (n % 20 == 0) keeper_->RefreshRuleSets().IgnoreError();
      Tick(&backlog);
    }
  });
}

void DeadlineTicker::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (thread_.joinable()) thread_.join();
}

int DeadlineTicker::Tick() {
  bool backlog = false;
  return Tick(&backlog);
}

int DeadlineTicker::Tick(bool* backlog) {
  const absl::Time now = clock_->Now();
  const std::vector<absl::string_view>& regions = core::RegionCodes();
  // Replicas tick at once: each starts at a region of its own choosing,
  // so that they fire different regions rather than race for the same.
  absl::BitGen random;
  const size_t first = absl::Uniform<size_t>(random, 0, regions.size());
  std::atomic<size_t> next{0};
  std::atomic<int> total{0};
  std::atomic<bool> full{false};
  const auto work = [&] {
    for (size_t i = next++; i < regions.size(); i = next++) {
      const std::string region(regions[(first + i) % regions.size()]);
      const absl::StatusOr<int> fired = keeper_->FireDue(region, now);
      if (!fired.ok()) {
        // Redis away: the next tick tries again (the health probe reports).
        Log(LogLevel::kDebug, "deadline tick failed",
            {{"region", region},
             {"error", std::string(fired.status().message())}});
        continue;
      }
      if (*fired > 0) {
        Log(LogLevel::kInfo, "deadlines fired",
            {{"region", region}, {"steps", absl::StrCat(*fired)}});
      }
      total += *fired;
      // Steps, not clocks, but a clock fires one step a tick as a rule.
      if (*fired >= core::DeadlineKeeper::kFireBatch) full = true;
    }
  };
  std::vector<std::thread> helpers;
  for (int w = 1; w < options_.workers; ++w) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  *backlog = full;
  return total;
}

}  // namespace slussen::service

#include "broker/service/deadline_ticker.h"

#include <string>

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
  *backlog = false;
  int total = 0;
  const absl::Time now = clock_->Now();
  for (absl::string_view code : core::RegionCodes()) {
    const std::string region(code);
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
    if (*fired >= core::DeadlineKeeper::kFireBatch) *backlog = true;
  }
  return total;
}

}  // namespace slussen::service

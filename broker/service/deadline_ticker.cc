#include "broker/service/deadline_ticker.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/names.h"
#include "broker/service/json_log.h"

namespace slussen::service {
namespace {

// How late the steps the keeper fires are, by the clock when it reports
// them (after the store has them), for Options::on_fired.
class LagReporter final : public core::FiringObserver {
 public:
  LagReporter(const core::Clock* clock,
              const std::function<void(absl::Duration, int)>* on_fired)
      : clock_(clock), on_fired_(on_fired) {}

  void OnStepsFired(const std::string& /*region*/, absl::Time due,
                    int steps) override {
    (*on_fired_)(std::max(absl::ZeroDuration(), clock_->Now() - due), steps);
  }

 private:
  const core::Clock* const clock_;
  const std::function<void(absl::Duration, int)>* const on_fired_;
};

}  // namespace

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
  absl::MutexLock ticking(&tick_mu_);
  {
    absl::MutexLock lock(&pool_mu_);
    helpers_stopping_ = true;
  }
  for (std::thread& helper : helpers_) helper.join();
  helpers_.clear();
}

void DeadlineTicker::Help() {
  uint64_t done = 0;
  while (true) {
    const std::function<void()>* work;
    {
      absl::MutexLock lock(&pool_mu_);
      const auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(pool_mu_) {
        return helpers_stopping_ || round_id_ != done;
      };
      pool_mu_.Await(absl::Condition(&ready));
      if (helpers_stopping_) return;
      done = round_id_;
      work = round_;
    }
    (*work)();
    absl::MutexLock lock(&pool_mu_);
    --busy_;
  }
}

void DeadlineTicker::RunOnAll(const std::function<void()>& work) {
  // Under tick_mu_ (Tick holds it): helpers_ is ours.
  {
    absl::MutexLock lock(&pool_mu_);
    if (helpers_stopping_) {
      work();  // stopped: the calling thread alone
      return;
    }
  }
  while (static_cast<int>(helpers_.size()) < options_.workers - 1) {
    helpers_.emplace_back([this] { Help(); });
  }
  {
    absl::MutexLock lock(&pool_mu_);
    round_ = &work;
    ++round_id_;
    busy_ = static_cast<int>(helpers_.size());
  }
  work();
  absl::MutexLock lock(&pool_mu_);
  const auto finished = [this]() ABSL_SHARED_LOCKS_REQUIRED(pool_mu_) {
    return busy_ == 0;
  };
  pool_mu_.Await(absl::Condition(&finished));
  round_ = nullptr;
}

int DeadlineTicker::Tick() {
  bool backlog = false;
  return Tick(&backlog);
}

int DeadlineTicker::Tick(bool* backlog) {
  absl::MutexLock ticking(&tick_mu_);
  const absl::Time now = clock_->Now();
  const std::vector<absl::string_view>& regions = core::RegionCodes();
  // Replicas tick at once: each starts at a region of its own choosing,
  // so that they fire different regions rather than race for the same.
  absl::BitGen random;
  const size_t first = absl::Uniform<size_t>(random, 0, regions.size());
  std::atomic<size_t> next{0};
  std::atomic<int> total{0};
  std::atomic<bool> full{false};
  LagReporter lag(clock_, &options_.on_fired);
  core::FiringObserver* observer = options_.on_fired ? &lag : nullptr;
  const auto work = [&] {
    for (size_t i = next++; i < regions.size(); i = next++) {
      const std::string region(regions[(first + i) % regions.size()]);
      const absl::StatusOr<int> fired = keeper_->FireDue(region, now, observer);
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
  RunOnAll(work);
  *backlog = full;
  return total;
}

}  // namespace slussen::service

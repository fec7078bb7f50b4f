#include "broker/service/match_scheduler.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "broker/core/names.h"
#include "broker/service/json_log.h"
#include "broker/store/redis_keys.h"

namespace slussen::service {
namespace {

// Passes in a row while a region stays dirty or loses races.
constexpr int kMaxRounds = 10;

std::string LockKey(const std::string& region) {
  return absl::StrCat(store::keys::Region(region), "matching:lock");
}

std::string DirtyKey(const std::string& region) {
  return absl::StrCat(store::keys::Region(region), "matching:dirty");
}

// Deletes the lock only if this holder still has it.
const store::RedisScript& UnlockScript() {
  static const store::RedisScript* const kScript = new store::RedisScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua");
  return *kScript;
}

std::string NewToken() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrCat(absl::Uniform<uint64_t>(*gen));
}

}  // namespace

MatchScheduler::MatchScheduler(core::Matchmaker* matchmaker,
                               store::RedisPool* pool, const core::Clock* clock,
                               Options options)
    : matchmaker_(matchmaker), pool_(pool), clock_(clock), options_(options) {}

MatchScheduler::~MatchScheduler() { Stop(); }

void MatchScheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void MatchScheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void MatchScheduler::Trigger(const std::string& region) {
  absl::MutexLock lock(&mu_);
  dirty_.insert(region);
}

void MatchScheduler::RunNow(const std::string& region) { RunLocked(region); }

void MatchScheduler::RunLocked(const std::string& region) {
  const std::string token = NewToken();
  const absl::StatusOr<store::RedisValue> locked = pool_->Command(
      {"SET", LockKey(region), token, "NX", "PX",
       absl::StrCat(absl::ToInt64Milliseconds(options_.lock_ttl))});
  if (!locked.ok()) {
    Trigger(region);  // Redis away: the sweep retries
    return;
  }
  if (locked->is_nil()) {
    // Someone else is matching this region: have them go round again.
    (void)pool_->Command(
        {"SET", DirtyKey(region), "1", "PX",
         absl::StrCat(absl::ToInt64Milliseconds(options_.lock_ttl))});
    return;
  }
  for (int round = 0; round < kMaxRounds; ++round) {
    (void)pool_->Command({"DEL", DirtyKey(region)});
    const absl::StatusOr<core::Matchmaker::Pass> pass =
        matchmaker_->RunRegion(region);
    if (!pass.ok()) {
      Log(LogLevel::kWarning, "matching pass failed",
          {{"region", region}, {"error", pass.status().message()}});
      Trigger(region);
      break;
    }
    if (pass->queued + pass->rejected + pass->offered + pass->expired > 0) {
      Log(LogLevel::kInfo, "matched",
          {{"region", region},
           {"queued", pass->queued},
           {"rejected", pass->rejected},
           {"offered", pass->offered},
           {"expired", pass->expired},
           {"lost_races", pass->lost_races}});
    }
    const absl::StatusOr<store::RedisValue> dirty =
        pool_->Command({"EXISTS", DirtyKey(region)});
    if (pass->lost_races == 0 && dirty.ok() && dirty->integer == 0) break;
  }
  (void)pool_->Eval(UnlockScript(), {LockKey(region)}, {token});
  // Marked dirty between the last look and the unlock: go round once more.
  const absl::StatusOr<store::RedisValue> dirty =
      pool_->Command({"EXISTS", DirtyKey(region)});
  if (dirty.ok() && dirty->integer > 0) Trigger(region);
}

std::set<std::string> MatchScheduler::RegionsWithWork(bool waiting) {
  const std::string now = absl::StrCat(absl::ToUnixMillis(clock_->Now()));
  std::vector<std::vector<std::string>> counts;
  for (absl::string_view region : core::RegionCodes()) {
    counts.push_back({"ZCARD", store::keys::Matchable(region)});
    counts.push_back({"ZCOUNT", store::keys::Holds(region), "-inf", now});
  }
  std::set<std::string> regions;
  const absl::StatusOr<std::vector<store::RedisValue>> replies =
      pool_->Pipeline(counts);
  if (!replies.ok()) return regions;
  for (size_t i = 0; i < core::RegionCodes().size(); ++i) {
    if ((waiting && (*replies)[2 * i].integer > 0) ||
        (*replies)[2 * i + 1].integer > 0) {
      regions.insert(std::string(core::RegionCodes()[i]));
    }
  }
  return regions;
}

void MatchScheduler::Loop() {
  absl::Time next_sweep = absl::Now();
  absl::Time next_full_sweep = absl::Now();
  while (true) {
    std::set<std::string> regions;
    {
      absl::MutexLock lock(&mu_);
      const auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || !dirty_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_sweep);
      if (stopping_) return;
      regions.swap(dirty_);
    }
    if (absl::Now() >= next_sweep) {
      const bool full = absl::Now() >= next_full_sweep;
      regions.merge(RegionsWithWork(full));
      next_sweep = absl::Now() + options_.sweep_interval;
      if (full) next_full_sweep = absl::Now() + options_.full_sweep_interval;
    }
    for (const std::string& region : regions) RunLocked(region);
  }
}

}  // namespace slussen::service

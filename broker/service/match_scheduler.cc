#include "broker/service/match_scheduler.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "broker/core/names.h"
#include "broker/service/json_log.h"
#include "broker/store/redis_keys.h"

namespace slussen::service {
namespace {

// Passes in a row while a region stays dirty or loses races.
constexpr int kMaxRounds = 10;
// Tries at placing one arrival while it loses races.
constexpr int kArrivalAttempts = 3;

using store::keys::MatchingDirty;
using store::keys::MatchingLock;
using store::keys::MatchingPassed;
using store::keys::MatchingPending;

// The end of a full pass that went through: takes the pending count away
// if it is still what the pass saw at its start (ARGV[1], "" for none),
// and records the day the pass began (ARGV[2]).
const store::RedisScript& PassedScript() {
  static const store::RedisScript* const kScript = new store::RedisScript(R"lua(
if (redis.call('GET', KEYS[1]) or '') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('SET', KEYS[2], ARGV[2])
return 0
)lua");
  return *kScript;
}

// Extends the lease (ARGV[2] ms) only if this holder still has it.
const store::RedisScript& RenewScript() {
  static const store::RedisScript* const kScript = new store::RedisScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua");
  return *kScript;
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
  renewer_ = std::thread([this] { RenewLeases(); });
}

void MatchScheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (renewer_.joinable()) renewer_.join();
}

void MatchScheduler::RenewLeases() {
  const std::string ms =
      absl::StrCat(absl::ToInt64Milliseconds(options_.lock_ttl));
  while (true) {
    std::map<std::string, std::string> leases;
    {
      absl::MutexLock lock(&mu_);
      const auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&stop), options_.lock_ttl / 3);
      if (stopping_) return;
      leases = leases_;
    }
    for (const auto& [region, token] : leases) {
      (void)pool_->Eval(RenewScript(), {MatchingLock(region)}, {token, ms});
    }
  }
}

void MatchScheduler::LookAgainAt(const std::string& region, absl::Time when) {
  absl::MutexLock lock(&mu_);
  const auto [it, added] = look_again_.emplace(region, when);
  if (!added && when < it->second) it->second = when;
  look_again_changed_ = true;  // the loop's wait may end sooner now
}

void MatchScheduler::Trigger(const std::string& region) {
  absl::MutexLock lock(&mu_);
  dirty_.insert(region);
}

void MatchScheduler::RunNow(const std::string& region) {
  // Counted before the pass, so that no arrival takes what it freed
  // before the referrals waiting have had it. Redis away: the pass below
  // fails too, and the sweep retries.
  (void)pool_->Command({"INCR", MatchingPending(region)});
  // One pass in the caller's thread: its answer shows its own effect. More
  // rounds, for what others marked meanwhile, are the background
  // thread's: a call waits for one pass, never for a stream of others'.
  RunLocked(region, 1);
}

void MatchScheduler::PlaceArrival(const std::string& region,
                                  const std::string& id) {
  const std::string today = absl::FormatCivilTime(matchmaker_->Today());
  const absl::StatusOr<std::vector<store::RedisValue>> marks = pool_->Pipeline(
      {{"EXISTS", MatchingPending(region)}, {"GET", MatchingPassed(region)}});
  if (!marks.ok()) {
    Trigger(region);  // Redis away: the sweep places it
    return;
  }
  if ((*marks)[0].integer > 0 || (*marks)[1].is_nil() ||
      (*marks)[1].str != today) {
    // Freed capacity not yet handed out, or a new day: the referrals
    // waiting come first.
    RunLocked(region, 1);
    return;
  }
  // A lost race means the unit it was to have went to another arrival
  // meanwhile, or a pass placed it first: look again at what is free now
  // (a referral placed meanwhile has nothing left to place). Only if that
  // keeps losing does a full pass take over.
  for (int attempt = 0; attempt < kArrivalAttempts; ++attempt) {
    const absl::Time started = absl::Now();
    const absl::StatusOr<core::Matchmaker::Pass> pass =
        matchmaker_->PlaceArrival(region, id);
    if (options_.on_pass) {
      options_.on_pass(region, "arrival", absl::Now() - started, pass.ok());
    }
    if (!pass.ok()) {
      Log(LogLevel::kWarning, "placing an arrival failed",
          {{"region", region},
           {"referral", id},
           {"error", pass.status().message()}});
      Trigger(region);
      return;
    }
    if (pass->lost_races == 0) return;
  }
  Trigger(region);
}

void MatchScheduler::RunLocked(const std::string& region, int max_rounds) {
  const std::string token = NewToken();
  const absl::StatusOr<store::RedisValue> locked = pool_->Command(
      {"SET", MatchingLock(region), token, "NX", "PX",
       absl::StrCat(absl::ToInt64Milliseconds(options_.lock_ttl))});
  if (!locked.ok()) {
    Trigger(region);  // Redis away: the sweep retries
    return;
  }
  if (locked->is_nil()) {
    // Someone else is matching this region: have them go round again, and
    // look again when their lease runs out, in case they died holding it.
    // (The mark outlives a lease: a long pass reads it at its end.)
    const absl::StatusOr<std::vector<store::RedisValue>> marked =
        pool_->Pipeline({{"SET", MatchingDirty(region), "1", "PX",
                          absl::StrCat(absl::ToInt64Milliseconds(
                              options_.full_sweep_interval))},
                         {"PTTL", MatchingLock(region)}});
    absl::Duration left = options_.lock_ttl;
    if (marked.ok() && (*marked)[1].integer >= 0) {
      left = std::min(left, absl::Milliseconds((*marked)[1].integer));
    }
    LookAgainAt(region, absl::Now() + left + absl::Milliseconds(10));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    leases_[region] = token;
  }
  for (int round = 0; round < max_rounds; ++round) {
    // The day and the pending count as the pass begins: what it will have
    // seen when it ends.
    const std::string today = absl::FormatCivilTime(matchmaker_->Today());
    const absl::StatusOr<std::vector<store::RedisValue>> began =
        pool_->Pipeline(
            {{"DEL", MatchingDirty(region)}, {"GET", MatchingPending(region)}});
    const absl::Time started = absl::Now();
    const absl::StatusOr<core::Matchmaker::Pass> pass =
        matchmaker_->RunRegion(region);
    if (options_.on_pass) {
      options_.on_pass(region, "full", absl::Now() - started, pass.ok());
    }
    if (!pass.ok()) {
      Log(LogLevel::kWarning, "matching pass failed",
          {{"region", region}, {"error", pass.status().message()}});
      Trigger(region);
      break;
    }
    if (began.ok() && pass->lost_races == 0) {
      (void)pool_->Eval(PassedScript(),
                        {MatchingPending(region), MatchingPassed(region)},
                        {(*began)[1].is_nil() ? "" : (*began)[1].str, today});
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
        pool_->Command({"EXISTS", MatchingDirty(region)});
    if (pass->lost_races == 0 && dirty.ok() && dirty->integer == 0) break;
  }
  {
    absl::MutexLock lock(&mu_);
    const auto it = leases_.find(region);
    if (it != leases_.end() && it->second == token) leases_.erase(it);
  }
  (void)pool_->Eval(UnlockScript(), {MatchingLock(region)}, {token});
  // Marked dirty between the last look and the unlock: go round once more.
  const absl::StatusOr<store::RedisValue> dirty =
      pool_->Command({"EXISTS", MatchingDirty(region)});
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
        return stopping_ || !dirty_.empty() || look_again_changed_;
      };
      absl::Time deadline = next_sweep;
      for (const auto& [region, when] : look_again_) {
        deadline = std::min(deadline, when);
      }
      mu_.AwaitWithDeadline(absl::Condition(&wake), deadline);
      if (stopping_) return;
      look_again_changed_ = false;
      regions.swap(dirty_);
      const absl::Time now = absl::Now();
      for (auto it = look_again_.begin(); it != look_again_.end();) {
        if (it->second > now) {
          ++it;
          continue;
        }
        regions.insert(it->first);
        it = look_again_.erase(it);
      }
    }
    if (absl::Now() >= next_sweep) {
      const bool full = absl::Now() >= next_full_sweep;
      regions.merge(RegionsWithWork(full));
      next_sweep = absl::Now() + options_.sweep_interval;
      if (full) next_full_sweep = absl::Now() + options_.full_sweep_interval;
    }
    for (const std::string& region : regions) RunLocked(region, kMaxRounds);
  }
}

}  // namespace slussen::service

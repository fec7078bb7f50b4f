#include "broker/service/match_scheduler.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/names.h"
#include "broker/service/json_log.h"

namespace slussen::service {
namespace {

// A civil day as the matching marks keep it ("2026-12-07", what
// absl::FormatCivilTime writes), without a time-zone formatter: every
// create compares today with the last full pass's day.
std::string DayText(absl::CivilDay day) {
  return absl::StrCat(day.year(), "-", absl::Dec(day.month(), absl::kZeroPad2),
                      "-", absl::Dec(day.day(), absl::kZeroPad2));
}

// Passes in a row while a region stays dirty or loses races.
constexpr int kMaxRounds = 10;
// Tries at placing one arrival while it loses races.
constexpr int kArrivalAttempts = 3;
// How long a region's capacity, read for one arrival's plan, serves the
// next ones' (KnownCapacity): a bound, not what makes it right.
constexpr absl::Duration kCapacityCopyLife = absl::Seconds(1);

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
    : matchmaker_(matchmaker), marks_(pool), clock_(clock), options_(options) {}

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
      (void)marks_.Renew(region, token, options_.lock_ttl);
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
  (void)marks_.CountChange(region);
  // One pass in the caller's thread: its answer shows its own effect. More
  // rounds, for what others marked meanwhile, are the background
  // thread's: a call waits for one pass, never for a stream of others'.
  RunLocked(region, 1);
}

MatchScheduler::Marks MatchScheduler::Judge(
    const store::RedisMatchingMarks::Marks& read) const {
  Marks marks;
  marks.read = true;
  marks.changes = read.changes;
  marks.clear = read.changes == read.seen && read.passed.has_value() &&
                *read.passed == DayText(matchmaker_->Today());
  return marks;
}

MatchScheduler::Marks MatchScheduler::ReadMarks(const std::string& region) {
  const absl::StatusOr<store::RedisMatchingMarks::Marks> read =
      marks_.Read(region);
  {
    absl::MutexLock lock(&mu_);
    if (!read.ok()) {
      known_marks_.erase(region);
      return Marks();
    }
    known_marks_[region] = *read;
  }
  return Judge(*read);
}

std::shared_ptr<const core::RegionSnapshot> MatchScheduler::KnownCapacity(
    const core::ReferralRecord& record, const std::string& changes) {
  const std::string& agreement =
      record.referral.rehab_service_order().framework_agreement();
  absl::MutexLock lock(&mu_);
  const auto it = known_capacity_.find(record.region);
  if (it == known_capacity_.end() || it->second.changes != changes ||
      absl::Now() - it->second.read > kCapacityCopyLife) {
    return nullptr;
  }
  const std::vector<core::MatchAgreement>& agreements =
      it->second.snapshot->input.agreements;
  if (!agreement.empty() && std::none_of(agreements.begin(), agreements.end(),
                                         [&](const core::MatchAgreement& a) {
                                           return a.name == agreement;
                                         })) {
    return nullptr;  // read again, with the directory's newest
  }
  return it->second.snapshot;
}

void MatchScheduler::ForgetCapacity(const std::string& region) {
  absl::MutexLock lock(&mu_);
  known_capacity_.erase(region);
}

MatchScheduler::Marks MatchScheduler::KnownMarks(const std::string& region) {
  std::optional<store::RedisMatchingMarks::Marks> known;
  {
    absl::MutexLock lock(&mu_);
    const auto it = known_marks_.find(region);
    if (it != known_marks_.end()) known = it->second;
  }
  // Judged outside the lock, which the scheduler's threads share.
  return known.has_value() ? Judge(*known) : ReadMarks(region);
}

MatchScheduler::ArrivalPlan MatchScheduler::PlanArrival(
    const core::ReferralRecord& record) {
  // As last read: PlaceArrival's check after the write finds any change
  // counted since, here or by another replica.
  const Marks marks = KnownMarks(record.region);
  if (!marks.clear) return {};
  const absl::Time started = absl::Now();
  std::shared_ptr<const core::RegionSnapshot> capacity =
      KnownCapacity(record, marks.changes);
  if (capacity == nullptr) {
    absl::StatusOr<core::RegionSnapshot> read =
        matchmaker_->CapacityFor(record);
    if (!read.ok()) return {};
    capacity = std::make_shared<const core::RegionSnapshot>(*std::move(read));
    absl::MutexLock lock(&mu_);
    known_capacity_[record.region] = {capacity, marks.changes, absl::Now()};
  }
  using Outlook = core::Matchmaker::ArrivalOutlook;
  const Outlook outlook = matchmaker_->Outlook(record, *capacity);
  if (outlook == Outlook::kOther) return {};
  const bool offer_next = outlook == Outlook::kQueuedAndOffered;
  // The arrival's pass: this one, or PlaceArrival's that offers it.
  if (options_.on_pass && !offer_next) {
    options_.on_pass(record.region, "arrival", absl::Now() - started, true);
  }
  return {.queue_at_once = true,
          .offer_next = offer_next,
          .changes = marks.changes};
}

bool MatchScheduler::PlaceArrival(const std::string& region,
                                  const std::string& id,
                                  const ArrivalPlan* plan) {
  // Whether the marks are as the plan read them: clear.
  bool unchanged = false;
  if (plan != nullptr && plan->queue_at_once) {
    // Written QUEUED with its create. That holds if no change freed
    // capacity since the plan read the marks: a change counted later runs
    // a full pass that reads this referral too.
    if (!plan->changes_at_write.empty()) {
      unchanged = plan->changes_at_write == plan->changes;
    } else {
      const absl::StatusOr<std::string> changes = marks_.Changes(region);
      unchanged = changes.ok() && *changes == plan->changes;
    }
    if (unchanged && !plan->offer_next) return true;
    // (Not unchanged: read again below, which renews the marks known.)
  }
  // Placed now: units are taken, so the capacity known is no longer so.
  ForgetCapacity(region);
  if (!unchanged) {
    const Marks marks = ReadMarks(region);
    if (!marks.read) {
      Trigger(region);  // Redis away: the sweep places it
      return false;
    }
    if (!marks.clear) {
      // Freed capacity not yet handed out, or a new day: the referrals
      // waiting come first.
      RunLocked(region, 1);
      return false;
    }
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
      return false;
    }
    if (pass->lost_races == 0) return false;
  }
  Trigger(region);
  return false;
}

void MatchScheduler::RunLocked(const std::string& region, int max_rounds) {
  const std::string token = NewToken();
  const absl::StatusOr<bool> locked =
      marks_.Lock(region, token, options_.lock_ttl);
  if (!locked.ok()) {
    Trigger(region);  // Redis away: the sweep retries
    return;
  }
  if (!*locked) {
    // Someone else is matching this region: have them go round again, and
    // look again when their lease runs out, in case they died holding it.
    // (The mark outlives a lease: a long pass reads it at its end.)
    const absl::StatusOr<std::optional<absl::Duration>> lease_left =
        marks_.MarkDirty(region, options_.full_sweep_interval);
    absl::Duration left = options_.lock_ttl;
    if (lease_left.ok() && lease_left->has_value()) {
      left = std::min(left, **lease_left);
    }
    LookAgainAt(region, absl::Now() + left + absl::Milliseconds(10));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    leases_[region] = token;
  }
  for (int round = 0; round < max_rounds; ++round) {
    // The day and the change count as the pass begins: what it will have
    // seen when it ends.
    const std::string today = DayText(matchmaker_->Today());
    const absl::StatusOr<std::string> began = marks_.BeginPass(region);
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
    if (options_.on_queues) options_.on_queues(region, pass->queues);
    if (began.ok() && pass->lost_races == 0) {
      (void)marks_.EndPass(region, *began, today);
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
    const absl::StatusOr<bool> dirty = marks_.IsDirty(region);
    if (pass->lost_races == 0 && dirty.ok() && !*dirty) break;
  }
  {
    absl::MutexLock lock(&mu_);
    const auto it = leases_.find(region);
    if (it != leases_.end() && it->second == token) leases_.erase(it);
  }
  (void)marks_.Unlock(region, token);
  // Marked dirty between the last look and the unlock: go round once more.
  const absl::StatusOr<bool> dirty = marks_.IsDirty(region);
  if (dirty.ok() && *dirty) Trigger(region);
}

std::set<std::string> MatchScheduler::RegionsWithWork(
    bool waiting, std::set<std::string>* holds_due) {
  const std::vector<std::string> all(core::RegionCodes().begin(),
                                     core::RegionCodes().end());
  std::set<std::string> regions;
  const absl::StatusOr<std::vector<store::RedisMatchingMarks::Work>> work =
      marks_.CountWork(all, clock_->Now());
  if (!work.ok()) return regions;
  for (size_t i = 0; i < all.size(); ++i) {
    if ((*work)[i].holds_due > 0) {
      regions.insert(all[i]);
      holds_due->insert(all[i]);
    } else if (waiting && (*work)[i].waiting > 0) {
      regions.insert(all[i]);
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
      std::set<std::string> holds_due;
      regions.merge(RegionsWithWork(full, &holds_due));
      // An expired hold frees its unit in the pass: counted first, as
      // RunNow counts a change, so that no arrival takes it meanwhile.
      for (const std::string& region : holds_due) {
        (void)marks_.CountChange(region);
      }
      next_sweep = absl::Now() + options_.sweep_interval;
      if (full) next_full_sweep = absl::Now() + options_.full_sweep_interval;
    }
    for (const std::string& region : regions) RunLocked(region, kMaxRounds);
  }
}

}  // namespace slussen::service

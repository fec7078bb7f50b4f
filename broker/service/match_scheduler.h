// When matching runs: when a referral arrives, capacity changes, an offer is
// declined or expires, or someone leaves; and by a periodic sweep that
// catches holds running out and anything a crash interrupted.
//
// RunNow runs one pass of a region in the calling thread, so that the
// answer to the call that caused it already shows its effect (further
// rounds, for arrivals meanwhile, are the background thread's, so that no
// call waits for a stream of others' arrivals); if another thread or
// replica is running that region (a lease in Redis), it marks the region
// dirty instead, so that the running pass goes round again, and looks
// again itself when the lease runs out: a replica that died holding it, or
// whose lease a failover carried to the new primary, delays the region by
// at most the lease (a second), not until the next full sweep. A lease is
// renewed while its pass runs. Trigger leaves the pass to the background
// thread. Passes rarely overlap on one region, which only saves work:
// every decision is checked atomically when written.
//
//   MatchScheduler scheduler(&matchmaker, &pool);
//   scheduler.Start();
//   scheduler.RunNow("13");
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_
#define SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/matchmaker.h"
#include "broker/store/redis_client.h"

namespace slussen::service {

class MatchScheduler {
 public:
  struct Options {
    // How often every region is swept for holds that ran out.
    absl::Duration sweep_interval = absl::Seconds(5);
    // How often every region with waiting referrals is matched even when
    // nothing said so (a replica that crashed before its pass).
    absl::Duration full_sweep_interval = absl::Seconds(60);
    // How long a region's lease lasts unless renewed; a pass renews it
    // every third of that. A replica that dies holding it blocks the
    // region for at most this long.
    absl::Duration lock_ttl = absl::Seconds(1);
    // If set, told of every pass: its region, how long it took, whether it
    // ran to the end (metrics).
    std::function<void(const std::string& region, absl::Duration took, bool ok)>
        on_pass;
  };

  // All must outlive the scheduler.
  MatchScheduler(core::Matchmaker* matchmaker, store::RedisPool* pool,
                 const core::Clock* clock, Options options);
  ~MatchScheduler();

  // Starts the background threads (passes, lease renewal); Stop (or the
  // destructor) ends them.
  void Start();
  void Stop();

  // Runs the region's pass now, unless one is running elsewhere.
  void RunNow(const std::string& region);
  // Has the background thread run the region's pass soon.
  void Trigger(const std::string& region);

 private:
  void Loop();
  // Renews the leases held, every third of their life, until stopped.
  void RenewLeases();
  // Passes over `region` while it stays dirty, at most `max_rounds`, under
  // its lease; still dirty at the end, it triggers the background thread.
  void RunLocked(const std::string& region, int max_rounds);
  // Has the background thread look at `region` again at `when` (the
  // earliest of the times asked for).
  void LookAgainAt(const std::string& region, absl::Time when);
  // Regions with holds due by now; with `waiting`, also those with
  // referrals waiting for capacity.
  std::set<std::string> RegionsWithWork(bool waiting);

  core::Matchmaker* const matchmaker_;
  store::RedisPool* const pool_;
  const core::Clock* const clock_;
  const Options options_;
  absl::Mutex mu_;
  std::set<std::string> dirty_ ABSL_GUARDED_BY(mu_);
  // Regions to look at again, and when (another replica held the lease).
  std::map<std::string, absl::Time> look_again_ ABSL_GUARDED_BY(mu_);
  bool look_again_changed_ ABSL_GUARDED_BY(mu_) = false;
  // The leases this replica holds: region -> token.
  std::map<std::string, std::string> leases_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::thread renewer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_

// Fires due deadline clocks, and now and then reads the deadline rule
// versions again (another replica may have added one): every `interval` (a
// quarter second by default, so a step fires at most about that late, also
// after a restart, since the due clocks are kept in Redis), each region's
// due steps are fired by the deadline keeper. After a tick in which a
// region fired a whole batch (the midnight burst, a backlog) the next
// starts at once. Every replica ticks; the keeper's version checks make
// each step fire exactly once. A tick fires `workers` regions at a time:
// the steps are fired inside Redis (DeadlineKeeper::FireDue), so on a Redis
// Cluster as many primaries fire at once (give it at least as many workers
// as primaries); one Redis is kept busy by two. The workers beside the
// ticking thread start with the first tick and live until Stop: a tick
// starts no thread. Each step fired is told to Options::on_fired with how
// late it fired: the clock's time when the keeper reports it, less the
// step's instant.
//
//   DeadlineTicker ticker(&keeper, &clock, {});
//   ticker.Start();
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_DEADLINE_TICKER_H_
#define SLUSSEN_BROKER_SERVICE_DEADLINE_TICKER_H_

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/ports/clock.h"

namespace slussen::service {

class DeadlineTicker {
 public:
  struct Options {
    absl::Duration interval = absl::Milliseconds(250);
    // Regions fired at once (threads of a tick).
    int workers = 4;
    // If set (metrics): told, on a ticking thread, that `steps` steps fired
    // `lag` after they were due (never less than zero).
    std::function<void(absl::Duration lag, int steps)> on_fired;
  };

  // Both must outlive the ticker.
  DeadlineTicker(core::DeadlineKeeper* keeper, const core::Clock* clock,
                 Options options)
      : keeper_(keeper), clock_(clock), options_(options) {}
  ~DeadlineTicker() { Stop(); }

  void Start();
  void Stop();

  // One pass over every region now; the steps fired. Ticks run one at a
  // time.
  int Tick();

 private:
  // Tick, also telling whether a region fired a whole batch (and so may
  // have more due).
  int Tick(bool* backlog);
  // Runs `work` on the calling thread and on every helper, and returns
  // when all are done; starts the helpers the first time.
  void RunOnAll(const std::function<void()>& work);
  void Help();

  core::DeadlineKeeper* const keeper_;
  const core::Clock* const clock_;
  const Options options_;
  absl::Notification stopping_;
  std::thread thread_;

  absl::Mutex tick_mu_;  // one tick at a time
  absl::Mutex pool_mu_;
  // The work of the round under way, and its number; helpers still at it.
  const std::function<void()>* round_ ABSL_GUARDED_BY(pool_mu_) = nullptr;
  uint64_t round_id_ ABSL_GUARDED_BY(pool_mu_) = 0;
  int busy_ ABSL_GUARDED_BY(pool_mu_) = 0;
  bool helpers_stopping_ ABSL_GUARDED_BY(pool_mu_) = false;
  std::vector<std::thread> helpers_;  // started under tick_mu_
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_DEADLINE_TICKER_H_

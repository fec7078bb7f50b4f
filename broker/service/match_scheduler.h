// When matching runs: when a referral arrives, capacity changes, an offer is
// declined or expires, or someone leaves; and by a periodic sweep that
// catches holds running out and anything a crash interrupted.
//
// An arrival is placed on its own (PlaceArrival: Matchmaker::PlaceArrival
// reads the region's offerings and the one referral), so a create costs
// the same in a region of ten waiting or of ten thousand. That is fair
// only while every unit free is one nobody waiting can take, which a full
// pass leaves behind. Marks in Redis (store::RedisMatchingMarks, with the
// lease below) say when it is not so:
// - "changes": RunNow (a change that may free capacity: a publish, an
//   offering or provider edited, a decline, a cancel, an exit) counts it
//   up before its pass, as the sweep does for a region with holds to
//   expire; "seen" is the count the last full pass to end saw at its
//   start. While changes are not all seen, an arrival waits for a full
//   pass rather than take a freed place before the referrals waiting for
//   it.
// - "passed": the civil day of the last full pass. A cohort's intake opens
//   with a new day, so the first arrival of a day runs (or waits for) a
//   full pass.
// Between a change's write and its count a few milliseconds pass in which
// an arrival may still take the freed place: fairness, not capacity, is
// what that window risks (every write checks capacity atomically).
//
// Most arrivals in a busy region only wait. PlanArrival finds that out
// before the create is written (the create then writes the referral
// QUEUED: one write, not two), and PlaceArrival confirms afterwards that
// no change was counted meanwhile (by the count the write read with it,
// ArrivalPlan::changes_at_write, so a create that waits is one round trip
// to Redis; or else by a read of its own); if one was, it places the
// referral as any arrival. The plan starts from the marks as this
// replica last read them, not from a read of its own: the confirmation
// covers everything since that read, so a change counted meanwhile (here
// or by another replica) is found all the same, and an arrival costs one
// round trip fewer. So does the capacity it is judged against: the
// offerings as read for an earlier plan under the same change count, at
// most a second ago.
// A unit is freed by a counted change (a publish, a cohort decided, an
// offering or provider edited, a decline, cancel or exit, holds running
// out in the sweep; a new day is a mark of its own), and the confirmation
// finds any such since that read (an offering created has no capacity
// until it is published). Units taken since only make the copy look freer
// than it is, which sends the arrival to PlaceArrival's fresh read (and
// forgets the copy). An arrival that a unit is free for is written
// QUEUED with its create too, and PlaceArrival then offers it the unit
// (two writes, not three: the queue step was one of its own).
//
// RunNow runs one full pass of a region in the calling thread, so that the
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
//   MatchScheduler scheduler(&matchmaker, &pool, &clock, {});
//   scheduler.Start();
//   scheduler.PlaceArrival("13", "01J...");  // after a create
//   scheduler.RunNow("13");                  // after a decline
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_
#define SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/desks/matchmaker.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_matching_marks.h"

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
    // If set, told of every pass: its region, its kind ("full", or
    // "arrival" for PlaceArrival), how long it took, whether it ran to the
    // end (metrics).
    std::function<void(const std::string& region, const std::string& kind,
                       absl::Duration took, bool ok)>
        on_pass;
    // If set, told after every full pass that went through who is left
    // waiting in the region, by activity type (metrics).
    std::function<void(const std::string& region,
                       const std::map<std::string, core::QueueStat>& queues)>
        on_queues;
  };

  // All must outlive the scheduler.
  MatchScheduler(core::Matchmaker* matchmaker, store::RedisPool* pool,
                 const core::Clock* clock, Options options);
  ~MatchScheduler();

  // Starts the background threads (passes, lease renewal); Stop (or the
  // destructor) ends them.
  void Start();
  void Stop();

  // Something changed that may have freed capacity: runs the region's
  // full pass now, unless one is running elsewhere.
  void RunNow(const std::string& region);
  // Whether a new referral will only wait, decided before it is written.
  struct ArrivalPlan {
    // Write it QUEUED with its create.
    bool queue_at_once = false;
    // A unit is free for it: PlaceArrival offers it one.
    bool offer_next = false;
    // The region's change count when that was decided.
    std::string changes;
    // The count as the create's write read it, in the same atomic step
    // (CreateOutcome::matching_changes); empty if it was not read there.
    std::string changes_at_write;
  };
  // For `record`, valid and about to be created RECEIVED: queue it at
  // once if the marks allow placing an arrival on its own and matching
  // would queue it (and perhaps offer it a unit free: offer_next).
  ArrivalPlan PlanArrival(const core::ReferralRecord& record);

  // The referral `id` of `region` arrived, or came back to wait: places
  // it on its own, or, while freed capacity waits for a full pass or none
  // ran today, as RunNow does (without counting a change). With the `plan`
  // its create followed: true when that still holds (it was written
  // QUEUED to wait, and nothing changed since), so the create's answer
  // stands; with offer_next and nothing changed, it is offered without
  // reading the marks again.
  bool PlaceArrival(const std::string& region, const std::string& id,
                    const ArrivalPlan* plan = nullptr);
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
  // The region's marks (see above).
  struct Marks {
    bool read = false;
    // Every change seen by a full pass, and one ran today.
    bool clear = false;
    std::string changes;
  };
  // The marks `read` mean today.
  Marks Judge(const store::RedisMatchingMarks::Marks& read) const;
  // Reads the region's marks, and keeps them as the marks known.
  Marks ReadMarks(const std::string& region);
  // The marks as this replica last read them (read now if never): a
  // plan's starting point, which PlaceArrival confirms after the write.
  Marks KnownMarks(const std::string& region);
  // The region's capacity as read for an earlier plan, if it was read
  // while the change count was `changes` (so that the plan's check after
  // the write covers everything since), less than kCapacityCopyLife ago,
  // and knows `record`'s framework agreement; else null.
  std::shared_ptr<const core::RegionSnapshot> KnownCapacity(
      const core::ReferralRecord& record, const std::string& changes);
  // An arrival was placed: what was known free may be taken.
  void ForgetCapacity(const std::string& region);
  // Regions with holds due by now (also added to `holds_due`); with
  // `waiting`, also those with referrals waiting for capacity.
  std::set<std::string> RegionsWithWork(bool waiting,
                                        std::set<std::string>* holds_due);

  core::Matchmaker* const matchmaker_;
  store::RedisMatchingMarks marks_;
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
  // Each region's marks as last read (KnownMarks).
  std::map<std::string, store::RedisMatchingMarks::Marks> known_marks_
      ABSL_GUARDED_BY(mu_);
  // Each region's capacity as last read for a plan (KnownCapacity).
  struct KnownCapacityCopy {
    std::shared_ptr<const core::RegionSnapshot> snapshot;
    std::string changes;  // the change count it was read under
    absl::Time read;
  };
  std::map<std::string, KnownCapacityCopy> known_capacity_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::thread renewer_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_MATCH_SCHEDULER_H_

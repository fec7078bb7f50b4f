// The broker's one reader of the region event streams, shared by every
// watcher: a thousand open WatchEvents calls cost one Redis read per wait,
// not a thousand polls.
//
// A region is read from its first Subscribe on, from its newest event then:
// one thread reads every such region at once (EventLog::ReadAfterEach, an
// XREAD BLOCK on one Redis), keeps the last `kept_per_region` events of
// each in memory, and tells the region's listeners that there is more to
// read. The feed is itself an EventLog: a read after a position it has kept
// is answered from memory, any other (a watcher resuming from an old token,
// or one that fell behind) from the log underneath. So a watcher reads the
// feed exactly as it would read the log, and misses nothing and sees
// nothing twice however far behind it starts.
//
// Regions stay read once subscribed (there are 21); a listener is called on
// the feed's thread and must be quick (a watcher reads what is new and
// starts a write; it does not wait for it).
//
//   EventFeed feed(&redis_log, {});
//   feed.Start();
//   RETURN_IF_ERROR(feed.Subscribe({"13"}, &watcher));  // OnEvents on news
//   feed.ReadAfter("13", position, 100);                 // from memory
//   feed.Unsubscribe(&watcher);
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_EVENT_FEED_H_
#define SLUSSEN_BROKER_SERVICE_EVENT_FEED_H_

#include <deque>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/core/ports/event_log.h"

namespace slussen::service {

class EventFeed final : public core::EventLog {
 public:
  struct Options {
    // Events of each region kept in memory for watchers.
    int kept_per_region = 2048;
    // How long one read waits for news, where the log can wait (one
    // Redis); a region subscribed meanwhile is read from the next read
    // on, so its first events may come this late.
    absl::Duration wait = absl::Milliseconds(250);
    // How long between reads where the log cannot wait (a Redis Cluster).
    absl::Duration poll_interval = absl::Milliseconds(50);
    // Stream entries read per region and read at most.
    int entries_per_read = 500;
  };

  class Listener {
   public:
    virtual ~Listener() = default;
    // A region subscribed to has new events to read. Called on the feed's
    // thread; must not call Subscribe or Unsubscribe.
    virtual void OnEvents() = 0;
  };

  // `source` must outlive the feed.
  EventFeed(core::EventLog* source, Options options);
  // Stops.
  ~EventFeed() override;

  void Start();
  // Ends the reading thread; no listener is called after it returns.
  void Stop();

  // Reads `regions` from now on (each from its newest event when first
  // subscribed) and calls `listener` when any has news, until Unsubscribe.
  // An error (the log unreachable) subscribes to nothing.
  absl::Status Subscribe(const std::vector<std::string>& regions,
                         Listener* listener);
  // Once it returns, `listener` is not being called and will not be.
  void Unsubscribe(Listener* listener);

  // From memory when the feed has kept every event of `region` after
  // `position`, else from the source.
  absl::StatusOr<std::vector<core::LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override;
  // The source's: exact, not as far as the feed has read.
  absl::StatusOr<std::string> LastPosition(const std::string& region) override;
  // The source's.
  absl::StatusOr<std::string> RemovedBefore(const std::string& region) override;

 private:
  struct Region {
    // `kept` holds every event after `start` up to `head`, the position of
    // the last entry read.
    std::string start;
    std::string head;
    std::deque<core::LoggedEvent> kept;
    std::set<Listener*> listeners;
  };

  void Loop();
  // Reads once; false when it should wait before the next read.
  bool ReadOnce();

  core::EventLog* const source_;
  const Options options_;
  std::thread thread_;
  // Held while listeners are called, so that Unsubscribe can wait for it.
  absl::Mutex notify_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  std::map<std::string, Region> regions_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Whether the last read failed, to log a change once.
  bool failing_ = false;  // the thread's
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_EVENT_FEED_H_

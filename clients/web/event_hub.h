// Live events for browsers: WatchEvents as Server-Sent Events, one broker
// stream per distinct watcher, however many of its pages are open.
//
// A watcher is an identity (organisation, role, region, person) watching a
// parent ("regions/13") for some event types. The hub keeps one EventFeed
// per watcher: one broker stream, read by one thread, whose events go into
// a ring of the last `keep`, numbered 1, 2, ... (0 is where the feed began).
// Every page of that watcher reads the ring from its own place, so a
// thousand open pages of a coordinator are one broker stream.
//
// Nothing is missed or repeated. Each event goes to the browser with its
// resume token as the SSE id; the first thing a page gets is a "ready"
// message whose id is the token of its starting place (the broker says in
// the stream's initial metadata x-slussen-resume-token where a watch
// starts). A browser that reconnects sends the last id as Last-Event-ID:
// - found in the ring: the page goes on from there, from the shared feed;
// - not found (older than the ring, or a gateway restarted meanwhile): the
//   page gets a feed of its own that resumes the broker stream at that
//   token (broker tokens survive broker restarts too).
// A feed whose broker stream breaks resumes it at its last token. A page
// that falls more than `keep` events behind is closed; its browser
// reconnects with Last-Event-ID and takes the second way.
//
// A feed without readers is stopped after `linger`, so that a page being
// reloaded finds its feed still there.
//
// Thread-safe.
#ifndef SLUSSEN_CLIENTS_WEB_EVENT_HUB_H_
#define SLUSSEN_CLIENTS_WEB_EVENT_HUB_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "clients/web/broker_client.h"
#include "clients/web/identity.h"

namespace slussen::web {

// One event as the browser gets it.
struct SseEvent {
  uint64_t seq = 0;
  // The resume token: the SSE id.
  std::string id;
  // The slussen.v1.Event as JSON.
  std::string data;
};

// What a watcher watches.
struct WatchKey {
  WebIdentity identity;
  std::string parent;
  // Event type numbers, as in WatchEventsRequest.types.
  std::vector<int> types;

  std::string ToString() const;
};

class EventFeed {
 public:
  // Starts reading `key`'s events after `resume_token` (empty: from now).
  EventFeed(BrokerClient* brokers, WatchKey key, std::string resume_token,
            size_t keep);
  ~EventFeed();

  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Waits until the broker stream is open (OK) or refused for good (its
  // status), at most `timeout` (UNAVAILABLE then).
  absl::Status WaitReady(absl::Duration timeout);

  // The events after `seq`, at most `max`, waiting up to `wait` for one.
  // OUT_OF_RANGE if `seq` has left the ring; the feed's error if it
  // stopped for good; CANCELLED once the feed is stopped.
  absl::StatusOr<std::vector<SseEvent>> After(uint64_t seq, size_t max,
                                              absl::Duration wait);

  // The newest place: its number and token.
  std::pair<uint64_t, std::string> Newest();

  // The number of the event whose token is `id`, if it is in the ring (or
  // is where the feed began).
  std::optional<uint64_t> Find(const std::string& id);

  // Whether the broker refused the stream for good (After then answers
  // its error once the ring is read).
  bool Failed();
  // Whether that refusal was OUT_OF_RANGE: events after the place it
  // resumed from were removed (the broker's --retention_days), so what
  // the page shows may lack them.
  bool EventsRemoved();

  // Stops the stream and wakes every reader (CANCELLED).
  void Stop();

  // Readers, for the hub's lingering.
  void AddReader();
  void RemoveReader();
  // Readers now, and since when there have been none.
  std::pair<int, absl::Time> Readers();

 private:
  void Run();
  bool Stopping();

  BrokerClient* const brokers_;
  const WatchKey key_;
  const size_t keep_;

  absl::Mutex mu_;
  std::deque<SseEvent> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_token_ ABSL_GUARDED_BY(mu_);
  // Where the feed began: seq 0's token.
  std::string start_token_ ABSL_GUARDED_BY(mu_);
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  int readers_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time idle_since_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

class EventHub {
 public:
  struct Options {
    size_t keep = 1024;
    absl::Duration linger = absl::Seconds(60);
  };

  EventHub(BrokerClient* brokers, Options options);
  ~EventHub();

  // The feed every page of `key` shares, started if there is none, with
  // the caller counted as one of its readers: it calls
  // EventFeed::RemoveReader when it stops reading.
  std::shared_ptr<EventFeed> Shared(const WatchKey& key);

  // Whether a shared feed of `key` is open at the broker now (it was
  // allowed, and has not been refused since).
  bool Watching(const WatchKey& key);

  // A feed of one page's own, resuming at `resume_token`, counted as
  // Shared counts it.
  std::shared_ptr<EventFeed> Own(const WatchKey& key,
                                 const std::string& resume_token);

  // Broker streams open now (shared and own feeds).
  int streams();

  // Stops every feed: readers get CANCELLED (the gateway is stopping).
  void Stop();

 private:
  void Sweep();

  BrokerClient* const brokers_;
  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<EventFeed>> shared_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<EventFeed>> own_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread sweeper_;
};

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_EVENT_HUB_H_

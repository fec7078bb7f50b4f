// The gRPC EventService: WatchEvents streams what a caller may see of the
// region event streams from the position of its resume token; ListEvents
// pages through them.
//
// A watch is a reactor of gRPC's callback API, not a thread: it reads what
// is new through the desk from the broker's one EventFeed (event_feed.h)
// when the feed says a region it watches has news, starts a write, and
// reads again when the write is done. So threads do not grow with
// watchers; their number is capped (max_watchers, then
// RESOURCE_EXHAUSTED), as one slow reader holds at most one batch. A watch
// ends when the client goes, or when the broker stops (Stop, before the
// server's shutdown: the watchers get UNAVAILABLE and reconnect with their
// last token, to another replica).
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_

#include <functional>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/desks/event_desk.h"
#include "broker/service/event_feed.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/event_service.grpc.pb.h"

namespace slussen::service {

// WatchEvents' initial metadata: the resume token of where the watch
// starts, so that a watcher that has had no event yet can resume from it.
inline constexpr char kResumeTokenHeader[] = "x-slussen-resume-token";

class EventServiceImpl final
    : public slussen::v1::EventService::WithCallbackMethod_WatchEvents<
          slussen::v1::EventService::Service>,
      private RpcEdge {
 public:
  struct Options {
    // Open watches on this broker at most.
    int max_watchers = 2000;
    // If set, told how many watches are open whenever that changes.
    std::function<void(int)> on_watchers;
  };

  // `desk` must read `feed` (its EventLog); both must outlive the service.
  EventServiceImpl(core::EventDesk* desk, EventFeed* feed, Options options,
                   const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk), feed_(feed), options_(options) {}

  grpc::ServerWriteReactor<slussen::v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* context,
      const slussen::v1::WatchEventsRequest* request) override;
  grpc::Status ListEvents(grpc::ServerContext* context,
                          const slussen::v1::ListEventsRequest* request,
                          slussen::v1::ListEventsResponse* response) override;

  // Ends every watch (they answer UNAVAILABLE: reconnect with the token)
  // and refuses new ones.
  void Stop();

  // Watches open now.
  int watchers() const;

 private:
  class Watch;

  // Admits `watch` unless stopping or full; OnDone forgets it.
  absl::Status Enter(Watch* watch);
  void Leave(Watch* watch);

  core::EventDesk* const desk_;
  EventFeed* const feed_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::set<Watch*> watches_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_

// The gRPC EventService: WatchEvents streams what a caller may see of the
// region event streams, polling them (every `poll_interval`) from the
// position of its resume token; ListEvents pages through them. A watch
// ends when the client goes, or when the broker stops (Stop, before the
// server's shutdown, so that watchers do not hold it up).
//
// Thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "broker/core/event_desk.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/event_service.grpc.pb.h"

namespace slussen::service {

// WatchEvents' initial metadata: the resume token of where the watch
// starts, so that a watcher that has had no event yet can resume from it.
inline constexpr char kResumeTokenHeader[] = "x-slussen-resume-token";

class EventServiceImpl final : public slussen::v1::EventService::Service,
                               private RpcEdge {
 public:
  // `desk` and `limiter` must outlive the service.
  EventServiceImpl(core::EventDesk* desk, absl::Duration poll_interval,
                   const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk), poll_interval_(poll_interval) {}

  grpc::Status WatchEvents(
      grpc::ServerContext* context,
      const slussen::v1::WatchEventsRequest* request,
      grpc::ServerWriter<slussen::v1::WatchEventsResponse>* writer) override;
  grpc::Status ListEvents(grpc::ServerContext* context,
                          const slussen::v1::ListEventsRequest* request,
                          slussen::v1::ListEventsResponse* response) override;

  // Ends every watch (they answer UNAVAILABLE: reconnect with the token).
  void Stop() {
    if (!stopping_.HasBeenNotified()) stopping_.Notify();
  }

 private:
  core::EventDesk* const desk_;
  const absl::Duration poll_interval_;
  absl::Notification stopping_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_EVENT_SERVICE_H_

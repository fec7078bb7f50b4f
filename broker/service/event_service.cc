#include "broker/service/event_service.h"

#include <vector>

#include "broker/core/event_log.h"
#include "broker/core/status_macros.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

namespace {

// Events read per region and poll at most.
constexpr int kPollBatch = 200;

}  // namespace

grpc::Status EventServiceImpl::WatchEvents(
    grpc::ServerContext* context, const v1::WatchEventsRequest* request,
    grpc::ServerWriter<v1::WatchEventsResponse>* writer) {
  return RunRpc(
      context, "WatchEvents", [&](const Caller& caller) -> absl::Status {
        ASSIGN_OR_RETURN(core::EventDesk::Watch watch,
                         desk_->StartWatch(caller, *request));
        // The headers go at once, so a watcher knows it is watching,
        // with the token of where the watch starts: resuming there
        // misses nothing, even before the first event.
        context->AddInitialMetadata(
            kResumeTokenHeader, core::EncodeWatchPositions(watch.positions));
        writer->SendInitialMetadata();
        while (!context->IsCancelled()) {
          if (stopping_.HasBeenNotified()) {
            return absl::UnavailableError(
                "the broker is stopping; reconnect with the last "
                "resume_token");
          }
          ASSIGN_OR_RETURN(std::vector<v1::WatchEventsResponse> batch,
                           desk_->Poll(caller, watch, kPollBatch));
          for (const v1::WatchEventsResponse& response : batch) {
            if (!writer->Write(response)) return absl::OkStatus();  // gone
          }
          if (batch.empty()) {
            stopping_.WaitForNotificationWithTimeout(poll_interval_);
          }
        }
        return absl::CancelledError("the watcher went away");
      });
}

grpc::Status EventServiceImpl::ListEvents(grpc::ServerContext* context,
                                          const v1::ListEventsRequest* request,
                                          v1::ListEventsResponse* response) {
  return Serve(context, "ListEvents", response, [&](const Caller& caller) {
    return desk_->ListEvents(caller, *request);
  });
}

}  // namespace slussen::service

#include "broker/service/event_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/ports/event_log.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

namespace {

// Events read per region and read at most.
constexpr int kPollBatch = 200;

}  // namespace

// One WatchEvents call. Either idle (everything read has been written;
// the feed wakes it) or busy: one thread reads, then the writes of what it
// read follow one another, each started by the last one's OnWriteDone.
// Deleted by gRPC's OnDone.
class EventServiceImpl::Watch final
    : public grpc::ServerWriteReactor<v1::WatchEventsResponse>,
      public EventFeed::Listener {
 public:
  Watch(EventServiceImpl* service, grpc::CallbackServerContext* context,
        const v1::WatchEventsRequest& request)
      : service_(service), scope_(context, "WatchEvents", service->observer()) {
    {
      // Busy from the start: the feed may call before Start returns.
      absl::MutexLock lock(&mu_);
      busy_ = dirty_ = true;
    }
    absl::Status started = Start(context, request);
    if (!started.ok()) {
      absl::MutexLock lock(&mu_);
      busy_ = false;
      End(std::move(started));
      return;
    }
    Continue();
  }

  // The broker stops: UNAVAILABLE, once what is being written is.
  void Shutdown() {
    absl::MutexLock lock(&mu_);
    End(absl::UnavailableError(
        "the broker is stopping; reconnect with the last resume_token"));
  }

  void OnEvents() override {
    {
      absl::MutexLock lock(&mu_);
      dirty_ = true;
      if (busy_ || finished_) return;
      busy_ = true;
    }
    Continue();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the client is gone
      absl::MutexLock lock(&mu_);
      busy_ = false;
      End(absl::CancelledError("the watcher went away"));
      return;
    }
    if (++next_ < pending_.size()) {
      {
        absl::MutexLock lock(&mu_);
        if (ended_) {
          busy_ = false;
          FinishLocked(end_);
          return;
        }
      }
      WriteNext();
      return;
    }
    pending_.clear();
    {
      absl::MutexLock lock(&mu_);
      dirty_ = true;  // a read may have stopped at its limit
    }
    Continue();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    End(absl::CancelledError("the watcher went away"));
  }

  void OnDone() override {
    {
      // The thread that called Finish (under mu_) may not have let go of
      // mu_ yet: wait for it, so that nothing touches the watch once it
      // is deleted.
      absl::MutexLock lock(&mu_);
    }
    if (subscribed_) service_->feed_->Unsubscribe(this);
    if (entered_) service_->Leave(this);
    delete this;
  }

 private:
  absl::Status Start(grpc::CallbackServerContext* context,
                     const v1::WatchEventsRequest& request) {
    ASSIGN_OR_RETURN(caller_, service_->Admit(context, scope_));
    RETURN_IF_ERROR(service_->Enter(this));
    entered_ = true;
    ASSIGN_OR_RETURN(watch_, service_->desk_->StartWatch(caller_, request));
    std::vector<std::string> regions;
    for (const auto& [region, position] : watch_.positions) {
      regions.push_back(region);
    }
    RETURN_IF_ERROR(service_->feed_->Subscribe(regions, this));
    subscribed_ = true;
    // The headers go at once, so a watcher knows it is watching, with the
    // token of where the watch starts: resuming there misses nothing, even
    // before the first event.
    context->AddInitialMetadata(kResumeTokenHeader,
                                core::EncodeWatchPositions(watch_.positions));
    StartSendInitialMetadata();
    return absl::OkStatus();
  }

  // While busy: reads until there is something to write (and starts
  // writing it), nothing (idle), or the watch has ended.
  void Continue() {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (ended_ || !dirty_) {
          busy_ = false;
          if (ended_) FinishLocked(end_);
          return;
        }
        dirty_ = false;
      }
      absl::StatusOr<std::vector<v1::WatchEventsResponse>> batch =
          service_->desk_->Poll(caller_, watch_, kPollBatch);
      if (!batch.ok()) {
        absl::MutexLock lock(&mu_);
        busy_ = false;
        End(batch.status());
        return;
      }
      if (batch->empty()) continue;
      pending_ = *std::move(batch);
      next_ = 0;
      WriteNext();
      return;
    }
  }

  void WriteNext() {
    grpc::WriteOptions options;
    // Flushed with the batch's last.
    if (next_ + 1 < pending_.size()) options.set_buffer_hint();
    StartWrite(&pending_[next_], options);
  }

  // The watch ends with `status` (the first given), now if idle, else
  // when the busy thread or write sees it.
  void End(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!ended_) {
      ended_ = true;
      end_ = std::move(status);
    }
    if (!busy_) FinishLocked(end_);
  }

  void FinishLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(scope_.Finish(status));
  }

  EventServiceImpl* const service_;
  RpcScope scope_;
  // Set by Start, before any other thread sees the watch.
  Caller caller_;
  bool entered_ = false;
  bool subscribed_ = false;
  // The busy thread's.
  core::EventDesk::Watch watch_;
  std::vector<v1::WatchEventsResponse> pending_;
  size_t next_ = 0;

  absl::Mutex mu_;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  // The feed has news since the last read.
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerWriteReactor<v1::WatchEventsResponse>*
EventServiceImpl::WatchEvents(grpc::CallbackServerContext* context,
                              const v1::WatchEventsRequest* request) {
  return new Watch(this, context, *request);
}

absl::Status EventServiceImpl::Enter(Watch* watch) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return absl::UnavailableError(
        "the broker is stopping; watch on another replica");
  }
  if (static_cast<int>(watches_.size()) >= options_.max_watchers) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this broker has ", watches_.size(),
        " watches open, its most (--max_watchers); watch on another "
        "replica, or through a gateway, which shares one watch among a "
        "caller's pages"));
  }
  watches_.insert(watch);
  if (options_.on_watchers) options_.on_watchers(watches_.size());
  return absl::OkStatus();
}

void EventServiceImpl::Leave(Watch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(watch);
  if (options_.on_watchers) options_.on_watchers(watches_.size());
}

void EventServiceImpl::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (Watch* watch : watches_) watch->Shutdown();
}

int EventServiceImpl::watchers() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watches_.size());
}

grpc::Status EventServiceImpl::ListEvents(grpc::ServerContext* context,
                                          const v1::ListEventsRequest* request,
                                          v1::ListEventsResponse* response) {
  return Serve(context, "ListEvents", response, [&](const Caller& caller) {
    return desk_->ListEvents(caller, *request);
  });
}

}  // namespace slussen::service

#include "clients/web/event_hub.h"

#include <google/protobuf/any.pb.h>

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/service/json_log.h"
#include "clients/web/connect.h"
#include "google/rpc/status.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"

namespace slussen::web {
namespace {

namespace v1 = ::slussen::v1;
using service::Log;
using service::LogLevel;

// The broker's initial metadata saying where a watch starts.
constexpr char kStartTokenHeader[] = "x-slussen-resume-token";

// Refusals that another try would get again: the feed stops with them.
// OUT_OF_RANGE: the broker removed events after the resume token (its
// retention), so resuming there would skip them silently, every time.
bool IsFinal(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::PERMISSION_DENIED ||
         code == grpc::StatusCode::UNAUTHENTICATED ||
         code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::OUT_OF_RANGE;
}

// `status` with its google.rpc details (ErrorInfo's reason, ...) as
// payloads, which the page's Connect error shows (ConnectErrorOf).
absl::Status StatusOf(const grpc::Status& status) {
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace

std::string WatchKey::ToString() const {
  return absl::StrCat(identity.organisation, "|", identity.role, "|",
                      identity.region, "|", identity.person, "|", parent, "|",
                      absl::StrJoin(types, ","));
}

EventFeed::EventFeed(BrokerClient* brokers, WatchKey key,
                     std::string resume_token, size_t keep)
    : brokers_(brokers), key_(std::move(key)), keep_(keep) {
  last_token_ = resume_token;
  start_token_ = std::move(resume_token);
  idle_since_ = absl::Now();
  thread_ = std::thread([this] { Run(); });
}

EventFeed::~EventFeed() {
  Stop();
  thread_.join();
}

bool EventFeed::Stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

void EventFeed::Run() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!Stopping()) {
    grpc::ClientContext context;
    v1::WatchEventsRequest request;
    request.set_parent(key_.parent);
    for (const int type : key_.types) {
      request.add_types(static_cast<v1::EventType>(type));
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      request.set_resume_token(last_token_);
      context_ = &context;
    }
    for (const auto& [name, value] : BrokerMetadata(key_.identity)) {
      context.AddMetadata(name, value);
    }
    v1::EventService::Stub stub(brokers_->Channel());
    std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> reader =
        stub.WatchEvents(&context, request);
    reader->WaitForInitialMetadata();
    {
      absl::MutexLock lock(&mu_);
      const auto& initial = context.GetServerInitialMetadata();
      const auto start = initial.find(kStartTokenHeader);
      if (last_token_.empty() && start != initial.end()) {
        // Where a watch from "now" began: resuming there misses nothing.
        last_token_ = std::string(start->second.data(), start->second.size());
        if (last_seq_ == 0) start_token_ = last_token_;
      }
      ready_ = true;
    }
    v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
      backoff = absl::Milliseconds(200);
      SseEvent event{0, response.resume_token(), ToJson(response.event())};
      absl::MutexLock lock(&mu_);
      event.seq = ++last_seq_;
      last_token_ = event.id;
      ring_.push_back(std::move(event));
      while (ring_.size() > keep_) ring_.pop_front();
    }
    const grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      context_ = nullptr;
      if (stopping_) break;
      if (IsFinal(status.error_code())) {
        failed_ = StatusOf(status);
        Log(LogLevel::kInfo, "event feed refused",
            {{"parent", key_.parent},
             {"organisation", key_.identity.organisation},
             {"error", status.error_message()}});
        break;
      }
    }
    Log(LogLevel::kWarning, "event feed broke; resuming",
        {{"parent", key_.parent},
         {"code", static_cast<int>(status.error_code())},
         {"error", status.error_message()}});
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

absl::Status EventFeed::WaitReady(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return ready_ || !failed_.ok() || stopping_;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::UnavailableError(
        "the broker did not open the event stream in time");
  }
  if (!failed_.ok()) return failed_;
  if (stopping_ && !ready_) return absl::CancelledError("the feed stopped");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SseEvent>> EventFeed::After(uint64_t seq, size_t max,
                                                       absl::Duration wait) {
  absl::MutexLock lock(&mu_);
  const auto news = [this, seq]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return last_seq_ > seq || stopping_ || !failed_.ok();
  };
  mu_.AwaitWithTimeout(absl::Condition(&news), wait);
  std::vector<SseEvent> events;
  if (last_seq_ > seq) {
    const uint64_t oldest = ring_.empty() ? last_seq_ + 1 : ring_.front().seq;
    if (seq + 1 < oldest) {
      return absl::OutOfRangeError(
          "this page fell too far behind; reconnect with Last-Event-ID");
    }
    for (auto it = ring_.begin() + static_cast<long>(seq + 1 - oldest);
         it != ring_.end() && events.size() < max; ++it) {
      events.push_back(*it);
    }
    return events;
  }
  if (!failed_.ok()) return failed_;
  if (stopping_) return absl::CancelledError("the gateway is stopping");
  return events;
}

std::pair<uint64_t, std::string> EventFeed::Newest() {
  absl::MutexLock lock(&mu_);
  return {last_seq_, last_seq_ == 0 ? start_token_ : ring_.back().id};
}

std::optional<uint64_t> EventFeed::Find(const std::string& id) {
  absl::MutexLock lock(&mu_);
  if (id.empty()) return std::nullopt;
  for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
    if (it->id == id) return it->seq;
  }
  // Where the feed began, while nothing has left the ring.
  if (id == start_token_ && (ring_.empty() || ring_.front().seq == 1)) {
    return 0;
  }
  return std::nullopt;
}

bool EventFeed::Failed() {
  absl::MutexLock lock(&mu_);
  return !failed_.ok();
}

bool EventFeed::EventsRemoved() {
  absl::MutexLock lock(&mu_);
  // Only the broker's refusal is kept in failed_ (the ring's own
  // OUT_OF_RANGE is After's answer, never kept).
  return absl::IsOutOfRange(failed_);
}

void EventFeed::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

void EventFeed::AddReader() {
  absl::MutexLock lock(&mu_);
  ++readers_;
}

void EventFeed::RemoveReader() {
  absl::MutexLock lock(&mu_);
  if (--readers_ == 0) idle_since_ = absl::Now();
}

std::pair<int, absl::Time> EventFeed::Readers() {
  absl::MutexLock lock(&mu_);
  return {readers_, idle_since_};
}

EventHub::EventHub(BrokerClient* brokers, Options options)
    : brokers_(brokers), options_(options) {
  sweeper_ = std::thread([this] {
    while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(1))) Sweep();
  });
}

EventHub::~EventHub() {
  Stop();
  sweeper_.join();
}

std::shared_ptr<EventFeed> EventHub::Shared(const WatchKey& key) {
  const std::string name = key.ToString();
  // Declared before the lock, so released after it: a feed's thread is
  // joined outside the hub's lock.
  std::shared_ptr<EventFeed> failed;
  absl::MutexLock lock(&mu_);
  auto it = shared_.find(name);
  if (it != shared_.end() && it->second->Failed()) {
    // Refused for good (or its place removed by the broker's retention):
    // its pages were told; a new page starts a new one, from now.
    failed = std::move(it->second);
    shared_.erase(it);
    it = shared_.end();
  }
  if (it == shared_.end()) {
    it = shared_
             .emplace(name, std::make_shared<EventFeed>(brokers_, key, "",
                                                        options_.keep))
             .first;
  }
  // Counted under the hub's lock, so that Sweep cannot stop it between
  // here and the caller's first read.
  it->second->AddReader();
  return it->second;
}

bool EventHub::Watching(const WatchKey& key) {
  std::shared_ptr<EventFeed> feed;
  {
    absl::MutexLock lock(&mu_);
    const auto it = shared_.find(key.ToString());
    if (it == shared_.end()) return false;
    feed = it->second;
  }
  return feed->WaitReady(absl::ZeroDuration()).ok();
}

std::shared_ptr<EventFeed> EventHub::Own(const WatchKey& key,
                                         const std::string& resume_token) {
  auto feed =
      std::make_shared<EventFeed>(brokers_, key, resume_token, options_.keep);
  feed->AddReader();
  absl::MutexLock lock(&mu_);
  own_.push_back(feed);
  return feed;
}

int EventHub::streams() {
  absl::MutexLock lock(&mu_);
  int count = static_cast<int>(shared_.size());
  for (const std::weak_ptr<EventFeed>& feed : own_) {
    if (!feed.expired()) ++count;
  }
  return count;
}

void EventHub::Sweep() {
  std::vector<std::shared_ptr<EventFeed>> stopped;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    for (auto it = shared_.begin(); it != shared_.end();) {
      const auto [readers, idle_since] = it->second->Readers();
      if (readers == 0 && now - idle_since >= options_.linger) {
        stopped.push_back(std::move(it->second));
        it = shared_.erase(it);
      } else {
        ++it;
      }
    }
    std::erase_if(own_, [](const std::weak_ptr<EventFeed>& feed) {
      return feed.expired();
    });
  }
  // Joined outside the lock: a feed's thread may take a moment to end.
  stopped.clear();
}

void EventHub::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  absl::MutexLock lock(&mu_);
  for (auto& [name, feed] : shared_) feed->Stop();
  for (const std::weak_ptr<EventFeed>& own : own_) {
    if (std::shared_ptr<EventFeed> feed = own.lock()) feed->Stop();
  }
}

}  // namespace slussen::web

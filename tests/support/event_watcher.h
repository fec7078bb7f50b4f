// A WatchEvents call read event by event, for end-to-end tests: opened as
// one caller on a parent ("regions/13", "regions/-"), from a resume token
// or from now; the watch has started (its positions taken) when the
// constructor returns.
#ifndef SLUSSEN_TESTS_SUPPORT_EVENT_WATCHER_H_
#define SLUSSEN_TESTS_SUPPORT_EVENT_WATCHER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "tests/support/referral_client.h"

namespace slussen::testing {

class EventWatcher {
 public:
  EventWatcher(const std::shared_ptr<grpc::Channel>& channel,
               const Identity& who, const std::string& parent,
               const std::string& token = "",
               absl::Duration deadline = absl::Seconds(30))
      : stub_(slussen::v1::EventService::NewStub(channel)) {
    Identify(&context_, who, deadline);
    slussen::v1::WatchEventsRequest request;
    request.set_parent(parent);
    request.set_resume_token(token);
    reader_ = stub_->WatchEvents(&context_, request);
    // The watch has started (positions taken) once the headers arrive.
    reader_->WaitForInitialMetadata();
  }
  ~EventWatcher() {
    context_.TryCancel();
    reader_->Finish().ok();
  }
  EventWatcher(const EventWatcher&) = delete;
  EventWatcher& operator=(const EventWatcher&) = delete;

  // The next `n` events (fails the test if they do not come in 10 s).
  std::vector<slussen::v1::WatchEventsResponse> Next(int n) {
    std::vector<slussen::v1::WatchEventsResponse> out;
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (static_cast<int>(out.size()) < n && absl::Now() < give_up) {
      slussen::v1::WatchEventsResponse response;
      if (!reader_->Read(&response)) break;
      out.push_back(response);
    }
    EXPECT_EQ(static_cast<int>(out.size()), n);
    return out;
  }

  // Every event before the first of referral `fence`, one made after all
  // else: events come in order, so by then every earlier one has come.
  // Fails the test if the fence never comes.
  std::vector<slussen::v1::WatchEventsResponse> Until(
      const std::string& fence) {
    std::vector<slussen::v1::WatchEventsResponse> before;
    slussen::v1::WatchEventsResponse response;
    bool fenced = false;
    while (!fenced && reader_->Read(&response)) {
      fenced = response.event().referral() == fence;
      if (!fenced) before.push_back(response);
    }
    EXPECT_TRUE(fenced) << "the watch never saw " << fence;
    return before;
  }

  grpc::Status Finish() { return reader_->Finish(); }

 private:
  std::unique_ptr<slussen::v1::EventService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<slussen::v1::WatchEventsResponse>> reader_;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_EVENT_WATCHER_H_

// WatchEvents and ListEvents end to end, over gRPC: a watcher sees the
// events it may see as they happen; one that disconnects mid-way and
// reconnects with its last resume token, to the same broker or to another
// broker on the same Redis (as after a restart), misses none and sees none
// twice; others' referrals stay invisible; bad tokens are refused.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/event_watcher.h"
#include "tests/support/process_stats.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

class EventsE2eTest : public BrokerTest {
 protected:
  // Creates an impulse as `who`; its name.
  std::string Refer(const Identity& who = kHalmstadKommun) {
    v1::Referral made;
    const grpc::Status status =
        harness_->Client(who).Create(SampleImpulse("13"), &made);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return made.name();
  }
};

TEST_F(EventsE2eTest, AWatcherSeesWhatHappensAndResumesWithoutGapOrRepeat) {
  std::vector<std::string> seen;
  std::string token;
  {
    EventWatcher watcher(harness_->channel(), kHalmstadKommun, "regions/13",
                         "");
    const std::string first = Refer();
    const std::string second = Refer();
    // Each impulse: created, then queued by the matcher (no capacity).
    for (const v1::WatchEventsResponse& r : watcher.Next(4)) {
      seen.push_back(r.event().name());
      EXPECT_FALSE(r.resume_token().empty());
      EXPECT_EQ(r.event().referring_organisation(), "kommun-halmstad-eb");
      token = r.resume_token();
    }
  }  // the watcher goes away mid-way
  // Meanwhile: more events, and others' that the kommun may not see.
  Refer();
  Refer(kLaholmKommun);
  Refer();
  EventWatcher resumed(harness_->channel(), kHalmstadKommun, "regions/13",
                       token);
  for (const v1::WatchEventsResponse& r : resumed.Next(4)) {
    seen.push_back(r.event().name());
    EXPECT_EQ(r.event().referring_organisation(), "kommun-halmstad-eb");
  }
  // Eight distinct events, in stream order.
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 8u);
  EXPECT_TRUE(std::is_sorted(
      seen.begin(), seen.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
      }));
}

TEST_F(EventsE2eTest, AWatcherResumesOnAnotherBrokerAfterARestart) {
  std::string token;
  std::set<std::string> seen;
  {
    EventWatcher watcher(harness_->channel(), kHallandCoordinator, "regions/-",
                         "");
    Refer();
    for (const v1::WatchEventsResponse& r : watcher.Next(2)) {
      seen.insert(r.event().name());
      token = r.resume_token();
    }
  }
  Refer(kLaholmKommun);
  // Another broker process on the same Redis, as after a restart.
  service::BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.redis = harness_->redis_options();
  absl::StatusOr<std::unique_ptr<service::BrokerServer>> other =
      service::BrokerServer::Start(
          options, *core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey));
  ASSERT_TRUE(other.ok()) << other.status();
  const auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*other)->port()),
                          grpc::InsecureChannelCredentials());
  {
    EventWatcher resumed(channel, kHallandCoordinator, "regions/-", token);
    for (const v1::WatchEventsResponse& r : resumed.Next(2)) {
      EXPECT_TRUE(seen.insert(r.event().name()).second)
          << r.event().name() << " seen twice";
      EXPECT_EQ(r.event().referring_organisation(), "kommun-laholm-eb");
    }
  }
  (*other)->Shutdown(absl::Seconds(1));
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(EventsE2eTest, ListEventsPagesThroughWhatTheCallerMaySee) {
  const std::string mine = Refer();
  Refer(kLaholmKommun);
  const std::string also_mine = Refer();
  auto stub = v1::EventService::NewStub(harness_->channel());
  std::vector<v1::Event> events;
  v1::ListEventsRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1);
  do {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    v1::ListEventsResponse page;
    const grpc::Status status = stub->ListEvents(&context, request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_LE(page.events_size(), 1);
    events.insert(events.end(), page.events().begin(), page.events().end());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].referral(), mine);
  EXPECT_EQ(events[0].type(), v1::EVENT_TYPE_REFERRAL_CREATED);
  EXPECT_EQ(events[3].referral(), also_mine);

  // One referral's, by type.
  grpc::ClientContext context;
  Identify(&context, kHallandCoordinator);
  request.clear_page_token();
  request.set_page_size(0);
  request.set_referral(mine);
  request.add_types(v1::EVENT_TYPE_REFERRAL_QUEUED);
  v1::ListEventsResponse page;
  ASSERT_TRUE(stub->ListEvents(&context, request, &page).ok());
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).type(), v1::EVENT_TYPE_REFERRAL_QUEUED);
}

TEST_F(EventsE2eTest, BadRequestsAreRefusedNamingTheField) {
  auto stub = v1::EventService::NewStub(harness_->channel());
  const auto watch = [&](const Identity& who, const std::string& parent,
                         const std::string& token) {
    grpc::ClientContext context;
    Identify(&context, who);
    v1::WatchEventsRequest request;
    request.set_parent(parent);
    request.set_resume_token(token);
    auto reader = stub->WatchEvents(&context, request);
    v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  };
  grpc::Status status = watch(kHalmstadKommun, "regions/13", "13=yesterday");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("resume_token"));
  status = watch(kHalmstadKommun, "regions/99", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("parent"));
  status = watch(kSkaneCoordinator, "regions/13", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status = watch(kAdmin, "regions/-", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Threads of this process (the broker runs in it).
int Threads() { return static_cast<int>(ThreadsAndRss(getpid()).first); }

// How often Redis has run `command` (INFO commandstats), also inside
// scripts.
int64_t Calls(RedisServer& redis, absl::string_view command) {
  const absl::StatusOr<std::string> info =
      redis.Execute({"INFO", "commandstats"});
  EXPECT_TRUE(info.ok()) << info.status();
  const std::string prefix = absl::StrCat("cmdstat_", command, ":calls=");
  for (absl::string_view line : absl::StrSplit(info.value_or(""), '\n')) {
    if (!absl::ConsumePrefix(&line, prefix)) continue;
    int64_t calls = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(0, line.find(',')), &calls));
    return calls;
  }
  return 0;
}

TEST_F(EventsE2eTest, ManyWatchersCostNeitherAThreadNorARedisReadEach) {
  constexpr int kWatchers = 200;
  const int threads_before = Threads();
  std::vector<std::unique_ptr<EventWatcher>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    // Half watch every region (21 streams each).
    watchers.push_back(std::make_unique<EventWatcher>(
        harness_->channel(), kHalmstadKommun,
        i % 2 == 0 ? "regions/13" : "regions/-", ""));
  }
  EXPECT_LT(Threads() - threads_before, 40)
      << "threads grow with watchers (a thread each?)";

  // Quiet: nobody polls the streams; the one reader waits on them.
  const int64_t xrange = Calls(harness_->redis(), "xrange");
  const int64_t xread = Calls(harness_->redis(), "xread");
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(Calls(harness_->redis(), "xrange") - xrange, 0);
  EXPECT_LT(Calls(harness_->redis(), "xread") - xread, kWatchers / 10)
      << "stream reads grow with watchers";

  const std::string made = Refer();
  for (auto& watcher : watchers) {
    for (const v1::WatchEventsResponse& r : watcher->Next(2)) {
      EXPECT_EQ(r.event().referral(), made);
    }
  }
}

TEST(EventsCapTest, AWatchPastTheCapIsRefusedAndAStopEndsTheOthers) {
  BrokerHarness::Options options;
  options.broker.events.max_watchers = 2;
  absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
      BrokerHarness::Start(options);
  ASSERT_TRUE(harness.ok()) << harness.status();
  auto stub = v1::EventService::NewStub((*harness)->channel());
  // A watch that reads until it ends, or for `wait`.
  const auto watch = [&](absl::Duration wait) {
    grpc::ClientContext context;
    Identify(&context, kHalmstadKommun);
    context.set_deadline(absl::ToChronoTime(absl::Now() + wait));
    v1::WatchEventsRequest request;
    request.set_parent("regions/13");
    auto reader = stub->WatchEvents(&context, request);
    v1::WatchEventsResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  };
  auto first = std::make_unique<EventWatcher>(
      (*harness)->channel(), kHalmstadKommun, "regions/13", "");
  grpc::ClientContext second_context;
  Identify(&second_context, kHalmstadKommun);
  v1::WatchEventsRequest request;
  request.set_parent("regions/-");
  auto second = stub->WatchEvents(&second_context, request);
  second->WaitForInitialMetadata();

  grpc::Status third = watch(absl::Seconds(10));
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.error_message(), HasSubstr("--max_watchers"));

  // A watch that ends makes room, once the broker has seen it end: on a
  // loaded machine that can take longer than 20 refusals in a row, each
  // answered at once, so try for up to 10 s with a pause between.
  first.reset();
  grpc::Status again;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    again = watch(absl::Milliseconds(500));
    if (again.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << again.error_message();

  // The broker stops: the open watch ends UNAVAILABLE, to be resumed
  // elsewhere with its token.
  (*harness)->broker().Shutdown(absl::Seconds(5));
  v1::WatchEventsResponse response;
  while (second->Read(&response)) {
  }
  const grpc::Status ended = second->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE)
      << ended.error_message();
  EXPECT_THAT(ended.error_message(), HasSubstr("resume_token"));
}

}  // namespace
}  // namespace slussen::testing

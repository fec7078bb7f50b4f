// The event feed: one reader for every watcher. What it has kept is read
// from memory, anything older from the log underneath, and either way a
// reader gets every event after its position once, in order; listeners
// are told of news until they unsubscribe. The log here is an in-memory
// list of events (pure logic; the Redis log's own reading is tested in
// redis_event_log_test).
#include "broker/service/event_feed.h"

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::service {
namespace {

using ::testing::ElementsAre;

// Events per region in order; counts the reads that reach it.
class ListLog final : public core::EventLog {
 public:
  // Appends an entry of `count` events to `region`; its position.
  std::string Append(const std::string& region, int count = 1) {
    absl::MutexLock lock(&mu_);
    const std::string entry = absl::StrCat(++next_entry_, "-0");
    for (int k = 0; k < count; ++k) {
      core::LoggedEvent logged;
      logged.region = region;
      logged.position = k + 1 == count ? entry : absl::StrCat(entry, ".", k);
      logged.event.set_name(logged.position);
      events_[region].push_back(logged);
    }
    return entry;
  }

  absl::StatusOr<std::vector<core::LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override {
    absl::MutexLock lock(&mu_);
    // The feed's polling reads through here too (EventLog::ReadAfterEach
    // calls ReadAfter), every poll_interval, on the feed's thread: only
    // the test thread's reads are the ones reads() counts.
    if (std::this_thread::get_id() == test_thread_) ++reads_;
    std::vector<core::LoggedEvent> out;
    for (const core::LoggedEvent& logged : events_[region]) {
      if (static_cast<int>(out.size()) == limit) break;
      if (core::CompareStreamPositions(logged.position, position) > 0) {
        out.push_back(logged);
      }
    }
    return out;
  }

  absl::StatusOr<std::string> LastPosition(const std::string& region) override {
    absl::MutexLock lock(&mu_);
    const auto it = events_.find(region);
    if (it == events_.end() || it->second.empty()) return std::string("0-0");
    return it->second.back().position;
  }

  // ReadAfter calls made on the test's thread, not the feed's polling.
  int reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  void ForgetReads() {
    absl::MutexLock lock(&mu_);
    reads_ = 0;
  }

 private:
  absl::Mutex mu_;
  int next_entry_ ABSL_GUARDED_BY(mu_) = 1000;
  std::map<std::string, std::vector<core::LoggedEvent>> events_
      ABSL_GUARDED_BY(mu_);
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
  const std::thread::id test_thread_ = std::this_thread::get_id();
};

// Counts the calls.
class CountingListener final : public EventFeed::Listener {
 public:
  void OnEvents() override {
    absl::MutexLock lock(&mu_);
    ++calls_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Waits (up to 10 s) until called at least `n` times.
  bool AwaitCalls(int n) {
    absl::MutexLock lock(&mu_);
    const auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return calls_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(10));
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

std::vector<std::string> Positions(
    const absl::StatusOr<std::vector<core::LoggedEvent>>& events);

// Waits (as the listener is told) until `feed` has at least `n` events of
// `region` after `position`; false after 10 s without.
bool AwaitRead(EventFeed& feed, CountingListener& listener,
               const std::string& region, const std::string& position,
               size_t n) {
  for (;;) {
    // Counted before the read: news told after it is not missed.
    const int told = listener.calls();
    if (Positions(feed.ReadAfter(region, position, 100)).size() >= n) {
      return true;
    }
    if (!listener.AwaitCalls(told + 1)) return false;
  }
}

std::vector<std::string> Positions(
    const absl::StatusOr<std::vector<core::LoggedEvent>>& events) {
  std::vector<std::string> out;
  if (!events.ok()) return {events.status().ToString()};
  for (const core::LoggedEvent& logged : *events) {
    out.push_back(logged.position);
  }
  return out;
}

class EventFeedTest : public ::testing::Test {
 protected:
  EventFeed::Options Fast() {
    EventFeed::Options options;
    options.poll_interval = absl::Milliseconds(2);
    return options;
  }

  ListLog log_;
};

TEST_F(EventFeedTest, NewsIsToldAndReadFromMemory) {
  const std::string before = log_.Append("13");
  EventFeed feed(&log_, Fast());
  CountingListener listener;
  ASSERT_TRUE(feed.Subscribe({"13"}, &listener).ok());
  feed.Start();
  const std::string a = log_.Append("13");
  const std::string b = log_.Append("13");
  // Both read (one call or two).
  ASSERT_TRUE(AwaitRead(feed, listener, "13", before, 2));
  log_.ForgetReads();
  EXPECT_THAT(Positions(feed.ReadAfter("13", before, 10)), ElementsAre(a, b));
  EXPECT_THAT(Positions(feed.ReadAfter("13", a, 10)), ElementsAre(b));
  EXPECT_THAT(Positions(feed.ReadAfter("13", b, 10)), ElementsAre());
  EXPECT_THAT(Positions(feed.ReadAfter("13", before, 1)), ElementsAre(a));
  EXPECT_EQ(log_.reads(), 0) << "read from the log, not from memory";
}

TEST_F(EventFeedTest, WhatItNeverKeptIsReadFromTheLog) {
  const std::string old = log_.Append("13");
  const std::string newest = log_.Append("13");
  EventFeed feed(&log_, Fast());
  CountingListener listener;
  ASSERT_TRUE(feed.Subscribe({"13"}, &listener).ok());
  log_.ForgetReads();
  // Older than where the feed starts: a watcher resuming an old token.
  EXPECT_THAT(Positions(feed.ReadAfter("13", "", 10)),
              ElementsAre(old, newest));
  EXPECT_THAT(Positions(feed.ReadAfter("13", old, 10)), ElementsAre(newest));
  // A region nobody subscribed to.
  const std::string other = log_.Append("19");
  EXPECT_THAT(Positions(feed.ReadAfter("19", "0-0", 10)), ElementsAre(other));
  EXPECT_EQ(log_.reads(), 3);
}

TEST_F(EventFeedTest, EventsPushedOutOfMemoryAreReadFromTheLog) {
  const std::string start = log_.Append("13");
  EventFeed::Options options = Fast();
  options.kept_per_region = 2;
  EventFeed feed(&log_, options);
  CountingListener listener;
  ASSERT_TRUE(feed.Subscribe({"13"}, &listener).ok());
  feed.Start();
  std::vector<std::string> appended;
  for (int i = 0; i < 5; ++i) appended.push_back(log_.Append("13"));
  ASSERT_TRUE(AwaitRead(feed, listener, "13", appended[3], 1));
  log_.ForgetReads();
  EXPECT_THAT(Positions(feed.ReadAfter("13", appended[2], 10)),
              ElementsAre(appended[3], appended[4]));
  EXPECT_EQ(log_.reads(), 0);
  EXPECT_EQ(Positions(feed.ReadAfter("13", start, 10)), appended);
  EXPECT_EQ(log_.reads(), 1);
}

TEST_F(EventFeedTest, AnEntryOfSeveralEventsIsReadFromAnyPlaceInIt) {
  EventFeed feed(&log_, Fast());
  CountingListener listener;
  ASSERT_TRUE(feed.Subscribe({"13"}, &listener).ok());
  feed.Start();
  const std::string entry = log_.Append("13", 3);
  const std::string first = absl::StrCat(entry, ".0");
  const std::string second = absl::StrCat(entry, ".1");
  ASSERT_TRUE(AwaitRead(feed, listener, "13", "0-0", 3));
  log_.ForgetReads();
  EXPECT_THAT(Positions(feed.ReadAfter("13", "0-0", 10)),
              ElementsAre(first, second, entry));
  EXPECT_THAT(Positions(feed.ReadAfter("13", first, 10)),
              ElementsAre(second, entry));
  EXPECT_THAT(Positions(feed.ReadAfter("13", second, 10)), ElementsAre(entry));
  EXPECT_EQ(log_.reads(), 0);
}

TEST_F(EventFeedTest, APositionAheadOfTheFeedGetsWhatComesAfterIt) {
  // A token from a replica that has read further than this feed.
  EventFeed feed(&log_, Fast());
  CountingListener listener;
  ASSERT_TRUE(feed.Subscribe({"13"}, &listener).ok());
  const std::string seen_elsewhere = log_.Append("13");
  EXPECT_THAT(Positions(feed.ReadAfter("13", seen_elsewhere, 10)),
              ElementsAre());
  feed.Start();
  const std::string next = log_.Append("13");
  ASSERT_TRUE(AwaitRead(feed, listener, "13", seen_elsewhere, 1));
  EXPECT_THAT(Positions(feed.ReadAfter("13", seen_elsewhere, 10)),
              ElementsAre(next));
}

TEST_F(EventFeedTest, OnlyListenersOfARegionAreToldAndNoneAfterUnsubscribe) {
  EventFeed feed(&log_, Fast());
  CountingListener of_13, of_19, gone;
  ASSERT_TRUE(feed.Subscribe({"13"}, &of_13).ok());
  ASSERT_TRUE(feed.Subscribe({"19", "13"}, &of_19).ok());
  ASSERT_TRUE(feed.Subscribe({"19"}, &gone).ok());
  feed.Unsubscribe(&gone);
  feed.Start();
  log_.Append("19");
  ASSERT_TRUE(of_19.AwaitCalls(1));
  log_.Append("13");
  ASSERT_TRUE(of_13.AwaitCalls(1));
  ASSERT_TRUE(of_19.AwaitCalls(2));
  feed.Stop();
  EXPECT_EQ(of_13.calls(), 1) << "told of region 19's news";
  EXPECT_EQ(gone.calls(), 0);
}

TEST(CompareStreamPositionsTest, OrdersEventsAsTheStreamDoes) {
  const std::vector<std::string> ordered = {
      "",    "1-0.0", "1-0.1",    "1-0",  "1-1",
      "2-0", "9-0",   "10-0.999", "10-0", "18446744073709551615-0"};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      const int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(core::CompareStreamPositions(ordered[i], ordered[j]), expected)
          << ordered[i] << " vs " << ordered[j];
    }
  }
  EXPECT_EQ(core::CompareStreamPositions("", "0-0"), 0);
}

}  // namespace
}  // namespace slussen::service

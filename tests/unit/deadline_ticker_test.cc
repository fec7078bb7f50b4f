// The deadline ticker's workers: started with the first tick and kept
// until Stop, so that a tick (four a second) starts and joins no thread
// (over an in-memory repository with nothing due: what is counted is the
// process's threads, /proc/self/task, not what the ticks fire); and how
// late each step a tick fires is told, by the ticker's clock.
#include "broker/service/deadline_ticker.h"

#include <dirent.h>

#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/model/calendar.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/ports/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/sample_records.h"

namespace slussen::service {
namespace {

// The threads of this process now.
int Threads() {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  int n = 0;
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(tasks);
  return n;
}

TEST(DeadlineTickerTest, ItsWorkersLiveAsLongAsTheTicker) {
  testing::InMemoryReferralRepository repository;
  const core::SwedishCalendar calendar = *core::SwedishCalendar::Create();
  core::DeadlineKeeper keeper(&repository, &calendar,
                              core::DefaultDeadlineRuleSets());
  core::ManualClock clock(absl::FromUnixSeconds(1'780'000'000));
  // ThreadSanitizer's runtime starts a thread of its own with the first
  // thread a program makes: one made (and joined) first is counted in
  // `before`, so that what is counted below is the ticker's alone.
  std::thread([] {}).join();
  const int before = Threads();
  ASSERT_GT(before, 0);
  DeadlineTicker ticker(&keeper, &clock, {.workers = 4});
  EXPECT_EQ(ticker.Tick(), 0);
  // The calling thread ticks with three helpers, which stay.
  EXPECT_EQ(Threads(), before + 3);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ticker.Tick(), 0);
  EXPECT_EQ(Threads(), before + 3);
  ticker.Stop();
  EXPECT_EQ(Threads(), before);
  // Stopped, a tick still runs, on the calling thread alone.
  EXPECT_EQ(ticker.Tick(), 0);
  EXPECT_EQ(Threads(), before);
}

// A step fired seconds after its instant is told so late; one not due is
// not told.
TEST(DeadlineTickerTest, EachStepFiredIsToldHowLateItFired) {
  testing::InMemoryReferralRepository repository;
  const core::SwedishCalendar calendar = *core::SwedishCalendar::Create();
  core::DeadlineKeeper keeper(&repository, &calendar,
                              core::DefaultDeadlineRuleSets());
  const core::ReferralRecord impulse = testing::SampleRecord(
      "13", testing::SampleId(1), slussen::v1::REFERRAL_KIND_IMPULSE);
  ASSERT_TRUE(
      keeper.Create(impulse, testing::CreatedEvent(impulse), std::nullopt)
          .ok());
  const absl::StatusOr<std::vector<core::ClockRecord>> clocks =
      keeper.ListClocks("13", impulse.id);
  ASSERT_TRUE(clocks.ok()) << clocks.status();
  ASSERT_EQ(clocks->size(), 1u);
  ASSERT_TRUE((*clocks)[0].next_fire.has_value());
  const absl::Time warn = *(*clocks)[0].next_fire;

  core::ManualClock clock(warn - absl::Seconds(1));
  std::vector<std::pair<absl::Duration, int>> told;
  DeadlineTicker ticker(
      &keeper, &clock,
      {.workers = 1, .on_fired = [&](absl::Duration lag, int steps) {
         told.emplace_back(lag, steps);  // one worker: this thread
       }});
  EXPECT_EQ(ticker.Tick(), 0);
  EXPECT_TRUE(told.empty());
  clock.Set(warn + absl::Seconds(3));
  EXPECT_EQ(ticker.Tick(), 1);
  ticker.Stop();
  EXPECT_THAT(told, ::testing::ElementsAre(std::pair(absl::Seconds(3), 1)));
}

}  // namespace
}  // namespace slussen::service

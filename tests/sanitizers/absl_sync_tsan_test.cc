// That ThreadSanitizer sees the order abseil's Mutex, CondVar and
// Notification put between threads in the SLUSSEN_SANITIZE=thread build
// (absl_sync_tsan.cc). Each test passes unless TSan reports a race, which
// makes the process exit with 66 and ctest fail it: without the library,
// every one of them is reported.

#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

constexpr int kRounds = 10000;

TEST(AbslSyncTsan, CountingUnderOneMutexIsNoRace) {
  absl::Mutex mu;
  int count = 0;
  const auto count_up = [&] {
    for (int i = 0; i < kRounds; ++i) {
      absl::MutexLock lock(&mu);
      ++count;
    }
  };
  std::thread a(count_up), b(count_up);
  a.join();
  b.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(count, 2 * kRounds);
}

TEST(AbslSyncTsan, AwaitSeesWhatTheSignallerWrote) {
  absl::Mutex mu;
  int value = 0;  // Guarded by mu.
  std::thread writer([&] {
    absl::MutexLock lock(&mu);
    value = 42;
  });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* v) { return *v != 0; }, &value));
    EXPECT_EQ(value, 42);
  }
  writer.join();
}

TEST(AbslSyncTsan, NotificationOrdersWhatCameBefore) {
  absl::Notification ready;
  int payload = 0;  // Written before Notify, read after.
  std::thread writer([&] {
    payload = 7;
    ready.Notify();
  });
  ready.WaitForNotification();
  EXPECT_EQ(payload, 7);
  writer.join();
}

TEST(AbslSyncTsan, HasBeenNotifiedOrdersWhatCameBefore) {
  absl::Notification ready;
  int payload = 0;
  std::thread writer([&] {
    payload = 9;
    ready.Notify();
  });
  while (!ready.HasBeenNotified()) std::this_thread::yield();
  EXPECT_EQ(payload, 9);
  writer.join();
}

TEST(AbslSyncTsan, CondVarWaitSeesWhatTheSignallerWrote) {
  absl::Mutex mu;
  absl::CondVar cv;
  bool done = false;  // Guarded by mu.
  int payload = 0;    // Guarded by mu.
  std::thread writer([&] {
    absl::MutexLock lock(&mu);
    payload = 5;
    done = true;
    cv.Signal();
  });
  {
    absl::MutexLock lock(&mu);
    while (!done) cv.Wait(&mu);
    EXPECT_EQ(payload, 5);
  }
  writer.join();
}

}  // namespace

// Writers that keep writing through a RedisPool while a fault test fails
// Redis over, and what came of it: issue 22's figures (BENCHMARKS.md,
// "Failover under load"). Each writer SETs new keys (`key_prefix`, its
// number, ":", a serial) one after another, and tries the next one
// `retry_after` after a refusal (any status but OK). A key counts as
// acknowledged when its SET returned OK; Finish() reads them all back
// through the pool, and with wait_replicas=1 none may be missing.
//
//   RedisPool pool(options);  // wait_replicas = 1
//   WriteLoad load(&pool, {.writers = 8});
//   absl::SleepFor(absl::Milliseconds(500));
//   const absl::Time killed = load.MarkFault();
//   ASSERT_TRUE(primary->Kill().ok());
//   ASSERT_TRUE(Eventually([&] { return load.ServedAgain(); }, ...));
//   absl::StatusOr<WriteLoad::Figures> figures = load.Finish();
//   ASSERT_TRUE(figures.ok()) << figures.status();
//   EXPECT_EQ(figures->lost, 0);
//   std::cout << figures->ToString() << "\n";
//
// Thread-safe. The pool must outlive the load.
#ifndef SLUSSEN_TESTS_SUPPORT_WRITE_LOAD_H_
#define SLUSSEN_TESTS_SUPPORT_WRITE_LOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/store/redis_client.h"

namespace slussen::testing {

// "1.82 s"; "never" for InfiniteDuration.
std::string FormatSeconds(absl::Duration d);

class WriteLoad {
 public:
  struct Options {
    int writers = 8;
    // On a Redis Cluster, a region's hash tag (store::keys::Region) keeps
    // the writes on that region's primary.
    std::string key_prefix = "ack:";
    absl::Duration retry_after = absl::Milliseconds(10);
  };

  struct Figures {
    int writers = 0;
    int64_t acknowledged = 0;
    // Acknowledged writes the pool no longer finds: must be 0.
    int64_t lost = 0;
    // Attempts refused, over the whole run.
    int64_t refused = 0;
    // From MarkFault() until the first write sent after it was
    // acknowledged; InfiniteDuration if none was.
    absl::Duration served_again = absl::InfiniteDuration();
    // The longest acknowledged write sent after MarkFault().
    absl::Duration slowest_after_fault = absl::ZeroDuration();

    // "8 writers: 1340 writes acknowledged, 0 of them lost, 1322 attempts
    // refused; ...", for the test's output.
    std::string ToString() const;
  };

  // Starts the writers.
  WriteLoad(store::RedisPool* pool, Options options);
  // Stops them, if Finish() did not.
  ~WriteLoad();
  WriteLoad(const WriteLoad&) = delete;
  WriteLoad& operator=(const WriteLoad&) = delete;

  // The fault happens now: returns the instant, from which served_again
  // is counted.
  absl::Time MarkFault();
  // Whether a write sent after MarkFault() has been acknowledged.
  bool ServedAgain();
  // Stops the writers (waiting for the writes under way), reads every
  // acknowledged key back through the pool, and returns the figures.
  absl::StatusOr<Figures> Finish();

 private:
  void Write(int writer);
  void Stop();

  store::RedisPool* const pool_;
  const Options options_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> writers_;

  absl::Mutex mu_;
  std::vector<std::string> acknowledged_ ABSL_GUARDED_BY(mu_);
  int64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time fault_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time served_again_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Duration slowest_after_fault_ ABSL_GUARDED_BY(mu_);
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_WRITE_LOAD_H_

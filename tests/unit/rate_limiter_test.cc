// The per-caller token bucket, on a clock the test moves: a burst, then a
// refusal saying the limit and when to retry, refills at the rate, callers
// apart, and memory that stays bounded however many callers come.
#include "broker/service/rate_limiter.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace slussen::service {
namespace {

using ::slussen::testing::FakeClock;
using ::testing::HasSubstr;

class RateLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1798761600)};
};

TEST_F(RateLimiterTest, AdmitsABurstThenRefuses) {
  RateLimiter limiter({.per_second = 10, .burst = 3}, &clock_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Admit("kommun-halmstad-eb").ok()) << i;
  }
  const absl::Status refused = limiter.Admit("kommun-halmstad-eb");
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(RateLimiterTest, RefusalSaysTheLimitAndWhenToRetry) {
  RateLimiter limiter({.per_second = 200, .burst = 1}, &clock_);
  ASSERT_TRUE(limiter.Admit("fk-lfc-halmstad").ok());
  const absl::Status refused = limiter.Admit("fk-lfc-halmstad");
  ASSERT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "organisation fk-lfc-halmstad is over its rate limit of 200 calls "
            "a second (bursts of 1) on this broker; retry in 5ms");
}

TEST_F(RateLimiterTest, RetryTimeShrinksAsTheBucketRefills) {
  RateLimiter limiter({.per_second = 1, .burst = 1}, &clock_);
  ASSERT_TRUE(limiter.Admit("a-org").ok());
  clock_.Advance(absl::Milliseconds(250));
  EXPECT_THAT(std::string(limiter.Admit("a-org").message()),
              HasSubstr("retry in 750ms"));
}

TEST_F(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter({.per_second = 10, .burst = 2}, &clock_);
  ASSERT_TRUE(limiter.Admit("a-org").ok());
  ASSERT_TRUE(limiter.Admit("a-org").ok());
  ASSERT_FALSE(limiter.Admit("a-org").ok());
  clock_.Advance(absl::Milliseconds(99));
  EXPECT_FALSE(limiter.Admit("a-org").ok());
  clock_.Advance(absl::Milliseconds(1));  // 100 ms: one token
  EXPECT_TRUE(limiter.Admit("a-org").ok());
  EXPECT_FALSE(limiter.Admit("a-org").ok());
}

TEST_F(RateLimiterTest, ARefusedCallTakesNoToken) {
  RateLimiter limiter({.per_second = 10, .burst = 1}, &clock_);
  ASSERT_TRUE(limiter.Admit("a-org").ok());
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(limiter.Admit("a-org").ok());
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_TRUE(limiter.Admit("a-org").ok());
}

TEST_F(RateLimiterTest, AQuietSpellRefillsNoMoreThanTheBurst) {
  RateLimiter limiter({.per_second = 100, .burst = 5}, &clock_);
  clock_.Advance(absl::Hours(24));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Admit("a-org").ok()) << i;
  clock_.Advance(absl::Hours(24));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Admit("a-org").ok()) << i;
  EXPECT_FALSE(limiter.Admit("a-org").ok());
}

TEST_F(RateLimiterTest, EachCallerHasItsOwnBucket) {
  RateLimiter limiter({.per_second = 1, .burst = 1}, &clock_);
  ASSERT_TRUE(limiter.Admit("kommun-halmstad-eb").ok());
  ASSERT_FALSE(limiter.Admit("kommun-halmstad-eb").ok());
  EXPECT_TRUE(limiter.Admit("kommun-laholm-eb").ok());
}

TEST_F(RateLimiterTest, ARateOfZeroIsNoLimit) {
  RateLimiter limiter({.per_second = 0, .burst = 0}, &clock_);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.Admit("a-org").ok());
  EXPECT_EQ(limiter.keys(), 0u);
}

TEST_F(RateLimiterTest, AClockSteppingBackRefillsNothing) {
  RateLimiter limiter({.per_second = 1, .burst = 1}, &clock_);
  ASSERT_TRUE(limiter.Admit("a-org").ok());
  clock_.Advance(-absl::Hours(1));
  EXPECT_FALSE(limiter.Admit("a-org").ok());
  clock_.Advance(absl::Hours(1) + absl::Seconds(1));
  EXPECT_TRUE(limiter.Admit("a-org").ok());
}

TEST_F(RateLimiterTest, BucketsIdleUntilFullAreDropped) {
  RateLimiter limiter({.per_second = 10, .burst = 10}, &clock_);
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(limiter.Admit(absl::StrCat("org-", i)).ok());
  }
  EXPECT_EQ(limiter.keys(), 1024u);
  // One second refills a burst of 10 at 10 a second: those buckets hold
  // nothing a new one would not.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(limiter.Admit("newcomer").ok());
  EXPECT_EQ(limiter.keys(), 1u);
}

TEST_F(RateLimiterTest, BucketsNotYetFullAreKeptUntilTheyAre) {
  RateLimiter limiter({.per_second = 10, .burst = 10}, &clock_);
  for (int i = 0; i < 1024; ++i) {
    ASSERT_TRUE(limiter.Admit(absl::StrCat("org-", i)).ok());
  }
  clock_.Advance(absl::Milliseconds(500));
  ASSERT_TRUE(limiter.Admit("newcomer").ok());
  EXPECT_EQ(limiter.keys(), 1025u);
}

TEST_F(RateLimiterTest, NeverHoldsMoreThanMaxKeys) {
  RateLimiter limiter({.per_second = 1, .burst = 1, .max_keys = 100}, &clock_);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(limiter.Admit(absl::StrCat("org-", i)).ok());
    ASSERT_LE(limiter.keys(), 100u) << i;
    clock_.Advance(absl::Microseconds(1));
  }
  // The newest callers keep their (empty) buckets; the oldest went first.
  EXPECT_FALSE(limiter.Admit("org-9999").ok());
}

TEST(RateLimiterOptions, ValidateNamesTheBadOption) {
  using Options = RateLimiter::Options;
  EXPECT_TRUE(RateLimiter::Validate(Options{}).ok());
  EXPECT_TRUE(RateLimiter::Validate({.per_second = 0, .burst = 0}).ok());
  EXPECT_THAT(std::string(RateLimiter::Validate({.per_second = -1}).message()),
              HasSubstr("per_second"));
  EXPECT_THAT(
      std::string(
          RateLimiter::Validate({.per_second = 5, .burst = 0}).message()),
      HasSubstr("burst"));
  EXPECT_THAT(std::string(RateLimiter::Validate(
                              {.per_second = 5, .burst = 1, .max_keys = 0})
                              .message()),
              HasSubstr("max_keys"));
}

}  // namespace
}  // namespace slussen::service

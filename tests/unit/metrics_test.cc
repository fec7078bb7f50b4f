// The broker's metrics as text: each call, pass and round trip counted
// under its own labels, the series kept for the next (Metrics caches them).
#include "broker/service/metrics.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::service {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, EachCallIsCountedUnderItsMethodAndCode) {
  Metrics metrics;
  metrics.OnCall("CreateReferral", "OK", absl::Milliseconds(2), 1);
  metrics.OnCall("CreateReferral", "OK", absl::Milliseconds(3), 2);
  metrics.OnCall("CreateReferral", "NOT_FOUND", absl::Milliseconds(1), 0);
  metrics.OnCall("WatchEvents", "CANCELLED", absl::Seconds(9), std::nullopt);
  const std::string text = metrics.Text();
  EXPECT_THAT(text, HasSubstr("slussen_rpc_total{code=\"OK\",method="
                              "\"CreateReferral\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("slussen_rpc_total{code=\"NOT_FOUND\",method="
                              "\"CreateReferral\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("slussen_rpc_duration_seconds_count{method="
                              "\"CreateReferral\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("slussen_rpc_redis_round_trips_sum{method="
                              "\"CreateReferral\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("slussen_rpc_redis_round_trips_bucket{method="
                              "\"CreateReferral\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("slussen_rpc_total{code=\"CANCELLED\",method="
                              "\"WatchEvents\"} 1\n"));
  // No count of round trips where none was counted.
  EXPECT_THAT(text, Not(HasSubstr("slussen_rpc_redis_round_trips_count{"
                                  "method=\"WatchEvents\"}")));
}

TEST(MetricsTest, PassesAndRoundTripsAreCountedUnderTheirOwnLabels) {
  Metrics metrics;
  metrics.OnMatchingPass("13", "full", absl::Milliseconds(5), true);
  metrics.OnMatchingPass("13", "full", absl::Milliseconds(5), false);
  metrics.OnMatchingPass("13", "arrival", absl::Milliseconds(1), true);
  metrics.OnMatchingPass("14", "full", absl::Milliseconds(5), true);
  metrics.OnRedisRoundTrip("10.0.0.5:6379", true);
  metrics.OnRedisRoundTrip("10.0.0.5:6379", true);
  metrics.OnRedisRoundTrip("10.0.0.5:6379", false);
  metrics.OnRedisRoundTrip("10.0.0.6:6379", true);
  const std::string text = metrics.Text();
  for (const char* line : {
           "slussen_matching_passes_total{kind=\"full\",outcome=\"ok\","
           "region=\"13\"} 1\n",
           "slussen_matching_passes_total{kind=\"full\",outcome=\"error\","
           "region=\"13\"} 1\n",
           "slussen_matching_passes_total{kind=\"arrival\",outcome=\"ok\","
           "region=\"13\"} 1\n",
           "slussen_matching_passes_total{kind=\"full\",outcome=\"ok\","
           "region=\"14\"} 1\n",
           "slussen_matching_pass_duration_seconds_count{kind=\"full\","
           "region=\"13\"} 2\n",
           "slussen_redis_round_trips_total{outcome=\"answered\",primary="
           "\"10.0.0.5:6379\"} 2\n",
           "slussen_redis_round_trips_total{outcome=\"failed\",primary="
           "\"10.0.0.5:6379\"} 1\n",
           "slussen_redis_round_trips_total{outcome=\"answered\",primary="
           "\"10.0.0.6:6379\"} 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

}  // namespace
}  // namespace slussen::service

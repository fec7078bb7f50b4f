// slussctl's one time convention: Europe/Stockholm with the zone in text,
// RFC 3339 with the offset in JSON, deadlines as the day they end, and
// lateness in arbetsdagar.
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/cli_context.h"
#include "google/protobuf/timestamp.pb.h"
#include "gtest/gtest.h"

namespace slussen::cli {
namespace {

google::protobuf::Timestamp Utc(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error))
      << error;
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(time));
  return ts;
}

TEST(CliTime, TextIsStockholmTimeWithItsZone) {
  EXPECT_EQ(FormatTime(Utc("2026-12-23T08:31:20Z")), "2026-12-23 09:31:20 CET");
  EXPECT_EQ(FormatTime(Utc("2026-07-01T08:00:00Z")),
            "2026-07-01 10:00:00 CEST");
  EXPECT_EQ(FormatTime(google::protobuf::Timestamp()), "-");
}

TEST(CliTime, AMidnightDeadlineIsTheEndOfTheDayBefore) {
  // The README's impulse of Wed 2026-12-23: due at the end of the 30th,
  // the instant 2026-12-31 00:00 CET, not "2026-12-31 00:00:00".
  EXPECT_EQ(DeadlineText(Utc("2026-12-30T23:00:00Z")), "end of Wed 2026-12-30");
  EXPECT_EQ(DeadlineText(Utc("2026-06-30T22:00:00Z")), "end of Tue 2026-06-30");
  EXPECT_EQ(DeadlineText(Utc("2026-12-30T14:00:00Z")),
            "2026-12-30 15:00:00 CET");
}

TEST(CliTime, LatenessCountsArbetsdagar) {
  const google::protobuf::Timestamp due = Utc("2026-12-30T23:00:00Z");
  EXPECT_EQ(LatenessText(due, Utc("2026-12-28T09:00:00Z")),
            "2 arbetsdagar left");
  EXPECT_EQ(LatenessText(due, Utc("2026-12-29T09:00:00Z")), "1 arbetsdag left");
  EXPECT_EQ(LatenessText(due, Utc("2026-12-30T09:00:00Z")), "due today");
  // Nyårsafton and nyårsdagen are no arbetsdagar, nor the weekend after:
  // Monday 4 January is the first day late.
  EXPECT_EQ(LatenessText(due, Utc("2027-01-02T09:00:00Z")),
            "0 arbetsdagar late");
  EXPECT_EQ(LatenessText(due, Utc("2027-01-04T09:00:00Z")), "1 arbetsdag late");
  EXPECT_EQ(LatenessText(due, Utc("2027-01-07T09:00:00Z")),
            "3 arbetsdagar late");  // trettondedag jul, the 6th, is none
  // Due at 15:00, late at 16:00 the same day.
  EXPECT_EQ(
      LatenessText(Utc("2026-12-29T14:00:00Z"), Utc("2026-12-29T15:00:00Z")),
      "late today");
}

TEST(CliTime, JsonTimesCarryTheStockholmOffset) {
  const std::string json =
      R"({"create_time": "2026-12-23T08:31:20Z", )"
      R"("note": "\"due_time\": \"2026-12-23T08:31:20Z\"", )"
      R"("events":[{"time":"2026-07-01T10:00:00.500Z","lateness":"3600s"}]})";
  EXPECT_EQ(
      LocalTimesInJson(json),
      R"({"create_time": "2026-12-23T09:31:20+01:00", )"
      R"("note": "\"due_time\": \"2026-12-23T08:31:20Z\"", )"
      R"("events":[{"time":"2026-07-01T12:00:00.5+02:00","lateness":"3600s"}]})");
}

}  // namespace
}  // namespace slussen::cli

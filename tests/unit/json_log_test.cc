// The broker's log lines: W3C trace ids read from traceparent, and carried
// by every line logged while a call's trace is in scope.
#include "broker/service/json_log.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::service {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";

TEST(TraceIdOfTest, ReadsTheTraceOfAW3CTraceparent) {
  EXPECT_EQ(TraceIdOf(absl::StrCat("00-", kTrace, "-00f067aa0ba902b7-01")),
            kTrace);
  // A later version may add fields.
  EXPECT_EQ(TraceIdOf(absl::StrCat("01-", kTrace, "-00f067aa0ba902b7-00-x")),
            kTrace);
  for (const std::string& bad :
       {std::string(""), std::string("00-abc-def-01"),
        absl::StrCat("00-", kTrace, "-00f067aa0ba902b7-01-extra"),
        absl::StrCat("ff-", kTrace, "-00f067aa0ba902b7-01"),
        absl::StrCat("00-", std::string(32, '0'), "-00f067aa0ba902b7-01"),
        absl::StrCat("00-", kTrace, "-0000000000000000-01"),
        absl::StrCat("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
        absl::StrCat("00-", kTrace, "-00f067aa0ba902b7-1")}) {
    EXPECT_EQ(TraceIdOf(bad), "") << bad;
  }
}

TEST(ScopedLogTraceTest, EveryLineInScopeCarriesTheTrace) {
  ::testing::internal::CaptureStderr();
  {
    const ScopedLogTrace trace(kTrace);
    Log(LogLevel::kWarning, "inside", {{"n", 1}});
    Log(LogLevel::kWarning, "own", {{"trace_id", "given"}});
  }
  Log(LogLevel::kWarning, "after");
  const std::string lines = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(
      lines, HasSubstr(absl::StrCat(
                 "\"msg\":\"inside\",\"n\":1,\"trace_id\":\"", kTrace, "\"}")));
  EXPECT_THAT(lines, HasSubstr("\"msg\":\"own\",\"trace_id\":\"given\"}"));
  EXPECT_THAT(lines, HasSubstr("\"msg\":\"after\"}"));
  EXPECT_THAT(lines, Not(HasSubstr("\"msg\":\"after\",\"trace_id\"")));
}

TEST(LogFieldTest, AnAbsentCountIsNull) {
  EXPECT_EQ(LogField("redis", std::optional<int64_t>(2)).json(), "2");
  EXPECT_EQ(LogField("redis", std::optional<int64_t>()).json(), "null");
}

}  // namespace
}  // namespace slussen::service

#include "clients/cli/cli_args.h"

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Parses `args` as if given after the program name.
absl::StatusOr<CliArgs> ParseArgs(std::vector<std::string> args,
                                  const std::set<std::string>& booleans = {
                                      "json", "quiet"}) {
  std::vector<const char*> argv = {"slussctl"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return CliArgs::Parse(static_cast<int>(argv.size()), argv.data(), booleans);
}

TEST(CliArgs, WordsKeepTheirOrder) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"referrals", "get", "regions/13/referrals/01J"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->words(),
              ElementsAre("referrals", "get", "regions/13/referrals/01J"));
  EXPECT_THAT(args->Unused(), IsEmpty());
}

TEST(CliArgs, FlagsMayComeAnywhereAmongWords) {
  const absl::StatusOr<CliArgs> args = ParseArgs(
      {"--server=127.0.0.1:50051", "referrals", "--region=13", "list"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->words(), ElementsAre("referrals", "list"));
  EXPECT_EQ(args->Get("server"), "127.0.0.1:50051");
  EXPECT_EQ(args->Get("region"), "13");
}

TEST(CliArgs, FlagWithEqualsTakesEverythingAfterTheFirstEquals) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--filter=kind=IMPULSE", "--note="});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("filter"), "kind=IMPULSE");
  EXPECT_TRUE(args->Has("note"));
  EXPECT_EQ(args->Get("note", "fallback"), "");
}

TEST(CliArgs, FlagWithSpaceTakesTheNextArgument) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--server", "127.0.0.1:50051", "health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("server"), "127.0.0.1:50051");
  EXPECT_THAT(args->words(), ElementsAre("health"));
}

TEST(CliArgs, BooleanFlagTakesNoValue) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--json", "referrals", "list"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->Flag("json"));
  EXPECT_THAT(args->words(), ElementsAre("referrals", "list"));
}

TEST(CliArgs, BooleanFlagAtTheEndNeedsNoValue) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"health", "--quiet"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->Flag("quiet"));
}

TEST(CliArgs, BooleanFlagMayBeGivenAValue) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--json=false", "--quiet=yes"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_FALSE(args->Flag("json"));
  EXPECT_TRUE(args->Flag("quiet"));
}

TEST(CliArgs, AbsentFlag) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_FALSE(args->Flag("json"));
  EXPECT_FALSE(args->Has("server"));
  EXPECT_EQ(args->Get("server", "127.0.0.1:50051"), "127.0.0.1:50051");
  EXPECT_EQ(args->Get("server"), "");
  EXPECT_THAT(args->GetAll("language"), IsEmpty());
}

TEST(CliArgs, RepeatedFlagGivesEveryValueInOrder) {
  const absl::StatusOr<CliArgs> args = ParseArgs(
      {"--language=sv", "--language", "ar", "--language=so", "create"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->GetAll("language"), ElementsAre("sv", "ar", "so"));
  EXPECT_THAT(args->words(), ElementsAre("create"));
}

TEST(CliArgs, DoubleDashEndsFlags) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--json", "note", "--", "--not-a-flag", "-x", "--"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->words(), ElementsAre("note", "--not-a-flag", "-x", "--"));
  EXPECT_FALSE(args->Has("not-a-flag"));
  EXPECT_TRUE(args->Flag("json"));
}

TEST(CliArgs, SingleDashIsAWord) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"-", "-v"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->words(), ElementsAre("-", "-v"));
}

TEST(CliArgs, MissingValueIsAnError) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"health", "--server"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(args.status().message()), HasSubstr("--server"));
  EXPECT_THAT(std::string(args.status().message()), HasSubstr("needs a value"));
}

TEST(CliArgs, FlagWithoutNameIsAnError) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"--=13"});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(args.status().message()), HasSubstr("--=13"));
}

class CliArgsEnvTest : public ::testing::Test {
 protected:
  static constexpr char kEnv[] = "SLUSSEN_CLI_ARGS_TEST_SERVER";
  void SetUp() override { unsetenv(kEnv); }
  void TearDown() override { unsetenv(kEnv); }
};

TEST_F(CliArgsEnvTest, GetFallsBackToTheEnvironment) {
  ASSERT_EQ(setenv(kEnv, "10.0.0.1:50051", 1), 0);
  const absl::StatusOr<CliArgs> args = ParseArgs({"health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("server", "127.0.0.1:50051", kEnv), "10.0.0.1:50051");
}

TEST_F(CliArgsEnvTest, FlagWinsOverTheEnvironment) {
  ASSERT_EQ(setenv(kEnv, "10.0.0.1:50051", 1), 0);
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--server=192.168.0.1:1", "health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("server", "127.0.0.1:50051", kEnv), "192.168.0.1:1");
}

TEST_F(CliArgsEnvTest, UnsetEnvironmentGivesTheFallback) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"health"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->Get("server", "127.0.0.1:50051", kEnv), "127.0.0.1:50051");
}

TEST(CliArgs, UnusedListsFlagsNeverRead) {
  const absl::StatusOr<CliArgs> args = ParseArgs(
      {"--server=x:1", "--regoin=13", "--json", "--language=sv", "--page=2"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->Unused(),
              ElementsAre("json", "language", "page", "regoin", "server"));
  args->Get("server");
  args->Flag("json");
  args->GetAll("language");
  args->Has("page");
  EXPECT_THAT(args->Unused(), ElementsAre("regoin"));
}

TEST(CliArgs, ReadingAnAbsentFlagDoesNotHideAGivenOne) {
  const absl::StatusOr<CliArgs> args = ParseArgs({"--regoin=13"});
  ASSERT_TRUE(args.ok()) << args.status();
  args->Get("region");
  EXPECT_THAT(args->Unused(), ElementsAre("regoin"));
}

// A misspelt flag given twice is one misspelling: the warning should name
// it once.
TEST(CliArgs, UnusedNamesARepeatedFlagOnce) {
  const absl::StatusOr<CliArgs> args =
      ParseArgs({"--langauge=sv", "--langauge=ar"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->Unused(), ElementsAre("langauge"));
}

}  // namespace
}  // namespace slussen::cli

// slussctl's command line: what it takes, what it refuses before any call,
// and the help, completion and man page made from the same declarations.
#include "clients/cli/command_line.h"

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::cli {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Parses `args` as if given after the program name.
absl::StatusOr<CommandLine> Parse(std::vector<std::string> args) {
  std::vector<const char*> argv = {"slussctl"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string Refusal(std::vector<std::string> args) {
  const absl::StatusOr<CommandLine> line = Parse(std::move(args));
  if (line.ok()) return "accepted";
  EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(line.status().message());
}

TEST(CommandLine, WordsAndFlagsOfTheCommand) {
  const absl::StatusOr<CommandLine> line =
      Parse({"--server=127.0.0.1:1", "offers", "decline",
             "regions/13/offers/01J", "--reason", "no-capacity", "--json"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->text.empty());
  EXPECT_EQ(line->path, "offers decline");
  EXPECT_THAT(line->args.words(),
              ElementsAre("offers", "decline", "regions/13/offers/01J"));
  EXPECT_EQ(line->args.Get("reason"), "no-capacity");
  EXPECT_EQ(line->args.Get("server"), "127.0.0.1:1");
  EXPECT_TRUE(line->args.Flag("json"));
  EXPECT_FALSE(line->args.Flag("quiet"));
  EXPECT_FALSE(line->args.Has("note"));
}

TEST(CommandLine, GlobalFlagsMayComeAnywhere) {
  const absl::StatusOr<CommandLine> line =
      Parse({"referrals", "--region=13", "list", "--json", "--state=queued",
             "--org", "kommun-halmstad-eb", "--state", "offered"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->args.Get("region"), "13");
  EXPECT_EQ(line->args.Get("org"), "kommun-halmstad-eb");
  EXPECT_THAT(line->args.GetAll("state"), ElementsAre("queued", "offered"));
}

TEST(CommandLine, ACommandsRegionLeavesTheCallersOwn) {
  const absl::StatusOr<CommandLine> both =
      Parse({"--region=13", "referrals", "list", "--region=12"});
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->args.Get("region"), "12");
  EXPECT_EQ(both->args.Get("global-region"), "13");
  const absl::StatusOr<CommandLine> one = Parse({"--region=13", "worklist"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->args.Get("region"), "13");
  EXPECT_FALSE(one->args.Has("global-region"));
}

TEST(CommandLine, AMisspeltFlagIsRefusedWithTheNearestItTakes) {
  EXPECT_THAT(Refusal({"offers", "decline", "regions/13/offers/01J",
                       "--reason=no-capacity", "--reson=x"}),
              AllOf(HasSubstr("`offers decline` takes no flag --reson"),
                    HasSubstr("did you mean --reason?")));
  EXPECT_THAT(Refusal({"referrals", "cancel", "regions/13/referrals/01J",
                       "--reason=other", "--etg", "7"}),
              HasSubstr("did you mean --etag?"));
  EXPECT_THAT(Refusal({"referrals", "list", "--jsn"}),
              HasSubstr("did you mean --json?"));
}

TEST(CommandLine, AFlagOfAnotherCommandIsRefused) {
  // --etag belongs to cancel, not to decline.
  EXPECT_THAT(Refusal({"offers", "decline", "regions/13/offers/01J",
                       "--reason=other", "--etag=3"}),
              HasSubstr("`offers decline` takes no flag --etag"));
  EXPECT_THAT(Refusal({"worklist", "--state=queued"}),
              HasSubstr("`worklist` takes no flag --state"));
}

TEST(CommandLine, UnknownCommandsAreRefusedWithTheNearest) {
  EXPECT_THAT(Refusal({"referals", "list"}),
              HasSubstr("did you mean \"referrals\"?"));
  EXPECT_THAT(Refusal({"referrals", "cancle", "regions/13/referrals/01J"}),
              HasSubstr("did you mean \"referrals cancel\"?"));
  EXPECT_THAT(Refusal({"referrals"}),
              AllOf(HasSubstr("needs a command"), HasSubstr("cancel")));
}

TEST(CommandLine, ExtraWordsAreRefused) {
  EXPECT_THAT(Refusal({"worklist", "now"}),
              HasSubstr("`worklist` takes no arguments; got also \"now\""));
}

TEST(CommandLine, AFlagGivenTwiceOrWithoutItsValueIsRefused) {
  EXPECT_NE(Refusal({"offers", "decline", "N", "--reason=a", "--reason=b"}),
            "accepted");
  EXPECT_THAT(Refusal({"offers", "decline", "N", "--reason"}),
              HasSubstr("--reason"));
}

TEST(CommandLine, HelpOfOneCommandIsShort) {
  for (const char* help : {"--help", "-h"}) {
    const absl::StatusOr<CommandLine> line =
        Parse({"referrals", "create", help});
    ASSERT_TRUE(line.ok()) << line.status();
    EXPECT_THAT(line->text, AllOf(HasSubstr("--call-back-name"),
                                  Not(HasSubstr("--outcome")),
                                  Not(HasSubstr("follow-up"))));
    EXPECT_LT(std::vector<std::string>(absl::StrSplit(line->text, '\n')).size(),
              40u);
  }
  const absl::StatusOr<CommandLine> top = Parse({"-h"});
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_THAT(top->text, AllOf(HasSubstr("referrals"), HasSubstr("--server"),
                               HasSubstr("Exit codes")));
}

TEST(CommandLine, VersionNamesTheRelease) {
  const absl::StatusOr<CommandLine> line = Parse({"--version"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->text, HasSubstr("slussen "));
}

TEST(CommandLine, EveryCommandsFlagsAreDistinctFromTheGlobalOnes) {
  std::set<std::string> global;
  for (const FlagSpec& flag : GlobalFlags()) global.insert(flag.name);
  for (const CommandSpec& spec : Commands()) {
    std::set<std::string> seen;
    for (const FlagSpec& flag : spec.flags) {
      EXPECT_TRUE(seen.insert(flag.name).second)
          << spec.Path() << " declares --" << flag.name << " twice";
      // A command may narrow --region's meaning; nothing else may shadow.
      if (flag.name != "region") {
        EXPECT_EQ(global.count(flag.name), 0u)
            << spec.Path() << " shadows the global --" << flag.name;
      }
      EXPECT_FALSE(flag.help.empty()) << spec.Path() << " --" << flag.name;
    }
  }
}

TEST(CommandLine, CompletionAndManPageNameEveryCommandAndFlag) {
  const std::string bash = BashCompletion();
  const std::string zsh = ZshCompletion();
  const std::string man = ManPage();
  EXPECT_THAT(bash, HasSubstr("complete -o default -F _slussctl slussctl"));
  EXPECT_THAT(zsh, HasSubstr("#compdef slussctl"));
  for (const CommandSpec& spec : Commands()) {
    EXPECT_THAT(bash, HasSubstr(spec.resource));
    if (!spec.command.empty()) {
      EXPECT_THAT(bash, HasSubstr(spec.command));
    }
    EXPECT_THAT(man,
                HasSubstr(absl::StrReplaceAll(spec.Path(), {{"-", "\\-"}})));
    for (const FlagSpec& flag : spec.flags) {
      EXPECT_THAT(bash, HasSubstr("--" + flag.name)) << spec.Path();
      EXPECT_THAT(man,
                  HasSubstr(absl::StrReplaceAll(flag.name, {{"-", "\\-"}})))
          << spec.Path();
    }
  }
}

TEST(CommandLine, NearestWordOnlyForLikelyMisspellings) {
  EXPECT_EQ(NearestWord("reson", {"reason", "note"}), "reason");
  EXPECT_EQ(NearestWord("xyz", {"reason", "note"}), "");
  EXPECT_EQ(NearestWord("requestid", {"request-id", "reason"}), "request-id");
}

TEST(CliArgsDeath, ReadingAnUndeclaredFlagIsABug) {
  const absl::StatusOr<CommandLine> line = Parse({"worklist"});
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_DEATH(line->args.Get("reason"), "does not declare");
  EXPECT_THAT(line->args.words(), ElementsAre("worklist"));
  EXPECT_THAT(line->args.GetAll("kind"), IsEmpty());
}

}  // namespace
}  // namespace slussen::cli

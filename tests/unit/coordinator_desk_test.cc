// The coordinator desk's request checks over the in-memory repository:
// filters and page tokens of the worklist and of the rule-set listing are
// checked before anything is read, and a token cannot carry a position
// this server would never have made.
#include "broker/core/coordinator_desk.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/calendar.h"
#include "broker/core/deadline_keeper.h"
#include "broker/core/deadlines.h"
#include "broker/core/page_token.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryReferralRepository;
using ::testing::HasSubstr;

const Caller kCoordinator{"samordning-halland", v1::ROLE_COORDINATOR, "13", ""};

class CoordinatorDeskTest : public ::testing::Test {
 protected:
  CoordinatorDeskTest()
      : calendar_(*SwedishCalendar::Create()),
        clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               calendar_.time_zone())),
        keeper_(&repository_, &calendar_, DefaultDeadlineRuleSets()),
        desk_(&keeper_, /*queues=*/nullptr, &clock_, &calendar_) {}

  // The token a client could make itself for `request`: the fingerprint is
  // no secret, only a guard against mixing up queries.
  static std::string ForgedWorklistToken(const v1::ListWorklistRequest& request,
                                         absl::string_view cursor) {
    v1::ListWorklistRequest canonical = request;
    canonical.clear_page_token();
    canonical.clear_page_size();
    return EncodePageToken(
        cursor, QueryFingerprint(absl::StrCat(kCoordinator.organisation, "\n",
                                              canonical.SerializeAsString())));
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  InMemoryReferralRepository repository_;
  DeadlineKeeper keeper_;
  CoordinatorDesk desk_;
};

TEST_F(CoordinatorDeskTest, WorklistChecksItsFilters) {
  v1::ListWorklistRequest request;
  request.set_parent("regions/13");
  ASSERT_TRUE(desk_.ListWorklist(kCoordinator, request).ok());

  v1::ListWorklistRequest bad = request;
  bad.set_referring_organisation(std::string(5000, 'x'));
  absl::Status status = desk_.ListWorklist(kCoordinator, bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("referring_organisation must be 2..63 characters"));
  EXPECT_LT(status.message().size(), 250u);

  bad = request;
  bad.mutable_due_within()->set_seconds(3600);
  bad.mutable_due_within()->set_nanos(-1);
  status = desk_.ListWorklist(kCoordinator, bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("due_within.nanos"));
}

// Found by reading, kept as a regression: a forged offset token
// "o2147483647" once made the worklist compute 2 * (skip + page_size) in
// int, which overflows. Worklist tokens are now cursors "<due ms>_<clock
// id>"; anything else, offsets included, is refused.
TEST_F(CoordinatorDeskTest, WorklistTokenThatIsNoCursorIsRefused) {
  v1::ListWorklistRequest request;
  request.set_parent("regions/13");
  request.set_page_size(1000);
  for (const std::string cursor : {"o2147483647", "o20001", "o-1", "x5", "o",
                                   "99999999999999999999_a", "5_", "5_a/b"}) {
    SCOPED_TRACE(cursor);
    request.set_page_token(ForgedWorklistToken(request, cursor));
    const absl::Status status =
        desk_.ListWorklist(kCoordinator, request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr("page_token"));
  }
  request.set_page_token(ForgedWorklistToken(
      request, "1796104631056_01M8R0EMWF505YZ5ANPEYHG7Y7-1-0"));
  EXPECT_TRUE(desk_.ListWorklist(kCoordinator, request).ok());
}

TEST_F(CoordinatorDeskTest, RuleSetsArePagedAsAsked) {
  const size_t total = keeper_.rule_sets().size();
  ASSERT_GE(total, 3u);
  v1::ListDeadlineRuleSetsRequest request;
  request.set_page_size(2);
  std::vector<std::string> names;
  for (int page = 0; page < 10; ++page) {
    const absl::StatusOr<v1::ListDeadlineRuleSetsResponse> listed =
        desk_.ListDeadlineRuleSets(kCoordinator, request);
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_LE(listed->rule_sets_size(), 2);
    for (const v1::DeadlineRuleSet& set : listed->rule_sets()) {
      names.push_back(set.name());
    }
    if (listed->next_page_token().empty()) break;
    request.set_page_token(listed->next_page_token());
  }
  std::vector<std::string> all;
  for (const v1::DeadlineRuleSet& set : keeper_.rule_sets()) {
    all.push_back(set.name());
  }
  EXPECT_EQ(names, all);
}

TEST_F(CoordinatorDeskTest, RuleSetListingChecksItsPageToken) {
  v1::ListDeadlineRuleSetsRequest request;
  request.set_page_token("not-a-token");
  EXPECT_EQ(desk_.ListDeadlineRuleSets(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_page_token(
      EncodePageToken("o999", QueryFingerprint("deadlineRuleSets")));
  const absl::Status status =
      desk_.ListDeadlineRuleSets(kCoordinator, request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("is not a position in this listing"));
  request.clear_page_token();
  request.set_page_size(1001);
  EXPECT_EQ(desk_.ListDeadlineRuleSets(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace slussen::core

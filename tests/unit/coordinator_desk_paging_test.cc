// The coordinator's worklist over the in-memory repository, with clocks
// started by a real ReferralDesk and a fake clock: paging through it
// returns every item exactly once, in due order, also when filtered, when
// a page needs several reads, and when the last item of a page is met or
// closed before the next is asked for.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/desks/coordinator_desk.h"
#include "broker/core/desks/deadline_keeper.h"
#include "broker/core/desks/referral_desk.h"
#include "broker/core/model/deadlines.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/pseudonymizer.h"
#include "broker/core/ports/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_audit_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"
#include "tests/support/sample_referrals.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryReferralRepository;
using ::slussen::testing::SampleImpulse;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr char kRegion[] = "13";
const Caller kHalmstad{"kommun-halmstad-eb", v1::ROLE_AGENCY, "13", ""};
const Caller kLaholm{"kommun-laholm-eb", v1::ROLE_AGENCY, "13", ""};
const Caller kCoordinator{"region-13", v1::ROLE_COORDINATOR, "13", ""};

class CoordinatorDeskTest : public ::testing::Test {
 protected:
  CoordinatorDeskTest()
      : calendar_(*SwedishCalendar::Create()),
        clock_(Local(2026, 12, 1, 8)),
        ids_(&clock_),
        pseudonymizer_(*Pseudonymizer::FromKey(std::string(40, 'k'))),
        keeper_(&repository_, &calendar_, DefaultDeadlineRuleSets()),
        referrals_(&keeper_, &clock_, &ids_, &pseudonymizer_, &calendar_,
                   audit_),
        desk_(&keeper_, /*queues=*/nullptr, &clock_, &calendar_, audit_) {}

  absl::Time Local(int y, int mo, int d, int h = 0, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                           calendar_.time_zone());
  }

  // `count` impulses a day over `days` working days from Tuesday
  // 2026-12-01, by `callers` in turn: the clocks of a day are due at one
  // instant. Then the clock stands at the next Monday.
  void CreateImpulses(int days, int count, const std::vector<Caller>& callers) {
    int n = 0;
    for (int day = 0; day < days; ++day) {
      for (int i = 0; i < count; ++i, ++n) {
        clock_.Set(Local(2026, 12, 1 + day, 8) + absl::Minutes(n));
        const absl::StatusOr<v1::Referral> made = referrals_.CreateReferral(
            callers[n % callers.size()], SampleImpulse());
        ASSERT_TRUE(made.ok()) << made.status();
      }
    }
    clock_.Set(Local(2026, 12, 7, 9));
  }

  // The names of the open clocks the worklist may show, in its order.
  std::vector<std::string> OpenClocks(const std::string& referring = "") {
    std::vector<std::string> names;
    const absl::StatusOr<std::vector<ClockRecord>> open =
        keeper_.ListOpenClocks(kRegion, 10000);
    EXPECT_TRUE(open.ok()) << open.status();
    for (const ClockRecord& record :
         open.value_or(std::vector<ClockRecord>())) {
      if (referring.empty() ||
          record.clock.referring_organisation() == referring) {
        names.push_back(record.clock.name());
      }
    }
    return names;
  }

  v1::ListWorklistRequest Request(int page_size) {
    v1::ListWorklistRequest request;
    request.set_parent("regions/13");
    request.set_page_size(page_size);
    request.mutable_due_within()->set_seconds(60 * 24 * 3600);
    return request;
  }

  // Every item of the worklist, page by page; checks each page's size.
  // `between(page)` runs after each page.
  std::vector<std::string> AllPages(
      v1::ListWorklistRequest request, int* pages = nullptr,
      const std::function<void(const v1::ListWorklistResponse&)>& between =
          nullptr) {
    std::vector<std::string> names;
    for (int page = 1; page <= 1000; ++page) {
      const absl::StatusOr<v1::ListWorklistResponse> response =
          desk_.ListWorklist(kCoordinator, request);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      EXPECT_LE(response->items_size(), request.page_size());
      for (const v1::WorklistItem& item : response->items()) {
        names.push_back(item.clock().name());
      }
      if (pages != nullptr) *pages = page;
      if (response->next_page_token().empty()) break;
      EXPECT_EQ(response->items_size(), request.page_size()) << page;
      if (between) between(*response);
      request.set_page_token(response->next_page_token());
    }
    return names;
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  UlidGenerator ids_;
  Pseudonymizer pseudonymizer_;
  InMemoryReferralRepository repository_;
  slussen::testing::InMemoryAuditRepository audit_;
  DeadlineKeeper keeper_;
  ReferralDesk referrals_;
  CoordinatorDesk desk_;
};

TEST_F(CoordinatorDeskTest, PagingReturnsEveryItemExactlyOnceInDueOrder) {
  CreateImpulses(/*days=*/5, /*count=*/5, {kHalmstad});
  const std::vector<std::string> open = OpenClocks();
  ASSERT_EQ(open.size(), 25u);
  int pages = 0;
  EXPECT_THAT(AllPages(Request(4), &pages), ElementsAreArray(open));
  EXPECT_EQ(pages, 7);
  // A page size dividing the items: the last full page has no token.
  EXPECT_THAT(AllPages(Request(5), &pages), ElementsAreArray(open));
  EXPECT_EQ(pages, 5);
}

TEST_F(CoordinatorDeskTest, AFilteredWorklistNeedingSeveralReadsPagesToo) {
  // 600 clocks, a third of them Laholm's: a page of 100 of them needs more
  // than the first read of open clocks.
  CreateImpulses(
      /*days=*/4, /*count=*/150,
      {kHalmstad, kLaholm, {"kommun-hylte-eb", v1::ROLE_AGENCY, "13", ""}});
  const std::vector<std::string> laholm = OpenClocks(kLaholm.organisation);
  ASSERT_EQ(laholm.size(), 200u);
  v1::ListWorklistRequest request = Request(100);
  request.set_referring_organisation(kLaholm.organisation);
  int pages = 0;
  EXPECT_THAT(AllPages(request, &pages), ElementsAreArray(laholm));
  EXPECT_EQ(pages, 2);
}

TEST_F(CoordinatorDeskTest, AClockClosedAfterItsPageLosesNoneAfterIt) {
  CreateImpulses(/*days=*/3, /*count=*/4, {kHalmstad});
  std::vector<std::string> expected = OpenClocks();
  ASSERT_EQ(expected.size(), 12u);
  // After each page the referral of its last item is cancelled, which
  // closes the clock the next page token points after.
  const std::vector<std::string> listed =
      AllPages(Request(3), nullptr, [&](const v1::ListWorklistResponse& page) {
        const v1::Clock& last = page.items(page.items_size() - 1).clock();
        v1::CancelReferralRequest cancel;
        cancel.set_name(last.referral());
        cancel.set_reason(v1::CANCEL_REASON_NO_LONGER_NEEDED);
        const absl::StatusOr<v1::Referral> cancelled =
            referrals_.CancelReferral(kHalmstad, cancel);
        ASSERT_TRUE(cancelled.ok()) << cancelled.status();
      });
  EXPECT_THAT(listed, ElementsAreArray(expected));
  EXPECT_EQ(OpenClocks().size(), 9u);
}

TEST_F(CoordinatorDeskTest, APageTokenMustBeAWorklistPosition) {
  CreateImpulses(/*days=*/1, /*count=*/3, {kHalmstad});
  v1::ListWorklistRequest request = Request(2);
  const absl::StatusOr<v1::ListWorklistResponse> first =
      desk_.ListWorklist(kCoordinator, request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_FALSE(first->next_page_token().empty());

  // An offset token (what pages were before), and one for another filter.
  v1::ListWorklistRequest canonical = request;
  canonical.clear_page_size();
  request.set_page_token(EncodePageToken(
      "o2", QueryFingerprint(absl::StrCat(kCoordinator.organisation, "\n",
                                          canonical.SerializeAsString()))));
  EXPECT_EQ(desk_.ListWorklist(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_page_token(first->next_page_token());
  request.set_referring_organisation(kLaholm.organisation);
  EXPECT_EQ(desk_.ListWorklist(kCoordinator, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CoordinatorDeskTest, AnEmptyWorklistHasNoItemsAndNoToken) {
  const absl::StatusOr<v1::ListWorklistResponse> response =
      desk_.ListWorklist(kCoordinator, Request(10));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(response->items(), IsEmpty());
  EXPECT_TRUE(response->next_page_token().empty());
}

}  // namespace
}  // namespace slussen::core

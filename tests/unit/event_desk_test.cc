// The event desk's part in protected personal data: a coordinator gets no
// event of a referral in the region's set of protected referrals, even one
// written before the protection (without the flag); the set is read at
// most once a second per region, and a failed read falls back on the last
// set read.
#include "broker/core/desks/event_desk.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/core/model/field_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr char kAgency[] = "fk-lfc-halmstad";

// Region 13's events in a vector, positions "1-0", "2-0", ...
class VectorEventLog final : public EventLog {
 public:
  void Add(const std::string& referral) {
    LoggedEvent logged;
    logged.region = "13";
    logged.position = absl::StrCat(events_.size() + 1, "-0");
    logged.event.set_name(absl::StrCat("regions/13/events/", logged.position));
    logged.event.set_type(v1::EVENT_TYPE_REFERRAL_QUEUED);
    logged.event.set_referral(referral);
    logged.event.set_referring_organisation(kAgency);
    events_.push_back(logged);
  }
  absl::StatusOr<std::vector<LoggedEvent>> ReadAfter(
      const std::string& region, const std::string& position,
      int limit) override {
    std::vector<LoggedEvent> out;
    for (const LoggedEvent& e : events_) {
      if (CompareStreamPositions(e.position, position) > 0 &&
          static_cast<int>(out.size()) < limit) {
        out.push_back(e);
      }
    }
    return out;
  }
  absl::StatusOr<std::string> LastPosition(const std::string& region) override {
    if (!events_.empty()) return events_.back().position;
    return removed_before_.empty() ? "0-0" : removed_before_;
  }
  // Retention: removes the events up to `position`.
  void RemoveThrough(const std::string& position) {
    std::erase_if(events_, [&](const LoggedEvent& e) {
      return CompareStreamPositions(e.position, position) <= 0;
    });
    removed_before_ = position;
  }
  absl::StatusOr<std::string> RemovedBefore(
      const std::string& region) override {
    return removed_before_;
  }

 private:
  std::vector<LoggedEvent> events_;
  std::string removed_before_;
};

// The fake store, whose ProtectedReferrals can be made to fail and counts
// its reads.
class CountingRepository final : public ForwardingReferralRepository {
 public:
  explicit CountingRepository(ReferralRepository* inner)
      : ForwardingReferralRepository(inner) {}
  absl::StatusOr<std::vector<std::string>> ProtectedReferrals(
      const std::string& region) override {
    ++reads;
    if (fail) return absl::UnavailableError("redis is down");
    return ForwardingReferralRepository::ProtectedReferrals(region);
  }
  int reads = 0;
  bool fail = false;
};

class EventDeskTest : public ::testing::Test {
 protected:
  EventDeskTest() : repository_(&store_), desk_(&log_, &repository_) {
    coordinator_.organisation = "samordning-halland";
    coordinator_.role = v1::ROLE_COORDINATOR;
    coordinator_.region = "13";
    agency_.organisation = kAgency;
    agency_.role = v1::ROLE_AGENCY;
    agency_.region = "13";
  }

  // A referral of kAgency's in region 13, protected or not, with one event
  // written (as before any protection: without the flag).
  std::string Referral(const std::string& id, bool protect) {
    ReferralRecord record;
    record.region = "13";
    record.id = id;
    record.referral.set_name(absl::StrCat("regions/13/referrals/", id));
    record.referral.set_referring_organisation(kAgency);
    record.referral.set_protected_personal_data(protect);
    EXPECT_TRUE(store_.Create(record, v1::Event(), std::nullopt).ok());
    log_.Add(record.referral.name());
    return record.referral.name();
  }

  std::vector<std::string> Listed(const Caller& caller) {
    v1::ListEventsRequest request;
    request.set_parent("regions/13");
    const absl::StatusOr<v1::ListEventsResponse> listed =
        desk_.ListEvents(caller, request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> referrals;
    if (listed.ok()) {
      for (const v1::Event& e : listed->events()) {
        referrals.push_back(e.referral());
      }
    }
    return referrals;
  }

  VectorEventLog log_;
  testing::InMemoryReferralRepository store_;
  CountingRepository repository_;
  EventDesk desk_;
  Caller coordinator_;
  Caller agency_;
};

TEST_F(EventDeskTest, ACoordinatorGetsNoEventOfAProtectedReferral) {
  const std::string open = Referral("01OPEN", false);
  const std::string hidden = Referral("01HIDDEN", true);
  EXPECT_THAT(Listed(coordinator_), ::testing::ElementsAre(open));
  // The referring agency keeps all of its own.
  EXPECT_THAT(Listed(agency_), ::testing::ElementsAre(open, hidden));
}

TEST_F(EventDeskTest, TheSetIsReadOnceASecondAndOnlyForCoordinators) {
  Referral("01HIDDEN", true);
  Listed(agency_);
  EXPECT_EQ(repository_.reads, 0);
  Listed(coordinator_);
  Listed(coordinator_);
  EXPECT_EQ(repository_.reads, 1);
}

// The broker's watchers read a feed that answers from memory as far as
// it has read; a listing reads the log itself, so it shows an event
// written a moment ago, which the feed has not read yet.
TEST(EventDeskListingTest, AListingReadsTheListingLogAndAWatchTheOther) {
  VectorEventLog behind;  // the feed, before it read the newest
  VectorEventLog log;
  log.Add("regions/13/referrals/01FIRST");
  behind.Add("regions/13/referrals/01FIRST");
  log.Add("regions/13/referrals/01NEW");
  EventDesk desk(&behind, nullptr, &log);
  Caller agency;
  agency.organisation = kAgency;
  agency.role = v1::ROLE_AGENCY;
  agency.region = "13";
  v1::ListEventsRequest list;
  list.set_parent("regions/13");
  const absl::StatusOr<v1::ListEventsResponse> listed =
      desk.ListEvents(agency, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->events_size(), 2);
  EXPECT_EQ(listed->events(1).referral(), "regions/13/referrals/01NEW");

  v1::WatchEventsRequest watch;
  watch.set_parent("regions/13");
  watch.set_resume_token(EncodeWatchPositions({{"13", "0-0"}}));
  absl::StatusOr<EventDesk::Watch> started = desk.StartWatch(agency, watch);
  ASSERT_TRUE(started.ok()) << started.status();
  const auto polled = desk.Poll(agency, *started, 10);
  ASSERT_TRUE(polled.ok()) << polled.status();
  EXPECT_EQ(polled->size(), 1u);  // the feed's, told of the rest later
}

TEST_F(EventDeskTest, AFailedReadFallsBackOnTheLastSetRead) {
  const std::string open = Referral("01OPEN", false);
  Referral("01HIDDEN", true);
  v1::ListEventsRequest request;
  request.set_parent("regions/13");
  // Nothing read yet: the failure stands.
  repository_.fail = true;
  EXPECT_EQ(desk_.ListEvents(coordinator_, request).status().code(),
            absl::StatusCode::kUnavailable);
  repository_.fail = false;
  EXPECT_THAT(Listed(coordinator_), ::testing::ElementsAre(open));
  // Past the second the set is kept for, a failed read keeps the last set.
  absl::SleepFor(absl::Milliseconds(1100));
  repository_.fail = true;
  const int before = repository_.reads;
  EXPECT_THAT(Listed(coordinator_), ::testing::ElementsAre(open));
  EXPECT_EQ(repository_.reads, before + 1) << "it did try to read again";
}

// Events removed by retention: a resume or page token from before the last
// one removed would miss events and is refused, naming its field; one from
// it or after resumes.
TEST_F(EventDeskTest, ATokenFromBeforeRemovedEventsIsOutOfRange) {
  Referral("01A", false);                        // 1-0
  Referral("01B", false);                        // 2-0
  const std::string c = Referral("01C", false);  // 3-0
  v1::ListEventsRequest first_page;
  first_page.set_parent("regions/13");
  first_page.set_page_size(1);
  const absl::StatusOr<v1::ListEventsResponse> page =
      desk_.ListEvents(agency_, first_page);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_FALSE(page->next_page_token().empty());
  log_.RemoveThrough("2-0");

  v1::WatchEventsRequest watch;
  watch.set_parent("regions/13");
  watch.set_resume_token(EncodeWatchPositions({{"13", "1-0"}}));
  const absl::StatusOr<EventDesk::Watch> refused =
      desk_.StartWatch(agency_, watch);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("resume_token"));
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("2-0"));
  ASSERT_TRUE(ErrorInfoOf(refused.status()).has_value());
  EXPECT_EQ(ErrorInfoOf(refused.status())->reason(), "EVENTS_REMOVED");

  v1::ListEventsRequest next = first_page;
  next.set_page_token(page->next_page_token());
  const absl::StatusOr<v1::ListEventsResponse> stale =
      desk_.ListEvents(agency_, next);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(stale.status().message(), ::testing::HasSubstr("page_token"));

  watch.set_resume_token(EncodeWatchPositions({{"13", "2-0"}}));
  absl::StatusOr<EventDesk::Watch> resumed = desk_.StartWatch(agency_, watch);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const absl::StatusOr<std::vector<v1::WatchEventsResponse>> polled =
      desk_.Poll(agency_, *resumed, 10);
  ASSERT_TRUE(polled.ok()) << polled.status();
  ASSERT_EQ(polled->size(), 1u);
  EXPECT_EQ((*polled)[0].event().referral(), c);
  // Without a token a watch starts at the newest events, as ever.
  watch.clear_resume_token();
  EXPECT_TRUE(desk_.StartWatch(agency_, watch).ok());
}

}  // namespace
}  // namespace slussen::core

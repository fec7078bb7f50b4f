// The ReferralRepository contract, records and offers: a create and its
// events, idempotent by key (a retry returns the first referral, one
// write; another body under the key returns the first fingerprint, which
// the desk refuses), ABORTED on a stale version with nothing written,
// listings paged newest first (offers oldest first) visiting every item
// once whatever the page size and scan limit, and the audit record of each
// change of a record with an audit subject. Clocks and planned firing are
// in referral_repository_clocks_contract.cc.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/core/model/audit.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/audit_repository.h"
#include "broker/core/ports/referral_repository.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/contract/repository_contract.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::CreateOutcome;
using core::IdempotencyKey;
using core::ListQuery;
using core::OfferQuery;
using core::OfferRecord;
using core::ReferralRecord;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr char kRegion[] = "13";
constexpr char kHalmstad[] = "kommun-halmstad-eb";
constexpr char kLaholm[] = "kommun-laholm-eb";
constexpr char kProvider[] = "halsosam-halmstad";
constexpr char kOtherProvider[] = "work-for-you";

// `ids` newest first, as a listing of referrals gives them.
std::vector<std::string> Newest(std::vector<std::string> ids) {
  std::sort(ids.rbegin(), ids.rend());
  return ids;
}

// The repository under test, with the checks every test makes on the way.
class Store {
 public:
  explicit Store(core::ReferralRepository& referrals) : referrals_(referrals) {}

  ReferralRecord MustCreate(const ReferralRecord& record,
                            const std::optional<IdempotencyKey>& key = {}) {
    absl::StatusOr<CreateOutcome> made =
        referrals().Create(record, CreatedEvent(record), key);
    EXPECT_TRUE(made.ok()) << made.status();
    EXPECT_TRUE(made.ok() && made->created) << record.id;
    return made.ok() ? made->record : ReferralRecord();
  }

  ReferralRecord MustGet(const std::string& region, const std::string& id) {
    absl::StatusOr<ReferralRecord> got = referrals().Get(region, id);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.value_or(ReferralRecord());
  }

  // Every page of `query` from its start, checking each page on the way:
  // the ids listed, in order; `pages` the calls it took.
  std::vector<std::string> ListAll(ListQuery query, int* pages = nullptr) {
    std::vector<std::string> ids;
    for (int call = 1; call <= 1000; ++call) {
      absl::StatusOr<core::ListPage> page = referrals().List(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->records.size(), static_cast<size_t>(query.page_size));
      for (const ReferralRecord& record : page->records) {
        ids.push_back(record.id);
      }
      if (pages != nullptr) *pages = call;
      if (page->resume_before_id.empty()) break;
      EXPECT_TRUE(query.before_id.empty() ||
                  page->resume_before_id < query.before_id)
          << "each page must make progress";
      query.before_id = page->resume_before_id;
    }
    return ids;
  }

  // Offers to the provider of `org` for `n` referrals (SampleId(1000 + i)),
  // each made with its referral's change, every third declined, the rest
  // held; the offer ids, oldest first.
  std::vector<std::string> MakeOffers(int n, const std::string& org) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      const ReferralRecord read =
          MustCreate(SampleRecord(kRegion, SampleId(1000 + i)));
      const Moved moved =
          MoveTo(read, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, org);
      OfferRecord offer;
      offer.region = kRegion;
      offer.id = SampleId(2000 + i);
      offer.offer.set_name(
          absl::StrCat("regions/", kRegion, "/offers/", offer.id));
      offer.offer.set_referral(read.referral.name());
      offer.offer.set_state(i % 3 == 2 ? v1::OFFER_STATE_DECLINED
                                       : v1::OFFER_STATE_HELD);
      *offer.offer.mutable_hold_expire_time() =
          core::ToProtoTimestamp(kSampleCreated + absl::Hours(48 + i));
      offer.provider_organisation = org;
      offer.unit = "-";
      const absl::StatusOr<int64_t> applied =
          referrals().Apply({.read = &read,
                             .changed = moved.changed,
                             .event = moved.event,
                             .offer = offer});
      EXPECT_TRUE(applied.ok()) << applied.status();
      ids.push_back(offer.id);
    }
    return ids;
  }

  std::vector<std::string> ListAllOffers(OfferQuery query) {
    std::vector<std::string> ids;
    for (int call = 0; call < 1000; ++call) {
      absl::StatusOr<core::OfferPage> page = referrals().ListOffers(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->records.size(), static_cast<size_t>(query.page_size));
      for (const OfferRecord& offer : page->records) ids.push_back(offer.id);
      if (page->resume_after_id.empty()) break;
      EXPECT_GT(page->resume_after_id, query.after_id)
          << "each page must make progress";
      query.after_id = page->resume_after_id;
    }
    return ids;
  }

 private:
  core::ReferralRepository& referrals() { return referrals_; }

  core::ReferralRepository& referrals_;
};

::testing::AssertionResult SameRecord(const ReferralRecord& got,
                                      const ReferralRecord& want) {
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (got.region != want.region || got.id != want.id ||
      got.version != want.version ||
      got.personal_identity_pseudonym != want.personal_identity_pseudonym ||
      got.assigned_organisation != want.assigned_organisation ||
      got.audit_subject != want.audit_subject) {
    return ::testing::AssertionFailure()
           << "got " << got.region << "/" << got.id << " v" << got.version
           << " assigned '" << got.assigned_organisation << "', want "
           << want.region << "/" << want.id << " v" << want.version
           << " assigned '" << want.assigned_organisation << "'";
  }
  if (!differencer.Compare(want.referral, got.referral)) {
    return ::testing::AssertionFailure() << diff;
  }
  return ::testing::AssertionSuccess();
}

std::vector<v1::EventType> Types(const std::vector<v1::Event>& events) {
  std::vector<v1::EventType> types;
  for (const v1::Event& event : events) types.push_back(event.type());
  return types;
}

// --- Create -----------------------------------------------------------------

TEST_P(ReferralRepositoryContract,
       ACreateIsReadBackWholeAtVersionOneWithItsEvent) {
  Store store(referrals());
  ReferralRecord record =
      SampleRecord(kRegion, SampleId(1), v1::REFERRAL_KIND_ACTIVITY,
                   v1::REFERRAL_STATE_RECEIVED);
  record.assigned_organisation = kProvider;
  const ReferralRecord made = store.MustCreate(record);
  EXPECT_EQ(made.version, 1);
  record.version = 1;
  EXPECT_TRUE(SameRecord(store.MustGet(kRegion, record.id), record));
  EXPECT_EQ(referrals().Get(kRegion, SampleId(2)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(referrals().Get("12", record.id).status().code(),
            absl::StatusCode::kNotFound);

  const absl::StatusOr<std::vector<std::optional<ReferralRecord>>> both =
      referrals().GetReferrals(kRegion, {SampleId(2), record.id});
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_FALSE((*both)[0].has_value());
  ASSERT_TRUE((*both)[1].has_value());
  EXPECT_TRUE(SameRecord(*(*both)[1], record));

  const std::vector<v1::Event> events = Events(kRegion);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(MessageDifferencer::Equals(events[0], CreatedEvent(record)));
  EXPECT_THAT(Events("12"), IsEmpty());
}

TEST_P(ReferralRepositoryContract, TheEventsOfACreateAreWrittenInOrder) {
  ReferralRecord record = SampleRecord(kRegion, SampleId(1));
  const Moved queued =
      MoveTo(record, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  const absl::StatusOr<CreateOutcome> made = referrals().Create(
      queued.changed, {CreatedEvent(record), queued.event}, std::nullopt, {});
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_THAT(Types(Events(kRegion)),
              ElementsAre(v1::EVENT_TYPE_REFERRAL_CREATED,
                          v1::EVENT_TYPE_REFERRAL_QUEUED));
}

TEST_P(ReferralRepositoryContract,
       ARetryWithTheSameKeyReturnsTheFirstAndWritesOnce) {
  Store store(referrals());
  const ReferralRecord first = SampleRecord(kRegion, SampleId(1));
  const IdempotencyKey key{kHalmstad, "req-1", "fingerprint-a"};
  store.MustCreate(first, key);
  // The retry: the desk made a new id for it.
  const ReferralRecord retry = SampleRecord(kRegion, SampleId(2));
  const absl::StatusOr<CreateOutcome> again =
      referrals().Create(retry, CreatedEvent(retry), key);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->stored_fingerprint, "fingerprint-a");
  ReferralRecord want = first;
  want.version = 1;
  EXPECT_TRUE(SameRecord(again->record, want));

  EXPECT_EQ(referrals().Get(kRegion, retry.id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Events(kRegion).size(), 1u) << "one write";
  EXPECT_THAT(store.ListAll({.regions = {kRegion}}), ElementsAre(first.id));
}

// Another body under a used key: the first referral and its fingerprint,
// nothing written. That the fingerprints differ is what the desk refuses
// (INVALID_ARGUMENT naming request_id; referral_desk_test.cc).
TEST_P(ReferralRepositoryContract,
       AnotherBodyUnderAUsedKeyGetsTheFirstsFingerprint) {
  Store store(referrals());
  const ReferralRecord first = SampleRecord(kRegion, SampleId(1));
  store.MustCreate(first, IdempotencyKey{kHalmstad, "req-1", "fingerprint-a"});
  const ReferralRecord other =
      SampleRecord(kRegion, SampleId(2), v1::REFERRAL_KIND_IMPULSE);
  const absl::StatusOr<CreateOutcome> reused = referrals().Create(
      other, CreatedEvent(other), IdempotencyKey{kHalmstad, "req-1", "other"});
  ASSERT_TRUE(reused.ok()) << reused.status();
  EXPECT_FALSE(reused->created);
  EXPECT_EQ(reused->stored_fingerprint, "fingerprint-a");
  EXPECT_EQ(reused->record.id, first.id);
  EXPECT_EQ(reused->record.referral.kind(), v1::REFERRAL_KIND_ACTIVITY);
  EXPECT_EQ(Events(kRegion).size(), 1u);

  // The key is the organisation's: another's same request id is new.
  const ReferralRecord laholm =
      SampleRecord(kRegion, SampleId(3), v1::REFERRAL_KIND_ACTIVITY,
                   v1::REFERRAL_STATE_RECEIVED, kLaholm);
  const absl::StatusOr<CreateOutcome> theirs = referrals().Create(
      laholm, CreatedEvent(laholm), IdempotencyKey{kLaholm, "req-1", "x"});
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_TRUE(theirs->created);
}

TEST_P(ReferralRepositoryContract, ACreateOfATakenIdIsAbortedAndWritesNothing) {
  Store store(referrals());
  const ReferralRecord first =
      store.MustCreate(SampleRecord(kRegion, SampleId(1)));
  const ReferralRecord again =
      SampleRecord(kRegion, SampleId(1), v1::REFERRAL_KIND_IMPULSE);
  EXPECT_EQ(referrals().Create(again, CreatedEvent(again), {}).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store.MustGet(kRegion, SampleId(1)).referral.kind(),
            v1::REFERRAL_KIND_ACTIVITY);
  EXPECT_EQ(Events(kRegion).size(), 1u);
}

// A second open referral of one participant to one activity type, past
// the desk's check (a create racing another), is refused unless it says
// why; a finished one is no twin.
TEST_P(ReferralRepositoryContract, AnOpenTwinIsAlreadyExistsUnlessItSaysWhy) {
  Store store(referrals());
  const ReferralRecord first =
      store.MustCreate(SampleRecord(kRegion, SampleId(1)));
  ReferralRecord twin = SampleRecord(kRegion, SampleId(2));
  twin.personal_identity_pseudonym = first.personal_identity_pseudonym;
  const absl::StatusOr<CreateOutcome> refused =
      referrals().Create(twin, CreatedEvent(twin), {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists)
      << refused.status();
  const auto info = core::ErrorInfoOf(refused.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "OPEN_REFERRAL_EXISTS");

  twin.referral.set_second_referral_reason("a second group, agreed");
  EXPECT_TRUE(referrals().Create(twin, CreatedEvent(twin), {}).ok());

  const Moved withdrawn =
      MoveTo(store.MustGet(kRegion, first.id), v1::ACTION_CANCEL,
             v1::REFERRAL_STATE_WITHDRAWN);
  const ReferralRecord read = store.MustGet(kRegion, first.id);
  ASSERT_TRUE(
      referrals().Update(read, withdrawn.changed, withdrawn.event).ok());
  ReferralRecord later = SampleRecord(kRegion, SampleId(3));
  later.personal_identity_pseudonym = first.personal_identity_pseudonym;
  later.referral.set_second_referral_reason("");
  EXPECT_EQ(referrals().Create(later, CreatedEvent(later), {}).status().code(),
            absl::StatusCode::kAlreadyExists)
      << "the second, still open, is its twin";
}

// --- Changes ----------------------------------------------------------------

TEST_P(ReferralRepositoryContract,
       AChangeOnTheVersionReadBumpsItAndAddsItsEvent) {
  Store store(referrals());
  const ReferralRecord read =
      store.MustCreate(SampleRecord(kRegion, SampleId(1)));
  const Moved offered =
      MoveTo(read, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, kProvider);
  const absl::StatusOr<int64_t> version =
      referrals().Update(read, offered.changed, offered.event);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2);
  ReferralRecord want = offered.changed;
  want.version = 2;
  EXPECT_TRUE(SameRecord(store.MustGet(kRegion, read.id), want));
  EXPECT_THAT(
      Types(Events(kRegion)),
      ElementsAre(v1::EVENT_TYPE_REFERRAL_CREATED, offered.event.type()));
  // The indexes follow: matchable no more, listed as assigned.
  const absl::StatusOr<std::vector<ReferralRecord>> matchable =
      referrals().ListMatchable(kRegion);
  ASSERT_TRUE(matchable.ok()) << matchable.status();
  EXPECT_THAT(*matchable, IsEmpty());
  EXPECT_THAT(store.ListAll({.regions = {kRegion},
                             .index = core::ListIndex::kAssignedOrganisation,
                             .organisation = kProvider}),
              ElementsAre(read.id));
}

TEST_P(ReferralRepositoryContract,
       AChangeOnAStaleVersionIsAbortedAndWritesNothing) {
  Store store(referrals());
  const ReferralRecord stale =
      store.MustCreate(SampleRecord(kRegion, SampleId(1)));
  const Moved queued =
      MoveTo(stale, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  ASSERT_TRUE(referrals().Update(stale, queued.changed, queued.event).ok());
  const ReferralRecord current = store.MustGet(kRegion, stale.id);

  const Moved withdrawn =
      MoveTo(stale, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
  const absl::StatusOr<int64_t> refused =
      referrals().Update(stale, withdrawn.changed, withdrawn.event);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted)
      << refused.status();
  EXPECT_TRUE(SameRecord(store.MustGet(kRegion, stale.id), current));
  EXPECT_EQ(Events(kRegion).size(), 2u);

  // Of a referral that is not there: NOT_FOUND.
  const ReferralRecord missing = SampleRecord(kRegion, SampleId(9));
  const Moved on_missing =
      MoveTo(missing, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  EXPECT_EQ(referrals()
                .Update(missing, on_missing.changed, on_missing.event)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_P(ReferralRepositoryContract,
       AnOfferIsWrittenWithItsChangeAndCheckedAsRead) {
  Store store(referrals());
  const std::vector<std::string> made = store.MakeOffers(1, kProvider);
  const absl::StatusOr<OfferRecord> offer =
      referrals().GetOffer(kRegion, made[0]);
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_EQ(offer->version, 1);
  EXPECT_EQ(offer->provider_organisation, kProvider);
  EXPECT_EQ(referrals().GetOffer(kRegion, SampleId(1)).status().code(),
            absl::StatusCode::kNotFound);
  // Held: due when its hold runs out, not before.
  const absl::Time expires = core::ToAbslTime(offer->offer.hold_expire_time());
  EXPECT_THAT(*referrals().DueHolds(kRegion, expires - absl::Milliseconds(1)),
              IsEmpty());
  EXPECT_THAT(*referrals().DueHolds(kRegion, expires), ElementsAre(made[0]));

  // Answered on a stale read of the offer: ABORTED, the referral unchanged.
  const ReferralRecord read = store.MustGet(kRegion, SampleId(1000));
  OfferRecord stale = *offer;
  stale.version = 0;
  OfferRecord accepted = *offer;
  accepted.offer.set_state(v1::OFFER_STATE_ACCEPTED);
  const Moved moved =
      MoveTo(read, v1::ACTION_ACCEPT, v1::REFERRAL_STATE_ACCEPTED, kProvider);
  EXPECT_EQ(referrals()
                .Apply({.read = &read,
                        .changed = moved.changed,
                        .event = moved.event,
                        .offer_read = &stale,
                        .offer = accepted})
                .status()
                .code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store.MustGet(kRegion, read.id).version, read.version);
  const absl::StatusOr<int64_t> answered =
      referrals().Apply({.read = &read,
                         .changed = moved.changed,
                         .event = moved.event,
                         .offer_read = &*offer,
                         .offer = accepted});
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(referrals().GetOffer(kRegion, made[0])->version, 2);
  EXPECT_THAT(*referrals().DueHolds(kRegion, expires), IsEmpty());
}

// --- Listings ---------------------------------------------------------------

TEST_P(ReferralRepositoryContract,
       PagesOfEverySizeVisitEachReferralOnceNewestFirst) {
  Store store(referrals());
  std::vector<std::string> ids;
  for (int i = 0; i < 23; ++i) {
    ids.push_back(SampleId(i));
    store.MustCreate(SampleRecord(kRegion, ids.back()));
  }
  for (const int size : {1, 4, 7, 22, 23, 24, 100}) {
    int pages = 0;
    EXPECT_THAT(
        store.ListAll({.regions = {kRegion}, .page_size = size}, &pages),
        ElementsAreArray(Newest(ids)))
        << "page size " << size;
    // A last page may come with a token that leads to an empty one.
    EXPECT_GE(pages, (23 + size - 1) / size) << "page size " << size;
    EXPECT_LE(pages, 23 / size + 1) << "page size " << size;
  }
  const absl::StatusOr<core::ListPage> empty =
      referrals().List({.regions = {"12"}});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(empty->records, IsEmpty());
  EXPECT_EQ(empty->resume_before_id, "");
}

TEST_P(ReferralRepositoryContract,
       FilteredPagesUnderAScanLimitMissNoneAndRepeatNone) {
  Store store(referrals());
  const std::vector<v1::ReferralState> states = {v1::REFERRAL_STATE_RECEIVED,
                                                 v1::REFERRAL_STATE_QUEUED,
                                                 v1::REFERRAL_STATE_WITHDRAWN};
  std::vector<std::string> queued_activities, laholm;
  for (int i = 0; i < 40; ++i) {
    const auto kind =
        i % 2 == 0 ? v1::REFERRAL_KIND_ACTIVITY : v1::REFERRAL_KIND_IMPULSE;
    const v1::ReferralState state = states[i % 3];
    const std::string org = i % 4 == 1 ? kLaholm : kHalmstad;
    store.MustCreate(SampleRecord(kRegion, SampleId(i), kind, state, org));
    if (kind == v1::REFERRAL_KIND_ACTIVITY &&
        state == v1::REFERRAL_STATE_QUEUED) {
      queued_activities.push_back(SampleId(i));
    }
    if (org == kLaholm) laholm.push_back(SampleId(i));
  }
  for (const int scan_limit : {3, 10, 1000}) {
    ListQuery query = {.regions = {kRegion},
                       .states = {v1::REFERRAL_STATE_QUEUED},
                       .kinds = {v1::REFERRAL_KIND_ACTIVITY},
                       .page_size = 2,
                       .scan_limit = scan_limit};
    EXPECT_THAT(store.ListAll(query),
                ElementsAreArray(Newest(queued_activities)))
        << "scan limit " << scan_limit;
    query = {.regions = {kRegion},
             .index = core::ListIndex::kReferringOrganisation,
             .organisation = kLaholm,
             .page_size = 3,
             .scan_limit = scan_limit};
    EXPECT_THAT(store.ListAll(query), ElementsAreArray(Newest(laholm)))
        << "scan limit " << scan_limit;
  }
}

TEST_P(ReferralRepositoryContract, AJointReferralIsListedForEachOfItsAgencies) {
  Store store(referrals());
  ReferralRecord joint = SampleRecord(kRegion, SampleId(1));
  v1::JointParty* party = joint.referral.mutable_joint()->add_parties();
  party->set_organisation(kLaholm);
  party->set_role(v1::JOINT_PARTY_ROLE_INFORMED);
  store.MustCreate(joint);
  store.MustCreate(SampleRecord(kRegion, SampleId(2)));
  const auto listed_for = [&](const std::string& organisation) {
    return store.ListAll({.regions = {kRegion},
                          .index = core::ListIndex::kReferringOrganisation,
                          .organisation = organisation});
  };
  EXPECT_THAT(listed_for(kHalmstad), ElementsAre(SampleId(2), SampleId(1)));
  EXPECT_THAT(listed_for(kLaholm), ElementsAre(SampleId(1)));
  // The filter on the referring organisation admits any of its agencies.
  EXPECT_THAT(
      store.ListAll({.regions = {kRegion}, .referring_organisation = kLaholm}),
      ElementsAre(SampleId(1)));
}

TEST_P(ReferralRepositoryContract,
       PagesOverSeveralRegionsMergeThemByIdNewestFirst) {
  Store store(referrals());
  std::vector<std::string> ids;
  for (int i = 0; i < 17; ++i) {
    ids.push_back(SampleId(i));
    store.MustCreate(SampleRecord(i % 3 == 0 ? "12" : kRegion, ids.back()));
  }
  for (const int size : {1, 5, 50}) {
    EXPECT_THAT(
        store.ListAll({.regions = {kRegion, "12", "14"}, .page_size = size}),
        ElementsAreArray(Newest(ids)))
        << "page size " << size;
  }
  EXPECT_EQ(store.ListAll({.regions = {"12"}, .page_size = 2}).size(), 6u);
}

TEST_P(ReferralRepositoryContract, OfferPagesVisitEachOfferOnceOldestFirst) {
  Store store(referrals());
  std::vector<std::string> mine = store.MakeOffers(11, kProvider);
  std::vector<std::string> held;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (i % 3 != 2) held.push_back(mine[i]);
  }
  for (const int size : {1, 3, 11, 50}) {
    for (const int scan_limit : {2, 5, 1000}) {
      EXPECT_THAT(store.ListAllOffers({.regions = {kRegion},
                                       .page_size = size,
                                       .scan_limit = scan_limit}),
                  ElementsAreArray(mine))
          << "page size " << size << ", scan limit " << scan_limit;
      EXPECT_THAT(store.ListAllOffers({.regions = {kRegion},
                                       .states = {v1::OFFER_STATE_HELD},
                                       .page_size = size,
                                       .scan_limit = scan_limit}),
                  ElementsAreArray(held))
          << "page size " << size << ", scan limit " << scan_limit;
    }
  }
  EXPECT_THAT(store.ListAllOffers({.regions = {kRegion},
                                   .provider_organisation = kOtherProvider}),
              IsEmpty());
  EXPECT_THAT(store.ListAllOffers({.regions = {"12"}}), IsEmpty());
}

// --- Audit ------------------------------------------------------------------

// A change of a record with an audit subject is recorded in its region's
// audit chain with the change; an erasure under the subject it had.
TEST_P(ReferralRepositoryContract, EachChangeOfARecordWithASubjectIsAudited) {
  Store store(referrals());
  ReferralRecord record = SampleRecord(kRegion, SampleId(1));
  record.audit_subject = "subject-1";
  const ReferralRecord read = store.MustCreate(record);
  store.MustCreate(
      SampleRecord(kRegion, SampleId(2)));  // no subject: not audited
  const Moved queued =
      MoveTo(read, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  ASSERT_TRUE(referrals().Update(read, queued.changed, queued.event).ok());
  const ReferralRecord queued_read = store.MustGet(kRegion, read.id);
  Moved erased =
      MoveTo(queued_read, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
  erased.changed.audit_subject.clear();
  ASSERT_TRUE(
      referrals().Update(queued_read, erased.changed, erased.event).ok());

  const absl::StatusOr<core::AuditPage> page =
      audit().ListBySubject(kRegion, "subject-1", 0, 10);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<v1::AuditOperation> operations;
  for (const core::StoredAuditRecord& stored : page->records) {
    v1::AuditRecord parsed;
    ASSERT_TRUE(parsed.ParseFromString(stored.bytes));
    EXPECT_EQ(parsed.subject(), "subject-1");
    operations.push_back(parsed.operation());
  }
  EXPECT_THAT(operations, ElementsAre(v1::AUDIT_OPERATION_CREATE,
                                      v1::AUDIT_OPERATION_UPDATE,
                                      v1::AUDIT_OPERATION_ERASE));
  const absl::StatusOr<core::AuditHead> head = audit().Head(kRegion);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->count, 3);
}

}  // namespace
}  // namespace slussen::testing

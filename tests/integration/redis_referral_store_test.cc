// RedisReferralStore against a real, private redis-server: the
// ReferralRepository contract (records, events, idempotency, versions,
// listings), writes that are all or nothing, durability across a crash of
// Redis, and the key layout (every key of a region in its hash tag).
#include "broker/store/redis_referral_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/core/model/events.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/ids.h"
#include "broker/core/ports/referral_repository.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_keys.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_records.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::slussen::core::CreateOutcome;
using ::slussen::core::IdempotencyKey;
using ::slussen::core::ListIndex;
using ::slussen::core::ListPage;
using ::slussen::core::ListQuery;
using ::slussen::core::ReferralRecord;
using ::slussen::testing::CreatedEvent;
using ::slussen::testing::RedisServer;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kRegion[] = "13";
constexpr char kHalmstad[] = "kommun-halmstad-eb";
constexpr char kLaholm[] = "kommun-laholm-eb";
constexpr char kFk[] = "fk-lfc-halmstad";
constexpr char kProvider[] = "halsosam-halmstad";
// 2025-10-09: ids made from it sort by `n`.
constexpr uint64_t kBaseMillis = 1'760'000'000'000;

// The n-th id: ids of larger n sort after (are newer than) smaller n.
std::string Id(int n) {
  return core::EncodeUlid(kBaseMillis + static_cast<uint64_t>(n) * 1000, 0x1234,
                          0x9e3779b97f4a7c15ULL * (n + 1));
}

// A referral as the desk would store it after a create: made by `org`,
// in `state`, with one transition.
ReferralRecord MakeRecord(
    const std::string& region, const std::string& id,
    v1::ReferralKind kind = v1::REFERRAL_KIND_ACTIVITY,
    const std::string& org = kHalmstad,
    v1::ReferralState state = v1::REFERRAL_STATE_RECEIVED) {
  return testing::SampleRecord(region, id, kind, state, org);
}

// Applies `action` leading to `next` to `record` (as read, version kept)
// and returns the event describing it.
v1::Event Change(ReferralRecord& record, v1::Action action,
                 v1::ReferralState next) {
  v1::Transition t;
  t.set_action(action);
  t.set_from_state(record.referral.state());
  t.set_to_state(next);
  *t.mutable_time() =
      core::ToProtoTimestamp(absl::FromUnixSeconds(1'760'000'100));
  t.mutable_actor()->set_organisation(record.referral.referring_organisation());
  t.set_note("free text that must not reach the stream");
  record.referral.set_state(next);
  *record.referral.add_history() = t;
  return core::ReferralEvent(record, t);
}

// A listing of every referral in `regions`, `page_size` at a time.
ListQuery Query(std::vector<std::string> regions, int page_size = 50) {
  ListQuery query;
  query.regions = std::move(regions);
  query.page_size = page_size;
  return query;
}

// A listing of one index of `regions`.
ListQuery Query(std::vector<std::string> regions, ListIndex index,
                const std::string& organisation) {
  ListQuery query = Query(std::move(regions));
  query.index = index;
  query.organisation = organisation;
  return query;
}

std::vector<std::string> SortedNewestFirst(std::vector<std::string> ids) {
  std::sort(ids.rbegin(), ids.rend());
  return ids;
}

class RedisReferralStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    Connect(RedisReferralStore::Options());
  }

  // A fresh pool and store, as a broker started now would make.
  void Connect(RedisReferralStore::Options options) {
    store_.reset();
    // Generous: parallel tests on two cores can hold an fsync up.
    pool_ = std::make_unique<RedisPool>(
        server_->ClientOptions({.command_timeout = absl::Seconds(10)}));
    store_ = std::make_unique<RedisReferralStore>(pool_.get(), options);
  }

  CreateOutcome MustCreate(const ReferralRecord& record,
                           const std::optional<IdempotencyKey>& key = {}) {
    absl::StatusOr<CreateOutcome> outcome =
        store_->Create(record, CreatedEvent(record), key);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.value_or(CreateOutcome());
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (const RedisValue& key : Redis({"KEYS", "*"}).elements) {
      keys.push_back(key.str);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // Every key with its serialized value: equal snapshots mean nothing was
  // written in between.
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> dump;
    for (const std::string& key : Keys()) dump[key] = Redis({"DUMP", key}).str;
    return dump;
  }

  long long StreamLength(const std::string& region) {
    return Redis({"XLEN", RedisReferralStore::EventStreamKey(region)}).integer;
  }

  // The fields of every entry of a region's event stream, oldest first.
  std::vector<std::map<std::string, std::string>> StreamEntries(
      const std::string& region) {
    std::vector<std::map<std::string, std::string>> entries;
    const RedisValue range =
        Redis({"XRANGE", RedisReferralStore::EventStreamKey(region), "-", "+"});
    for (const RedisValue& entry : range.elements) {
      std::map<std::string, std::string> fields;
      const std::vector<RedisValue>& pairs = entry.elements.at(1).elements;
      for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
        fields[pairs[i].str] = pairs[i + 1].str;
      }
      entries.push_back(std::move(fields));
    }
    return entries;
  }

  // Every id a listing returns, following resume ids to the end; also
  // checks that each page is newest first and no larger than asked.
  std::vector<std::string> ListAll(ListQuery query, int* pages = nullptr) {
    std::vector<std::string> ids;
    for (int page_count = 1; page_count <= 1000; ++page_count) {
      absl::StatusOr<ListPage> page = store_->List(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->records.size()), query.page_size);
      for (const ReferralRecord& record : page->records) {
        if (!ids.empty()) {
          EXPECT_LT(record.id, ids.back()) << "newest first";
        }
        ids.push_back(record.id);
      }
      if (pages != nullptr) *pages = page_count;
      if (page->resume_before_id.empty()) break;
      query.before_id = page->resume_before_id;
    }
    return ids;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisReferralStore> store_;
};

void ExpectSameRecord(const ReferralRecord& got, const ReferralRecord& want) {
  EXPECT_EQ(got.region, want.region);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_TRUE(MessageDifferencer::Equals(got.referral, want.referral))
      << "got " << got.referral.ShortDebugString() << "\nwant "
      << want.referral.ShortDebugString();
  EXPECT_EQ(got.personal_identity_pseudonym, want.personal_identity_pseudonym);
  EXPECT_EQ(got.assigned_organisation, want.assigned_organisation);
}

// --- Create and Get ---------------------------------------------------------

TEST_F(RedisReferralStoreTest, CreateThenGetReturnsTheSameRecordForEveryKind) {
  for (int kind = v1::REFERRAL_KIND_IMPULSE;
       kind <= v1::REFERRAL_KIND_TEAM_HANDOVER; ++kind) {
    SCOPED_TRACE(v1::ReferralKind_Name(kind));
    ReferralRecord record =
        MakeRecord(kRegion, Id(kind), static_cast<v1::ReferralKind>(kind));
    const CreateOutcome outcome = MustCreate(record);
    EXPECT_TRUE(outcome.created);
    EXPECT_EQ(outcome.record.version, 1);

    absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
    ASSERT_TRUE(got.ok()) << got.status();
    record.version = 1;
    ExpectSameRecord(*got, record);
    ExpectSameRecord(outcome.record, record);
  }
}

// A create reads the region's matching change count with its write, so
// that matching need not read it again (match_scheduler.h): "0" before any
// change was counted, then the count as it stands; a retry that wrote
// nothing reads none.
TEST_F(RedisReferralStoreTest, ACreateReadsTheMatchingChangeCountWithItsWrite) {
  EXPECT_EQ(MustCreate(MakeRecord(kRegion, Id(1))).matching_changes, "0");
  Redis({"SET", keys::MatchingChanges(kRegion), "41"});
  Redis({"INCR", keys::MatchingChanges(kRegion)});
  const IdempotencyKey key{kHalmstad, "req-2", "fingerprint"};
  EXPECT_EQ(MustCreate(MakeRecord(kRegion, Id(2)), key).matching_changes, "42");
  const CreateOutcome again = MustCreate(MakeRecord(kRegion, Id(3)), key);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.matching_changes, "");
}

TEST_F(RedisReferralStoreTest, CreateKeepsTheAssignedOrganisation) {
  ReferralRecord record =
      MakeRecord(kRegion, Id(1), v1::REFERRAL_KIND_REHAB_SERVICE_ORDER);
  record.assigned_organisation = kProvider;
  MustCreate(record);

  absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->assigned_organisation, kProvider);
  EXPECT_THAT(
      ListAll(Query({kRegion}, ListIndex::kAssignedOrganisation, kProvider)),
      ElementsAreArray({record.id}));
}

TEST_F(RedisReferralStoreTest, GetOfAMissingReferralIsNotFound) {
  absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, Id(1));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr(Id(1)));
}

TEST_F(RedisReferralStoreTest, GetOfUndecodableDataIsDataLoss) {
  const ReferralRecord record = MakeRecord(kRegion, Id(1));
  MustCreate(record);
  const std::string key = absl::StrCat("slussen:{r13}:referral:", record.id);
  ASSERT_EQ(Redis({"EXISTS", key}).integer, 1) << "the documented layout";
  Redis({"HSET", key, "data", "\xff\xff\xff"});
  EXPECT_EQ(store_->Get(kRegion, record.id).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RedisReferralStoreTest, CreateWritesExactlyOneEventToTheRegionStream) {
  const ReferralRecord record = MakeRecord(kRegion, Id(1));
  const v1::Event event = CreatedEvent(record);
  ASSERT_TRUE(store_->Create(record, event, std::nullopt).ok());

  EXPECT_EQ(StreamLength(kRegion), 1);
  EXPECT_EQ(StreamLength("12"), 0) << "only the referral's region";
  const std::vector<std::map<std::string, std::string>> entries =
      StreamEntries(kRegion);
  ASSERT_EQ(entries.size(), 1u);
  const std::map<std::string, std::string>& fields = entries[0];
  // The type and the event, nothing repeated beside it.
  EXPECT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields.at("type"), absl::StrCat(v1::EVENT_TYPE_REFERRAL_CREATED));
  v1::Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(fields.at("event")));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, event))
      << parsed.ShortDebugString();
}

// --- Idempotency ------------------------------------------------------------

TEST_F(RedisReferralStoreTest, ACreateRetriedWithTheSameKeyReturnsTheFirst) {
  const ReferralRecord first = MakeRecord(kRegion, Id(1));
  const CreateOutcome made =
      MustCreate(first, IdempotencyKey{kHalmstad, "req-1", "fingerprint-a"});
  ASSERT_TRUE(made.created);

  // A retry: the desk made a new id (and, here, a different body).
  const ReferralRecord retry =
      MakeRecord(kRegion, Id(2), v1::REFERRAL_KIND_IMPULSE);
  const CreateOutcome again =
      MustCreate(retry, IdempotencyKey{kHalmstad, "req-1", "fingerprint-b"});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.stored_fingerprint, "fingerprint-a");
  ReferralRecord want = first;
  want.version = 1;
  ExpectSameRecord(again.record, want);

  absl::StatusOr<ReferralRecord> second = store_->Get(kRegion, retry.id);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StreamLength(kRegion), 1) << "no second event";
  EXPECT_EQ(ListAll(Query({kRegion})).size(), 1u);
}

// The desk refuses a second open referral of one participant to one
// activity type, naming the first; a create racing it past that check is
// refused by the store's own script.
TEST_F(RedisReferralStoreTest, AnOpenTwinCreatedMeanwhileIsRefused) {
  ReferralRecord first = MakeRecord(kRegion, Id(1));
  first.version = MustCreate(first).record.version;
  // The same personnummer hash.
  ReferralRecord same_person = MakeRecord(kRegion, Id(2));
  same_person.personal_identity_pseudonym = first.personal_identity_pseudonym;
  absl::StatusOr<CreateOutcome> twin =
      store_->Create(same_person, CreatedEvent(same_person), {});
  EXPECT_EQ(twin.status().code(), absl::StatusCode::kAlreadyExists)
      << twin.status();
  EXPECT_THAT(twin.status().message(), HasSubstr("second_referral_reason"));
  ASSERT_TRUE(core::ErrorInfoOf(twin.status()).has_value());
  EXPECT_EQ(core::ErrorInfoOf(twin.status())->reason(), "OPEN_REFERRAL_EXISTS");
  EXPECT_EQ(store_->Get(kRegion, same_person.id).status().code(),
            absl::StatusCode::kNotFound)
      << "nothing written";
  EXPECT_EQ(StreamLength(kRegion), 1);
  // The same organisation's pseudonym, another personnummer (none known).
  ReferralRecord same_pseudonym = MakeRecord(kRegion, Id(3));
  same_pseudonym.personal_identity_pseudonym.clear();
  same_pseudonym.referral.mutable_participant()->set_pseudonym(
      first.referral.participant().pseudonym());
  EXPECT_EQ(store_->Create(same_pseudonym, CreatedEvent(same_pseudonym), {})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  // Another organisation's pseudonym is another person's.
  ReferralRecord other_org =
      MakeRecord(kRegion, Id(4), v1::REFERRAL_KIND_ACTIVITY, kLaholm);
  other_org.referral.mutable_participant()->set_pseudonym(
      first.referral.participant().pseudonym());
  MustCreate(other_org);
  // A second referral that says why.
  same_person.referral.set_second_referral_reason("a second cohort");
  MustCreate(same_person);

  // Once the first has finished, the person may be referred again.
  ReferralRecord read = first;
  const v1::Event cancelled =
      Change(first, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
  ASSERT_TRUE(store_->Update(read, first, cancelled).ok());
  ReferralRecord again = MakeRecord(kRegion, Id(5));
  again.referral.mutable_participant()->set_pseudonym(
      first.referral.participant().pseudonym());
  MustCreate(again);
}

TEST_F(RedisReferralStoreTest, CreatesWithoutAKeyMakeTwoRecords) {
  MustCreate(MakeRecord(kRegion, Id(1)));
  MustCreate(MakeRecord(kRegion, Id(2)));
  EXPECT_EQ(StreamLength(kRegion), 2);
  EXPECT_EQ(ListAll(Query({kRegion})).size(), 2u);
}

TEST_F(RedisReferralStoreTest, TheSameRequestIdOfAnotherOrganisationIsNew) {
  EXPECT_TRUE(MustCreate(MakeRecord(kRegion, Id(1)),
                         IdempotencyKey{kHalmstad, "r", "f"})
                  .created);
  EXPECT_TRUE(MustCreate(MakeRecord(kRegion, Id(2), v1::REFERRAL_KIND_ACTIVITY,
                                    kLaholm),
                         IdempotencyKey{kLaholm, "r", "f"})
                  .created);
  EXPECT_EQ(StreamLength(kRegion), 2);
}

TEST_F(RedisReferralStoreTest, TheIdempotencyKeyExpiresAfterItsTtl) {
  Connect({.idempotency_ttl = absl::Hours(2)});
  MustCreate(MakeRecord(kRegion, Id(1)), IdempotencyKey{kHalmstad, "r1", "f"});
  std::vector<std::string> idem;
  for (const std::string& key : Keys()) {
    if (absl::StrContains(key, ":idem:")) idem.push_back(key);
  }
  ASSERT_EQ(idem.size(), 1u);
  const long long ttl = Redis({"TTL", idem[0]}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 2 * 3600);
  // Nothing else expires: the referral and its indexes are kept for good.
  for (const std::string& key : Keys()) {
    if (key != idem[0]) {
      EXPECT_EQ(Redis({"TTL", key}).integer, -1) << key;
    }
  }
}

// A TTL under a second must still leave the key expiring (or refuse the
// create before writing): never a record written under a failed call.
TEST_F(RedisReferralStoreTest, ASubSecondIdempotencyTtlIsStillAllOrNothing) {
  Connect({.idempotency_ttl = absl::Milliseconds(500)});
  const ReferralRecord record = MakeRecord(kRegion, Id(1));
  absl::StatusOr<CreateOutcome> outcome = store_->Create(
      record, CreatedEvent(record), IdempotencyKey{kHalmstad, "r1", "f"});
  if (outcome.ok()) {
    for (const std::string& key : Keys()) {
      if (absl::StrContains(key, ":idem:")) {
        EXPECT_GT(Redis({"PTTL", key}).integer, 0);
      }
    }
  } else {
    EXPECT_THAT(Keys(), ::testing::IsEmpty())
        << "create failed (" << outcome.status()
        << ") but wrote the referral and its event";
  }
}

// --- Update -----------------------------------------------------------------

TEST_F(RedisReferralStoreTest, UpdateOnTheCurrentVersionBumpsItAndAddsEvent) {
  ReferralRecord record = MakeRecord(kRegion, Id(1));
  record.version = MustCreate(record).record.version;
  ASSERT_EQ(record.version, 1);

  ReferralRecord read = record;
  const v1::Event queued =
      Change(record, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  absl::StatusOr<int64_t> version = store_->Update(read, record, queued);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2);

  absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
  ASSERT_TRUE(got.ok()) << got.status();
  record.version = 2;
  ExpectSameRecord(*got, record);

  EXPECT_EQ(StreamLength(kRegion), 2);
  const std::map<std::string, std::string> last = StreamEntries(kRegion)[1];
  EXPECT_EQ(last.at("type"), absl::StrCat(v1::EVENT_TYPE_REFERRAL_QUEUED));
  v1::Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(last.at("event")));
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, queued));
  EXPECT_TRUE(parsed.transition().note().empty());

  read = record;
  const v1::Event cancelled =
      Change(record, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
  version = store_->Update(read, record, cancelled);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3);
  EXPECT_EQ(StreamLength(kRegion), 3);
  // The state is what listings filter on.
  ListQuery withdrawn = Query({kRegion});
  withdrawn.states = {v1::REFERRAL_STATE_WITHDRAWN};
  EXPECT_THAT(ListAll(withdrawn), ElementsAreArray({record.id}));
}

TEST_F(RedisReferralStoreTest, UpdateOnAStaleVersionIsAbortedAndWritesNothing) {
  ReferralRecord record = MakeRecord(kRegion, Id(1));
  record.version = MustCreate(record).record.version;
  const ReferralRecord stale = record;  // read by another replica at 1
  absl::StatusOr<int64_t> moved = store_->Update(
      stale, record,
      Change(record, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED));
  ASSERT_TRUE(moved.ok()) << moved.status();

  const std::map<std::string, std::string> before = Snapshot();
  ReferralRecord stale_change = stale;
  absl::StatusOr<int64_t> lost = store_->Update(
      stale, stale_change,
      Change(stale_change, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN));
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  EXPECT_THAT(lost.status().message(), HasSubstr("version 2"));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(StreamLength(kRegion), 2);
  absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->referral.state(), v1::REFERRAL_STATE_QUEUED);
}

TEST_F(RedisReferralStoreTest, UpdateOfAMissingReferralIsNotFoundAndWritesNo) {
  MustCreate(MakeRecord(kRegion, Id(1)));
  const std::map<std::string, std::string> before = Snapshot();
  ReferralRecord ghost = MakeRecord(kRegion, Id(2));
  ghost.version = 1;
  const ReferralRecord ghost_read = ghost;
  absl::StatusOr<int64_t> version = store_->Update(
      ghost_read, ghost,
      Change(ghost, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(RedisReferralStoreTest, OfRacingUpdatesOnOneVersionExactlyOneWins) {
  ReferralRecord record = MakeRecord(kRegion, Id(1));
  record.version = MustCreate(record).record.version;
  constexpr int kRacers = 8;
  std::vector<absl::Status> results(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      ReferralRecord mine = record;
      const v1::Event event =
          Change(mine, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
      results[i] = store_->Update(record, mine, event).status();
    });
  }
  for (std::thread& thread : threads) thread.join();
  int won = 0;
  for (const absl::Status& status : results) {
    if (status.ok()) {
      ++won;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(StreamLength(kRegion), 2);
  EXPECT_EQ(store_->Get(kRegion, record.id)->version, 2);
}

TEST_F(RedisReferralStoreTest, CreateOfATakenIdIsAbortedAndWritesNothing) {
  const ReferralRecord record = MakeRecord(kRegion, Id(1));
  MustCreate(record);
  const std::map<std::string, std::string> before = Snapshot();

  const ReferralRecord clash =
      MakeRecord(kRegion, Id(1), v1::REFERRAL_KIND_IMPULSE, kLaholm);
  for (const std::optional<IdempotencyKey>& key :
       {std::optional<IdempotencyKey>(),
        std::optional<IdempotencyKey>(IdempotencyKey{kLaholm, "new", "f"})}) {
    absl::StatusOr<CreateOutcome> outcome =
        store_->Create(clash, CreatedEvent(clash), key);
    EXPECT_EQ(outcome.status().code(), absl::StatusCode::kAborted)
        << outcome.status();
    EXPECT_EQ(Snapshot(), before) << "key given: " << key.has_value();
  }
}

TEST_F(RedisReferralStoreTest, UpdateKeepsTheAssignedOrganisationAndIndexesIt) {
  ReferralRecord record = MakeRecord(kRegion, Id(1));
  record.version = MustCreate(record).record.version;
  const ReferralRecord read = record;
  const v1::Event event =
      Change(record, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED);
  record.assigned_organisation = kProvider;
  ASSERT_TRUE(store_->Update(read, record, event).ok());

  absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->assigned_organisation, kProvider);
  EXPECT_THAT(
      ListAll(Query({kRegion}, ListIndex::kAssignedOrganisation, kProvider)),
      ElementsAreArray({record.id}));
}

// --- List -------------------------------------------------------------------

TEST_F(RedisReferralStoreTest, ListPagesNewestFirstVisitingEachExactlyOnce) {
  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) {
    ids.push_back(Id(i));
    MustCreate(MakeRecord(kRegion, ids.back()));
  }
  int pages = 0;
  const std::vector<std::string> listed = ListAll(Query({kRegion}, 25), &pages);
  EXPECT_THAT(listed, ElementsAreArray(SortedNewestFirst(ids)));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), 120u);
  EXPECT_GE(pages, 5);
  EXPECT_LE(pages, 6);

  absl::StatusOr<ListPage> first = store_->List(Query({kRegion}, 25));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->records.size(), 25u);
  EXPECT_EQ(first->records.front().id, Id(119));
  EXPECT_FALSE(first->resume_before_id.empty());
  // Records come back whole.
  ReferralRecord want = MakeRecord(kRegion, Id(119));
  want.version = 1;
  ExpectSameRecord(first->records.front(), want);
}

TEST_F(RedisReferralStoreTest, ListOfAnEmptyRegionIsEmptyWithNoResumeId) {
  absl::StatusOr<ListPage> page = store_->List(Query({kRegion}));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->records.empty());
  EXPECT_TRUE(page->resume_before_id.empty());
}

TEST_F(RedisReferralStoreTest, ListFiltersOnStatesKindsAndReferringOrg) {
  const std::vector<std::string> orgs = {kHalmstad, kLaholm, kFk};
  const std::vector<v1::ReferralState> states = {
      v1::REFERRAL_STATE_RECEIVED, v1::REFERRAL_STATE_QUEUED,
      v1::REFERRAL_STATE_WITHDRAWN, v1::REFERRAL_STATE_OFFERED};
  std::vector<std::string> queued_or_withdrawn, impulse_or_activity, laholm,
      laholm_queued_activity;
  for (int i = 0; i < 90; ++i) {
    const auto kind = static_cast<v1::ReferralKind>(1 + i % 5);
    const std::string& org = orgs[i % 3];
    const v1::ReferralState state = states[i % 4];
    MustCreate(MakeRecord(kRegion, Id(i), kind, org, state));
    const bool state_match = state == v1::REFERRAL_STATE_QUEUED ||
                             state == v1::REFERRAL_STATE_WITHDRAWN;
    const bool kind_match =
        kind == v1::REFERRAL_KIND_IMPULSE || kind == v1::REFERRAL_KIND_ACTIVITY;
    if (state_match) queued_or_withdrawn.push_back(Id(i));
    if (kind_match) impulse_or_activity.push_back(Id(i));
    if (org == kLaholm) laholm.push_back(Id(i));
    if (org == kLaholm && state == v1::REFERRAL_STATE_QUEUED &&
        kind == v1::REFERRAL_KIND_ACTIVITY) {
      laholm_queued_activity.push_back(Id(i));
    }
  }
  ASSERT_FALSE(laholm_queued_activity.empty());
  ListQuery by_state = Query({kRegion}, 7);
  by_state.states = {v1::REFERRAL_STATE_QUEUED, v1::REFERRAL_STATE_WITHDRAWN};
  EXPECT_THAT(ListAll(by_state),
              ElementsAreArray(SortedNewestFirst(queued_or_withdrawn)));
  ListQuery by_kind = Query({kRegion}, 7);
  by_kind.kinds = {v1::REFERRAL_KIND_IMPULSE, v1::REFERRAL_KIND_ACTIVITY};
  EXPECT_THAT(ListAll(by_kind),
              ElementsAreArray(SortedNewestFirst(impulse_or_activity)));
  ListQuery by_org = Query({kRegion}, 7);
  by_org.referring_organisation = kLaholm;
  EXPECT_THAT(ListAll(by_org), ElementsAreArray(SortedNewestFirst(laholm)));
  ListQuery all_three = Query({kRegion}, 2);
  all_three.states = {v1::REFERRAL_STATE_QUEUED};
  all_three.kinds = {v1::REFERRAL_KIND_ACTIVITY};
  all_three.referring_organisation = kLaholm;
  EXPECT_THAT(ListAll(all_three),
              ElementsAreArray(SortedNewestFirst(laholm_queued_activity)));
}

TEST_F(RedisReferralStoreTest, TheReferringOrganisationIndexHoldsOnlyItsOwn) {
  std::vector<std::string> fk;
  for (int i = 0; i < 40; ++i) {
    const std::string org = i % 4 == 0 ? kFk : kHalmstad;
    MustCreate(MakeRecord(kRegion, Id(i), v1::REFERRAL_KIND_ACTIVITY, org));
    if (org == kFk) fk.push_back(Id(i));
  }
  ListQuery query = Query({kRegion}, ListIndex::kReferringOrganisation, kFk);
  query.page_size = 3;
  EXPECT_THAT(ListAll(query), ElementsAreArray(SortedNewestFirst(fk)));
  EXPECT_TRUE(
      ListAll(Query({kRegion}, ListIndex::kReferringOrganisation, "nobody"))
          .empty());
}

TEST_F(RedisReferralStoreTest, ListMergesSeveralRegionsInIdOrder) {
  std::map<std::string, std::string> region_of;
  for (int i = 0; i < 45; ++i) {
    const std::string region = i % 3 == 0 ? "12" : "13";
    region_of[Id(i)] = region;
    MustCreate(MakeRecord(region, Id(i)));
  }
  std::vector<std::string> all;
  for (const auto& [id, region] : region_of) all.push_back(id);

  const ListQuery query = Query({"13", "12", "14"}, 4);
  EXPECT_THAT(ListAll(query), ElementsAreArray(SortedNewestFirst(all)));
  absl::StatusOr<ListPage> page = store_->List(query);
  ASSERT_TRUE(page.ok()) << page.status();
  for (const ReferralRecord& record : page->records) {
    EXPECT_EQ(record.region, region_of[record.id]);
    EXPECT_EQ(record.referral.name(), absl::StrCat("regions/", record.region,
                                                   "/referrals/", record.id));
  }
  // One region alone holds only its own.
  EXPECT_EQ(ListAll(Query({"12"}, 4)).size(), 15u);
}

TEST_F(RedisReferralStoreTest, ScanLimitBoundsTheWorkAndGivesAResumeId) {
  // Only the oldest of 100 matches the filter.
  std::vector<std::string> newest_first;
  for (int i = 0; i < 100; ++i) {
    MustCreate(MakeRecord(
        kRegion, Id(i),
        i == 0 ? v1::REFERRAL_KIND_IMPULSE : v1::REFERRAL_KIND_ACTIVITY));
    newest_first.insert(newest_first.begin(), Id(i));
  }
  ListQuery query = Query({kRegion}, 10);
  query.kinds = {v1::REFERRAL_KIND_IMPULSE};
  query.scan_limit = 30;
  std::vector<std::string> found;
  int calls = 0;
  size_t examined_before = 0;  // index entries above the cursor
  while (calls < 100) {
    ++calls;
    absl::StatusOr<ListPage> page = store_->List(query);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const ReferralRecord& record : page->records) {
      found.push_back(record.id);
    }
    if (page->resume_before_id.empty()) break;
    // The resume id is the last one examined: at most scan_limit further.
    const auto at = std::find(newest_first.begin(), newest_first.end(),
                              page->resume_before_id);
    ASSERT_NE(at, newest_first.end());
    const size_t examined = static_cast<size_t>(at - newest_first.begin()) + 1;
    EXPECT_GT(examined, examined_before) << "each call must make progress";
    EXPECT_LE(examined - examined_before, 30u);
    examined_before = examined;
    query.before_id = page->resume_before_id;
  }
  EXPECT_THAT(found, ElementsAreArray({Id(0)}));
  EXPECT_GE(calls, 4) << "100 entries at 30 a call";
}

TEST_F(RedisReferralStoreTest, ListSkipsAReferralWhoseHashIsGone) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    MustCreate(MakeRecord(kRegion, Id(i)));
    if (i != 6) ids.push_back(Id(i));
  }
  ASSERT_EQ(
      Redis({"DEL", absl::StrCat("slussen:{r13}:referral:", Id(6))}).integer,
      1);
  EXPECT_THAT(ListAll(Query({kRegion}, 3)),
              ElementsAreArray(SortedNewestFirst(ids)));
  EXPECT_THAT(ListAll(Query({kRegion})),
              ElementsAreArray(SortedNewestFirst(ids)));
}

// --- Durability and layout --------------------------------------------------

TEST_F(RedisReferralStoreTest, EveryRecordSurvivesAKillAndRestartOfRedis) {
  std::vector<ReferralRecord> made;
  for (int i = 0; i < 40; ++i) {
    ReferralRecord record =
        MakeRecord(kRegion, Id(i), static_cast<v1::ReferralKind>(1 + i % 5));
    record.version =
        MustCreate(record, IdempotencyKey{kHalmstad, absl::StrCat("r", i),
                                          absl::StrCat("f", i)})
            .record.version;
    if (i % 4 == 0) {
      const ReferralRecord read = record;
      const v1::Event event =
          Change(record, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
      absl::StatusOr<int64_t> version = store_->Update(read, record, event);
      ASSERT_TRUE(version.ok()) << version.status();
      record.version = *version;
    }
    made.push_back(record);
  }
  const long long events = StreamLength(kRegion);

  ASSERT_TRUE(server_->Kill().ok());
  ASSERT_TRUE(server_->Restart().ok());
  Connect(RedisReferralStore::Options());

  for (const ReferralRecord& record : made) {
    absl::StatusOr<ReferralRecord> got = store_->Get(kRegion, record.id);
    ASSERT_TRUE(got.ok()) << record.id << ": " << got.status();
    ExpectSameRecord(*got, record);
  }
  EXPECT_EQ(StreamLength(kRegion), events);
  EXPECT_EQ(ListAll(Query({kRegion})).size(), made.size());
  // The idempotency keys survived too.
  const CreateOutcome retry = MustCreate(MakeRecord(kRegion, Id(1000)),
                                         IdempotencyKey{kHalmstad, "r7", "f7"});
  EXPECT_FALSE(retry.created);
  EXPECT_EQ(retry.record.id, Id(7));
}

TEST_F(RedisReferralStoreTest, EveryKeyOfARegionCarriesItsHashTag) {
  ReferralRecord record =
      MakeRecord(kRegion, Id(1), v1::REFERRAL_KIND_JOINT_MAPPING);
  ASSERT_FALSE(record.personal_identity_pseudonym.empty());
  record.version =
      MustCreate(record, IdempotencyKey{kHalmstad, "r1", "f"}).record.version;
  const ReferralRecord read = record;
  ASSERT_TRUE(
      store_
          ->Update(read, record,
                   Change(record, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED))
          .ok());
  const std::vector<std::string> keys = Keys();
  // Referral, region index, org index, personnummer set, idempotency key,
  // event stream.
  EXPECT_GE(keys.size(), 6u);
  for (const std::string& key : keys) {
    EXPECT_THAT(key, HasSubstr("{r13}"));
  }
  EXPECT_THAT(keys,
              ::testing::Contains(RedisReferralStore::EventStreamKey(kRegion)));

  MustCreate(MakeRecord("01", Id(2)));
  int in_01 = 0;
  for (const std::string& key : Keys()) {
    const bool tagged =
        absl::StrContains(key, "{r13}") || absl::StrContains(key, "{r01}");
    EXPECT_TRUE(tagged) << key;
    if (absl::StrContains(key, "{r01}")) ++in_01;
  }
  EXPECT_GE(in_01, 4);
}

}  // namespace
}  // namespace slussen::store

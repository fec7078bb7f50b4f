// The offers and capacity of RedisReferralStore against a real, private
// redis-server: an offer is written with its referral, its event and the
// place it holds, or not at all. No double booking: an offer for a unit
// without room, or on a referral changed since it was read, is refused and
// writes nothing, a referral never gets two live offers, and racing
// replicas (each with its own connections) never take more places than an
// offering has. Also the holds that fall due, the referrals waiting for
// capacity, and reading and listing offers.
#include <algorithm>
#include <cstdint>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "broker/core/model/events.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/core/ports/ids.h"
#include "broker/core/ports/referral_repository.h"
#include "broker/store/redis_client.h"
#include "broker/store/redis_directory_store.h"
#include "broker/store/redis_referral_store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_records.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::slussen::core::CapacityDelta;
using ::slussen::core::CapacityPlan;
using ::slussen::core::OfferPage;
using ::slussen::core::OfferQuery;
using ::slussen::core::OfferRecord;
using ::slussen::core::ReferralChange;
using ::slussen::core::ReferralRecord;
using ::slussen::core::Versioned;
using ::slussen::testing::RedisServer;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr char kRegion[] = "13";
constexpr char kHalmstad[] = "kommun-halmstad-eb";
constexpr char kHalsosam[] = "halsosam-halmstad";
constexpr char kRedo[] = "redo-halland";
// 2025-10-09: ids made from it sort by `n`.
constexpr uint64_t kBaseMillis = 1'760'000'000'000;
const absl::Time kNow = absl::FromUnixSeconds(1'760'000'000);

// The n-th referral id: larger n sort after (are newer than) smaller n.
std::string Id(int n) {
  return core::EncodeUlid(kBaseMillis + static_cast<uint64_t>(n) * 1000, 0x1234,
                          0x9e3779b97f4a7c15ULL * (n + 1));
}

// The n-th offer id, sorting by `n` too.
std::string OfferId(int n) {
  return core::EncodeUlid(kBaseMillis + static_cast<uint64_t>(n) * 1000, 0x5678,
                          0x2545f4914f6cdd1dULL * (n + 1));
}

std::string OfferingName(const std::string& provider, const std::string& id) {
  return absl::StrCat("providers/", provider, "/offerings/", id);
}

// An activity referral made by Halmstad, in `state`, never written.
ReferralRecord MakeRecord(
    const std::string& region, const std::string& id,
    v1::ReferralState state = v1::REFERRAL_STATE_RECEIVED) {
  return testing::SampleRecord(region, id, v1::REFERRAL_KIND_ACTIVITY, state,
                               kHalmstad, kNow);
}

// Adds `action` leading to `next` to `changed` and returns its transition.
v1::Transition Transit(ReferralRecord& changed, v1::Action action,
                       v1::ReferralState next) {
  v1::Transition t;
  t.set_action(action);
  t.set_from_state(changed.referral.state());
  t.set_to_state(next);
  *t.mutable_time() = core::ToProtoTimestamp(kNow + absl::Minutes(1));
  t.mutable_actor()->set_organisation("slussen");
  changed.referral.set_state(next);
  *changed.referral.add_history() = t;
  return t;
}

// The change that offers `read` a place of `unit` ("-" or a cohort id) of
// `offering` (of `provider`), in offer `offer_id`, held until `expire`.
// `read` must outlive the change.
ReferralChange OfferChange(const ReferralRecord& read,
                           const std::string& offering,
                           const std::string& offer_id,
                           absl::Time expire = kNow + absl::Hours(72),
                           const std::string& unit = "-",
                           const std::string& provider = kHalsosam) {
  OfferRecord offer{.region = read.region,
                    .id = offer_id,
                    .provider_organisation = provider,
                    .unit = unit};
  const std::string cohort =
      unit == "-" ? "" : absl::StrCat(offering, "/cohorts/", unit);
  v1::Offer& o = offer.offer;
  o.set_name(core::OfferName{read.region, offer_id}.ToString());
  o.set_referral(read.referral.name());
  o.set_offering(offering);
  o.set_cohort(cohort);
  o.set_provider(absl::StrCat("providers/", provider));
  o.set_state(v1::OFFER_STATE_HELD);
  *o.mutable_create_time() = core::ToProtoTimestamp(kNow);
  *o.mutable_hold_expire_time() = core::ToProtoTimestamp(expire);
  o.mutable_explanation()->add_reasons("age 34 within 18..64");

  ReferralChange change{.read = &read, .changed = read};
  v1::Transition t =
      Transit(change.changed, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED);
  t.set_offer(o.name());
  t.set_offering(offering);
  t.set_cohort(cohort);
  v1::Referral& r = change.changed.referral;
  *r.mutable_history(r.history_size() - 1) = t;
  r.set_assigned_provider(o.provider());
  r.set_assigned_offering(offering);
  r.set_current_offer(o.name());
  r.set_cohort(cohort);
  change.changed.assigned_organisation = provider;
  change.event = core::ReferralEvent(change.changed, t);
  change.offer = std::move(offer);
  change.capacity.push_back(CapacityDelta{
      .offering = offering, .unit = unit, .held = 1, .require_room = true});
  return change;
}

// The provider's answer to the live offer `offer_read` of `read`: an accept
// takes the held place; a decline frees it and queues the referral again.
// Both must outlive the change.
ReferralChange AnswerChange(const ReferralRecord& read,
                            const OfferRecord& offer_read, bool accept) {
  ReferralChange change{.read = &read, .changed = read};
  const v1::Transition t =
      Transit(change.changed, accept ? v1::ACTION_ACCEPT : v1::ACTION_DECLINE,
              accept ? v1::REFERRAL_STATE_ACCEPTED : v1::REFERRAL_STATE_QUEUED);
  v1::Referral& r = change.changed.referral;
  r.clear_current_offer();
  if (!accept) {
    r.add_excluded_offerings(offer_read.offer.offering());
    r.clear_assigned_provider();
    r.clear_assigned_offering();
    r.clear_cohort();
    change.changed.assigned_organisation.clear();
  }
  change.event = core::ReferralEvent(change.changed, t);
  change.offer_read = &offer_read;
  OfferRecord offer = offer_read;
  offer.offer.set_state(accept ? v1::OFFER_STATE_ACCEPTED
                               : v1::OFFER_STATE_DECLINED);
  *offer.offer.mutable_close_time() = t.time();
  offer.offer.mutable_answered_by()->set_organisation(
      offer_read.provider_organisation);
  change.offer = std::move(offer);
  change.capacity.push_back(
      CapacityDelta{.offering = offer_read.offer.offering(),
                    .unit = offer_read.unit,
                    .held = -1,
                    .occupied = accept ? 1 : 0});
  return change;
}

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

void ExpectSameOffer(const OfferRecord& got, const OfferRecord& want) {
  EXPECT_EQ(got.region, want.region);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.version, want.version);
  EXPECT_TRUE(MessageDifferencer::Equals(got.offer, want.offer))
      << "got " << got.offer.ShortDebugString() << "\nwant "
      << want.offer.ShortDebugString();
  EXPECT_EQ(got.provider_organisation, want.provider_organisation);
  EXPECT_EQ(got.unit, want.unit);
}

std::unique_ptr<RedisPool> MakePool(const RedisServer& server) {
  // Generous: parallel tests on two cores can hold an fsync up.
  return std::make_unique<RedisPool>(
      server.ClientOptions({.command_timeout = absl::Seconds(10)}));
}

class RedisOfferStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options options;
    // DEBUG DIGEST, from this (local) socket only.
    options.extra_args = {"--enable-debug-command", "local"};
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    pool_ = MakePool(*server_);
    store_ = std::make_unique<RedisReferralStore>(pool_.get());
    directory_ = std::make_unique<RedisDirectoryStore>(pool_.get());
  }

  // Creates `record` and returns it as read back (version 1).
  ReferralRecord MustCreate(const ReferralRecord& record) {
    const v1::Event event =
        core::ReferralEvent(record, record.referral.history(0));
    absl::StatusOr<core::CreateOutcome> outcome =
        store_->Create(record, event, std::nullopt);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    absl::StatusOr<ReferralRecord> read = store_->Get(record.region, record.id);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.value_or(record);
  }

  ReferralRecord MustGet(const std::string& region, const std::string& id) {
    absl::StatusOr<ReferralRecord> read = store_->Get(region, id);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.value_or(ReferralRecord());
  }

  OfferRecord MustGetOffer(const std::string& region, const std::string& id) {
    absl::StatusOr<OfferRecord> read = store_->GetOffer(region, id);
    EXPECT_TRUE(read.ok()) << read.status();
    return read.value_or(OfferRecord());
  }

  // Makes offering `id` of `provider` in `region` and publishes `units`
  // (unit, capacity): "-" alone for places, else cohorts. Returns its name.
  std::string MakeOffering(
      const std::string& id,
      const std::vector<std::pair<std::string, int>>& units,
      const std::string& region = kRegion,
      const std::string& provider = kHalsosam) {
    v1::Offering offering;
    offering.set_name(OfferingName(provider, id));
    offering.set_display_name(absl::StrCat("Offering ", id));
    offering.set_activity_type("halsosam");
    offering.set_region(region);
    offering.set_kommun_code(region == "13" ? "1380" : "1280");
    EXPECT_TRUE(directory_->CreateOffering(offering).ok());
    absl::StatusOr<Versioned<v1::Offering>> read =
        directory_->GetOffering(provider, id);
    EXPECT_TRUE(read.ok()) << read.status();
    CapacityPlan plan;
    plan.offering = offering;
    v1::Capacity& capacity = *plan.offering.mutable_capacity();
    if (units.size() == 1 && units[0].first == "-") {
      capacity.mutable_places()->set_total(units[0].second);
    } else {
      for (const auto& [unit, size] : units) {
        v1::Cohort* cohort = capacity.mutable_cohorts()->add_cohorts();
        cohort->set_name(absl::StrCat(offering.name(), "/cohorts/", unit));
        cohort->set_min_size(1);
        cohort->set_max_size(size);
      }
    }
    plan.units = units;
    v1::Event event;
    event.set_type(v1::EVENT_TYPE_CAPACITY_PUBLISHED);
    event.set_offering(offering.name());
    const absl::StatusOr<int64_t> published = directory_->PublishCapacity(
        read.value_or(Versioned<v1::Offering>()), plan, event);
    EXPECT_TRUE(published.ok()) << published.status();
    return offering.name();
  }

  // Creates referral `n` in `region` and offers it a place; returns the
  // offer as read back.
  OfferRecord MustOffer(int n, const std::string& offering,
                        absl::Time expire = kNow + absl::Hours(72),
                        const std::string& region = kRegion,
                        const std::string& unit = "-",
                        const std::string& provider = kHalsosam) {
    const ReferralRecord read = MustCreate(MakeRecord(region, Id(n)));
    const ReferralChange change =
        OfferChange(read, offering, OfferId(n), expire, unit, provider);
    absl::StatusOr<int64_t> version = store_->Apply(change);
    EXPECT_TRUE(version.ok()) << version.status();
    return MustGetOffer(region, OfferId(n));
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  // Equal digests mean nothing was written in between.
  std::string Digest() { return Redis({"DEBUG", "DIGEST"}).str; }

  // A counter of a unit of an offering of region 13 (redis_keys.h).
  long long Counter(const std::string& offering, const std::string& unit,
                    const std::string& counter) {
    const absl::StatusOr<core::OfferingName> name =
        core::ParseOfferingName("offering", offering);
    EXPECT_TRUE(name.ok()) << name.status();
    const RedisValue value =
        Redis({"HGET",
               absl::StrCat("slussen:{r13}:offering:", name->provider, ":",
                            name->offering),
               absl::StrCat("u:", unit, ":", counter)});
    long long out = 0;
    if (!value.is_nil()) {
      EXPECT_TRUE(absl::SimpleAtoi(value.str, &out));
    }
    return out;
  }

  // The types of the events of `record` in its region's stream, oldest
  // first.
  std::vector<v1::EventType> EventsOf(const ReferralRecord& record) {
    std::vector<v1::EventType> types;
    const RedisValue entries =
        Redis({"XRANGE", RedisReferralStore::EventStreamKey(record.region), "-",
               "+"});
    for (const RedisValue& entry : entries.elements) {
      const std::vector<RedisValue>& pairs = entry.elements.at(1).elements;
      std::map<std::string, std::string> fields;
      for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
        fields[pairs[i].str] = pairs[i + 1].str;
      }
      v1::Event event;
      EXPECT_TRUE(event.ParseFromString(fields["event"]));
      if (event.referral() != record.referral.name()) continue;
      types.push_back(event.type());
    }
    return types;
  }

  std::vector<std::string> MatchableIds(const std::string& region) {
    absl::StatusOr<std::vector<ReferralRecord>> records =
        store_->ListMatchable(region);
    EXPECT_TRUE(records.ok()) << records.status();
    std::vector<std::string> ids;
    for (const ReferralRecord& record :
         records.value_or(std::vector<ReferralRecord>())) {
      ids.push_back(record.id);
    }
    return ids;
  }

  std::vector<std::string> Due(const std::string& region, absl::Time now) {
    absl::StatusOr<std::vector<std::string>> due =
        store_->DueHolds(region, now);
    EXPECT_TRUE(due.ok()) << due.status();
    return due.value_or(std::vector<std::string>());
  }

  // Every offer id a listing returns, following resume ids to the end;
  // also checks that each page is oldest first and no larger than asked.
  std::vector<std::string> ListAllOffers(OfferQuery query) {
    std::vector<std::string> ids;
    for (int page_count = 1; page_count <= 1000; ++page_count) {
      absl::StatusOr<OfferPage> page = store_->ListOffers(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->records.size()), query.page_size);
      for (const OfferRecord& record : page->records) {
        if (!ids.empty()) {
          EXPECT_GT(record.id, ids.back()) << "oldest first";
        }
        ids.push_back(record.id);
      }
      if (page->resume_after_id.empty()) break;
      query.after_id = page->resume_after_id;
    }
    return ids;
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisReferralStore> store_;
  std::unique_ptr<RedisDirectoryStore> directory_;
};

// --- An offer and its place --------------------------------------------------

TEST_F(RedisOfferStoreTest, AnOfferIsWrittenWithItsReferralEventAndPlace) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 2}});
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(1)));
  const absl::Time expire = kNow + absl::Hours(48);
  const ReferralChange change = OfferChange(read, offering, OfferId(1), expire);
  absl::StatusOr<int64_t> version = store_->Apply(change);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2);

  ReferralRecord want = change.changed;
  want.version = 2;
  ExpectSameRecord(MustGet(kRegion, Id(1)), want);
  OfferRecord want_offer = *change.offer;
  want_offer.version = 1;
  ExpectSameOffer(MustGetOffer(kRegion, OfferId(1)), want_offer);

  EXPECT_EQ(Counter(offering, "-", "held"), 1);
  EXPECT_EQ(Counter(offering, "-", "occupied"), 0);
  absl::StatusOr<Versioned<v1::Offering>> seen =
      directory_->GetOffering(kHalsosam, "kom-igang");
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->value.capacity().places().held(), 1);
  EXPECT_EQ(seen->value.capacity().places().total(), 2);

  // The hold, by its expiry in milliseconds.
  EXPECT_EQ(Redis({"ZSCORE", "slussen:{r13}:holds", OfferId(1)}).str,
            absl::StrCat(absl::ToUnixMillis(expire)));
  // One event per change, after the create's.
  EXPECT_THAT(EventsOf(read), ElementsAreArray({v1::EVENT_TYPE_REFERRAL_CREATED,
                                                v1::EVENT_TYPE_OFFER_MADE}));
  EXPECT_THAT(MatchableIds(kRegion), IsEmpty());
  // Listed, also for its provider only.
  EXPECT_THAT(ListAllOffers({.regions = {kRegion}}),
              ElementsAreArray({OfferId(1)}));
  EXPECT_THAT(
      ListAllOffers({.regions = {kRegion}, .provider_organisation = kHalsosam}),
      ElementsAreArray({OfferId(1)}));
  EXPECT_THAT(
      ListAllOffers({.regions = {kRegion}, .provider_organisation = kRedo}),
      IsEmpty());
}

TEST_F(RedisOfferStoreTest, EveryKeyOfAnOfferCarriesItsRegionsHashTag) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 2}});
  MustOffer(1, offering);
  std::vector<std::string> offer_keys;
  for (const RedisValue& key : Redis({"KEYS", "*"}).elements) {
    // The directory's own keys (the offering's national name claim) aside.
    if (absl::StartsWith(key.str, "slussen:{dir}:")) continue;
    EXPECT_TRUE(absl::StartsWith(key.str, "slussen:{r13}:")) << key.str;
    if (absl::StrContains(key.str, "offer")) offer_keys.push_back(key.str);
  }
  EXPECT_THAT(offer_keys,
              UnorderedElementsAreArray({
                  absl::StrCat("slussen:{r13}:offer:", OfferId(1)),
                  std::string("slussen:{r13}:offers"),
                  absl::StrCat("slussen:{r13}:offers:provider:", kHalsosam),
                  std::string("slussen:{r13}:offering:halsosam-halmstad:"
                              "kom-igang"),
                  std::string("slussen:{r13}:offerings"),
              }));
}

// --- No double booking -------------------------------------------------------

TEST_F(RedisOfferStoreTest, AnOfferForAFullOfferingIsRefusedAndWritesNothing) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 1}});
  MustOffer(1, offering);
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(2)));
  const std::string before = Digest();

  absl::StatusOr<int64_t> refused =
      store_->Apply(OfferChange(read, offering, OfferId(2)));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();
  EXPECT_EQ(refused.status().message(),
            "providers/halsosam-halmstad/offerings/kom-igang has no free "
            "place");
  EXPECT_EQ(Digest(), before);
  ExpectSameRecord(MustGet(kRegion, Id(2)), read);
  EXPECT_EQ(store_->GetOffer(kRegion, OfferId(2)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Counter(offering, "-", "held"), 1);
  EXPECT_THAT(MatchableIds(kRegion), ElementsAreArray({Id(2)}));
}

TEST_F(RedisOfferStoreTest, AnOccupiedPlaceIsNotFreeEither) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 1}});
  const OfferRecord offer = MustOffer(1, offering);
  const ReferralRecord offered = MustGet(kRegion, Id(1));
  ASSERT_TRUE(
      store_->Apply(AnswerChange(offered, offer, /*accept=*/true)).ok());
  ASSERT_EQ(Counter(offering, "-", "occupied"), 1);
  ASSERT_EQ(Counter(offering, "-", "held"), 0);

  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(2)));
  const std::string before = Digest();
  EXPECT_EQ(
      store_->Apply(OfferChange(read, offering, OfferId(2))).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisOfferStoreTest, AnOfferingWithoutPublishedCapacityHasNoPlace) {
  v1::Offering unpublished;
  unpublished.set_name(OfferingName(kHalsosam, "ny"));
  unpublished.set_region(kRegion);
  ASSERT_TRUE(directory_->CreateOffering(unpublished).ok());
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(1)));
  const std::string before = Digest();
  EXPECT_EQ(store_->Apply(OfferChange(read, unpublished.name(), OfferId(1)))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisOfferStoreTest, ACohortTakesPlacesOnlyInItsOwnUnit) {
  const std::string offering =
      MakeOffering("grupp", {{"host", 1}, {"vinter", 2}});
  MustOffer(1, offering, kNow + absl::Hours(72), kRegion, "host");
  const ReferralRecord second = MustCreate(MakeRecord(kRegion, Id(2)));
  const std::string before = Digest();
  absl::StatusOr<int64_t> full = store_->Apply(OfferChange(
      second, offering, OfferId(2), kNow + absl::Hours(72), "host"));
  EXPECT_EQ(full.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(full.status().message(),
            "providers/halsosam-halmstad/offerings/grupp cohort host has no "
            "free place");
  EXPECT_EQ(Digest(), before);

  absl::StatusOr<int64_t> other = store_->Apply(OfferChange(
      second, offering, OfferId(2), kNow + absl::Hours(72), "vinter"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(Counter(offering, "host", "held"), 1);
  EXPECT_EQ(Counter(offering, "vinter", "held"), 1);
  EXPECT_EQ(MustGetOffer(kRegion, OfferId(2)).unit, "vinter");
  // An unknown cohort has no place.
  const ReferralRecord third = MustCreate(MakeRecord(kRegion, Id(3)));
  EXPECT_EQ(store_
                ->Apply(OfferChange(third, offering, OfferId(3),
                                    kNow + absl::Hours(72), "var"))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RedisOfferStoreTest,
       AnApplyOnAChangedReferralIsAbortedAndWritesNothing) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 3}});
  const ReferralRecord stale = MustCreate(MakeRecord(kRegion, Id(1)));
  // Another replica queued it meanwhile.
  ReferralRecord queued = stale;
  const v1::Transition t =
      Transit(queued, v1::ACTION_QUEUE, v1::REFERRAL_STATE_QUEUED);
  ASSERT_TRUE(
      store_->Update(stale, queued, core::ReferralEvent(queued, t)).ok());
  const std::string before = Digest();

  absl::StatusOr<int64_t> lost =
      store_->Apply(OfferChange(stale, offering, OfferId(1)));
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  EXPECT_THAT(lost.status().message(),
              HasSubstr(absl::StrCat("referral ", stale.referral.name(),
                                     " changed (version 2, expected 1)")));
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(Counter(offering, "-", "held"), 0);
  EXPECT_EQ(store_->GetOffer(kRegion, OfferId(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MustGet(kRegion, Id(1)).referral.state(),
            v1::REFERRAL_STATE_QUEUED);
}

TEST_F(RedisOfferStoreTest, AnOfferForAMissingReferralIsNotFoundAndWritesNo) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 3}});
  ReferralRecord ghost = MakeRecord(kRegion, Id(1));
  ghost.version = 1;
  const std::string before = Digest();
  EXPECT_EQ(
      store_->Apply(OfferChange(ghost, offering, OfferId(1))).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisOfferStoreTest, AReferralNeverGetsTwoLiveOffers) {
  const std::string first = MakeOffering("kom-igang", {{"-", 5}});
  const std::string second = MakeOffering("grupp", {{"-", 5}});
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(1)));
  ASSERT_TRUE(store_->Apply(OfferChange(read, first, OfferId(1))).ok());
  const std::string before = Digest();

  // A matcher that read it before the first offer.
  absl::StatusOr<int64_t> again =
      store_->Apply(OfferChange(read, second, OfferId(2)));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAborted)
      << again.status();
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(Counter(second, "-", "held"), 0);
  EXPECT_THAT(ListAllOffers({.regions = {kRegion}}),
              ElementsAreArray({OfferId(1)}));
  EXPECT_EQ(MustGet(kRegion, Id(1)).referral.current_offer(),
            (core::OfferName{kRegion, OfferId(1)}.ToString()));
}

TEST_F(RedisOfferStoreTest, OfRacingOffersForOneReferralExactlyOneWins) {
  constexpr int kRacers = 8;
  std::vector<std::string> offerings;
  for (int i = 0; i < kRacers; ++i) {
    offerings.push_back(MakeOffering(absl::StrCat("o", i), {{"-", 2}}));
  }
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(1)));
  std::vector<absl::Status> results(kRacers);
  std::latch start(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      // Another replica: its own connections.
      std::unique_ptr<RedisPool> pool = MakePool(*server_);
      RedisReferralStore store(pool.get());
      const ReferralChange change =
          OfferChange(read, offerings[i], OfferId(100 + i));
      start.arrive_and_wait();
      results[i] = store.Apply(change).status();
    });
  }
  for (std::thread& thread : threads) thread.join();

  int winner = -1;
  for (int i = 0; i < kRacers; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, -1) << "a second offer was written";
      winner = i;
    } else {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
    }
  }
  ASSERT_NE(winner, -1);
  long long held = 0;
  for (int i = 0; i < kRacers; ++i) {
    held += Counter(offerings[i], "-", "held");
  }
  EXPECT_EQ(held, 1);
  EXPECT_EQ(Counter(offerings[winner], "-", "held"), 1);
  EXPECT_THAT(ListAllOffers({.regions = {kRegion}}),
              ElementsAreArray({OfferId(100 + winner)}));
  EXPECT_THAT(Due(kRegion, absl::InfiniteFuture()),
              ElementsAreArray({OfferId(100 + winner)}));
  const ReferralRecord got = MustGet(kRegion, Id(1));
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.referral.assigned_offering(), offerings[winner]);
  EXPECT_THAT(EventsOf(read), ElementsAreArray({v1::EVENT_TYPE_REFERRAL_CREATED,
                                                v1::EVENT_TYPE_OFFER_MADE}));
}

TEST_F(RedisOfferStoreTest, ATakenOfferIdIsAbortedAndWritesNothing) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 5}});
  MustOffer(1, offering);
  const ReferralRecord read = MustCreate(MakeRecord(kRegion, Id(2)));
  const std::string before = Digest();
  absl::StatusOr<int64_t> clash =
      store_->Apply(OfferChange(read, offering, OfferId(1)));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAborted)
      << clash.status();
  EXPECT_THAT(clash.status().message(),
              HasSubstr(absl::StrCat("offer id ", OfferId(1), " is taken")));
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisOfferStoreTest, RacingReplicasNeverTakeMoreThanTheFreeUnits) {
  struct Round {
    int capacity;
    int taken_before;
    int racers;
  };
  int next = 0;  // referral and offer numbers
  for (const Round& round :
       {Round{1, 0, 8}, Round{5, 2, 12}, Round{7, 0, 16}, Round{4, 4, 6}}) {
    SCOPED_TRACE(absl::StrCat("capacity ", round.capacity, ", taken ",
                              round.taken_before));
    const std::string offering = MakeOffering(
        absl::StrCat("race-", round.capacity, "-", round.taken_before),
        {{"-", round.capacity}});
    for (int i = 0; i < round.taken_before; ++i) MustOffer(next++, offering);
    std::vector<ReferralRecord> reads;
    for (int i = 0; i < round.racers; ++i) {
      reads.push_back(MustCreate(MakeRecord(kRegion, Id(next + i))));
    }
    const int first = next;
    next += round.racers;

    std::vector<absl::Status> results(round.racers);
    std::latch start(round.racers);
    std::vector<std::thread> threads;
    for (int i = 0; i < round.racers; ++i) {
      threads.emplace_back([&, i] {
        std::unique_ptr<RedisPool> pool = MakePool(*server_);
        RedisReferralStore store(pool.get());
        const ReferralChange change =
            OfferChange(reads[i], offering, OfferId(first + i));
        start.arrive_and_wait();
        results[i] = store.Apply(change).status();
      });
    }
    for (std::thread& thread : threads) thread.join();

    int won = 0;
    for (int i = 0; i < round.racers; ++i) {
      const ReferralRecord got = MustGet(kRegion, reads[i].id);
      if (results[i].ok()) {
        ++won;
        EXPECT_EQ(got.referral.state(), v1::REFERRAL_STATE_OFFERED);
        EXPECT_TRUE(store_->GetOffer(kRegion, OfferId(first + i)).ok());
      } else {
        EXPECT_EQ(results[i].code(), absl::StatusCode::kFailedPrecondition)
            << results[i];
        ExpectSameRecord(got, reads[i]);
        EXPECT_EQ(store_->GetOffer(kRegion, OfferId(first + i)).status().code(),
                  absl::StatusCode::kNotFound);
      }
    }
    EXPECT_EQ(won, round.capacity - round.taken_before);
    const long long held = Counter(offering, "-", "held");
    const long long occupied = Counter(offering, "-", "occupied");
    EXPECT_LE(held + occupied, round.capacity);
    EXPECT_EQ(held, round.capacity);
    // Every held place has exactly one offer, and no more.
    int offers = 0;
    for (const std::string& id :
         ListAllOffers({.regions = {kRegion}, .page_size = 1000})) {
      if (MustGetOffer(kRegion, id).offer.offering() == offering) ++offers;
    }
    EXPECT_EQ(offers, round.capacity);
  }
}

TEST_F(RedisOfferStoreTest, RacingReplicasFillEachCohortToItsSizeExactly) {
  const std::map<std::string, int> sizes = {{"host", 2}, {"var", 3}};
  const std::string offering = MakeOffering("grupp", {{"host", 2}, {"var", 3}});
  constexpr int kRacers = 14;
  std::vector<ReferralRecord> reads;
  for (int i = 0; i < kRacers; ++i) {
    reads.push_back(MustCreate(MakeRecord(kRegion, Id(i))));
  }
  std::vector<absl::Status> results(kRacers);
  std::latch start(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<RedisPool> pool = MakePool(*server_);
      RedisReferralStore store(pool.get());
      const ReferralChange change =
          OfferChange(reads[i], offering, OfferId(i), kNow + absl::Hours(72),
                      i % 2 == 0 ? "host" : "var");
      start.arrive_and_wait();
      results[i] = store.Apply(change).status();
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::map<std::string, int> won;
  for (int i = 0; i < kRacers; ++i) {
    if (results[i].ok()) {
      ++won[i % 2 == 0 ? "host" : "var"];
    } else {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kFailedPrecondition)
          << results[i];
    }
  }
  EXPECT_EQ(won, sizes);
  for (const auto& [unit, size] : sizes) {
    EXPECT_EQ(Counter(offering, unit, "held"), size) << unit;
  }
}

// --- Answers -----------------------------------------------------------------

TEST_F(RedisOfferStoreTest, AnAcceptMovesTheHeldPlaceToOccupiedAndEndsTheHold) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 2}});
  const OfferRecord offer = MustOffer(1, offering);
  const ReferralRecord offered = MustGet(kRegion, Id(1));
  const ReferralChange accept = AnswerChange(offered, offer, /*accept=*/true);
  absl::StatusOr<int64_t> version = store_->Apply(accept);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3);

  OfferRecord want = *accept.offer;
  want.version = 2;
  ExpectSameOffer(MustGetOffer(kRegion, offer.id), want);
  EXPECT_EQ(Counter(offering, "-", "held"), 0);
  EXPECT_EQ(Counter(offering, "-", "occupied"), 1);
  EXPECT_THAT(Due(kRegion, absl::InfiniteFuture()), IsEmpty());
  EXPECT_EQ(MustGet(kRegion, Id(1)).referral.state(),
            v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_THAT(EventsOf(offered), ElementsAreArray({
                                     v1::EVENT_TYPE_REFERRAL_CREATED,
                                     v1::EVENT_TYPE_OFFER_MADE,
                                     v1::EVENT_TYPE_OFFER_ACCEPTED,
                                 }));
  EXPECT_THAT(ListAllOffers(
                  {.regions = {kRegion}, .states = {v1::OFFER_STATE_ACCEPTED}}),
              ElementsAreArray({offer.id}));
}

TEST_F(RedisOfferStoreTest, AnAnswerToAChangedOfferIsAbortedAndWritesNothing) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 2}});
  const OfferRecord stale_offer = MustOffer(1, offering);
  // Someone else changed the offer (and only the offer) meanwhile.
  Redis({"HSET", absl::StrCat("slussen:{r13}:offer:", stale_offer.id),
         "version", "2"});
  const ReferralRecord offered = MustGet(kRegion, Id(1));
  const std::string before = Digest();
  absl::StatusOr<int64_t> lost =
      store_->Apply(AnswerChange(offered, stale_offer, /*accept=*/true));
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  EXPECT_THAT(
      lost.status().message(),
      HasSubstr(absl::StrCat("offer ", stale_offer.offer.name(), " changed")));
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(Counter(offering, "-", "held"), 1);
  EXPECT_EQ(Counter(offering, "-", "occupied"), 0);
}

TEST_F(RedisOfferStoreTest, ADeclineFreesThePlaceForTheNextReferral) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 1}});
  const OfferRecord offer = MustOffer(1, offering);
  const ReferralRecord waiting = MustCreate(MakeRecord(kRegion, Id(2)));
  ASSERT_EQ(
      store_->Apply(OfferChange(waiting, offering, OfferId(2))).status().code(),
      absl::StatusCode::kFailedPrecondition);

  const ReferralRecord offered = MustGet(kRegion, Id(1));
  ASSERT_TRUE(
      store_->Apply(AnswerChange(offered, offer, /*accept=*/false)).ok());
  EXPECT_EQ(Counter(offering, "-", "held"), 0);
  EXPECT_EQ(MustGetOffer(kRegion, offer.id).offer.state(),
            v1::OFFER_STATE_DECLINED);
  EXPECT_THAT(MatchableIds(kRegion), UnorderedElementsAreArray({Id(1), Id(2)}));
  EXPECT_EQ(MustGet(kRegion, Id(1)).assigned_organisation, "");

  absl::StatusOr<int64_t> next =
      store_->Apply(OfferChange(waiting, offering, OfferId(2)));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Counter(offering, "-", "held"), 1);
}

// --- Holds that fall due -----------------------------------------------------

TEST_F(RedisOfferStoreTest, DueHoldsAreThoseExpiredAtOrBeforeNowByExpiry) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 10}});
  const std::string in_12 = MakeOffering("hallsberg", {{"-", 10}}, "12");
  // Ids in one order, expiries in another.
  MustOffer(1, offering, kNow + absl::Hours(3));
  MustOffer(2, offering, kNow + absl::Hours(1));
  const OfferRecord third = MustOffer(3, offering, kNow + absl::Hours(2));
  MustOffer(4, offering, kNow + absl::Hours(5));
  MustOffer(5, in_12, kNow + absl::Hours(1), "12");

  EXPECT_THAT(Due(kRegion, kNow), IsEmpty());
  EXPECT_THAT(Due(kRegion, kNow + absl::Hours(1) - absl::Milliseconds(1)),
              IsEmpty());
  EXPECT_THAT(Due(kRegion, kNow + absl::Hours(1)),
              ElementsAreArray({OfferId(2)}));
  EXPECT_THAT(Due(kRegion, kNow + absl::Hours(3)),
              ElementsAreArray({OfferId(2), OfferId(3), OfferId(1)}));
  EXPECT_THAT(
      Due(kRegion, absl::InfiniteFuture()),
      ElementsAreArray({OfferId(2), OfferId(3), OfferId(1), OfferId(4)}));
  EXPECT_THAT(Due("12", kNow + absl::Hours(1)), ElementsAreArray({OfferId(5)}));
  EXPECT_THAT(Due("01", absl::InfiniteFuture()), IsEmpty());

  // An answered offer holds nothing any more.
  const ReferralRecord offered = MustGet(kRegion, Id(3));
  ASSERT_TRUE(
      store_->Apply(AnswerChange(offered, third, /*accept=*/true)).ok());
  EXPECT_THAT(Due(kRegion, kNow + absl::Hours(3)),
              ElementsAreArray({OfferId(2), OfferId(1)}));
}

// --- Referrals waiting for capacity -----------------------------------------

TEST_F(RedisOfferStoreTest, ListMatchableHoldsTheRegionsWaitingReferrals) {
  const std::vector<v1::ReferralState> states = {
      v1::REFERRAL_STATE_RECEIVED,  v1::REFERRAL_STATE_QUEUED,
      v1::REFERRAL_STATE_OFFERED,   v1::REFERRAL_STATE_ACCEPTED,
      v1::REFERRAL_STATE_STARTED,   v1::REFERRAL_STATE_REJECTED,
      v1::REFERRAL_STATE_WITHDRAWN, v1::REFERRAL_STATE_COMPLETED};
  std::map<std::string, ReferralRecord> waiting;
  for (int i = 0; i < 24; ++i) {
    const v1::ReferralState state = states[i % states.size()];
    const ReferralRecord record = MustCreate(MakeRecord(kRegion, Id(i), state));
    if (state == v1::REFERRAL_STATE_RECEIVED ||
        state == v1::REFERRAL_STATE_QUEUED) {
      waiting[record.id] = record;
    }
  }
  MustCreate(MakeRecord("12", Id(100)));

  absl::StatusOr<std::vector<ReferralRecord>> listed =
      store_->ListMatchable(kRegion);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), waiting.size());
  for (const ReferralRecord& record : *listed) {
    ASSERT_TRUE(waiting.count(record.id)) << record.id;
    ExpectSameRecord(record, waiting[record.id]);
  }
  EXPECT_THAT(MatchableIds("12"), ElementsAreArray({Id(100)}));
  EXPECT_THAT(MatchableIds("01"), IsEmpty());

  // An offer takes one out; a withdrawal another.
  const std::string offering = MakeOffering("kom-igang", {{"-", 1}});
  ASSERT_TRUE(
      store_->Apply(OfferChange(waiting[Id(0)], offering, OfferId(0))).ok());
  ReferralRecord withdrawn = waiting[Id(1)];
  const v1::Transition t =
      Transit(withdrawn, v1::ACTION_CANCEL, v1::REFERRAL_STATE_WITHDRAWN);
  ASSERT_TRUE(
      store_
          ->Update(waiting[Id(1)], withdrawn, core::ReferralEvent(withdrawn, t))
          .ok());
  std::vector<std::string> still;
  for (const auto& [id, record] : waiting) {
    if (id != Id(0) && id != Id(1)) still.push_back(id);
  }
  EXPECT_THAT(MatchableIds(kRegion), UnorderedElementsAreArray(still));
}

// --- Reading and listing offers ---------------------------------------------

TEST_F(RedisOfferStoreTest, GetOfAMissingOfferIsNotFoundNamingIt) {
  const absl::Status status = store_->GetOffer(kRegion, OfferId(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(OfferId(1)));
}

TEST_F(RedisOfferStoreTest, GetOfAnUndecodableOfferIsDataLoss) {
  const std::string offering = MakeOffering("kom-igang", {{"-", 1}});
  MustOffer(1, offering);
  Redis({"HSET", absl::StrCat("slussen:{r13}:offer:", OfferId(1)), "data",
         "\xff\xff\xff"});
  EXPECT_EQ(store_->GetOffer(kRegion, OfferId(1)).status().code(),
            absl::StatusCode::kDataLoss);
}

class RedisOfferListingTest : public RedisOfferStoreTest {
 protected:
  // 12 offers in region 13 (every third to ReDO, every fourth accepted), 5
  // in region 12 (to Hälsosam), made in id order interleaved between the
  // regions.
  void SetUp() override {
    RedisOfferStoreTest::SetUp();
    const std::string halsosam = MakeOffering("kom-igang", {{"-", 100}});
    const std::string redo =
        MakeOffering("vardag", {{"-", 100}}, kRegion, kRedo);
    const std::string in_12 = MakeOffering("hallsberg", {{"-", 100}}, "12");
    for (int n = 0; n < 17; ++n) {
      if (n % 3 == 1 && in_12_.size() < 5) {
        MustOffer(n, in_12, kNow + absl::Hours(72), "12");
        in_12_.push_back(OfferId(n));
        continue;
      }
      const bool to_redo = in_13_.size() % 3 == 2;
      const OfferRecord offer =
          MustOffer(n, to_redo ? redo : halsosam, kNow + absl::Hours(72),
                    kRegion, "-", to_redo ? kRedo : kHalsosam);
      in_13_.push_back(offer.id);
      (to_redo ? redo_ : halsosam_).push_back(offer.id);
      if (in_13_.size() % 4 == 0) {
        const ReferralRecord offered = MustGet(kRegion, Id(n));
        ASSERT_TRUE(
            store_->Apply(AnswerChange(offered, offer, /*accept=*/true)).ok());
        accepted_.push_back(offer.id);
      } else {
        held_.push_back(offer.id);
      }
    }
    ASSERT_EQ(in_13_.size(), 12u);
    ASSERT_EQ(in_12_.size(), 5u);
  }

  std::vector<std::string> in_13_, in_12_, halsosam_, redo_, held_, accepted_;
};

TEST_F(RedisOfferListingTest, PagesGoOldestFirstVisitingEachExactlyOnce) {
  for (int page_size : {1, 2, 5, 11, 12, 50}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_THAT(ListAllOffers({.regions = {kRegion}, .page_size = page_size}),
                ElementsAreArray(in_13_));
  }
  absl::StatusOr<OfferPage> first =
      store_->ListOffers({.regions = {kRegion}, .page_size = 5});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->records.size(), 5u);
  EXPECT_EQ(first->resume_after_id, in_13_[4]);
  // Records come back whole.
  ExpectSameOffer(first->records[0], MustGetOffer(kRegion, in_13_[0]));
  EXPECT_EQ(first->records[0].region, kRegion);
}

TEST_F(RedisOfferListingTest, FiltersOnProviderAndState) {
  EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                             .provider_organisation = kRedo,
                             .page_size = 2}),
              ElementsAreArray(redo_));
  EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                             .provider_organisation = kHalsosam,
                             .page_size = 3}),
              ElementsAreArray(halsosam_));
  EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                             .states = {v1::OFFER_STATE_HELD},
                             .page_size = 4}),
              ElementsAreArray(held_));
  EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                             .states = {v1::OFFER_STATE_ACCEPTED,
                                        v1::OFFER_STATE_DECLINED},
                             .page_size = 2}),
              ElementsAreArray(accepted_));
  EXPECT_THAT(
      ListAllOffers({.regions = {kRegion}, .provider_organisation = "nobody"}),
      IsEmpty());
}

TEST_F(RedisOfferListingTest, SeveralRegionsMergeInIdOrder) {
  std::vector<std::string> all = in_13_;
  all.insert(all.end(), in_12_.begin(), in_12_.end());
  std::sort(all.begin(), all.end());
  for (int page_size : {1, 3, 50}) {
    SCOPED_TRACE(absl::StrCat("page_size ", page_size));
    EXPECT_THAT(ListAllOffers(
                    {.regions = {kRegion, "12", "01"}, .page_size = page_size}),
                ElementsAreArray(all));
  }
  absl::StatusOr<OfferPage> page =
      store_->ListOffers({.regions = {"12", kRegion}});
  ASSERT_TRUE(page.ok()) << page.status();
  for (const OfferRecord& record : page->records) {
    const bool in_12 = std::count(in_12_.begin(), in_12_.end(), record.id) > 0;
    EXPECT_EQ(record.region, in_12 ? "12" : kRegion) << record.id;
  }
}

TEST_F(RedisOfferListingTest, AScanLimitBoundsEachCallButLosesNothing) {
  std::vector<std::string> halsosam_anywhere = halsosam_;
  halsosam_anywhere.insert(halsosam_anywhere.end(), in_12_.begin(),
                           in_12_.end());
  std::sort(halsosam_anywhere.begin(), halsosam_anywhere.end());
  for (int scan_limit : {1, 3, 5, 12}) {
    for (int page_size : {1, 3, 5, 50}) {
      SCOPED_TRACE(
          absl::StrCat("scan_limit ", scan_limit, ", page_size ", page_size));
      EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                                 .page_size = page_size,
                                 .scan_limit = scan_limit}),
                  ElementsAreArray(in_13_));
      EXPECT_THAT(ListAllOffers({.regions = {kRegion},
                                 .states = {v1::OFFER_STATE_HELD},
                                 .page_size = page_size,
                                 .scan_limit = scan_limit}),
                  ElementsAreArray(held_));
      EXPECT_THAT(ListAllOffers({.regions = {kRegion, "12"},
                                 .provider_organisation = kHalsosam,
                                 .page_size = page_size,
                                 .scan_limit = scan_limit}),
                  ElementsAreArray(halsosam_anywhere));
    }
  }
  // One call examines at most scan_limit offers.
  absl::StatusOr<OfferPage> page =
      store_->ListOffers({.regions = {kRegion},
                          .states = {v1::OFFER_STATE_ACCEPTED},
                          .scan_limit = 3});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->records.empty());
  EXPECT_EQ(page->resume_after_id, in_13_[2]);
}

}  // namespace
}  // namespace slussen::store

// RedisDirectoryStore against a real, private redis-server: the
// DirectoryRepository contract (every record kind round trips, creates of a
// taken id are ALREADY_EXISTS, updates check the version read), offerings of
// the three capacity models with their live counters, publishing capacity
// (all or nothing, never below what a unit has taken), listings, and the key
// layout (the national directory in "{dir}", offerings in their region's
// hash tag).
#include "broker/store/redis_directory_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/store/redis_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/provider.pb.h"
#include "tests/support/redis_server.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::slussen::core::CapacityPlan;
using ::slussen::core::Versioned;
using ::slussen::testing::RedisServer;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

template <typename T>
T Parse(const std::string& text) {
  T message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message))
      << text;
  return message;
}

// Shapes from providers/catalog/.
v1::ActivityType Halsosam(const std::string& id = "halsosam") {
  v1::ActivityType type = Parse<v1::ActivityType>(R"pb(
    display_name: "Hälsosam"
    description: "Gruppverksamhet för bättre hälsa"
    usual_capacity_model: CAPACITY_MODEL_COHORTS
    usual_group_size: 12
    usual_weeks_min: 10
    usual_weeks_max: 12
    usual_eligibility { min_age_years: 18 max_age_years: 64 }
    referral_kinds: REFERRAL_KIND_ACTIVITY
    source: "seed 004"
  )pb");
  type.set_name(absl::StrCat("activityTypes/", id));
  return type;
}

v1::Provider MakeProvider(const std::string& id,
                          const std::string& display_name = "Hälsosam") {
  v1::Provider provider = Parse<v1::Provider>(R"pb(
    organisation: "halsosam-halmstad"
    kind: PROVIDER_KIND_ACTIVITY
    regions: "13"
    regions: "19"
    kommun_codes: "1380"
    kommun_codes: "1381"
    contact {
      display_name: "Kansliet"
      unit: "Hälsans hus"
      phone: "+46 35 13 70 00"
      email: "info@example.se"
    }
    create_time { seconds: 1760000000 }
    update_time { seconds: 1760000000 }
  )pb");
  provider.set_name(absl::StrCat("providers/", id));
  provider.set_display_name(display_name);
  return provider;
}

v1::FrameworkAgreement MakeAgreement(const std::string& id) {
  v1::FrameworkAgreement agreement = Parse<v1::FrameworkAgreement>(R"pb(
    display_name: "Försäkringskassan: arbetslivsinriktad rehabilitering 2025"
    procuring_agency: AGENCY_KIND_FORSAKRINGSKASSAN
    services: "arbetslivsinriktad-rehabilitering"
    services: "arbetsformagebedomning"
    regions: "13"
    regions: "19"
    suppliers { provider: "providers/work-for-you" rank: 1 }
    suppliers {
      provider: "providers/rehabkompetens"
      rank: 2
      kommun_codes: "1380"
    }
    start_date { year: 2025 month: 1 day: 1 }
    end_date { year: 2028 month: 12 day: 31 }
  )pb");
  agreement.set_name(absl::StrCat("frameworkAgreements/", id));
  return agreement;
}

// An offering with no capacity yet, as the desk creates one.
v1::Offering MakeOffering(const std::string& provider,
                          const std::string& offering,
                          const std::string& region = "13") {
  v1::Offering out = Parse<v1::Offering>(R"pb(
    display_name: "Hälsosam kom igång-grupp"
    activity_type: "halsosam"
    kommun_code: "1380"
    site: "Hälsans hus, Halmstad"
    eligibility { min_age_years: 18 max_age_years: 64 genders: GENDER_FEMALE }
    schedule { description: "tisdagar och torsdagar 9–12" weeks: 12 }
    languages: "sv"
    languages: "ar"
    stale_after_days: 7
    offer_hold_hours: 48
    create_time { seconds: 1760000000 }
    update_time { seconds: 1760000000 }
  )pb");
  out.set_name(absl::StrCat("providers/", provider, "/offerings/", offering));
  out.set_region(region);
  if (region == "19") out.set_kommun_code("1982");
  return out;
}

v1::Capacity Places(int total) {
  v1::Capacity capacity;
  capacity.set_model(v1::CAPACITY_MODEL_PLACES);
  // Only the member meant: mutable_* of another would switch the oneof.
  capacity.mutable_places()->set_total(total);
  return capacity;
}

v1::Capacity Caseload(int max_open_cases) {
  v1::Capacity capacity;
  capacity.set_model(v1::CAPACITY_MODEL_CASELOAD);
  capacity.mutable_caseload()->set_max_open_cases(max_open_cases);
  return capacity;
}

// Cohorts "host" (max 12) and "vinter" (max 8) of `offering_name`.
v1::Capacity Cohorts(const std::string& offering_name) {
  v1::Capacity capacity = Parse<v1::Capacity>(R"pb(
    model: CAPACITY_MODEL_COHORTS
    cohorts {
      cohorts {
        start_date { year: 2025 month: 11 day: 3 }
        min_size: 8
        max_size: 12
        state: COHORT_STATE_OPEN
      }
      cohorts {
        start_date { year: 2026 month: 1 day: 12 }
        intake_start_date { year: 2025 month: 12 day: 1 }
        min_size: 6
        max_size: 8
        state: COHORT_STATE_OPEN
      }
    }
    update_time { seconds: 1760000100 }
  )pb");
  capacity.mutable_cohorts()->mutable_cohorts(0)->set_name(
      absl::StrCat(offering_name, "/cohorts/host"));
  capacity.mutable_cohorts()->mutable_cohorts(1)->set_name(
      absl::StrCat(offering_name, "/cohorts/vinter"));
  return capacity;
}

// The units of `capacity`, each at the size it publishes.
CapacityPlan PlanFor(const v1::Offering& offering,
                     const v1::Capacity& capacity) {
  CapacityPlan plan;
  plan.offering = offering;
  *plan.offering.mutable_capacity() = capacity;
  switch (capacity.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      plan.units.emplace_back("-", capacity.places().total());
      break;
    case v1::Capacity::kCaseload:
      plan.units.emplace_back("-", capacity.caseload().max_open_cases());
      break;
    case v1::Capacity::kCohorts:
      for (const v1::Cohort& cohort : capacity.cohorts().cohorts()) {
        plan.units.emplace_back(
            cohort.name().substr(cohort.name().rfind('/') + 1),
            cohort.max_size());
      }
      break;
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      break;
  }
  return plan;
}

v1::Event CapacityEvent(const v1::Offering& offering) {
  v1::Event event;
  event.set_type(v1::EVENT_TYPE_CAPACITY_PUBLISHED);
  event.mutable_time()->set_seconds(1'760'000'100);
  event.mutable_actor()->set_organisation("halsosam-halmstad");
  event.set_offering(offering.name());
  return event;
}

template <typename T>
::testing::AssertionResult Same(const T& got, const T& want) {
  std::string diff;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(want, got)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << diff;
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<T>& values) {
  std::vector<std::string> names;
  for (const T& value : values) names.push_back(value.name());
  return names;
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<Versioned<T>>& values) {
  std::vector<std::string> names;
  for (const Versioned<T>& value : values) names.push_back(value.value.name());
  return names;
}

class RedisDirectoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisServer::Options options;
    // DEBUG DIGEST, from this (local) socket only.
    options.extra_args = {"--enable-debug-command", "local"};
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    pool_ = MakePool();
    store_ = std::make_unique<RedisDirectoryStore>(pool_.get());
  }

  std::unique_ptr<RedisPool> MakePool() {
    // Generous: parallel tests on two cores can hold an fsync up.
    return std::make_unique<RedisPool>(
        server_->ClientOptions({.command_timeout = absl::Seconds(10)}));
  }

  RedisValue Redis(const std::vector<std::string>& argv) {
    absl::StatusOr<RedisValue> reply = pool_->Command(argv);
    EXPECT_TRUE(reply.ok()) << argv[0] << ": " << reply.status();
    return reply.value_or(RedisValue());
  }

  // Equal digests mean nothing was written in between.
  std::string Digest() { return Redis({"DEBUG", "DIGEST"}).str; }

  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    for (const RedisValue& key : Redis({"KEYS", "*"}).elements) {
      keys.push_back(key.str);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::map<std::string, std::string> Hash(const std::string& key) {
    std::map<std::string, std::string> fields;
    const RedisValue reply = Redis({"HGETALL", key});
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
      fields[reply.elements[i].str] = reply.elements[i + 1].str;
    }
    return fields;
  }

  void MustCreate(const v1::Offering& offering) {
    const absl::Status status = store_->CreateOffering(offering);
    ASSERT_TRUE(status.ok()) << offering.name() << ": " << status;
  }

  Versioned<v1::Offering> MustGet(const std::string& provider,
                                  const std::string& offering) {
    absl::StatusOr<Versioned<v1::Offering>> got =
        store_->GetOffering(provider, offering);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.value_or(Versioned<v1::Offering>());
  }

  // Creates the offering and publishes `capacity`; returns it as read.
  Versioned<v1::Offering> MustPublish(const v1::Offering& offering,
                                      const v1::Capacity& capacity) {
    MustCreate(offering);
    const std::string provider = offering.name().substr(
        10, offering.name().find('/', 10) - 10);  // after "providers/"
    const std::string id =
        offering.name().substr(offering.name().rfind('/') + 1);
    const Versioned<v1::Offering> read = MustGet(provider, id);
    absl::StatusOr<int64_t> version = store_->PublishCapacity(
        read, PlanFor(read.value, capacity), CapacityEvent(read.value));
    EXPECT_TRUE(version.ok()) << version.status();
    return MustGet(provider, id);
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<RedisDirectoryStore> store_;
};

constexpr char kOfferingKey[] =
    "slussen:{r13}:offering:halsosam-halmstad:kom-igang";

// --- Round trips -------------------------------------------------------------

TEST_F(RedisDirectoryStoreTest, AnActivityTypeRoundTrips) {
  const v1::ActivityType type = Halsosam();
  ASSERT_TRUE(store_->CreateActivityType(type).ok());
  absl::StatusOr<v1::ActivityType> got = store_->GetActivityType("halsosam");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(Same(*got, type));
}

TEST_F(RedisDirectoryStoreTest, AProviderRoundTripsAtVersionOne) {
  const v1::Provider provider = MakeProvider("halsosam-halmstad");
  ASSERT_TRUE(store_->CreateProvider(provider).ok());
  absl::StatusOr<Versioned<v1::Provider>> got =
      store_->GetProvider("halsosam-halmstad");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->version, 1);
  EXPECT_TRUE(Same(got->value, provider));
}

TEST_F(RedisDirectoryStoreTest, AFrameworkAgreementRoundTrips) {
  const v1::FrameworkAgreement agreement = MakeAgreement("fk-rehab-2025");
  ASSERT_TRUE(store_->CreateFrameworkAgreement(agreement).ok());
  absl::StatusOr<v1::FrameworkAgreement> got =
      store_->GetFrameworkAgreement("fk-rehab-2025");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(Same(*got, agreement));
}

TEST_F(RedisDirectoryStoreTest, AnOfferingWithoutCapacityRoundTrips) {
  const v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  ASSERT_FALSE(offering.has_capacity());
  MustCreate(offering);
  const Versioned<v1::Offering> got = MustGet("halsosam-halmstad", "kom-igang");
  EXPECT_EQ(got.version, 1);
  EXPECT_TRUE(Same(got.value, offering));
}

TEST_F(RedisDirectoryStoreTest, AnOfferingOfEachCapacityModelRoundTrips) {
  const std::string name = "providers/halsosam-halmstad/offerings/";
  const std::vector<std::pair<std::string, v1::Capacity>> models = {
      {"places", Places(8)},
      {"caseload", Caseload(40)},
      {"cohorts", Cohorts(name + "cohorts")}};
  for (const auto& [id, capacity] : models) {
    SCOPED_TRACE(id);
    v1::Offering offering = MakeOffering("halsosam-halmstad", id);
    *offering.mutable_capacity() = capacity;
    MustCreate(offering);
    const Versioned<v1::Offering> got = MustGet("halsosam-halmstad", id);
    EXPECT_EQ(got.version, 1);
    EXPECT_EQ(got.value.capacity().model_capacity_case(),
              capacity.model_capacity_case());
    EXPECT_TRUE(Same(got.value, offering));
  }
}

TEST_F(RedisDirectoryStoreTest, CountersPassedInAreNotStored) {
  // Output fields a caller filled in are the counters' business.
  v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  v1::PlacesCapacity& places = *offering.mutable_capacity()->mutable_places();
  places.set_total(8);
  places.set_occupied(5);
  places.set_held(2);
  MustCreate(offering);
  const Versioned<v1::Offering> got = MustGet("halsosam-halmstad", "kom-igang");
  EXPECT_EQ(got.value.capacity().places().total(), 8);
  EXPECT_EQ(got.value.capacity().places().occupied(), 0);
  EXPECT_EQ(got.value.capacity().places().held(), 0);
}

TEST_F(RedisDirectoryStoreTest, ReadsFillTheCountersOfEachCapacityModel) {
  const std::string name = "providers/halsosam-halmstad/offerings/";
  MustPublish(MakeOffering("halsosam-halmstad", "places"), Places(8));
  MustPublish(MakeOffering("halsosam-halmstad", "caseload"), Caseload(40));
  MustPublish(MakeOffering("halsosam-halmstad", "cohorts"),
              Cohorts(name + "cohorts"));
  // As offers move them (redis_keys.h: u:<unit>:occupied|held).
  const std::string prefix = "slussen:{r13}:offering:halsosam-halmstad:";
  Redis({"HSET", prefix + "places", "u:-:occupied", "3", "u:-:held", "2"});
  Redis({"HSET", prefix + "caseload", "u:-:occupied", "17", "u:-:held", "1"});
  Redis({"HSET", prefix + "cohorts", "u:host:occupied", "4", "u:host:held", "1",
         "u:vinter:held", "6"});

  const v1::Capacity places =
      MustGet("halsosam-halmstad", "places").value.capacity();
  ASSERT_TRUE(places.has_places());
  EXPECT_EQ(places.places().total(), 8);
  EXPECT_EQ(places.places().occupied(), 3);
  EXPECT_EQ(places.places().held(), 2);

  const v1::Capacity caseload =
      MustGet("halsosam-halmstad", "caseload").value.capacity();
  ASSERT_TRUE(caseload.has_caseload());
  EXPECT_EQ(caseload.caseload().max_open_cases(), 40);
  EXPECT_EQ(caseload.caseload().open_cases(), 17);
  EXPECT_EQ(caseload.caseload().held(), 1);

  const v1::Capacity cohorts =
      MustGet("halsosam-halmstad", "cohorts").value.capacity();
  ASSERT_TRUE(cohorts.has_cohorts());
  ASSERT_EQ(cohorts.cohorts().cohorts_size(), 2);
  EXPECT_EQ(cohorts.cohorts().cohorts(0).enrolled(), 4);
  EXPECT_EQ(cohorts.cohorts().cohorts(0).held(), 1);
  EXPECT_EQ(cohorts.cohorts().cohorts(1).enrolled(), 0);
  EXPECT_EQ(cohorts.cohorts().cohorts(1).held(), 6);
  EXPECT_EQ(cohorts.cohorts().cohorts(1).max_size(), 8);

  // A listing reads them the same way.
  absl::StatusOr<std::vector<Versioned<v1::Offering>>> listed =
      store_->ListOfferings("13");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 3u);
  for (const Versioned<v1::Offering>& offering : *listed) {
    const std::string id =
        offering.value.name().substr(offering.value.name().rfind('/') + 1);
    EXPECT_TRUE(Same(offering.value, MustGet("halsosam-halmstad", id).value))
        << id;
    EXPECT_EQ(offering.version, 2) << id;
  }
}

TEST_F(RedisDirectoryStoreTest, AnOfferingIsFoundInWhicheverRegionItServes) {
  const v1::Offering fagersta = MakeOffering("work-for-you", "fagersta", "19");
  MustCreate(fagersta);
  const Versioned<v1::Offering> got = MustGet("work-for-you", "fagersta");
  EXPECT_TRUE(Same(got.value, fagersta));
  EXPECT_EQ(
      Redis({"EXISTS", "slussen:{r19}:offering:work-for-you:fagersta"}).integer,
      1);
}

// --- Missing and undecodable -------------------------------------------------

TEST_F(RedisDirectoryStoreTest, GetOfAMissingRecordIsNotFoundNamingIt) {
  absl::Status type = store_->GetActivityType("redo").status();
  EXPECT_EQ(type.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(type.message(), HasSubstr("redo"));
  absl::Status provider = store_->GetProvider("amia").status();
  EXPECT_EQ(provider.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(provider.message(), HasSubstr("amia"));
  absl::Status agreement = store_->GetFrameworkAgreement("fk-2024").status();
  EXPECT_EQ(agreement.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(agreement.message(), HasSubstr("fk-2024"));
  absl::Status offering = store_->GetOffering("amia", "grupp").status();
  EXPECT_EQ(offering.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(offering.message(), HasSubstr("providers/amia/offerings/grupp"));
}

TEST_F(RedisDirectoryStoreTest, UndecodableDataIsDataLoss) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("amia")).ok());
  MustCreate(MakeOffering("halsosam-halmstad", "kom-igang"));
  const std::string provider_key = "slussen:{dir}:provider:amia";
  ASSERT_EQ(Redis({"EXISTS", provider_key}).integer, 1)
      << "the documented layout";
  Redis({"HSET", provider_key, "data", "\xff\xff\xff"});
  Redis({"HSET", kOfferingKey, "data", "\xff\xff\xff"});
  EXPECT_EQ(store_->GetProvider("amia").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->ListProviders().status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      store_->GetOffering("halsosam-halmstad", "kom-igang").status().code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(store_->ListOfferings("13").status().code(),
            absl::StatusCode::kDataLoss);
}

// --- Creates of a taken id ---------------------------------------------------

TEST_F(RedisDirectoryStoreTest,
       CreatingATakenIdIsAlreadyExistsAndKeepsTheFirst) {
  const v1::ActivityType type = Halsosam();
  const v1::Provider provider = MakeProvider("amia", "Amia");
  const v1::FrameworkAgreement agreement = MakeAgreement("fk-rehab-2025");
  const v1::Offering offering = MakeOffering("amia", "grupp");
  ASSERT_TRUE(store_->CreateActivityType(type).ok());
  ASSERT_TRUE(store_->CreateProvider(provider).ok());
  ASSERT_TRUE(store_->CreateFrameworkAgreement(agreement).ok());
  MustCreate(offering);
  const std::string before = Digest();

  v1::ActivityType other_type = type;
  other_type.set_display_name("Another");
  v1::Provider other_provider = provider;
  other_provider.set_display_name("Another");
  v1::FrameworkAgreement other_agreement = agreement;
  other_agreement.set_display_name("Another");
  v1::Offering other_offering = offering;
  other_offering.set_display_name("Another");
  const std::vector<std::pair<absl::Status, std::string>> clashes = {
      {store_->CreateActivityType(other_type), "halsosam"},
      {store_->CreateProvider(other_provider), "amia"},
      {store_->CreateFrameworkAgreement(other_agreement), "fk-rehab-2025"},
      {store_->CreateOffering(other_offering),
       "providers/amia/offerings/grupp"}};
  for (const auto& [status, id] : clashes) {
    EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
    EXPECT_THAT(status.message(), HasSubstr(id));
    EXPECT_THAT(status.message(), HasSubstr("already exists"));
  }
  EXPECT_EQ(Digest(), before);
  EXPECT_TRUE(Same(*store_->GetActivityType("halsosam"), type));
  EXPECT_TRUE(Same(store_->GetProvider("amia")->value, provider));
  EXPECT_TRUE(Same(*store_->GetFrameworkAgreement("fk-rehab-2025"), agreement));
  EXPECT_TRUE(Same(MustGet("amia", "grupp").value, offering));
}

TEST_F(RedisDirectoryStoreTest, OfRacingCreatesOfOneIdExactlyOneWins) {
  constexpr int kRacers = 8;
  std::vector<absl::Status> results(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->CreateProvider(
          MakeProvider("amia", absl::StrCat("Amia ", i)));
    });
  }
  for (std::thread& thread : threads) thread.join();
  int won = -1;
  for (int i = 0; i < kRacers; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(won, -1) << "two creates won";
      won = i;
    } else {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAlreadyExists)
          << results[i];
    }
  }
  ASSERT_NE(won, -1);
  EXPECT_EQ(store_->GetProvider("amia")->value.display_name(),
            absl::StrCat("Amia ", won));
  EXPECT_EQ(store_->ListProviders()->size(), 1u);
}

// An offering id is unique to its provider across regions (GetOffering
// takes no region): the name is claimed nationally before the region's key
// is written.
TEST_F(RedisDirectoryStoreTest,
       AnOfferingNameTakenInAnotherRegionIsAlreadyExists) {
  MustCreate(MakeOffering("work-for-you", "rehab", "13"));
  const absl::Status again =
      store_->CreateOffering(MakeOffering("work-for-you", "rehab", "19"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_THAT(again.message(), HasSubstr("region 13"));
  EXPECT_EQ(
      Redis({"EXISTS", "slussen:{r19}:offering:work-for-you:rehab"}).integer,
      0);
  // The same region again is the ordinary ALREADY_EXISTS of its key.
  EXPECT_EQ(store_->CreateOffering(MakeOffering("work-for-you", "rehab", "13"))
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RedisDirectoryStoreTest, ACreateInFlightElsewhereIsAbortedUntilItEnds) {
  // A broker claimed the name for region 13 and died before writing it:
  // the claim is pending, and expires.
  Redis({"SET", "slussen:{dir}:offering-region:work-for-you:rehab",
         "pending:13", "PX", "300"});
  const std::string before = Digest();
  const absl::Status busy =
      store_->CreateOffering(MakeOffering("work-for-you", "rehab", "19"));
  EXPECT_EQ(busy.code(), absl::StatusCode::kAborted) << busy;
  EXPECT_THAT(busy.message(), HasSubstr("being created in region 13"));
  EXPECT_EQ(Digest(), before) << "an aborted create writes nothing";
  for (int i = 0; i < 100 && Redis({"EXISTS",
                                    "slussen:{dir}:offering-region:"
                                    "work-for-you:rehab"})
                                     .integer != 0;
       ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  MustCreate(MakeOffering("work-for-you", "rehab", "19"));
  EXPECT_EQ(
      Redis({"GET", "slussen:{dir}:offering-region:work-for-you:rehab"}).str,
      "19");
}

TEST_F(RedisDirectoryStoreTest, AnOfferingWrittenButNotConfirmedIsFound) {
  // A create wrote region 13 and died before confirming its claim, which
  // then expired.
  MustCreate(MakeOffering("work-for-you", "rehab", "13"));
  Redis({"DEL", "slussen:{dir}:offering-region:work-for-you:rehab"});
  const absl::Status again =
      store_->CreateOffering(MakeOffering("work-for-you", "rehab", "19"));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(
      Redis({"EXISTS", "slussen:{r19}:offering:work-for-you:rehab"}).integer,
      0);
  EXPECT_EQ(
      Redis({"GET", "slussen:{dir}:offering-region:work-for-you:rehab"}).str,
      "13")
      << "the claim is repaired";
}

TEST_F(RedisDirectoryStoreTest, RacingCreatesInTwoRegionsMakeOneOffering) {
  for (int round = 0; round < 20; ++round) {
    const std::string id = absl::StrCat("race-", round);
    std::vector<absl::Status> results(2);
    std::thread a([&] {
      results[0] =
          store_->CreateOffering(MakeOffering("work-for-you", id, "13"));
    });
    std::thread b([&] {
      results[1] =
          store_->CreateOffering(MakeOffering("work-for-you", id, "19"));
    });
    a.join();
    b.join();
    // One is written; the other is refused (ALREADY_EXISTS, or ABORTED
    // while the first is in flight).
    EXPECT_EQ(results[0].ok() + results[1].ok(), 1)
        << results[0] << " / " << results[1];
    const int in13 =
        Redis({"EXISTS",
               absl::StrCat("slussen:{r13}:offering:work-for-you:", id)})
            .integer;
    const int in19 =
        Redis({"EXISTS",
               absl::StrCat("slussen:{r19}:offering:work-for-you:", id)})
            .integer;
    EXPECT_EQ(in13 + in19, 1) << id;
  }
}

// --- Updates -----------------------------------------------------------------

TEST_F(RedisDirectoryStoreTest, UpdateProviderChecksTheVersionRead) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("amia", "Amia")).ok());
  v1::Provider changed = MakeProvider("amia", "Amia Halmstad");
  changed.add_kommun_codes("1382");
  absl::StatusOr<int64_t> version = store_->UpdateProvider(1, changed);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2);
  absl::StatusOr<Versioned<v1::Provider>> got = store_->GetProvider("amia");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->version, 2);
  EXPECT_TRUE(Same(got->value, changed));

  // Another writer read it at 1 too.
  const std::string before = Digest();
  const absl::StatusOr<int64_t> stale =
      store_->UpdateProvider(1, MakeProvider("amia", "Stale"));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted)
      << stale.status();
  EXPECT_THAT(stale.status().message(), HasSubstr("providers/amia changed"));
  EXPECT_THAT(stale.status().message(), HasSubstr("version 2, expected 1"));
  EXPECT_EQ(Digest(), before);
  EXPECT_TRUE(Same(store_->GetProvider("amia")->value, changed));
}

TEST_F(RedisDirectoryStoreTest, UpdateOfAMissingProviderIsNotFoundAndWritesNo) {
  const std::string before = Digest();
  const absl::StatusOr<int64_t> version =
      store_->UpdateProvider(1, MakeProvider("ghost"));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kNotFound)
      << version.status();
  EXPECT_EQ(Digest(), before);
  EXPECT_TRUE(Keys().empty());
}

TEST_F(RedisDirectoryStoreTest, OfRacingProviderUpdatesOnOneVersionOneWins) {
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("amia")).ok());
  constexpr int kRacers = 8;
  std::vector<absl::Status> results(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          store_->UpdateProvider(1, MakeProvider("amia", absl::StrCat(i)))
              .status();
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
  EXPECT_EQ(store_->GetProvider("amia")->version, 2);
}

TEST_F(RedisDirectoryStoreTest,
       UpdateOfferingChecksTheVersionAndKeepsCounters) {
  const Versioned<v1::Offering> read =
      MustPublish(MakeOffering("halsosam-halmstad", "kom-igang"), Places(8));
  ASSERT_EQ(read.version, 2);
  Redis({"HSET", kOfferingKey, "u:-:occupied", "3", "u:-:held", "1"});

  v1::Offering changed = read.value;
  changed.set_display_name("Hälsosam, ny lokal");
  changed.set_site("Folkets hus, Halmstad");
  absl::StatusOr<int64_t> version = store_->UpdateOffering(read, changed);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3);

  const Versioned<v1::Offering> got = MustGet("halsosam-halmstad", "kom-igang");
  EXPECT_EQ(got.version, 3);
  v1::Offering want = changed;
  want.mutable_capacity()->mutable_places()->set_occupied(3);
  want.mutable_capacity()->mutable_places()->set_held(1);
  EXPECT_TRUE(Same(got.value, want));
  EXPECT_EQ(Hash(kOfferingKey).at("u:-:cap"), "8");

  const std::string before = Digest();
  v1::Offering stale = read.value;
  stale.set_display_name("Stale");
  const absl::StatusOr<int64_t> lost = store_->UpdateOffering(read, stale);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kAborted) << lost.status();
  EXPECT_THAT(lost.status().message(), HasSubstr("version 3, expected 2"));
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisDirectoryStoreTest, UpdateOfAMissingOfferingIsNotFound) {
  Versioned<v1::Offering> ghost{MakeOffering("amia", "ghost"), 1};
  const absl::StatusOr<int64_t> version =
      store_->UpdateOffering(ghost, ghost.value);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kNotFound)
      << version.status();
  EXPECT_TRUE(Keys().empty());
}

// --- Publishing capacity -----------------------------------------------------

TEST_F(RedisDirectoryStoreTest, PublishCapacitySetsEachUnitAndAppendsTheEvent) {
  const v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  MustCreate(offering);
  const Versioned<v1::Offering> read =
      MustGet("halsosam-halmstad", "kom-igang");
  const v1::Capacity cohorts = Cohorts(offering.name());
  const v1::Event event = CapacityEvent(offering);
  absl::StatusOr<int64_t> version =
      store_->PublishCapacity(read, PlanFor(read.value, cohorts), event);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 2);

  const Versioned<v1::Offering> got = MustGet("halsosam-halmstad", "kom-igang");
  EXPECT_EQ(got.version, 2);
  v1::Offering want = offering;
  *want.mutable_capacity() = cohorts;
  EXPECT_TRUE(Same(got.value, want));
  const std::map<std::string, std::string> hash = Hash(kOfferingKey);
  EXPECT_EQ(hash.at("u:host:cap"), "12");
  EXPECT_EQ(hash.at("u:vinter:cap"), "8");
  EXPECT_EQ(hash.at("version"), "2");

  // The region's event stream, beside the referrals' events.
  const RedisValue entries =
      Redis({"XRANGE", "slussen:{r13}:events", "-", "+"});
  ASSERT_EQ(entries.elements.size(), 1u);
  std::map<std::string, std::string> fields;
  const std::vector<RedisValue>& pairs =
      entries.elements[0].elements[1].elements;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    fields[pairs[i].str] = pairs[i + 1].str;
  }
  EXPECT_EQ(fields.at("type"), absl::StrCat(v1::EVENT_TYPE_CAPACITY_PUBLISHED));
  v1::Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(fields.at("event")));
  EXPECT_TRUE(Same(parsed, event));
}

TEST_F(RedisDirectoryStoreTest, PublishCapacityOnAStaleVersionWritesNothing) {
  const Versioned<v1::Offering> read =
      MustPublish(MakeOffering("halsosam-halmstad", "kom-igang"), Places(8));
  Versioned<v1::Offering> stale = read;
  stale.version = 1;
  const std::string before = Digest();
  const absl::StatusOr<int64_t> version = store_->PublishCapacity(
      stale, PlanFor(read.value, Places(20)), CapacityEvent(read.value));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kAborted)
      << version.status();
  EXPECT_EQ(Digest(), before);
  EXPECT_EQ(MustGet("halsosam-halmstad", "kom-igang")
                .value.capacity()
                .places()
                .total(),
            8);
}

TEST_F(RedisDirectoryStoreTest, PublishCapacityNeverGoesBelowWhatIsTaken) {
  const Versioned<v1::Offering> read =
      MustPublish(MakeOffering("halsosam-halmstad", "kom-igang"), Places(8));
  // Taken since the provider read it: 3 occupied, 2 held.
  Redis({"HSET", kOfferingKey, "u:-:occupied", "3", "u:-:held", "2"});
  const std::string before = Digest();
  const absl::StatusOr<int64_t> below = store_->PublishCapacity(
      read, PlanFor(read.value, Places(4)), CapacityEvent(read.value));
  EXPECT_EQ(below.status().code(), absl::StatusCode::kFailedPrecondition)
      << below.status();
  EXPECT_THAT(below.status().message(),
              HasSubstr("providers/halsosam-halmstad/offerings/kom-igang"));
  EXPECT_THAT(below.status().message(), HasSubstr("4"));
  EXPECT_EQ(Digest(), before);

  // Exactly what is taken fits.
  absl::StatusOr<int64_t> exact = store_->PublishCapacity(
      read, PlanFor(read.value, Places(5)), CapacityEvent(read.value));
  ASSERT_TRUE(exact.ok()) << exact.status();
  const v1::PlacesCapacity places =
      MustGet("halsosam-halmstad", "kom-igang").value.capacity().places();
  EXPECT_EQ(places.total(), 5);
  EXPECT_EQ(places.occupied() + places.held(), places.total());
}

TEST_F(RedisDirectoryStoreTest, ACohortBelowWhatItTookIsRefusedNamingIt) {
  const v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  const Versioned<v1::Offering> read =
      MustPublish(offering, Cohorts(offering.name()));
  Redis({"HSET", kOfferingKey, "u:vinter:occupied", "5", "u:vinter:held", "1"});
  v1::Capacity smaller = Cohorts(offering.name());
  smaller.mutable_cohorts()->mutable_cohorts(1)->set_max_size(5);
  const std::string before = Digest();
  const absl::StatusOr<int64_t> version = store_->PublishCapacity(
      read, PlanFor(read.value, smaller), CapacityEvent(read.value));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(version.status().message(), HasSubstr("cohort vinter"));
  EXPECT_EQ(Digest(), before);

  // A cohort decision closing it skips the check.
  CapacityPlan closing = PlanFor(read.value, smaller);
  closing.units = {{"vinter", 0}};
  closing.closes_units = true;
  absl::StatusOr<int64_t> closed =
      store_->PublishCapacity(read, closing, CapacityEvent(read.value));
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(Hash(kOfferingKey).at("u:vinter:cap"), "0");
  EXPECT_EQ(Hash(kOfferingKey).at("u:host:cap"), "12");
}

TEST_F(RedisDirectoryStoreTest, RemovingAnEmptyCohortDropsItsCounters) {
  const v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  const Versioned<v1::Offering> read =
      MustPublish(offering, Cohorts(offering.name()));
  v1::Capacity host_only = Cohorts(offering.name());
  host_only.mutable_cohorts()->mutable_cohorts()->RemoveLast();
  CapacityPlan plan = PlanFor(read.value, host_only);
  plan.removed_units = {"vinter"};
  absl::StatusOr<int64_t> version =
      store_->PublishCapacity(read, plan, CapacityEvent(read.value));
  ASSERT_TRUE(version.ok()) << version.status();
  for (const auto& [field, value] : Hash(kOfferingKey)) {
    EXPECT_FALSE(absl::StartsWith(field, "u:vinter:")) << field;
  }
  const v1::Capacity got =
      MustGet("halsosam-halmstad", "kom-igang").value.capacity();
  ASSERT_EQ(got.cohorts().cohorts_size(), 1);
  EXPECT_EQ(got.cohorts().cohorts(0).name(), offering.name() + "/cohorts/host");
}

TEST_F(RedisDirectoryStoreTest, RemovingACohortThatTookAPlaceIsRefused) {
  const v1::Offering offering = MakeOffering("halsosam-halmstad", "kom-igang");
  const Versioned<v1::Offering> read =
      MustPublish(offering, Cohorts(offering.name()));
  // An offer took a place in it meanwhile.
  Redis({"HINCRBY", kOfferingKey, "u:vinter:held", "1"});
  v1::Capacity host_only = Cohorts(offering.name());
  host_only.mutable_cohorts()->mutable_cohorts()->RemoveLast();
  CapacityPlan plan = PlanFor(read.value, host_only);
  plan.removed_units = {"vinter"};
  const std::string before = Digest();
  const absl::StatusOr<int64_t> version =
      store_->PublishCapacity(read, plan, CapacityEvent(read.value));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(version.status().message(), HasSubstr("cohort vinter"));
  EXPECT_EQ(Digest(), before);
}

TEST_F(RedisDirectoryStoreTest, PublishCapacityOfAMissingOfferingIsNotFound) {
  Versioned<v1::Offering> ghost{MakeOffering("amia", "ghost"), 1};
  const absl::StatusOr<int64_t> version = store_->PublishCapacity(
      ghost, PlanFor(ghost.value, Places(3)), CapacityEvent(ghost.value));
  EXPECT_EQ(version.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Keys().empty());
}

TEST_F(RedisDirectoryStoreTest, ABadOfferingNameIsInvalidAndWritesNothing) {
  v1::Offering offering = MakeOffering("amia", "grupp");
  offering.set_name("providers/amia/grupp");
  EXPECT_EQ(store_->CreateOffering(offering).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Keys().empty());
}

// --- Listings ----------------------------------------------------------------

TEST_F(RedisDirectoryStoreTest, ListsHoldEveryRecordOfTheirKind) {
  std::vector<std::string> types, providers, agreements;
  for (const char* id :
       {"redo", "halsosam", "medicinsk-yoga", "socialt-foretag"}) {
    ASSERT_TRUE(store_->CreateActivityType(Halsosam(id)).ok());
    types.push_back(absl::StrCat("activityTypes/", id));
  }
  for (const char* id : {"work-for-you", "amia", "rehab2", "rehab"}) {
    ASSERT_TRUE(store_->CreateProvider(MakeProvider(id)).ok());
    providers.push_back(absl::StrCat("providers/", id));
  }
  for (const char* id : {"fk-rehab-2025", "af-2024"}) {
    ASSERT_TRUE(store_->CreateFrameworkAgreement(MakeAgreement(id)).ok());
    agreements.push_back(absl::StrCat("frameworkAgreements/", id));
  }
  ASSERT_TRUE(store_->UpdateProvider(1, MakeProvider("amia", "Amia")).ok());

  absl::StatusOr<std::vector<v1::ActivityType>> listed_types =
      store_->ListActivityTypes();
  ASSERT_TRUE(listed_types.ok()) << listed_types.status();
  EXPECT_THAT(NamesOf(*listed_types), UnorderedElementsAreArray(types));
  for (const v1::ActivityType& type : *listed_types) {
    EXPECT_TRUE(Same(type, Halsosam(type.name().substr(14))));
  }
  absl::StatusOr<std::vector<Versioned<v1::Provider>>> listed_providers =
      store_->ListProviders();
  ASSERT_TRUE(listed_providers.ok()) << listed_providers.status();
  EXPECT_THAT(NamesOf(*listed_providers), UnorderedElementsAreArray(providers));
  for (const Versioned<v1::Provider>& provider : *listed_providers) {
    const bool updated = provider.value.name() == "providers/amia";
    EXPECT_EQ(provider.version, updated ? 2 : 1) << provider.value.name();
    EXPECT_EQ(provider.value.display_name(), updated ? "Amia" : "Hälsosam");
  }
  absl::StatusOr<std::vector<v1::FrameworkAgreement>> listed_agreements =
      store_->ListFrameworkAgreements();
  ASSERT_TRUE(listed_agreements.ok()) << listed_agreements.status();
  EXPECT_THAT(NamesOf(*listed_agreements),
              UnorderedElementsAreArray(agreements));
}

TEST_F(RedisDirectoryStoreTest, EmptyListsAreEmpty) {
  EXPECT_TRUE(store_->ListActivityTypes()->empty());
  EXPECT_TRUE(store_->ListProviders()->empty());
  EXPECT_TRUE(store_->ListFrameworkAgreements()->empty());
  absl::StatusOr<std::vector<Versioned<v1::Offering>>> offerings =
      store_->ListOfferings("13");
  ASSERT_TRUE(offerings.ok()) << offerings.status();
  EXPECT_TRUE(offerings->empty());
}

TEST_F(RedisDirectoryStoreTest, ListOfferingsHoldsItsRegionsOfferingsByName) {
  // Provider ids that are prefixes of others, with digits and dashes.
  const std::vector<std::pair<std::string, std::string>> in_13 = {
      {"steg", "bb"},         {"steg1", "aa"},
      {"steg-2", "cc"},       {"halsosam", "grupp"},
      {"halsosam", "grupp2"}, {"halsosam", "grupp-3"},
      {"ab1", "xx"},          {"ab", "xx"}};
  std::vector<std::string> names;
  for (const auto& [provider, offering] : in_13) {
    MustCreate(MakeOffering(provider, offering, "13"));
    names.push_back(
        absl::StrCat("providers/", provider, "/offerings/", offering));
  }
  MustCreate(MakeOffering("steg", "norberg", "19"));
  std::sort(names.begin(), names.end());

  absl::StatusOr<std::vector<Versioned<v1::Offering>>> listed =
      store_->ListOfferings("13");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(NamesOf(*listed), ElementsAreArray(names));
  for (const Versioned<v1::Offering>& offering : *listed) {
    EXPECT_EQ(offering.version, 1);
    EXPECT_EQ(offering.value.region(), "13");
  }
  absl::StatusOr<std::vector<Versioned<v1::Offering>>> in_19 =
      store_->ListOfferings("19");
  ASSERT_TRUE(in_19.ok()) << in_19.status();
  EXPECT_THAT(NamesOf(*in_19),
              ElementsAreArray({"providers/steg/offerings/norberg"}));
}

TEST_F(RedisDirectoryStoreTest, ListOfferingsSkipsAnOfferingWhoseHashIsGone) {
  MustCreate(MakeOffering("amia", "aa"));
  MustCreate(MakeOffering("amia", "bb"));
  ASSERT_EQ(Redis({"DEL", "slussen:{r13}:offering:amia:aa"}).integer, 1);
  absl::StatusOr<std::vector<Versioned<v1::Offering>>> listed =
      store_->ListOfferings("13");
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(NamesOf(*listed),
              ElementsAreArray({"providers/amia/offerings/bb"}));
}

// --- Key layout --------------------------------------------------------------

TEST_F(RedisDirectoryStoreTest, KeysFollowTheDocumentedLayout) {
  ASSERT_TRUE(store_->CreateActivityType(Halsosam()).ok());
  ASSERT_TRUE(store_->CreateProvider(MakeProvider("halsosam-halmstad")).ok());
  ASSERT_TRUE(
      store_->CreateFrameworkAgreement(MakeAgreement("fk-rehab-2025")).ok());
  MustPublish(MakeOffering("halsosam-halmstad", "kom-igang", "13"), Places(8));
  MustCreate(MakeOffering("halsosam-halmstad", "fagersta", "19"));

  EXPECT_THAT(Keys(), UnorderedElementsAreArray({
                          "slussen:{dir}:activity_type:halsosam",
                          "slussen:{dir}:activity_types",
                          "slussen:{dir}:provider:halsosam-halmstad",
                          "slussen:{dir}:providers",
                          "slussen:{dir}:agreement:fk-rehab-2025",
                          "slussen:{dir}:agreements",
                          "slussen:{dir}:offering-region:halsosam-halmstad:"
                          "kom-igang",
                          "slussen:{dir}:offering-region:halsosam-halmstad:"
                          "fagersta",
                          kOfferingKey,
                          "slussen:{r13}:offerings",
                          "slussen:{r13}:events",
                          "slussen:{r19}:offering:halsosam-halmstad:fagersta",
                          "slussen:{r19}:offerings",
                      }));
  for (const std::string& key : Keys()) {
    const bool national = absl::StartsWith(key, "slussen:{dir}:");
    const bool regional = absl::StartsWith(key, "slussen:{r13}:") ||
                          absl::StartsWith(key, "slussen:{r19}:");
    EXPECT_TRUE(national || regional) << key;
  }
  EXPECT_EQ(Hash("slussen:{dir}:provider:halsosam-halmstad").at("version"),
            "1");
  const std::map<std::string, std::string> offering = Hash(kOfferingKey);
  EXPECT_EQ(offering.at("version"), "2");
  EXPECT_EQ(offering.at("u:-:cap"), "8");
  EXPECT_EQ(Redis({"ZSCORE", "slussen:{r13}:offerings",
                   "halsosam-halmstad:kom-igang"})
                .str,
            "0");
}

}  // namespace
}  // namespace slussen::store

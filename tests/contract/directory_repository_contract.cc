// The DirectoryRepository contract: each kind of record read back as
// created, ALREADY_EXISTS for a taken id (an offering's across regions),
// NOT_FOUND for a missing one, ABORTED on a stale version with nothing
// written, offerings listed by name in their region, and their capacity
// counters: never stored from the offering, filled in on reads from the
// places the referral repository's offers hold, and a unit never published
// below what it holds.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "broker/core/ports/directory_repository.h"
#include "broker/core/ports/referral_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/contract/repository_contract.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::CapacityPlan;
using core::Versioned;
using ::testing::ElementsAre;

constexpr char kRegion[] = "13";
constexpr char kProvider[] = "halsosam-halmstad";

v1::Provider Provider(const std::string& id) {
  v1::Provider provider;
  provider.set_name(absl::StrCat("providers/", id));
  provider.set_display_name("Hälsosam");
  provider.set_organisation(kProvider);
  provider.set_kind(v1::PROVIDER_KIND_ACTIVITY);
  provider.add_regions(kRegion);
  return provider;
}

v1::Offering Offering(const std::string& id,
                      const std::string& region = kRegion) {
  v1::Offering offering;
  offering.set_name(absl::StrCat("providers/", kProvider, "/offerings/", id));
  offering.set_region(region);
  offering.set_display_name("Hälsosam kom igång-grupp");
  offering.set_activity_type("halsosam");
  offering.set_offer_hold_hours(48);
  return offering;
}

// `read` with `places` places published.
CapacityPlan Places(const Versioned<v1::Offering>& read, int places) {
  CapacityPlan plan{.offering = read.value, .units = {{"-", places}}};
  plan.offering.mutable_capacity()->set_model(v1::CAPACITY_MODEL_PLACES);
  plan.offering.mutable_capacity()->mutable_places()->set_total(places);
  return plan;
}

v1::Event Published(const v1::Offering& offering) {
  v1::Event event;
  event.set_type(v1::EVENT_TYPE_CAPACITY_PUBLISHED);
  event.set_offering(offering.name());
  return event;
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<Versioned<T>>& values) {
  std::vector<std::string> names;
  for (const Versioned<T>& value : values) names.push_back(value.value.name());
  return names;
}

TEST_P(DirectoryRepositoryContract, ATakenIdIsAlreadyExistsAMissingNotFound) {
  v1::ActivityType type;
  type.set_name("activityTypes/halsosam");
  type.set_display_name("Hälsosam");
  ASSERT_TRUE(directory().CreateActivityType(type).ok());
  EXPECT_EQ(directory().CreateActivityType(type).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(directory().GetActivityType("halsosam")->display_name(),
            "Hälsosam");
  EXPECT_EQ(directory().GetActivityType("nope").status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_TRUE(directory().CreateProvider(Provider("p1")).ok());
  EXPECT_EQ(directory().CreateProvider(Provider("p1")).code(),
            absl::StatusCode::kAlreadyExists);
  const absl::StatusOr<Versioned<v1::Provider>> provider =
      directory().GetProvider("p1");
  ASSERT_TRUE(provider.ok()) << provider.status();
  EXPECT_EQ(provider->version, 1);
  EXPECT_EQ(provider->value.organisation(), kProvider);
  EXPECT_EQ(directory().GetProvider("p2").status().code(),
            absl::StatusCode::kNotFound);

  v1::FrameworkAgreement agreement;
  agreement.set_name("frameworkAgreements/rehab-2025");
  agreement.add_regions(kRegion);
  ASSERT_TRUE(directory().CreateFrameworkAgreement(agreement).ok());
  EXPECT_EQ(directory().CreateFrameworkAgreement(agreement).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(directory().GetFrameworkAgreement("nope").status().code(),
            absl::StatusCode::kNotFound);

  // An offering's id is taken across regions.
  ASSERT_TRUE(directory().CreateOffering(Offering("kom-igang")).ok());
  EXPECT_EQ(directory().CreateOffering(Offering("kom-igang")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(directory().CreateOffering(Offering("kom-igang", "19")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(directory().GetOffering(kProvider, "nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(DirectoryRepositoryContract, AWriteOnAStaleVersionIsAbortedUnwritten) {
  ASSERT_TRUE(directory().CreateProvider(Provider("p1")).ok());
  v1::Provider renamed = Provider("p1");
  renamed.set_display_name("Hälsosam Halland");
  const absl::StatusOr<int64_t> updated =
      directory().UpdateProvider(1, renamed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, 2);
  v1::Provider stale = Provider("p1");
  stale.set_display_name("stale");
  EXPECT_EQ(directory().UpdateProvider(1, stale).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(directory().GetProvider("p1")->value.display_name(),
            "Hälsosam Halland");
  EXPECT_EQ(directory().UpdateProvider(1, Provider("p9")).status().code(),
            absl::StatusCode::kNotFound);

  ASSERT_TRUE(directory().CreateOffering(Offering("kom-igang")).ok());
  const Versioned<v1::Offering> read =
      *directory().GetOffering(kProvider, "kom-igang");
  v1::Offering changed = read.value;
  changed.set_display_name("ny");
  ASSERT_TRUE(directory().UpdateOffering(read, changed).ok());
  EXPECT_EQ(directory().UpdateOffering(read, changed).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(directory()
                .PublishCapacity(read, Places(read, 3), Published(read.value))
                .status()
                .code(),
            absl::StatusCode::kAborted);
  const Versioned<v1::Offering> now =
      *directory().GetOffering(kProvider, "kom-igang");
  EXPECT_EQ(now.version, 2);
  EXPECT_FALSE(now.value.has_capacity());
}

TEST_P(DirectoryRepositoryContract, OfferingsAreListedByNameInTheirRegion) {
  for (const std::string id : {"grupp-c", "grupp-a", "grupp-b"}) {
    const absl::Status created = directory().CreateOffering(Offering(id));
    ASSERT_TRUE(created.ok()) << created;
  }
  ASSERT_TRUE(directory().CreateOffering(Offering("grupp-d", "19")).ok());
  const absl::StatusOr<std::vector<Versioned<v1::Offering>>> listed =
      directory().ListOfferings(kRegion);
  ASSERT_TRUE(listed.ok()) << listed.status();
  const std::string prefix =
      absl::StrCat("providers/", kProvider, "/offerings/");
  EXPECT_THAT(
      NamesOf(*listed),
      ElementsAre(prefix + "grupp-a", prefix + "grupp-b", prefix + "grupp-c"));
  EXPECT_THAT(NamesOf(*directory().ListOfferings("19")),
              ElementsAre(prefix + "grupp-d"));
}

// Publishing sets each unit's size with its event; an offer taking a place
// (the referral repository's change) is seen in the counters a read fills
// in, and the unit cannot be published below what it holds.
TEST_P(DirectoryRepositoryContract, ReadsFillTheCountersTheOffersMove) {
  v1::Offering offering = Offering("kom-igang");
  // Counters passed in are not stored.
  offering.mutable_capacity()->mutable_places()->set_total(3);
  offering.mutable_capacity()->mutable_places()->set_held(7);
  ASSERT_TRUE(directory().CreateOffering(offering).ok());
  Versioned<v1::Offering> read =
      *directory().GetOffering(kProvider, "kom-igang");
  EXPECT_EQ(read.value.capacity().places().total(), 3);
  EXPECT_EQ(read.value.capacity().places().held(), 0);
  const absl::StatusOr<int64_t> published =
      directory().PublishCapacity(read, Places(read, 1), Published(read.value));
  ASSERT_TRUE(published.ok()) << published.status();
  read = *directory().GetOffering(kProvider, "kom-igang");
  EXPECT_EQ(read.version, 2);
  EXPECT_EQ(read.value.capacity().places().total(), 1);
  EXPECT_EQ(read.value.capacity().places().held(), 0);
  bool announced = false;
  for (const v1::Event& event : Events(kRegion)) {
    announced =
        announced || (event.type() == v1::EVENT_TYPE_CAPACITY_PUBLISHED &&
                      event.offering() == read.value.name());
  }
  EXPECT_TRUE(announced);

  // An offer holds the one place; a second finds none.
  const auto hold = [&](int n) {
    const core::ReferralRecord record = SampleRecord(kRegion, SampleId(n));
    EXPECT_TRUE(referrals().Create(record, CreatedEvent(record), {}).ok());
    const Moved offered =
        MoveTo(record, v1::ACTION_OFFER, v1::REFERRAL_STATE_OFFERED, kProvider);
    core::ReferralRecord read_referral = record;
    read_referral.version = 1;
    return referrals().Apply({.read = &read_referral,
                              .changed = offered.changed,
                              .event = offered.event,
                              .capacity = {{.offering = read.value.name(),
                                            .unit = "-",
                                            .held = 1,
                                            .require_room = true}}});
  };
  ASSERT_TRUE(hold(1).ok());
  EXPECT_EQ(hold(2).status().code(), absl::StatusCode::kFailedPrecondition);
  read = *directory().GetOffering(kProvider, "kom-igang");
  EXPECT_EQ(read.value.capacity().places().held(), 1);
  EXPECT_EQ(directory()
                .PublishCapacity(read, Places(read, 0), Published(read.value))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(directory().GetOffering(kProvider, "kom-igang")->version,
            read.version);
}

}  // namespace
}  // namespace slussen::testing

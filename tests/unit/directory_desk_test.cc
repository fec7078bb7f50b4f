// The directory desk's request checks over an in-memory directory: what a
// request may hold is bounded and checked before anything is read or
// written (etags, update masks, filters).
#include "broker/core/desks/directory_desk.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/calendar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_directory_repository.h"
#include "tests/fakes/in_memory_referral_repository.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::FakeClock;
using ::slussen::testing::InMemoryDirectoryRepository;
using ::slussen::testing::InMemoryReferralRepository;
using ::testing::HasSubstr;

constexpr char kOffering[] = "providers/halsosam-halmstad/offerings/kom-igang";
const Caller kAdmin{"slussen-admin", v1::ROLE_ADMIN, "", ""};
const Caller kProvider{"halsosam-halmstad", v1::ROLE_PROVIDER, "13", ""};

class DirectoryDeskTest : public ::testing::Test {
 protected:
  DirectoryDeskTest()
      : calendar_(*SwedishCalendar::Create()),
        clock_(absl::FromCivil(absl::CivilSecond(2026, 11, 23, 9, 0, 0),
                               calendar_.time_zone())),
        directory_(&referrals_),
        desk_(&directory_, &clock_, &calendar_) {}

  void SetUp() override {
    v1::Provider provider;
    provider.set_name("providers/halsosam-halmstad");
    provider.set_display_name("Hälsosam Halmstad");
    provider.set_organisation("halsosam-halmstad");
    provider.set_kind(v1::PROVIDER_KIND_ACTIVITY);
    provider.add_regions("13");
    ASSERT_TRUE(directory_.CreateProvider(provider).ok());
    v1::Offering offering;
    offering.set_name(kOffering);
    offering.set_display_name("Hälsosam kom igång");
    offering.set_activity_type("halsosam");
    offering.set_region("13");
    offering.set_kommun_code("1380");
    ASSERT_TRUE(directory_.CreateOffering(offering).ok());
  }

  // The offering as stored, to see that a refused request left it alone.
  std::string Stored() {
    v1::GetOfferingRequest get;
    get.set_name(kOffering);
    return desk_.GetOffering(kAdmin, get)->SerializeAsString();
  }

  SwedishCalendar calendar_;
  FakeClock clock_;
  InMemoryReferralRepository referrals_;
  InMemoryDirectoryRepository directory_;
  DirectoryDesk desk_;
};

TEST_F(DirectoryDeskTest, AnEtagTheServerCannotHaveGivenIsInvalid) {
  const std::string before = Stored();
  v1::UpdateOfferingRequest update;
  update.mutable_offering()->set_name(kOffering);
  update.mutable_offering()->set_etag(std::string(100000, '1'));
  update.mutable_offering()->set_site("Halmstad");
  update.mutable_update_mask()->add_paths("site");
  absl::Status status = desk_.UpdateOffering(kAdmin, update).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("offering.etag"));
  EXPECT_LT(status.message().size(), 200u);

  v1::UpdateProviderRequest provider;
  provider.mutable_provider()->set_name("providers/halsosam-halmstad");
  provider.mutable_provider()->set_etag("v1");
  provider.mutable_update_mask()->add_paths("display_name");
  status = desk_.UpdateProvider(kAdmin, provider).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("provider.etag"));

  v1::PublishCapacityRequest publish;
  publish.set_offering(kOffering);
  publish.set_etag("1 ");
  publish.mutable_capacity()->mutable_places()->set_total(3);
  status = desk_.PublishCapacity(kProvider, publish).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("etag"));
  EXPECT_EQ(Stored(), before);
}

TEST_F(DirectoryDeskTest, AnUpdateMaskNamesEachPathOnce) {
  const std::string before = Stored();
  v1::UpdateOfferingRequest update;
  update.mutable_offering()->set_name(kOffering);
  update.mutable_offering()->set_site("Halmstad");
  update.mutable_update_mask()->add_paths("site");
  update.mutable_update_mask()->add_paths("site");
  const absl::Status status = desk_.UpdateOffering(kAdmin, update).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "update_mask.paths[1] must not repeat an earlier path, got "
            "\"site\"");
  EXPECT_EQ(Stored(), before);

  update.mutable_update_mask()->mutable_paths()->RemoveLast();
  EXPECT_TRUE(desk_.UpdateOffering(kAdmin, update).ok());
}

TEST_F(DirectoryDeskTest, ListOfferingsChecksItsActivityTypeFilter) {
  v1::ListOfferingsRequest list;
  list.set_parent("providers/-");
  list.set_activity_type(std::string(65, 'a'));
  absl::Status status = desk_.ListOfferings(kAdmin, list).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("activity_type must be 1..64 characters of [a-z0-9-]"));
  list.set_activity_type("halsosam");
  const absl::StatusOr<v1::ListOfferingsResponse> listed =
      desk_.ListOfferings(kAdmin, list);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->offerings_size(), 1);
}

}  // namespace
}  // namespace slussen::core

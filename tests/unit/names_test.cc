#include "broker/core/model/names.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kId[] = "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1C";

// Checks that `status` is INVALID_ARGUMENT whose message begins with
// `field`, so a person knows which field to fix.
void ExpectInvalid(const absl::Status& status, absl::string_view field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()),
              StartsWith(std::string(field) + " "));
}

TEST(Names, EveryLanCodeIsARegion) {
  // SCB länskoder; 02, 11, 15 and 16 fell out in the 1990s mergers.
  const std::vector<absl::string_view> codes = {
      "01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13",
      "14", "17", "18", "19", "20", "21", "22", "23", "24", "25"};
  for (absl::string_view code : codes) {
    EXPECT_TRUE(IsRegionCode(code)) << code;
    EXPECT_FALSE(RegionDisplayName(code).empty()) << code;
  }
  EXPECT_EQ(RegionCodes(), codes);
}

TEST(Names, OtherCodesAreNoRegion) {
  for (absl::string_view code : {"00", "02", "11", "15", "16", "26", "99", "1",
                                 "13 ", "013", "ab", "-", ""}) {
    EXPECT_FALSE(IsRegionCode(code)) << code;
    EXPECT_TRUE(RegionDisplayName(code).empty()) << code;
  }
}

TEST(Names, RegionDisplayNameNamesTheLan) {
  EXPECT_EQ(RegionDisplayName("13"), "Hallands län");
  EXPECT_EQ(RegionDisplayName("01"), "Stockholms län");
  EXPECT_EQ(RegionDisplayName("25"), "Norrbottens län");
}

TEST(Names, KommunCodeOfFourDigitsInALanIsValid) {
  EXPECT_TRUE(ValidateKommunCode("k", "1380").ok());  // Halmstad
  EXPECT_TRUE(ValidateKommunCode("k", "0180").ok());  // Stockholm
  EXPECT_TRUE(ValidateKommunCode("k", "2584").ok());  // Kiruna
}

TEST(Names, KommunCodeOfWrongFormIsRefused) {
  for (absl::string_view code : {"138", "13800", "13a0", "13-8", " 1380"}) {
    SCOPED_TRACE(code);
    const absl::Status status = ValidateKommunCode("impulse.kommun_code", code);
    ExpectInvalid(status, "impulse.kommun_code");
    EXPECT_THAT(std::string(status.message()), HasSubstr("four digits"));
  }
}

TEST(Names, KommunCodeOutsideEveryLanIsRefused) {
  for (absl::string_view code : {"0280", "1180", "2680", "0080"}) {
    SCOPED_TRACE(code);
    const absl::Status status = ValidateKommunCode("impulse.kommun_code", code);
    ExpectInvalid(status, "impulse.kommun_code");
    EXPECT_THAT(std::string(status.message()), HasSubstr("län code"));
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("\"" + std::string(code) + "\""));
  }
}

TEST(Names, EmptyKommunCodeIsMissing) {
  const absl::Status status = ValidateKommunCode("impulse.kommun_code", "");
  ExpectInvalid(status, "impulse.kommun_code");
  EXPECT_THAT(std::string(status.message()), HasSubstr("is required"));
}

TEST(Names, RegionOfKommunIsItsFirstTwoDigits) {
  EXPECT_EQ(RegionOfKommun("1380"), "13");
  EXPECT_EQ(RegionOfKommun("0180"), "01");
}

TEST(Names, ReferralNameRoundTrips) {
  const std::string text = std::string("regions/13/referrals/") + kId;
  const absl::StatusOr<ReferralName> name = ParseReferralName("name", text);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->region, "13");
  EXPECT_EQ(name->id, kId);
  EXPECT_EQ(name->ToString(), text);
}

TEST(Names, ReferralNameInAnotherCollectionIsRefused) {
  for (const std::string& text :
       {std::string("regions/13/offers/") + kId,
        std::string("region/13/referrals/") + kId,
        std::string("regions/13/referrals/") + kId + "/history",
        std::string("/regions/13/referrals/") + kId,
        std::string("referrals/") + kId}) {
    SCOPED_TRACE(text);
    ExpectInvalid(ParseReferralName("name", text).status(), "name");
  }
}

TEST(Names, ReferralNameWithBadRegionIsRefused) {
  for (absl::string_view region : {"02", "1", "-", "", "130"}) {
    const std::string text =
        std::string("regions/") + std::string(region) + "/referrals/" + kId;
    SCOPED_TRACE(text);
    ExpectInvalid(ParseReferralName("referral.name", text).status(),
                  "referral.name");
  }
}

TEST(Names, ReferralNameWithBadIdIsRefused) {
  const std::string id(kId);
  const std::vector<std::string> bad_ids = {
      id.substr(0, 25), id + "0",
      // Crockford base32 leaves out I, L, O and U.
      "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1U", "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1I",
      "01JBZ6W6E9Y7ZQ5Z7M5X4R2K1-", std::string()};
  for (const std::string& bad : bad_ids) {
    SCOPED_TRACE(bad);
    const absl::StatusOr<ReferralName> name =
        ParseReferralName("name", "regions/13/referrals/" + bad);
    ExpectInvalid(name.status(), "name");
    EXPECT_THAT(std::string(name.status().message()),
                HasSubstr("26-character"));
  }
}

TEST(Names, EmptyReferralNameIsMissing) {
  const absl::StatusOr<ReferralName> name = ParseReferralName("name", "");
  ExpectInvalid(name.status(), "name");
  EXPECT_THAT(std::string(name.status().message()), HasSubstr("is required"));
}

TEST(Names, RegionParentGivesTheLanCode) {
  const absl::StatusOr<std::string> region =
      ParseRegionParent("parent", "regions/13", /*allow_any_region=*/false);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(*region, "13");
}

TEST(Names, AnyRegionParentOnlyWhenAllowed) {
  const absl::StatusOr<std::string> any =
      ParseRegionParent("parent", "regions/-", /*allow_any_region=*/true);
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(*any, kAnyRegion);

  const absl::StatusOr<std::string> refused =
      ParseRegionParent("parent", "regions/-", /*allow_any_region=*/false);
  ExpectInvalid(refused.status(), "parent");
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("\"regions/-\""));
}

TEST(Names, BadRegionParentIsRefused) {
  for (absl::string_view parent :
       {"regions/02", "regions/13/", "regions/", "13", "region/13",
        "regions/13/referrals", "regions/--"}) {
    SCOPED_TRACE(parent);
    ExpectInvalid(ParseRegionParent("parent", parent, true).status(), "parent");
  }
  const absl::StatusOr<std::string> empty =
      ParseRegionParent("parent", "", true);
  ExpectInvalid(empty.status(), "parent");
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("is required"));
}

TEST(Names, IsResourceIdWantsTwentySixCrockfordCharacters) {
  EXPECT_TRUE(IsResourceId(kId));
  EXPECT_TRUE(IsResourceId("00000000000000000000000000"));
  EXPECT_FALSE(IsResourceId("01JBZ6W6E9Y7ZQ5Z7M5X4R2K1"));
  EXPECT_FALSE(IsResourceId("01JBZ6W6E9Y7ZQ5Z7M5X4R2K1O"));
  EXPECT_FALSE(IsResourceId(""));
}

TEST(Names, IsSlugId) {
  EXPECT_TRUE(IsSlugId("ab"));
  EXPECT_TRUE(IsSlugId("fk-lfc-halmstad"));
  EXPECT_TRUE(IsSlugId("a1"));
  EXPECT_TRUE(IsSlugId(std::string(63, 'a')));
  EXPECT_FALSE(IsSlugId(std::string(64, 'a')));
  EXPECT_FALSE(IsSlugId("a"));
  EXPECT_FALSE(IsSlugId(""));
  EXPECT_FALSE(IsSlugId("1ab"));       // starts with a digit
  EXPECT_FALSE(IsSlugId("-ab"));       // starts with '-'
  EXPECT_FALSE(IsSlugId("ab-"));       // ends with '-'
  EXPECT_FALSE(IsSlugId("Ab"));        // upper case
  EXPECT_FALSE(IsSlugId("a_b"));       // underscore
  EXPECT_FALSE(IsSlugId("a b"));       // space
  EXPECT_FALSE(IsSlugId("a/b"));       // slash
  EXPECT_FALSE(IsSlugId("hälsosam"));  // not ASCII
}

TEST(Names, ProviderName) {
  EXPECT_TRUE(ValidateProviderName("p", "providers/work-for-you").ok());
  for (absl::string_view bad :
       {"providers/", "providers/a", "provider/work-for-you", "work-for-you",
        "providers/Work", "providers/ab/cd", "frameworkAgreements/ab", ""}) {
    SCOPED_TRACE(bad);
    const absl::Status status =
        ValidateProviderName("referral.activity.preferred_provider", bad);
    ExpectInvalid(status, "referral.activity.preferred_provider");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("providers/{provider}"));
  }
}

TEST(Names, FrameworkAgreementName) {
  EXPECT_TRUE(
      ValidateFrameworkAgreementName("f", "frameworkAgreements/fk-rehab-2025")
          .ok());
  for (absl::string_view bad :
       {"frameworkAgreements/", "frameworkagreements/fk-rehab", "fk-rehab-2025",
        "frameworkAgreements/FK", "providers/fk-rehab", ""}) {
    SCOPED_TRACE(bad);
    const absl::Status status = ValidateFrameworkAgreementName(
        "referral.rehab_service_order.framework_agreement", bad);
    ExpectInvalid(status, "referral.rehab_service_order.framework_agreement");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("frameworkAgreements/{agreement}"));
  }
}

TEST(Names, QueueNameRoundTrips) {
  for (absl::string_view text :
       {"regions/13/queues/halsosam~13", "regions/13/queues/halsosam~1380",
        "regions/19/queues/funktionsbrevlada~19"}) {
    SCOPED_TRACE(text);
    const absl::StatusOr<QueueName> name = ParseQueueName("queue", text);
    ASSERT_TRUE(name.ok()) << name.status();
    EXPECT_EQ(name->ToString(), text);
  }
  const QueueName name = *ParseQueueName("q", "regions/13/queues/redo~1380");
  EXPECT_EQ(name.region, "13");
  EXPECT_EQ(name.activity_type, "redo");
  EXPECT_EQ(name.area, "1380");
}

TEST(Names, BadQueueNameIsRefused) {
  for (const std::string& bad :
       {std::string("regions/13/queues/halsosam"),
        std::string("regions/13/queues/halsosam~12"),    // another region
        std::string("regions/13/queues/halsosam~1280"),  // a kommun outside
        std::string("regions/13/queues/Hälsosam~13"),    // not a code
        std::string("regions/13/queues/~13"),            // no type
        std::string("regions/13/queues/a~13~13"),        // two areas
        std::string("regions/99/queues/halsosam~99"),    // no such län
        std::string("regions/13/offers/halsosam~13"),    // another collection
        std::string("regions/13/queues/halsosam~13/x"),  // too long a path
        "regions/13/queues/" + std::string(65, 'a') + "~13"}) {
    SCOPED_TRACE(bad);
    const absl::Status status = ParseQueueName("queue", bad).status();
    ExpectInvalid(status, "queue");
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("regions/{region}/queues/{activity_type}~{area}"));
  }
  EXPECT_THAT(std::string(ParseQueueName("queue", "").status().message()),
              HasSubstr("is required"));
}

TEST(Names, OrganisationId) {
  EXPECT_TRUE(ValidateOrganisationId("o", "fk-lfc-halmstad").ok());
  ExpectInvalid(ValidateOrganisationId("scope.organisation", "AF Halmstad"),
                "scope.organisation");
  const absl::Status empty = ValidateOrganisationId("scope.organisation", "");
  ExpectInvalid(empty, "scope.organisation");
  EXPECT_THAT(std::string(empty.message()), HasSubstr("is required"));
}

}  // namespace
}  // namespace slussen::core

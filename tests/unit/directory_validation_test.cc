// Limits of the directory's resources: lists hold a bounded number of
// items, so that no single request can make the directory hold (or a
// matching pass read) without bound.
#include "broker/core/model/directory_validation.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

v1::Offering ValidOffering() {
  v1::Offering o;
  o.set_display_name("Hälsosam Halmstad");
  o.set_activity_type("halsosam");
  o.set_region("13");
  o.set_kommun_code("1380");
  return o;
}

v1::FrameworkAgreement ValidAgreement() {
  v1::FrameworkAgreement a;
  a.set_display_name("FK rehab 2025");
  a.set_procuring_agency(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
  a.add_services("arbetslivsinriktad-rehabilitering");
  a.add_regions("13");
  a.mutable_start_date()->set_year(2025);
  a.mutable_start_date()->set_month(1);
  a.mutable_start_date()->set_day(1);
  *a.mutable_end_date() = a.start_date();
  a.mutable_end_date()->set_year(2030);
  return a;
}

TEST(ValidateOffering, TakesUpToTenHourSteps) {
  v1::Offering o = ValidOffering();
  for (int i = 1; i <= 10; ++i)
    o.mutable_schedule()->add_hours_per_week_steps(i);
  EXPECT_TRUE(ValidateOffering("offering", o).ok());
  o.mutable_schedule()->add_hours_per_week_steps(20);
  const absl::Status status = ValidateOffering("offering", o);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "offering.schedule.hours_per_week_steps must hold at most 10 "
            "steps, got 11");
}

TEST(ValidateFrameworkAgreement, TakesUpToAHundredSuppliers) {
  v1::FrameworkAgreement a = ValidAgreement();
  for (int i = 1; i <= 100; ++i) {
    v1::RankedSupplier* s = a.add_suppliers();
    s->set_provider(absl::StrCat("providers/supplier-", i));
    s->set_rank(i);
  }
  EXPECT_TRUE(ValidateFrameworkAgreement("framework_agreement", a).ok())
      << ValidateFrameworkAgreement("framework_agreement", a);
  *a.add_suppliers() = a.suppliers(0);
  const absl::Status status =
      ValidateFrameworkAgreement("framework_agreement", a);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("framework_agreement.suppliers must hold at most 100"));
}

TEST(ValidateProvider, ListsAreBounded) {
  v1::Provider p;
  p.set_display_name("Amia");
  p.set_organisation("amia");
  p.set_kind(v1::PROVIDER_KIND_ACTIVITY);
  p.add_regions("13");
  for (int i = 0; i < 301; ++i) p.add_kommun_codes("1380");
  const absl::Status status = ValidateProvider("provider", p);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("provider.kommun_codes must hold at most 300"));
}

}  // namespace
}  // namespace slussen::core

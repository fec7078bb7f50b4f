#include "tests/support/sample_capacity.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "slussen/v1/provider_service.grpc.pb.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

absl::Status Check(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

v1::Date DateIn(int days) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Europe/Stockholm", &zone))
    zone = absl::UTCTimeZone();
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), zone) + days;
  v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::Status CreateHalsosamCapacity(
    const std::shared_ptr<grpc::Channel>& channel) {
  auto directory = v1::ProviderDirectory::NewStub(channel);
  v1::CreateProviderRequest provider;
  provider.set_provider_id("halsosam-halmstad");
  v1::Provider* p = provider.mutable_provider();
  p->set_display_name("Hälsosam Halmstad");
  p->set_organisation("halsosam-halmstad");
  p->set_kind(v1::PROVIDER_KIND_ACTIVITY);
  p->add_regions("13");
  {
    grpc::ClientContext context;
    Identify(&context, kAdmin);
    v1::Provider made;
    if (absl::Status s =
            Check(directory->CreateProvider(&context, provider, &made),
                  "create provider");
        !s.ok()) {
      return s;
    }
  }
  v1::CreateOfferingRequest offering;
  offering.set_parent("providers/halsosam-halmstad");
  offering.set_offering_id("kom-igang");
  v1::Offering* o = offering.mutable_offering();
  o->set_display_name("Hälsosam kom igång-grupp");
  o->set_activity_type("halsosam");
  o->set_region("13");
  o->set_kommun_code("1380");
  o->mutable_eligibility()->set_min_age_years(18);
  o->mutable_eligibility()->set_max_age_years(64);
  {
    grpc::ClientContext context;
    Identify(&context, kAdmin);
    v1::Offering made;
    if (absl::Status s =
            Check(directory->CreateOffering(&context, offering, &made),
                  "create offering");
        !s.ok()) {
      return s;
    }
  }
  v1::PublishCapacityRequest publish;
  publish.set_offering(kHalsosamOffering);
  for (const auto& [id, days] :
       std::vector<std::pair<std::string, int>>{{"host", 21}, {"vinter", 70}}) {
    v1::Cohort* cohort =
        publish.mutable_capacity()->mutable_cohorts()->add_cohorts();
    cohort->set_name(absl::StrCat(kHalsosamOffering, "/cohorts/", id));
    *cohort->mutable_start_date() = DateIn(days);
    cohort->set_min_size(8);
    cohort->set_max_size(12);
  }
  grpc::ClientContext context;
  Identify(&context, kHalsosam);
  v1::Offering published;
  return Check(directory->PublishCapacity(&context, publish, &published),
               "publish capacity");
}

}  // namespace slussen::testing

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

// Creates the activity provider `id` of region 13 (its organisation of
// the same name) and `offering` of it, in kommun 1380, as kAdmin.
absl::Status CreateProviderAndOffering(v1::ProviderDirectory::Stub& directory,
                                       const std::string& id,
                                       const std::string& display_name,
                                       v1::CreateOfferingRequest offering) {
  v1::CreateProviderRequest provider;
  provider.set_provider_id(id);
  v1::Provider* p = provider.mutable_provider();
  p->set_display_name(display_name);
  p->set_organisation(id);
  p->set_kind(v1::PROVIDER_KIND_ACTIVITY);
  p->add_regions("13");
  {
    grpc::ClientContext context;
    Identify(&context, kAdmin);
    v1::Provider made;
    if (absl::Status s =
            Check(directory.CreateProvider(&context, provider, &made),
                  "create provider");
        !s.ok()) {
      return s;
    }
  }
  offering.set_parent(absl::StrCat("providers/", id));
  offering.mutable_offering()->set_region("13");
  offering.mutable_offering()->set_kommun_code("1380");
  grpc::ClientContext context;
  Identify(&context, kAdmin);
  v1::Offering made;
  return Check(directory.CreateOffering(&context, offering, &made),
               "create offering");
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
  v1::CreateOfferingRequest offering;
  offering.set_offering_id("kom-igang");
  v1::Offering* o = offering.mutable_offering();
  o->set_display_name("Hälsosam kom igång-grupp");
  o->set_activity_type("halsosam");
  o->mutable_eligibility()->set_min_age_years(18);
  o->mutable_eligibility()->set_max_age_years(64);
  if (absl::Status s = CreateProviderAndOffering(
          *directory, "halsosam-halmstad", "Hälsosam Halmstad", offering);
      !s.ok()) {
    return s;
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

absl::Status CreateRedoOffering(const std::shared_ptr<grpc::Channel>& channel) {
  auto directory = v1::ProviderDirectory::NewStub(channel);
  v1::CreateOfferingRequest offering;
  offering.set_offering_id("vardag");
  v1::Offering* o = offering.mutable_offering();
  o->set_display_name("ReDO Vardagsrevidering");
  o->set_activity_type("redo");
  o->mutable_schedule()->set_weeks(16);
  return CreateProviderAndOffering(*directory, "redo-halland", "ReDO Halland",
                                   offering);
}

}  // namespace slussen::testing

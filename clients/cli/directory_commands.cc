#include "clients/cli/directory_commands.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/status_macros.h"
#include "clients/cli/capacity_commands.h"
#include "slussen/v1/catalog.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Counts of what an apply found and did.
struct Tally {
  int created = 0;
  int existed = 0;
  std::string Text(absl::string_view what) const {
    return absl::StrCat(created + existed, " ", what, " (", created, " new)");
  }
};

// Runs a create; ALREADY_EXISTS counts as "already there".
template <typename Call>
grpc::Status Create(const CliContext& context, Tally& tally, Call call) {
  grpc::ClientContext rpc;
  context.Prepare(&rpc);
  const grpc::Status status = call(&rpc);
  if (status.ok()) {
    ++tally.created;
  } else if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
    ++tally.existed;
    return grpc::Status::OK;
  }
  return status;
}

// The capacity a catalogue offering starts with; cohorts are dated from
// today.
v1::Capacity StartingCapacity(const v1::CatalogOffering& entry,
                              const std::string& offering_name) {
  if (entry.cohorts().empty()) return entry.capacity();
  v1::Capacity capacity;
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Europe/Stockholm", &zone))
    zone = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone);
  for (const v1::CatalogCohort& c : entry.cohorts()) {
    v1::Cohort* cohort = capacity.mutable_cohorts()->add_cohorts();
    cohort->set_name(absl::StrCat(offering_name, "/cohorts/", c.id()));
    const absl::CivilDay start = today + c.starts_in_days();
    cohort->mutable_start_date()->set_year(static_cast<int>(start.year()));
    cohort->mutable_start_date()->set_month(start.month());
    cohort->mutable_start_date()->set_day(start.day());
    cohort->set_min_size(c.min_size());
    cohort->set_max_size(c.max_size());
  }
  return capacity;
}

absl::StatusOr<int> ApplyCatalog(const CliContext& context,
                                 const std::vector<std::string>& files) {
  if (files.empty()) {
    return absl::InvalidArgumentError("`catalog apply` takes catalogue files");
  }
  Tally types, agreements, providers, offerings;
  int published = 0;
  std::ostream& out = *context.err;  // progress; the summary goes to stdout
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(const std::string text, ReadFile(file));
    v1::Catalog catalog;
    if (!google::protobuf::TextFormat::ParseFromString(text, &catalog)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, " is not a slussen.v1.Catalog in text format"));
    }
    out << "catalog: " << file << "\n";
    for (const v1::CatalogActivityType& t : catalog.activity_types()) {
      v1::CreateActivityTypeRequest request;
      request.set_activity_type_id(t.id());
      *request.mutable_activity_type() = t.activity_type();
      v1::ActivityType made;
      const grpc::Status status = Create(context, types, [&](auto* rpc) {
        return context.directory->CreateActivityType(rpc, request, &made);
      });
      if (!status.ok()) return PrintStatus(context, status);
    }
    for (const v1::CatalogAgreement& a : catalog.framework_agreements()) {
      v1::CreateFrameworkAgreementRequest request;
      request.set_framework_agreement_id(a.id());
      *request.mutable_framework_agreement() = a.agreement();
      v1::FrameworkAgreement made;
      const grpc::Status status = Create(context, agreements, [&](auto* rpc) {
        return context.directory->CreateFrameworkAgreement(rpc, request, &made);
      });
      if (!status.ok()) return PrintStatus(context, status);
    }
    for (const v1::CatalogProvider& p : catalog.providers()) {
      v1::CreateProviderRequest request;
      request.set_provider_id(p.id());
      *request.mutable_provider() = p.provider();
      v1::Provider made;
      const grpc::Status status = Create(context, providers, [&](auto* rpc) {
        return context.directory->CreateProvider(rpc, request, &made);
      });
      if (!status.ok()) return PrintStatus(context, status);
      for (const v1::CatalogOffering& o : p.offerings()) {
        const std::string parent = absl::StrCat("providers/", p.id());
        const std::string name = absl::StrCat(parent, "/offerings/", o.id());
        v1::CreateOfferingRequest create;
        create.set_parent(parent);
        create.set_offering_id(o.id());
        *create.mutable_offering() = o.offering();
        v1::Offering offering;
        const grpc::Status created = Create(context, offerings, [&](auto* rpc) {
          return context.directory->CreateOffering(rpc, create, &offering);
        });
        if (!created.ok()) return PrintStatus(context, created);
        // Capacity only where none was ever published.
        grpc::ClientContext get_rpc;
        context.Prepare(&get_rpc);
        v1::GetOfferingRequest get;
        get.set_name(name);
        const grpc::Status status_get =
            context.directory->GetOffering(&get_rpc, get, &offering);
        if (!status_get.ok()) return PrintStatus(context, status_get);
        if (offering.capacity().has_update_time()) continue;
        v1::PublishCapacityRequest publish;
        publish.set_offering(name);
        *publish.mutable_capacity() = StartingCapacity(o, name);
        grpc::ClientContext publish_rpc;
        context.Prepare(&publish_rpc);
        const grpc::Status status_publish = context.directory->PublishCapacity(
            &publish_rpc, publish, &offering);
        if (!status_publish.ok()) {
          *context.err << name << ":\n";
          return PrintStatus(context, status_publish);
        }
        ++published;
      }
      out << "  " << request.provider().display_name() << ": "
          << p.offerings_size() << " offerings\n";
    }
  }
  *context.out << "catalogue: " << types.Text("activity types") << ", "
               << agreements.Text("framework agreements") << ", "
               << providers.Text("providers") << ", "
               << offerings.Text("offerings") << "; capacity published for "
               << published << "\n";
  return kExitOk;
}

absl::StatusOr<int> ListOfferings(const CliContext& context) {
  const CliArgs& args = *context.args;
  v1::ListOfferingsRequest request;
  request.set_parent(args.Get("provider", "providers/-"));
  request.set_region(context.RegionOr(""));
  request.set_activity_type(args.Get("activity"));
  request.set_page_size(1000);
  v1::ListOfferingsResponse combined;
  const grpc::Status status = ListAllPages(
      context, context.directory,
      &v1::ProviderDirectory::StubInterface::ListOfferings, request, &combined);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, combined);
    return kExitOk;
  }
  std::ostream& out = *context.out;
  out << absl::StrFormat("%-55s %-34s %-7s %s\n", "NAME", "ACTIVITY", "KOMMUN",
                         "CAPACITY");
  for (const v1::Offering& o : combined.offerings()) {
    const v1::Capacity& c = o.capacity();
    std::string capacity = "none published";
    if (c.has_places()) {
      capacity = absl::StrFormat("places %d/%d",
                                 c.places().occupied() + c.places().held(),
                                 c.places().total());
    } else if (c.has_caseload()) {
      capacity = absl::StrFormat(
          "cases %d/%d", c.caseload().open_cases() + c.caseload().held(),
          c.caseload().max_open_cases());
    } else if (c.has_cohorts()) {
      std::vector<std::string> cohorts;
      for (const v1::Cohort& cohort : c.cohorts().cohorts()) {
        cohorts.push_back(absl::StrFormat(
            "%04d-%02d-%02d %d/%d", cohort.start_date().year(),
            cohort.start_date().month(), cohort.start_date().day(),
            cohort.enrolled() + cohort.held(), cohort.max_size()));
      }
      capacity = absl::StrCat("cohorts ", absl::StrJoin(cohorts, ", "));
    }
    if (c.stale()) capacity += " (stale)";
    out << absl::StrFormat("%-55s %-34s %-7s %s\n", o.name(), o.activity_type(),
                           o.kommun_code(), capacity);
  }
  return kExitOk;
}

absl::StatusOr<int> ListProviders(const CliContext& context) {
  v1::ListProvidersRequest request;
  request.set_region(context.RegionOr(""));
  request.set_page_size(1000);
  grpc::ClientContext rpc;
  context.Prepare(&rpc);
  v1::ListProvidersResponse response;
  const grpc::Status status =
      context.directory->ListProviders(&rpc, request, &response);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, response);
    return kExitOk;
  }
  for (const v1::Provider& p : response.providers()) {
    *context.out << absl::StrFormat("%-40s %-28s %s\n", p.name(),
                                    p.organisation(), p.display_name());
  }
  return kExitOk;
}

absl::StatusOr<int> PublishCapacity(const CliContext& context,
                                    const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  if (words.size() != 3 || words[1] != "publish") {
    return absl::InvalidArgumentError(
        "`capacity publish OFFERING` (--places=N, --caseload=N or "
        "--file=capacity.json)");
  }
  v1::PublishCapacityRequest request;
  request.set_offering(words[2]);
  int n = 0;
  if (args.Has("file")) {
    ASSIGN_OR_RETURN(const std::string json, ReadFile(args.Get("file")));
    absl::StatusOr<v1::Capacity> capacity = ParseCapacityJson(json);
    if (!capacity.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--file: ", capacity.status().message()));
    }
    *request.mutable_capacity() = *std::move(capacity);
  } else if (args.Has("places") && absl::SimpleAtoi(args.Get("places"), &n)) {
    request.mutable_capacity()->mutable_places()->set_total(n);
  } else if (args.Has("caseload") &&
             absl::SimpleAtoi(args.Get("caseload"), &n)) {
    request.mutable_capacity()->mutable_caseload()->set_max_open_cases(n);
  } else {
    return absl::InvalidArgumentError(
        "give --places=N, --caseload=N or --file=capacity.json");
  }
  request.set_etag(args.Get("etag"));
  grpc::ClientContext rpc;
  context.Prepare(&rpc);
  v1::Offering offering;
  const grpc::Status status =
      context.directory->PublishCapacity(&rpc, request, &offering);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, offering);
  } else {
    *context.out << offering.name() << ": capacity published\n";
  }
  return kExitOk;
}

absl::StatusOr<int> Directory(const CliContext& context,
                              const std::vector<std::string>& words) {
  const std::string resource = words.empty() ? "" : words[0];
  const std::string command = words.size() > 1 ? words[1] : "";
  if (resource == "catalog" && command == "apply") {
    return ApplyCatalog(
        context, std::vector<std::string>(words.begin() + 2, words.end()));
  }
  if (resource == "offerings" && command == "list") {
    return ListOfferings(context);
  }
  if (resource == "providers" && command == "list") {
    return ListProviders(context);
  }
  if (resource == "capacity") return PublishCapacity(context, words);
  if (resource == "activity-types" && command == "list") {
    v1::ListActivityTypesRequest request;
    request.set_page_size(1000);
    grpc::ClientContext rpc;
    context.Prepare(&rpc);
    v1::ListActivityTypesResponse response;
    const grpc::Status status =
        context.directory->ListActivityTypes(&rpc, request, &response);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, response);
    } else {
      for (const v1::ActivityType& t : response.activity_types()) {
        *context.out << absl::StrFormat("%-40s %s\n", t.name(),
                                        t.display_name());
      }
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown command \"", absl::StrJoin(words, " "), "\""));
}

}  // namespace

int RunDirectoryCommand(const CliContext& context,
                        const std::vector<std::string>& words) {
  absl::StatusOr<int> exit_code = Directory(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

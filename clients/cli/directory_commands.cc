#include "clients/cli/directory_commands.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "broker/core/model/directory_validation.h"
#include "broker/core/model/status_macros.h"
#include "clients/cli/capacity_commands.h"
#include "google/protobuf/field_mask.pb.h"
#include "slussen/v1/catalog.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

// The capacity a catalogue offering starts with; cohorts are dated from
// `today`, the broker's.
v1::Capacity StartingCapacity(const v1::CatalogOffering& entry,
                              const std::string& offering_name,
                              absl::CivilDay today) {
  if (entry.cohorts().empty()) return entry.capacity();
  v1::Capacity capacity;
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

// One entry of a catalogue against what the broker holds.
struct Step {
  enum class Kind { kCreate, kUpdate, kSame, kRefuse } kind = Kind::kSame;
  std::string what;                 // "providers/fk-lfc-halmstad"
  std::vector<std::string> fields;  // kUpdate: the fields that differ
  std::string reason;               // kRefuse
  std::function<grpc::Status(grpc::ClientContext*)> write;
};

// The fields set in `want` whose values differ from `have`'s, but those
// in `skip` (the broker's own: names, times, capacity).
std::vector<std::string> DifferingFields(const google::protobuf::Message& want,
                                         const google::protobuf::Message& have,
                                         const std::set<std::string>& skip) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  want.GetReflection()->ListFields(want, &set);
  std::vector<std::string> differ;
  const google::protobuf::Descriptor* descriptor = want.GetDescriptor();
  for (const google::protobuf::FieldDescriptor* field : set) {
    if (skip.count(field->name()) > 0) continue;
    std::unique_ptr<google::protobuf::Message> a(want.New());
    std::unique_ptr<google::protobuf::Message> b(have.New());
    a->CopyFrom(want);
    b->CopyFrom(have);
    for (int i = 0; i < descriptor->field_count(); ++i) {
      if (descriptor->field(i) == field) continue;
      a->GetReflection()->ClearField(a.get(), descriptor->field(i));
      b->GetReflection()->ClearField(b.get(), descriptor->field(i));
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(*a, *b)) {
      differ.push_back(field->name());
    }
  }
  return differ;
}

absl::Status StatusOf(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// What the broker holds of one entry: nullopt when it has none.
// `broker_time`, if not yet known, gets the broker's clock from the
// answer (x-slussen-time).
template <typename Message, typename Get>
absl::StatusOr<std::optional<Message>> Existing(
    const CliContext& context, std::optional<absl::Time>& broker_time,
    Get get) {
  grpc::ClientContext rpc;
  context.Prepare(&rpc);
  Message have;
  const grpc::Status status = get(&rpc, &have);
  if (!broker_time.has_value()) {
    const auto& headers = rpc.GetServerInitialMetadata();
    const auto it = headers.find("x-slussen-time");
    absl::Time time;
    std::string error;
    if (it != headers.end() &&
        absl::ParseTime(absl::RFC3339_full,
                        std::string(it->second.data(), it->second.size()),
                        &time, &error)) {
      broker_time = time;
    }
  }
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
  if (!status.ok()) return StatusOf(status);
  return have;
}

// The step for an entry the broker may hold: create it, update the fields
// that differ (when `update` can), or refuse.
template <typename Message>
Step Compare(const std::string& what, const Message& want,
             const std::optional<Message>& have,
             std::function<grpc::Status(grpc::ClientContext*)> create,
             std::function<grpc::Status(grpc::ClientContext*,
                                        const std::vector<std::string>&)>
                 update) {
  static const std::set<std::string> kOwn = {
      "name", "create_time", "update_time", "etag", "capacity", "state"};
  Step step;
  step.what = what;
  if (!have.has_value()) {
    step.kind = Step::Kind::kCreate;
    step.write = std::move(create);
    return step;
  }
  step.fields = DifferingFields(want, *have, kOwn);
  if (step.fields.empty()) return step;
  if (!update) {
    step.kind = Step::Kind::kRefuse;
    step.reason = absl::StrCat(
        "differs in ", absl::StrJoin(step.fields, ", "),
        ", and the broker keeps ", Message::descriptor()->name(),
        " as first made (no update); leave it as it is in the file");
    return step;
  }
  step.kind = Step::Kind::kUpdate;
  const std::vector<std::string> fields = step.fields;
  step.write = [update, fields](grpc::ClientContext* rpc) {
    return update(rpc, fields);
  };
  return step;
}

// A step refused before anything is written: an entry the broker would
// refuse, by the broker's own rules (core/model/directory_validation.h).
Step Refused(const std::string& what, const absl::Status& status) {
  Step step;
  step.kind = Step::Kind::kRefuse;
  step.what = what;
  step.reason = std::string(status.message());
  return step;
}

google::protobuf::FieldMask MaskOf(const std::vector<std::string>& fields) {
  google::protobuf::FieldMask mask;
  for (const std::string& field : fields) mask.add_paths(field);
  return mask;
}

// An offering the broker would refuse: its own fields, a region its
// provider does not serve, an activity type or agreement neither the
// catalogues nor the broker have.
// `confirmed` remembers the types and agreements the broker was asked
// about and has, so that each is asked about once an apply.
absl::Status OfferingFits(const CliContext& context,
                          std::optional<absl::Time>& broker_time,
                          std::set<std::string>& confirmed,
                          const std::vector<v1::Catalog>& catalogs,
                          const v1::CatalogProvider& provider,
                          const v1::Offering& offering) {
  RETURN_IF_ERROR(core::ValidateOffering("offering", offering));
  const auto& regions = provider.provider().regions();
  if (std::find(regions.begin(), regions.end(), offering.region()) ==
      regions.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offering.region must be a region providers/", provider.id(),
        " serves; got \"", offering.region(), "\""));
  }
  bool type_known =
      confirmed.count("activityTypes/" + offering.activity_type()) > 0;
  bool agreement_known = offering.framework_agreement().empty() ||
                         confirmed.count(offering.framework_agreement()) > 0;
  for (const v1::Catalog& catalog : catalogs) {
    for (const v1::CatalogActivityType& t : catalog.activity_types()) {
      type_known = type_known || t.id() == offering.activity_type();
    }
    for (const v1::CatalogAgreement& a : catalog.framework_agreements()) {
      agreement_known = agreement_known ||
                        absl::StrCat("frameworkAgreements/", a.id()) ==
                            offering.framework_agreement() ||
                        a.id() == offering.framework_agreement();
    }
  }
  v1::ProviderDirectory::StubInterface* d = context.directory;
  if (!type_known) {
    ASSIGN_OR_RETURN(const std::optional<v1::ActivityType> have,
                     Existing<v1::ActivityType>(
                         context, broker_time, [&](auto* rpc, auto* out) {
                           v1::GetActivityTypeRequest get;
                           get.set_name(absl::StrCat("activityTypes/",
                                                     offering.activity_type()));
                           return d->GetActivityType(rpc, get, out);
                         }));
    if (!have.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("offering.activity_type must be an activity type of the "
                       "catalogue; got \"",
                       offering.activity_type(), "\""));
    }
    confirmed.insert("activityTypes/" + offering.activity_type());
  }
  if (!agreement_known) {
    ASSIGN_OR_RETURN(const std::optional<v1::FrameworkAgreement> have,
                     Existing<v1::FrameworkAgreement>(
                         context, broker_time, [&](auto* rpc, auto* out) {
                           v1::GetFrameworkAgreementRequest get;
                           get.set_name(offering.framework_agreement());
                           return d->GetFrameworkAgreement(rpc, get, out);
                         }));
    if (!have.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "offering.framework_agreement names no agreement; got \"",
          offering.framework_agreement(), "\""));
    }
    confirmed.insert(offering.framework_agreement());
  }
  return absl::OkStatus();
}

// Every step of the catalogues in `files`, read from the broker, nothing
// written.
absl::StatusOr<std::vector<Step>> Plan(
    const CliContext& context, const std::vector<v1::Catalog>& catalogs) {
  std::vector<Step> steps;
  v1::ProviderDirectory::StubInterface* d = context.directory;
  // The broker's clock, from its first answer: cohorts "in 21 days" are
  // dated as the broker counts days (a testing clock included).
  std::optional<absl::Time> broker_time;
  std::set<std::string> confirmed;
  for (const v1::Catalog& catalog : catalogs) {
    for (const v1::CatalogActivityType& t : catalog.activity_types()) {
      const std::string name = absl::StrCat("activityTypes/", t.id());
      ASSIGN_OR_RETURN(const std::optional<v1::ActivityType> have,
                       Existing<v1::ActivityType>(
                           context, broker_time, [&](auto* rpc, auto* out) {
                             v1::GetActivityTypeRequest get;
                             get.set_name(name);
                             return d->GetActivityType(rpc, get, out);
                           }));
      if (absl::Status valid =
              core::ValidateActivityType("activity_type", t.activity_type());
          !valid.ok()) {
        steps.push_back(Refused(name, valid));
        continue;
      }
      v1::CreateActivityTypeRequest create;
      create.set_activity_type_id(t.id());
      *create.mutable_activity_type() = t.activity_type();
      steps.push_back(Compare<v1::ActivityType>(
          name, t.activity_type(), have,
          [d, create](grpc::ClientContext* rpc) {
            v1::ActivityType made;
            return d->CreateActivityType(rpc, create, &made);
          },
          nullptr));
    }
    for (const v1::CatalogAgreement& a : catalog.framework_agreements()) {
      const std::string name = absl::StrCat("frameworkAgreements/", a.id());
      ASSIGN_OR_RETURN(const std::optional<v1::FrameworkAgreement> have,
                       Existing<v1::FrameworkAgreement>(
                           context, broker_time, [&](auto* rpc, auto* out) {
                             v1::GetFrameworkAgreementRequest get;
                             get.set_name(name);
                             return d->GetFrameworkAgreement(rpc, get, out);
                           }));
      if (absl::Status valid =
              core::ValidateFrameworkAgreement("agreement", a.agreement());
          !valid.ok()) {
        steps.push_back(Refused(name, valid));
        continue;
      }
      v1::CreateFrameworkAgreementRequest create;
      create.set_framework_agreement_id(a.id());
      *create.mutable_framework_agreement() = a.agreement();
      steps.push_back(Compare<v1::FrameworkAgreement>(
          name, a.agreement(), have,
          [d, create](grpc::ClientContext* rpc) {
            v1::FrameworkAgreement made;
            return d->CreateFrameworkAgreement(rpc, create, &made);
          },
          nullptr));
    }
    for (const v1::CatalogProvider& p : catalog.providers()) {
      const std::string name = absl::StrCat("providers/", p.id());
      ASSIGN_OR_RETURN(const std::optional<v1::Provider> have,
                       Existing<v1::Provider>(
                           context, broker_time, [&](auto* rpc, auto* out) {
                             v1::GetProviderRequest get;
                             get.set_name(name);
                             return d->GetProvider(rpc, get, out);
                           }));
      if (absl::Status valid = core::ValidateProvider("provider", p.provider());
          !valid.ok()) {
        steps.push_back(Refused(name, valid));
        continue;
      }
      v1::CreateProviderRequest create;
      create.set_provider_id(p.id());
      *create.mutable_provider() = p.provider();
      v1::Provider wanted = p.provider();
      wanted.set_name(name);
      steps.push_back(Compare<v1::Provider>(
          name, p.provider(), have,
          [d, create](grpc::ClientContext* rpc) {
            v1::Provider made;
            return d->CreateProvider(rpc, create, &made);
          },
          [d, wanted](grpc::ClientContext* rpc,
                      const std::vector<std::string>& fields) {
            v1::UpdateProviderRequest update;
            *update.mutable_provider() = wanted;
            *update.mutable_update_mask() = MaskOf(fields);
            v1::Provider made;
            return d->UpdateProvider(rpc, update, &made);
          }));
      for (const v1::CatalogOffering& o : p.offerings()) {
        const std::string offering = absl::StrCat(name, "/offerings/", o.id());
        ASSIGN_OR_RETURN(const std::optional<v1::Offering> have_offering,
                         Existing<v1::Offering>(
                             context, broker_time, [&](auto* rpc, auto* out) {
                               v1::GetOfferingRequest get;
                               get.set_name(offering);
                               return d->GetOffering(rpc, get, out);
                             }));
        if (absl::Status valid = OfferingFits(context, broker_time, confirmed,
                                              catalogs, p, o.offering());
            !valid.ok()) {
          steps.push_back(Refused(offering, valid));
          continue;
        }
        v1::CreateOfferingRequest create_offering;
        create_offering.set_parent(name);
        create_offering.set_offering_id(o.id());
        *create_offering.mutable_offering() = o.offering();
        v1::Offering wanted_offering = o.offering();
        wanted_offering.set_name(offering);
        steps.push_back(Compare<v1::Offering>(
            offering, o.offering(), have_offering,
            [d, create_offering](grpc::ClientContext* rpc) {
              v1::Offering made;
              return d->CreateOffering(rpc, create_offering, &made);
            },
            [d, wanted_offering](grpc::ClientContext* rpc,
                                 const std::vector<std::string>& fields) {
              v1::UpdateOfferingRequest update;
              *update.mutable_offering() = wanted_offering;
              *update.mutable_update_mask() = MaskOf(fields);
              v1::Offering made;
              return d->UpdateOffering(rpc, update, &made);
            }));
        // Capacity only where none was ever published.
        if (have_offering.has_value() &&
            have_offering->capacity().has_update_time()) {
          continue;
        }
        Step publish;
        publish.kind = Step::Kind::kCreate;
        publish.what = absl::StrCat(offering, " (its first capacity)");
        v1::PublishCapacityRequest request;
        request.set_offering(offering);
        *request.mutable_capacity() =
            StartingCapacity(o, offering,
                             absl::ToCivilDay(broker_time.value_or(absl::Now()),
                                              StockholmZone()));
        publish.write = [d, request](grpc::ClientContext* rpc) {
          v1::Offering made;
          return d->PublishCapacity(rpc, request, &made);
        };
        steps.push_back(std::move(publish));
      }
    }
  }
  return steps;
}

absl::StatusOr<int> ApplyCatalog(const CliContext& context,
                                 const std::vector<std::string>& files) {
  if (files.empty()) {
    return absl::InvalidArgumentError("`catalog apply` takes catalogue files");
  }
  // Every file is read before anything is asked or written.
  std::vector<v1::Catalog> catalogs;
  for (const std::string& file : files) {
    ASSIGN_OR_RETURN(const std::string text,
                     ReadFileText("catalog apply", file));
    v1::Catalog catalog;
    if (!google::protobuf::TextFormat::ParseFromString(text, &catalog)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, " is not a slussen.v1.Catalog in text format"));
    }
    catalogs.push_back(std::move(catalog));
  }
  absl::StatusOr<std::vector<Step>> planned = Plan(context, catalogs);
  if (!planned.ok()) {
    return PrintStatus(
        context,
        grpc::Status(static_cast<grpc::StatusCode>(planned.status().code()),
                     std::string(planned.status().message())));
  }
  std::vector<Step>& steps = *planned;
  const bool dry_run = context.args->Flag("dry-run");
  int creates = 0, updates = 0, same = 0, refused = 0;
  for (const Step& step : steps) {
    switch (step.kind) {
      case Step::Kind::kCreate:
        ++creates;
        break;
      case Step::Kind::kUpdate:
        ++updates;
        break;
      case Step::Kind::kSame:
        ++same;
        break;
      case Step::Kind::kRefuse:
        ++refused;
        break;
    }
  }
  // The difference: what would change, and what cannot.
  for (const Step& step : steps) {
    // New entries one a line only on a dry run: a first load is all new.
    if (step.kind == Step::Kind::kCreate && dry_run) {
      *context.out << "create  " << step.what << "\n";
    } else if (step.kind == Step::Kind::kUpdate) {
      *context.out << "update  " << step.what << ": "
                   << absl::StrJoin(step.fields, ", ") << "\n";
    } else if (step.kind == Step::Kind::kRefuse) {
      *context.err << "refused " << step.what << ": " << step.reason << "\n";
    }
  }
  const std::string summary = absl::StrCat(
      creates, " to create, ", updates, " to update, ", same, " unchanged",
      refused > 0 ? absl::StrCat(", ", refused, " refused") : "");
  if (refused > 0) {
    *context.err << "catalogue: " << summary
                 << "; nothing written (all or nothing)\n";
    return kExitRpcError;
  }
  if (dry_run) {
    *context.out << "catalogue: " << summary
                 << " (--dry-run: nothing written)\n";
    return kExitOk;
  }
  int done = 0;
  for (const Step& step : steps) {
    if (!step.write) continue;
    grpc::ClientContext rpc;
    context.Prepare(&rpc);
    const grpc::Status status = step.write(&rpc);
    // Created meanwhile by another apply: as good as done.
    if (!status.ok() &&
        !(step.kind == Step::Kind::kCreate &&
          status.error_code() == grpc::StatusCode::ALREADY_EXISTS)) {
      *context.err << step.what << ": stopped after " << done << " of "
                   << creates + updates
                   << " changes (run it again to finish; done ones stay)\n";
      return PrintStatus(context, status);
    }
    ++done;
  }
  *context.out << "catalogue: " << creates << " created, " << updates
               << " updated, " << same << " unchanged\n";
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
    ASSIGN_OR_RETURN(const std::string json,
                     ReadFileText("--file", args.Get("file")));
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

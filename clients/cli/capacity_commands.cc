#include "clients/cli/capacity_commands.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/status_macros.h"
#include "clients/cli/field_path.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/struct.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

// A date written "2027-01-11" as protobuf's JSON of slussen.v1.Date.
void DatesAsObjects(google::protobuf::Value& value) {
  if (value.has_struct_value()) {
    for (auto& [key, field] : *value.mutable_struct_value()->mutable_fields()) {
      absl::CivilDay day;
      if (absl::EndsWith(key, "date") && field.has_string_value() &&
          absl::ParseCivilTime(field.string_value(), &day)) {
        auto& date = *field.mutable_struct_value()->mutable_fields();
        date["year"].set_number_value(static_cast<double>(day.year()));
        date["month"].set_number_value(day.month());
        date["day"].set_number_value(day.day());
        continue;
      }
      DatesAsObjects(field);
    }
  } else if (value.has_list_value()) {
    for (google::protobuf::Value& item :
         *value.mutable_list_value()->mutable_values()) {
      DatesAsObjects(item);
    }
  }
}

constexpr char kCapacityExamples[] =
    "a Capacity in JSON, such as {\"places\": {\"total\": 8}}, "
    "{\"caseload\": {\"max_open_cases\": 40}} or {\"cohorts\": "
    "[{\"start_date\": \"2027-01-11\", \"min_size\": 6, \"max_size\": 12}]} "
    "(clients/examples/capacity/)";

}  // namespace

absl::StatusOr<v1::Capacity> ParseCapacityJson(const std::string& json) {
  // As a person writes it: cohorts as a list, dates as "2027-01-11".
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(json, &value).ok() ||
      !value.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON; give ", kCapacityExamples));
  }
  auto& fields = *value.mutable_struct_value()->mutable_fields();
  if (const auto it = fields.find("cohorts");
      it != fields.end() && it->second.has_list_value()) {
    google::protobuf::Value list = it->second;
    (*it->second.mutable_struct_value()->mutable_fields())["cohorts"] = list;
  }
  DatesAsObjects(value);
  std::string normalised;
  (void)google::protobuf::util::MessageToJsonString(value, &normalised);
  v1::Capacity capacity;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(normalised, &capacity);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        parsed.message().as_string(), "; give ", kCapacityExamples));
  }
  return capacity;
}

namespace {

std::string CohortLine(const v1::Cohort& c) {
  return absl::StrFormat(
      "%-70s %04d-%02d-%02d  %2d..%-3d enrolled %d, held %d  %s", c.name(),
      c.start_date().year(), c.start_date().month(), c.start_date().day(),
      c.min_size(), c.max_size(), c.enrolled(), c.held(),
      ShortName<v1::CohortState>(c.state(), "COHORT_STATE_"));
}

absl::StatusOr<v1::Offering> GetOffering(const CliContext& context,
                                         const std::string& name) {
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::GetOfferingRequest request;
  request.set_name(name);
  v1::Offering offering;
  const grpc::Status status =
      context.directory->GetOffering(&call, request, &offering);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return offering;
}

// `cohorts list|add|decide`.
absl::StatusOr<int> Cohorts(const CliContext& context,
                            const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  const std::string command = words.size() > 1 ? words[1] : "";
  if (words.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("`cohorts ", command, "` takes one name"));
  }
  const std::string& name = words[2];
  if (command == "list" || command == "add") {
    absl::StatusOr<v1::Offering> offering = GetOffering(context, name);
    if (!offering.ok()) {
      return PrintStatus(
          context,
          grpc::Status(static_cast<grpc::StatusCode>(offering.status().code()),
                       std::string(offering.status().message())));
    }
    if (command == "list") {
      if (context.json) {
        PrintJson(context, offering->capacity());
      } else {
        for (const v1::Cohort& c : offering->capacity().cohorts().cohorts()) {
          *context.out << (context.quiet ? c.name() : CohortLine(c)) << "\n";
        }
      }
      return kExitOk;
    }
    if (offering->capacity().model_capacity_case() != v1::Capacity::kCohorts &&
        offering->capacity().model_capacity_case() !=
            v1::Capacity::MODEL_CAPACITY_NOT_SET) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " publishes places or a caseload, not cohorts"));
    }
    // The published cohorts as they are, and the new one (no name: the
    // broker names it), published against the offering's etag so that a
    // change meanwhile is refused rather than overwritten.
    v1::PublishCapacityRequest publish;
    publish.set_offering(name);
    publish.set_etag(offering->etag());
    v1::CohortCapacity* cohorts = publish.mutable_capacity()->mutable_cohorts();
    for (const v1::Cohort& c : offering->capacity().cohorts().cohorts()) {
      v1::Cohort* kept = cohorts->add_cohorts();
      kept->set_name(c.name());
      *kept->mutable_start_date() = c.start_date();
      kept->set_min_size(c.min_size());
      kept->set_max_size(c.max_size());
    }
    ASSIGN_OR_RETURN(const std::string start, Required(args, "start"));
    ASSIGN_OR_RETURN(const v1::Date date, ParseDate("start", start));
    v1::Cohort* added = cohorts->add_cohorts();
    *added->mutable_start_date() = date;
    for (const auto& [flag, setter] :
         std::vector<std::pair<const char*, void (v1::Cohort::*)(int32_t)>>{
             {"min", &v1::Cohort::set_min_size},
             {"max", &v1::Cohort::set_max_size}}) {
      ASSIGN_OR_RETURN(const std::string text, Required(args, flag));
      int n = 0;
      if (!absl::SimpleAtoi(text, &n)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", flag, " must be a number of participants; got \"", text,
            "\""));
      }
      (added->*setter)(n);
    }
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::Offering published;
    const grpc::Status status =
        context.directory->PublishCapacity(&call, publish, &published);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, published.capacity());
      return kExitOk;
    }
    for (const v1::Cohort& c : published.capacity().cohorts().cohorts()) {
      *context.out << CohortLine(c) << "\n";
    }
    return kExitOk;
  }
  if (command == "decide") {
    v1::DecideCohortRequest request;
    request.set_name(name);
    ASSIGN_OR_RETURN(const std::string text, Required(args, "decision"));
    ASSIGN_OR_RETURN(
        const v1::CohortDecision decision,
        ParseEnum<v1::CohortDecision>("decision", text, "COHORT_DECISION_"));
    request.set_decision(decision);
    request.set_merge_into(args.Get("merge-into"));
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::Cohort cohort;
    const grpc::Status status =
        context.directory->DecideCohort(&call, request, &cohort);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, cohort);
    } else {
      *context.out << CohortLine(cohort) << "\n";
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown cohorts command \"", command, "\""));
}

// The message of --file (JSON) with each --set PATH=VALUE applied; the
// update mask is the --set paths (or, with only --file, --fields).
template <typename Message>
absl::StatusOr<google::protobuf::FieldMask> Changes(const CliContext& context,
                                                    Message& message) {
  const CliArgs& args = *context.args;
  google::protobuf::FieldMask mask;
  if (args.Has("file")) {
    RETURN_IF_ERROR(ReadJsonFile("--file", args.Get("file"), &message));
    for (const std::string& field : args.GetAll("field")) {
      mask.add_paths(field);
    }
    if (mask.paths().empty()) {
      return absl::InvalidArgumentError(
          "with --file, say which fields to change: --field=display_name "
          "(once a field)");
    }
  }
  for (const std::string& set : args.GetAll("set")) {
    const size_t equals = set.find('=');
    if (equals == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--set takes PATH=VALUE, such as --set=display_name=\"Hälsosam "
          "Halmstad\"; got \"",
          set, "\""));
    }
    const std::string path = set.substr(0, equals);
    RETURN_IF_ERROR(SetPath(message, path, set.substr(equals + 1),
                            absl::StrCat("--set ", path)));
    mask.add_paths(path);
  }
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError(
        "nothing to change: give --set=PATH=VALUE (or --file with --field)");
  }
  return mask;
}

// `offerings update` and `providers update`: the fields named by --set (or
// --file with --field) changed by `update` on the resource `name`.
template <typename Request, typename Resource>
absl::StatusOr<int> Update(
    const CliContext& context, const std::string& name,
    Resource* (Request::*resource)(),
    grpc::Status (v1::ProviderDirectory::StubInterface::*update)(
        grpc::ClientContext*, const Request&, Resource*)) {
  Request request;
  ASSIGN_OR_RETURN(*request.mutable_update_mask(),
                   Changes(context, *(request.*resource)()));
  (request.*resource)()->set_name(name);
  grpc::ClientContext call;
  context.Prepare(&call);
  Resource updated;
  const grpc::Status status =
      (context.directory->*update)(&call, request, &updated);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, updated);
  } else {
    *context.out << updated.name() << ": updated "
                 << absl::StrJoin(request.update_mask().paths(), ", ") << "\n";
  }
  return kExitOk;
}

// `agreements list|get|create`.
absl::StatusOr<int> Agreements(const CliContext& context,
                               const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  if (command == "list") {
    v1::ListFrameworkAgreementsRequest request;
    request.set_page_size(1000);
    v1::ListFrameworkAgreementsResponse all;
    const grpc::Status status = ListAllPages(
        context, context.directory,
        &v1::ProviderDirectory::StubInterface::ListFrameworkAgreements, request,
        &all);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, all);
      return kExitOk;
    }
    for (const v1::FrameworkAgreement& a : all.framework_agreements()) {
      *context.out << (context.quiet ? a.name()
                                     : absl::StrFormat("%-40s %s", a.name(),
                                                       a.display_name()))
                   << "\n";
    }
    return kExitOk;
  }
  if (words.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("`agreements ", command, "` takes one name"));
  }
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::FrameworkAgreement agreement;
  grpc::Status status;
  if (command == "get") {
    v1::GetFrameworkAgreementRequest request;
    request.set_name(words[2]);
    status =
        context.directory->GetFrameworkAgreement(&call, request, &agreement);
  } else if (command == "create") {
    v1::CreateFrameworkAgreementRequest request;
    request.set_framework_agreement_id(words[2]);
    ASSIGN_OR_RETURN(const std::string path, Required(*context.args, "file"));
    RETURN_IF_ERROR(
        ReadJsonFile("--file", path, request.mutable_framework_agreement()));
    status =
        context.directory->CreateFrameworkAgreement(&call, request, &agreement);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown agreements command \"", command, "\""));
  }
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, agreement);
  } else {
    *context.out << agreement.name() << "  " << agreement.display_name()
                 << "\n";
  }
  return kExitOk;
}

// `rule-sets list|create`.
absl::StatusOr<int> RuleSets(const CliContext& context,
                             const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  if (command == "list") {
    v1::ListDeadlineRuleSetsRequest request;
    request.set_page_size(1000);
    v1::ListDeadlineRuleSetsResponse all;
    const grpc::Status status = ListAllPages(
        context, context.coordinator,
        &v1::CoordinatorService::StubInterface::ListDeadlineRuleSets, request,
        &all);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, all);
      return kExitOk;
    }
    for (const v1::DeadlineRuleSet& r : all.rule_sets()) {
      *context.out << (context.quiet
                           ? r.name()
                           : absl::StrFormat(
                                 "%-50s %s", r.name(),
                                 ShortName<v1::ReferralKind>(r.referral_kind(),
                                                             "REFERRAL_KIND_")))
                   << "\n";
    }
    return kExitOk;
  }
  if (command == "create") {
    if (words.size() != 3) {
      return absl::InvalidArgumentError(
          "`rule-sets create` takes one id, such as impulse-callback");
    }
    v1::CreateDeadlineRuleSetRequest request;
    request.set_rule_set_id(words[2]);
    ASSIGN_OR_RETURN(const std::string path, Required(*context.args, "file"));
    RETURN_IF_ERROR(ReadJsonFile("--file", path, request.mutable_rule_set()));
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::DeadlineRuleSet made;
    const grpc::Status status =
        context.coordinator->CreateDeadlineRuleSet(&call, request, &made);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, made);
    } else {
      *context.out << made.name() << ": added\n";
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown rule-sets command \"", command, "\""));
}

}  // namespace

int RunCapacityCommand(const CliContext& context,
                       const std::vector<std::string>& words) {
  const std::string& resource = words[0];
  const std::string command = words.size() > 1 ? words[1] : "";
  absl::StatusOr<int> exit_code =
      resource == "cohorts"      ? Cohorts(context, words)
      : resource == "agreements" ? Agreements(context, words)
      : resource == "rule-sets"  ? RuleSets(context, words)
      : words.size() != 3        ? absl::InvalidArgumentError(absl::StrCat(
                                       "`", resource, " update` takes one name"))
      : resource == "offerings"
          ? Update(context, words[2],
                   &v1::UpdateOfferingRequest::mutable_offering,
                   &v1::ProviderDirectory::StubInterface::UpdateOffering)
          : Update(context, words[2],
                   &v1::UpdateProviderRequest::mutable_provider,
                   &v1::ProviderDirectory::StubInterface::UpdateProvider);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

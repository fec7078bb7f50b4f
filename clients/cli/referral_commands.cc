#include "clients/cli/referral_commands.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "broker/core/model/status_macros.h"
#include "clients/cli/cli_context.h"
#include "clients/cli/import_command.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

std::string KindName(int kind) {
  return ShortName<v1::ReferralKind>(kind, "REFERRAL_KIND_");
}

std::string StateName(int state) {
  return ShortName<v1::ReferralState>(state, "REFERRAL_STATE_");
}

void PrintDetails(std::ostream& out, const v1::Referral& r) {
  const auto row = [&](absl::string_view label, absl::string_view value) {
    if (!value.empty()) out << absl::StrFormat("  %-24s%s\n", label, value);
  };
  row("referring organisation", r.referring_organisation());
  row("created", FormatTime(r.create_time()));
  row("updated", FormatTime(r.update_time()));
  row("etag", r.etag());
  if (r.protected_personal_data()) {
    row("protected personal data",
        absl::StrCat("yes: reach the participant through ",
                     r.referrer().display_name()));
  }
  switch (r.details_case()) {
    case v1::Referral::kImpulse: {
      const v1::Impulse& i = r.impulse();
      row("kommun", i.kommun_code());
      row("need",
          ShortName<v1::NeedCategory>(i.need_category(), "NEED_CATEGORY_"));
      std::vector<std::string> route = {i.call_back().display_name()};
      for (const std::string& part :
           {i.call_back().unit(), i.call_back().phone(),
            i.call_back().email()}) {
        if (!part.empty()) route.push_back(part);
      }
      row("call back", absl::StrJoin(route, ", "));
      break;
    }
    case v1::Referral::kActivity:
      row("activity", r.activity().activity_type());
      row("preferred provider", r.activity().preferred_provider());
      break;
    case v1::Referral::kRehabServiceOrder:
      row("framework agreement", r.rehab_service_order().framework_agreement());
      row("service", r.rehab_service_order().service());
      break;
    case v1::Referral::kJointMapping:
      row("counterpart", ShortName<v1::AgencyKind>(
                             r.joint_mapping().counterpart(), "AGENCY_KIND_"));
      break;
    case v1::Referral::kTeamHandover:
      row("team", r.team_handover().team());
      break;
    case v1::Referral::DETAILS_NOT_SET:
      break;
  }
  if (r.has_joint()) {
    row("joint referral",
        absl::StrCat("funded by ", r.joint().funding_organisation(), "; ",
                     r.referring_organisation(), " leads"));
    for (const v1::JointParty& party : r.joint().parties()) {
      std::vector<std::string> sees;
      for (int category : party.data_categories()) {
        sees.push_back(ShortName<v1::DataCategory>(category, "DATA_CATEGORY_"));
      }
      row(absl::StrCat("  ", party.organisation()),
          absl::StrCat(
              ShortName<v1::JointPartyRole>(party.role(), "JOINT_PARTY_ROLE_"),
              "; sees ", sees.empty() ? "nothing" : absl::StrJoin(sees, ", ")));
    }
  }
  if (r.has_participant()) {
    row("participant", r.participant().pseudonym());
    if (r.participant().has_personal_identity_number()) {
      row("personnummer", "given (kept only as a keyed hash)");
    }
  }
  row("assigned to", r.assigned_provider());
  row("offering", r.assigned_offering());
  row("cohort", r.cohort());
  row("live offer", r.current_offer());
  std::vector<std::string> actions;
  for (int a : r.allowed_actions()) {
    actions.push_back(ShortName<v1::Action>(a, "ACTION_"));
  }
  row("allowed actions",
      actions.empty() ? "none" : absl::StrJoin(actions, ", "));
  if (r.state() == v1::REFERRAL_STATE_REJECTED) {
    // Why, in words: the last rejection's reasons (also in the history).
    for (auto t = r.history().rbegin(); t != r.history().rend(); ++t) {
      if (t->action() != v1::ACTION_REJECT) continue;
      row("why rejected", t->reasons().empty()
                              ? std::string("not given")
                              : absl::StrJoin(t->reasons(), "; "));
      break;
    }
  }
  if (!r.history().empty()) out << "  history\n";
  for (const v1::Transition& t : r.history()) {
    out << absl::StrFormat(
        "    %s  %-8s -> %-9s by %s (%s)%s%s\n", FormatTime(t.time()),
        ShortName<v1::Action>(t.action(), "ACTION_"), StateName(t.to_state()),
        t.actor().organisation(),
        absl::AsciiStrToLower(ShortName<v1::Role>(t.actor().role(), "ROLE_")),
        t.actor().via().empty()
            ? ""
            : absl::StrCat(" via gateway ", t.actor().via()),
        t.note().empty() ? "" : absl::StrCat(": ", t.note()));
    for (const std::string& reason : t.reasons()) {
      out << "        " << reason << "\n";
    }
  }
}

int PrintReferral(const CliContext& context, const v1::Referral& referral) {
  if (context.json) {
    PrintJson(context, referral);
  } else if (context.quiet) {
    *context.out << referral.name() << "\n";
  } else {
    *context.out << referral.name() << "  " << KindName(referral.kind()) << "  "
                 << StateName(referral.state()) << "\n";
    PrintDetails(*context.out, referral);
  }
  return kExitOk;
}

absl::StatusOr<int> Create(const CliContext& context,
                           const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  v1::CreateReferralRequest request;
  request.set_request_id(args.Get("request-id"));
  std::string region = context.RegionOr("");
  if (args.Has("file")) {
    RETURN_IF_ERROR(
        ReadJsonFile("--file", args.Get("file"), request.mutable_referral()));
  } else if (words.size() == 2 && words[1] == "impulse") {
    v1::Impulse* impulse = request.mutable_referral()->mutable_impulse();
    ASSIGN_OR_RETURN(*impulse->mutable_kommun_code(), Required(args, "kommun"));
    ASSIGN_OR_RETURN(const std::string need, Required(args, "need"));
    ASSIGN_OR_RETURN(
        const v1::NeedCategory category,
        ParseEnum<v1::NeedCategory>("need", need, "NEED_CATEGORY_"));
    impulse->set_need_category(category);
    v1::ContactRoute* call_back = impulse->mutable_call_back();
    ASSIGN_OR_RETURN(*call_back->mutable_display_name(),
                     Required(args, "call-back-name"));
    call_back->set_unit(args.Get("call-back-unit"));
    call_back->set_phone(args.Get("call-back-phone"));
    call_back->set_email(args.Get("call-back-email"));
    if (region.empty()) region = impulse->kommun_code().substr(0, 2);
  } else {
    return absl::InvalidArgumentError(
        "say what to create: `referrals create impulse ...` or `referrals "
        "create --file referral.json`");
  }
  if (region.empty()) {
    return absl::InvalidArgumentError(
        "--region is required (or SLUSSEN_REGION)");
  }
  request.set_parent(absl::StrCat("regions/", region));
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Referral referral;
  const grpc::Status status =
      context.referrals->CreateReferral(&call, request, &referral);
  if (!status.ok()) return PrintStatus(context, status);
  return PrintReferral(context, referral);
}

absl::StatusOr<std::string> NameArgument(const std::vector<std::string>& words,
                                         absl::string_view command) {
  if (words.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "`referrals ", command,
        "` takes one referral name, like regions/13/referrals/01J..."));
  }
  return words[1];
}

absl::StatusOr<int> Get(const CliContext& context,
                        const std::vector<std::string>& words) {
  v1::GetReferralRequest request;
  ASSIGN_OR_RETURN(*request.mutable_name(), NameArgument(words, "get"));
  request.set_view(context.args->Flag("basic") ? v1::REFERRAL_VIEW_BASIC
                                               : v1::REFERRAL_VIEW_FULL);
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Referral referral;
  const grpc::Status status =
      context.referrals->GetReferral(&call, request, &referral);
  if (!status.ok()) return PrintStatus(context, status);
  return PrintReferral(context, referral);
}

absl::StatusOr<int> List(const CliContext& context,
                         const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  if (words.size() != 1) {
    return absl::InvalidArgumentError("`referrals list` takes only flags");
  }
  v1::ListReferralsRequest request;
  request.set_parent(absl::StrCat("regions/", context.RegionOr("-")));
  for (const std::string& text : args.GetAll("state")) {
    ASSIGN_OR_RETURN(
        const v1::ReferralState state,
        ParseEnum<v1::ReferralState>("state", text, "REFERRAL_STATE_"));
    request.mutable_filter()->add_states(state);
  }
  for (const std::string& text : args.GetAll("kind")) {
    ASSIGN_OR_RETURN(
        const v1::ReferralKind kind,
        ParseEnum<v1::ReferralKind>("kind", text, "REFERRAL_KIND_"));
    request.mutable_filter()->add_kinds(kind);
  }
  request.mutable_filter()->set_referring_organisation(args.Get("from"));
  if (args.Flag("history")) request.set_view(v1::REFERRAL_VIEW_FULL);
  ASSIGN_OR_RETURN(const int page_size, PageSize(args));
  request.set_page_size(page_size);
  request.set_page_token(args.Get("page-token"));

  v1::ListReferralsResponse combined;
  do {
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::ListReferralsResponse page;
    const grpc::Status status =
        context.referrals->ListReferrals(&call, request, &page);
    if (!status.ok()) return PrintStatus(context, status);
    combined.mutable_referrals()->MergeFrom(page.referrals());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  if (context.json) {
    PrintJson(context, combined);
    return kExitOk;
  }
  if (context.quiet) {
    for (const v1::Referral& r : combined.referrals()) {
      *context.out << r.name() << "\n";
    }
    return kExitOk;
  }
  std::ostream& out = *context.out;
  out << absl::StrFormat("%-48s %-20s %-10s %s\n", "NAME", "KIND", "STATE",
                         "CREATED");
  for (const v1::Referral& r : combined.referrals()) {
    out << absl::StrFormat("%-48s %-20s %-10s %s\n", r.name(),
                           KindName(r.kind()), StateName(r.state()),
                           FormatTime(r.create_time()));
  }
  return kExitOk;
}

// Sends an action on a referral and prints the referral it answers with.
template <typename Request>
absl::StatusOr<int> SendAction(
    const CliContext& context, const Request& request,
    grpc::Status (v1::ReferralService::StubInterface::*action)(
        grpc::ClientContext*, const Request&, v1::Referral*)) {
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Referral referral;
  const grpc::Status status =
      (context.referrals->*action)(&call, request, &referral);
  if (!status.ok()) return PrintStatus(context, status);
  return PrintReferral(context, referral);
}

absl::StatusOr<int> Cancel(const CliContext& context,
                           const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  v1::CancelReferralRequest request;
  ASSIGN_OR_RETURN(*request.mutable_name(), NameArgument(words, "cancel"));
  ASSIGN_OR_RETURN(const std::string reason_text, Required(args, "reason"));
  ASSIGN_OR_RETURN(
      const v1::CancelReason reason,
      ParseEnum<v1::CancelReason>("reason", reason_text, "CANCEL_REASON_"));
  request.set_reason(reason);
  request.set_note(args.Get("note"));
  request.set_etag(args.Get("etag"));
  request.set_request_id(args.Get("request-id"));
  return SendAction(context, request,
                    &v1::ReferralService::StubInterface::CancelReferral);
}

absl::StatusOr<int> Protect(const CliContext& context,
                            const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  v1::SetProtectedPersonalDataRequest request;
  ASSIGN_OR_RETURN(*request.mutable_name(), NameArgument(words, "protect"));
  ASSIGN_OR_RETURN(*request.mutable_note(), Required(args, "note"));
  request.set_protected_personal_data(!args.Flag("off"));
  const std::string name = args.Get("referrer-name");
  const std::string phone = args.Get("referrer-phone");
  const std::string email = args.Get("referrer-email");
  if (!name.empty() || !phone.empty() || !email.empty()) {
    v1::ContactRoute* referrer = request.mutable_referrer();
    referrer->set_display_name(name);
    referrer->set_phone(phone);
    referrer->set_email(email);
  }
  request.set_etag(args.Get("etag"));
  request.set_request_id(args.Get("request-id"));
  return SendAction(
      context, request,
      &v1::ReferralService::StubInterface::SetProtectedPersonalData);
}

// What SUS registers: at the start from --income and --education, at the
// end from --income, --work, --studies and --af.
absl::StatusOr<v1::SusRegistration> SusRegistrationOf(const CliArgs& args,
                                                      bool at_start) {
  v1::SusRegistration sus;
  for (const std::string& text : args.GetAll("income")) {
    ASSIGN_OR_RETURN(
        const v1::IncomeSource source,
        ParseEnum<v1::IncomeSource>("income", text, "INCOME_SOURCE_"));
    sus.add_income_sources(source);
  }
  if (at_start) {
    if (args.Has("education")) {
      ASSIGN_OR_RETURN(
          const v1::EducationLevel level,
          ParseEnum<v1::EducationLevel>("education", args.Get("education"),
                                        "EDUCATION_LEVEL_"));
      sus.set_education_level(level);
    }
    return sus;
  }
  if (args.Has("work")) {
    ASSIGN_OR_RETURN(
        const v1::WorkKind kind,
        ParseEnum<v1::WorkKind>("work", args.Get("work"), "WORK_KIND_"));
    sus.set_work_kind(kind);
  }
  sus.set_studies(args.Flag("studies"));
  sus.set_registered_with_af(args.Flag("af"));
  return sus;
}

// The provider's actions: contact, start, deviation (name, note, etag,
// request id) and complete, exit (also --outcome=..., one or more).
template <typename Request>
absl::StatusOr<Request> ProviderActionRequest(
    const CliContext& context, const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  Request request;
  ASSIGN_OR_RETURN(*request.mutable_name(), NameArgument(words, words[0]));
  request.set_note(args.Get("note"));
  request.set_etag(args.Get("etag"));
  request.set_request_id(args.Get("request-id"));
  if constexpr (std::is_same_v<Request, v1::StartReferralRequest> ||
                std::is_same_v<Request, v1::CompleteReferralRequest> ||
                std::is_same_v<Request, v1::ExitReferralRequest>) {
    ASSIGN_OR_RETURN(
        *request.mutable_sus(),
        SusRegistrationOf(args,
                          std::is_same_v<Request, v1::StartReferralRequest>));
  }
  if constexpr (std::is_same_v<Request, v1::CompleteReferralRequest> ||
                std::is_same_v<Request, v1::ExitReferralRequest> ||
                std::is_same_v<Request, v1::RecordFollowUpRequest>) {
    for (const std::string& text : args.GetAll("outcome")) {
      ASSIGN_OR_RETURN(
          const v1::OutcomeReason reason,
          ParseEnum<v1::OutcomeReason>("outcome", text, "OUTCOME_REASON_"));
      request.add_outcome_reasons(reason);
    }
  }
  return request;
}

template <typename Request>
absl::StatusOr<int> ProviderAction(
    const CliContext& context, const std::vector<std::string>& words,
    grpc::Status (v1::ReferralService::StubInterface::*action)(
        grpc::ClientContext*, const Request&, v1::Referral*)) {
  ASSIGN_OR_RETURN(const Request request,
                   ProviderActionRequest<Request>(context, words));
  return SendAction(context, request, action);
}

absl::StatusOr<int> RunProviderAction(const CliContext& context,
                                      const std::vector<std::string>& words) {
  using Stub = v1::ReferralService::StubInterface;
  const std::string& command = words[0];
  if (command == "resubmit") {
    return ProviderAction(context, words, &Stub::ResubmitReferral);
  }
  if (command == "contact") {
    return ProviderAction(context, words, &Stub::RecordContact);
  }
  if (command == "start") {
    return ProviderAction(context, words, &Stub::StartReferral);
  }
  if (command == "deviation") {
    return ProviderAction(context, words, &Stub::RecordAttendanceDeviation);
  }
  if (command == "complete") {
    return ProviderAction(context, words, &Stub::CompleteReferral);
  }
  if (command == "exit") {
    return ProviderAction(context, words, &Stub::ExitReferral);
  }
  if (command == "follow-up") {
    return ProviderAction(context, words, &Stub::RecordFollowUp);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown referrals command \"", command, "\""));
}

}  // namespace

int RunReferralCommand(const CliContext& context,
                       const std::vector<std::string>& words) {
  const std::string command = words.empty() ? "" : words[0];
  absl::StatusOr<int> exit_code =
      command == "create"    ? Create(context, words)
      : command == "get"     ? Get(context, words)
      : command == "list"    ? List(context, words)
      : command == "cancel"  ? Cancel(context, words)
      : command == "protect" ? Protect(context, words)
      : command == "import"  ? RunReferralImport(context, words)
      : command.empty()
          ? absl::InvalidArgumentError("a referrals command is needed")
          : RunProviderAction(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

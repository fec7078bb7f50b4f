#include "clients/cli/privacy_commands.h"

#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "broker/core/model/status_macros.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

std::string Region(const CliContext& context) {
  return absl::StrCat("regions/", context.RegionOr(""));
}

int PrintConsent(const CliContext& context, const v1::Consent& consent) {
  if (context.json) {
    PrintJson(context, consent);
    return kExitOk;
  }
  std::ostream& out = *context.out;
  if (context.quiet) {
    out << consent.name() << "\n";
    return kExitOk;
  }
  out << consent.name() << "  "
      << ShortName<v1::ConsentState>(consent.state(), "CONSENT_STATE_") << "  "
      << ShortName<v1::ConsentPurpose>(consent.purpose(), "CONSENT_PURPOSE_")
      << "\n";
  for (const v1::ConsentScope& scope : consent.scopes()) {
    std::vector<std::string> categories;
    for (int c : scope.data_categories()) {
      categories.push_back(ShortName<v1::DataCategory>(c, "DATA_CATEGORY_"));
    }
    out << absl::StrFormat(
        "  %-18s%s: %s\n", "may receive",
        scope.recipient_case() == v1::ConsentScope::kOrganisation
            ? scope.organisation()
            : ShortName<v1::PartyClass>(scope.party_class(), "PARTY_CLASS_"),
        absl::StrJoin(categories, ", "));
  }
  out << absl::StrFormat("  %-18s%s by %s\n", "given",
                         FormatTime(consent.start_time()),
                         consent.recorded_by().organisation());
  if (consent.has_end_time()) {
    out << absl::StrFormat("  %-18s%s\n", "ends",
                           FormatTime(consent.end_time()));
  }
  if (consent.has_withdraw_time()) {
    out << absl::StrFormat(
        "  %-18s%s by %s%s\n", "withdrawn", FormatTime(consent.withdraw_time()),
        consent.withdrawn_by().organisation(),
        consent.withdrawn_by().person().empty()
            ? ""
            : absl::StrCat(" (", consent.withdrawn_by().person(), ")"));
  }
  return kExitOk;
}

absl::StatusOr<int> Consents(const CliContext& context,
                             const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  if (command == "list") {
    v1::ListConsentsRequest request;
    request.set_parent(Region(context));
    ASSIGN_OR_RETURN(*request.mutable_participant_pseudonym(),
                     Required(*context.args, "pseudonym"));
    v1::ListConsentsResponse all;
    const grpc::Status status = ListAllPages(
        context, context.consents,
        &v1::ConsentService::StubInterface::ListConsents, request, &all);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, all);
      return kExitOk;
    }
    for (const v1::Consent& consent : all.consents()) {
      PrintConsent(context, consent);
    }
    return kExitOk;
  }
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Consent consent;
  grpc::Status status;
  if (command == "get") {
    v1::GetConsentRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(rest, "consents get"));
    status = context.consents->GetConsent(&call, request, &consent);
  } else if (command == "withdraw") {
    v1::WithdrawConsentRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(),
                     OneName(rest, "consents withdraw"));
    request.set_recorded_by_person(context.args->Get("recorded-by"));
    request.set_request_id(context.args->Get("request-id"));
    status = context.consents->WithdrawConsent(&call, request, &consent);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown consents command \"", command, "\""));
  }
  if (!status.ok()) return PrintStatus(context, status);
  return PrintConsent(context, consent);
}

// Names the participant from --personnummer or --pseudonym (exactly one).
template <typename Request>
absl::Status SetSubject(const CliContext& context, Request& request) {
  const std::string personnummer = context.args->Get("personnummer");
  const std::string pseudonym = context.args->Get("pseudonym");
  if (personnummer.empty() == pseudonym.empty()) {
    return absl::InvalidArgumentError(
        "name the participant by exactly one of --personnummer and "
        "--pseudonym");
  }
  if (!personnummer.empty()) {
    request.set_personal_identity_number(personnummer);
  } else {
    request.set_participant_pseudonym(pseudonym);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Audit(const CliContext& context,
                          const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  std::ostream& out = *context.out;
  if (command == "verify") {
    v1::VerifyAuditChainRequest request;
    request.set_parent(Region(context));
    if (const std::string anchor = context.args->Get("anchor");
        !anchor.empty()) {
      const size_t colon = anchor.find(':');
      int64_t count = 0;
      if (colon == std::string::npos ||
          !absl::SimpleAtoi(anchor.substr(0, colon), &count)) {
        return absl::InvalidArgumentError(
            "--anchor must be COUNT:HASH, as an earlier verify printed");
      }
      request.set_anchor_count(count);
      request.set_anchor_hash(anchor.substr(colon + 1));
    }
    v1::VerifyAuditChainResponse response;
    grpc::ClientContext call;
    context.Prepare(&call);
    const grpc::Status status =
        context.privacy->VerifyAuditChain(&call, request, &response);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, response);
    } else if (response.intact()) {
      out << "intact: " << response.records_checked()
          << " records, every hash and link verified\n"
          << "anchor: " << response.records_checked() << ":"
          << response.head_hash()
          << "  (keep it outside Redis; pass it as --anchor later)\n";
    } else {
      out << "BROKEN at " << response.first_broken_record() << " after "
          << response.records_checked() << " records: " << response.problem()
          << "\n";
    }
    return response.intact() ? kExitOk : kExitRpcError;
  }
  if (command == "list") {
    v1::ListAuditRecordsRequest request;
    request.set_parent(Region(context));
    RETURN_IF_ERROR(SetSubject(context, request));
    v1::ListAuditRecordsResponse all;
    const grpc::Status status = ListAllPages(
        context, context.privacy,
        &v1::PrivacyService::StubInterface::ListAuditRecords, request, &all);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, all);
      return kExitOk;
    }
    if (!context.quiet) {
      out << absl::StrFormat("%-19s %-7s %-24s %-36s %s\n", "WHEN", "WHAT",
                             "WHO", "PURPOSE", "RESOURCE");
    }
    for (const v1::AuditRecord& record : all.records()) {
      if (context.quiet) {
        out << record.name() << "\n";
        continue;
      }
      out << absl::StrFormat(
          "%-19s %-7s %-24s %-36s %s\n", FormatTime(record.time()),
          ShortName<v1::AuditOperation>(record.operation(), "AUDIT_OPERATION_"),
          absl::StrCat(record.actor().organisation(),
                       record.actor().person().empty() ? "" : "/",
                       record.actor().person(),
                       record.actor().via().empty() ? "" : " via ",
                       record.actor().via()),
          record.purpose(), record.resource());
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown audit command \"", command, "\""));
}

absl::StatusOr<int> Participants(const CliContext& context,
                                 const std::vector<std::string>& words) {
  const std::string command = words.size() > 1 ? words[1] : "";
  if (command != "erase") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown participants command \"", command, "\""));
  }
  v1::EraseParticipantRequest request;
  request.set_parent(Region(context));
  RETURN_IF_ERROR(SetSubject(context, request));
  ASSIGN_OR_RETURN(*request.mutable_reason(),
                   Required(*context.args, "reason"));
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::EraseParticipantResponse response;
  const grpc::Status status =
      context.privacy->EraseParticipant(&call, request, &response);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, response);
    return kExitOk;
  }
  if (!context.quiet) {
    *context.out << "erased the participant's personal data from "
                 << response.referrals_size() << " referral(s)\n";
  }
  for (const std::string& name : response.referrals()) {
    *context.out << name << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunPrivacyCommand(const CliContext& context,
                      const std::vector<std::string>& words) {
  const std::string& resource = words[0];
  absl::StatusOr<int> exit_code =
      resource == "consents" ? Consents(context, words)
      : resource == "audit"  ? Audit(context, words)
                             : Participants(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

#include "clients/cli/placement_commands.h"

#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/core/model/status_macros.h"
#include "google/protobuf/timestamp.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

int PrintOffer(const CliContext& context, const v1::Offer& offer) {
  if (context.json) {
    PrintJson(context, offer);
  } else if (context.quiet) {
    *context.out << offer.name() << "\n";
  } else {
    std::ostream& out = *context.out;
    out << offer.name() << "  "
        << ShortName<v1::OfferState>(offer.state(), "OFFER_STATE_") << "\n";
    out << absl::StrFormat("  %-18s%s\n", "referral", offer.referral());
    out << absl::StrFormat("  %-18s%s\n", "offering", offer.offering());
    if (!offer.cohort().empty()) {
      out << absl::StrFormat("  %-18s%s\n", "cohort", offer.cohort());
    }
    out << absl::StrFormat("  %-18s%s\n", "held until",
                           DeadlineText(offer.hold_expire_time()));
    for (const std::string& reason : offer.explanation().reasons()) {
      out << absl::StrFormat("  %-18s%s\n", "why", reason);
    }
  }
  return kExitOk;
}

absl::StatusOr<int> ListOffers(const CliContext& context) {
  const CliArgs& args = *context.args;
  v1::ListOffersRequest request;
  request.set_parent(absl::StrCat("regions/", context.RegionOr("-")));
  for (const std::string& text : args.GetAll("state")) {
    ASSIGN_OR_RETURN(const v1::OfferState state,
                     ParseEnum<v1::OfferState>("state", text, "OFFER_STATE_"));
    request.add_states(state);
  }
  request.set_provider(args.Get("provider"));
  ASSIGN_OR_RETURN(const int page_size, PageSize(args));
  request.set_page_size(page_size);
  v1::ListOffersResponse combined;
  const grpc::Status status = ListAllPages(
      context, context.offers, &v1::OfferService::StubInterface::ListOffers,
      request, &combined);
  if (!status.ok()) return PrintStatus(context, status);
  if (context.json) {
    PrintJson(context, combined);
    return kExitOk;
  }
  std::ostream& out = *context.out;
  if (!context.quiet) {
    out << absl::StrFormat("%-45s %-9s %-25s %s\n", "NAME", "STATE",
                           "HELD UNTIL", "OFFERING");
  }
  for (const v1::Offer& o : combined.offers()) {
    if (context.quiet) {
      out << o.name() << "\n";
      continue;
    }
    out << absl::StrFormat("%-45s %-9s %-25s %s\n", o.name(),
                           ShortName<v1::OfferState>(o.state(), "OFFER_STATE_"),
                           DeadlineText(o.hold_expire_time()), o.offering());
  }
  return kExitOk;
}

absl::StatusOr<int> Offers(const CliContext& context,
                           const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  const std::string command = words.empty() ? "" : words[0];
  if (command == "list") return ListOffers(context);
  grpc::ClientContext call;
  context.Prepare(&call);
  v1::Offer offer;
  grpc::Status status;
  if (command == "get") {
    v1::GetOfferRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(words, "offers get"));
    status = context.offers->GetOffer(&call, request, &offer);
  } else if (command == "accept") {
    v1::AcceptOfferRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(words, "offers accept"));
    request.set_request_id(args.Get("request-id"));
    status = context.offers->AcceptOffer(&call, request, &offer);
  } else if (command == "decline") {
    v1::DeclineOfferRequest request;
    ASSIGN_OR_RETURN(*request.mutable_name(), OneName(words, "offers decline"));
    ASSIGN_OR_RETURN(const std::string text, Required(args, "reason"));
    ASSIGN_OR_RETURN(
        const v1::DeclineReason reason,
        ParseEnum<v1::DeclineReason>("reason", text, "DECLINE_REASON_"));
    request.set_reason(reason);
    request.set_note(args.Get("note"));
    request.set_request_id(args.Get("request-id"));
    status = context.offers->DeclineOffer(&call, request, &offer);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown offers command \"", command, "\""));
  }
  if (!status.ok()) return PrintStatus(context, status);
  return PrintOffer(context, offer);
}

void PrintPosition(const CliContext& context, const v1::QueuePosition& p) {
  std::ostream& out = *context.out;
  out << p.referral() << "\n";
  out << absl::StrFormat("  %-18s%s\n", "queue", p.queue());
  out << absl::StrFormat("  %-18s%d of %d\n", "position", p.position(),
                         p.queue_length());
  out << absl::StrFormat("  %-18s%s\n", "estimated start",
                         DateText(p.estimated_start_date()));
  if (!p.estimated_cohort().empty()) {
    out << absl::StrFormat("  %-18s%s\n", "cohort", p.estimated_cohort());
  }
  out << absl::StrFormat("  %-18s%s\n", "basis", p.estimate_basis());
  for (const v1::PositionReason& reason : p.reasons()) {
    out << absl::StrFormat("  %-18s%s\n", "why", reason.explanation());
  }
}

absl::StatusOr<int> Queue(const CliContext& context,
                          const std::vector<std::string>& words) {
  const std::string command = words.empty() ? "" : words[0];
  if (command == "position") {
    v1::GetQueuePositionRequest request;
    ASSIGN_OR_RETURN(*request.mutable_referral(),
                     OneName(words, "queue position"));
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::QueuePosition position;
    const grpc::Status status =
        context.queues->GetQueuePosition(&call, request, &position);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, position);
    } else {
      PrintPosition(context, position);
    }
    return kExitOk;
  }
  if (command == "list") {
    v1::ListQueueEntriesRequest request;
    ASSIGN_OR_RETURN(*request.mutable_queue(), OneName(words, "queue list"));
    ASSIGN_OR_RETURN(const int page_size, PageSize(*context.args));
    request.set_page_size(page_size);
    v1::ListQueueEntriesResponse combined;
    const grpc::Status status = ListAllPages(
        context, context.queues,
        &v1::QueueService::StubInterface::ListQueueEntries, request, &combined);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, combined);
      return kExitOk;
    }
    for (const v1::QueuePosition& p : combined.entries()) {
      *context.out << absl::StrFormat("%4d  %-48s %s\n", p.position(),
                                      p.referral(),
                                      DateText(p.estimated_start_date()));
    }
    return kExitOk;
  }
  if (command == "preview") {
    // A candidate policy, from a file or as the policy in force with
    // --weight=ORG=N changes; nothing is written.
    if (words.size() != 1) {
      return absl::InvalidArgumentError(
          "`queue preview` takes no name; say the policy with --file or "
          "--weight");
    }
    const CliArgs& args = *context.args;
    v1::PreviewPriorityPolicyRequest request;
    request.set_parent(absl::StrCat("regions/", context.RegionOr("")));
    if (args.Has("file")) {
      RETURN_IF_ERROR(
          ReadJsonFile("--file", args.Get("file"), request.mutable_policy()));
    } else {
      grpc::ClientContext call;
      context.Prepare(&call);
      const grpc::Status status = context.queues->GetPriorityPolicy(
          &call, v1::GetPriorityPolicyRequest(), request.mutable_policy());
      if (!status.ok()) return PrintStatus(context, status);
    }
    for (const std::string& weight : args.GetAll("weight")) {
      const size_t equals = weight.rfind('=');
      int n = 0;
      if (equals == std::string::npos ||
          !absl::SimpleAtoi(weight.substr(equals + 1), &n)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--weight=\"", weight,
                         "\" is not ORGANISATION=N, like "
                         "kommun-halmstad-eb=2"));
      }
      (*request.mutable_policy()
            ->mutable_agency_weights())[weight.substr(0, equals)] = n;
    }
    grpc::ClientContext call;
    context.Prepare(&call);
    v1::PriorityPolicyPreview preview;
    const grpc::Status status =
        context.queues->PreviewPriorityPolicy(&call, request, &preview);
    if (!status.ok()) return PrintStatus(context, status);
    if (context.json) {
      PrintJson(context, preview);
      return kExitOk;
    }
    std::ostream& out = *context.out;
    out << absl::StrFormat("%d move up, %d down, %d stay\n\n",
                           preview.moved_up(), preview.moved_down(),
                           preview.unchanged());
    out << absl::StrFormat("%-28s %9s %5s %5s %8s %9s %10s\n", "AGENCY",
                           "REFERRALS", "UP", "DOWN", "NET", "MOST UP",
                           "MOST DOWN");
    for (const v1::AgencyShift& a : preview.agencies()) {
      out << absl::StrFormat("%-28s %9d %5d %5d %+8d %9d %10d\n",
                             a.referring_organisation(), a.referrals(),
                             a.moved_up(), a.moved_down(), a.net_positions(),
                             a.largest_move_up(), a.largest_move_down());
    }
    out << absl::StrFormat("\n%-34s %-48s %4s %4s %-10s %s\n", "QUEUE",
                           "REFERRAL", "NOW", "THEN", "START NOW",
                           "START THEN");
    for (const v1::PositionChange& c : preview.changes()) {
      out << absl::StrFormat("%-34s %-48s %4d %4d %-10s %s\n", c.queue(),
                             c.referral(), c.current_position(),
                             c.preview_position(),
                             DateText(c.current_estimated_start_date()),
                             DateText(c.preview_estimated_start_date()));
    }
    return kExitOk;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown queue command \"", command, "\""));
}

}  // namespace

int RunOfferCommand(const CliContext& context,
                    const std::vector<std::string>& words) {
  absl::StatusOr<int> exit_code = Offers(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

int RunQueueCommand(const CliContext& context,
                    const std::vector<std::string>& words) {
  absl::StatusOr<int> exit_code = Queue(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

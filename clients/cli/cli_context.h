// What every slussctl command shares: the call context (stubs, identity,
// output streams), exit codes, and the helpers that parse flags and print
// answers for a person or as JSON.
// Not thread-safe: one command a process.
#ifndef SLUSSEN_CLIENTS_CLI_CLI_CONTEXT_H_
#define SLUSSEN_CLIENTS_CLI_CLI_CONTEXT_H_

#include <grpcpp/client_context.h>

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "clients/cli/cli_args.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "slussen/v1/common.pb.h"
#include "slussen/v1/consent_service.grpc.pb.h"
#include "slussen/v1/coordinator_service.grpc.pb.h"
#include "slussen/v1/event_service.grpc.pb.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/privacy_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "slussen/v1/queue_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"

namespace slussen::cli {

// What every command needs.
struct CliContext {
  const CliArgs* args;
  // "offers decline", for pointing to its --help.
  std::string command_path;
  slussen::v1::ReferralService::StubInterface* referrals = nullptr;
  slussen::v1::ProviderDirectory::StubInterface* directory = nullptr;
  slussen::v1::OfferService::StubInterface* offers = nullptr;
  slussen::v1::QueueService::StubInterface* queues = nullptr;
  slussen::v1::CoordinatorService::StubInterface* coordinator = nullptr;
  slussen::v1::EventService::StubInterface* events = nullptr;
  slussen::v1::ConsentService::StubInterface* consents = nullptr;
  slussen::v1::PrivacyService::StubInterface* privacy = nullptr;
  bool json = false;
  // Print only resource names, one a line (for shell scripts).
  bool quiet = false;
  std::ostream* out;
  std::ostream* err;
  // Over mutual TLS the client certificate names the caller: of the
  // identity below only the staff handle is sent.
  bool tls = false;
  // Identity metadata and deadline for one call.
  std::string organisation;
  std::string role;
  // The commands' region, and the caller's (sent as identity).
  std::string region;
  std::string caller_region;
  std::string person;
  int timeout_seconds = 10;

  void Prepare(grpc::ClientContext* context) const;
  // The region commands act in: --region (or SLUSSEN_REGION), else the
  // client certificate's, else `fallback`.
  std::string RegionOr(absl::string_view fallback) const {
    return region.empty() ? std::string(fallback) : region;
  }
};

// Every page of a List call, merged into `combined` (repeated fields
// appended; no next_page_token left):
//   ListAllPages(context, context.offers,
//                &v1::OfferService::StubInterface::ListOffers, request, &all);
template <typename Stub, typename Request, typename Response>
grpc::Status ListAllPages(const CliContext& context, Stub* stub,
                          grpc::Status (Stub::*list)(grpc::ClientContext*,
                                                     const Request&, Response*),
                          Request request, Response* combined) {
  do {
    grpc::ClientContext call;
    context.Prepare(&call);
    Response page;
    const grpc::Status status = (stub->*list)(&call, request, &page);
    if (!status.ok()) return status;
    combined->MergeFrom(page);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  combined->clear_next_page_token();
  return grpc::Status::OK;
}

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRpcError = 1;
inline constexpr int kExitUsage = 2;

// "coordinated-rehabilitation" -> NEED_CATEGORY_COORDINATED_REHABILITATION.
// A usage error is an INVALID_ARGUMENT status: printed with the help, exit
// code 2. A command's value is its exit code.
template <typename E>
absl::StatusOr<E> ParseEnum(absl::string_view flag, absl::string_view text,
                            absl::string_view prefix) {
  std::string name = absl::AsciiStrToUpper(text);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  if (!absl::StartsWith(name, prefix)) name = absl::StrCat(prefix, name);
  const auto* descriptor = google::protobuf::GetEnumDescriptor<E>();
  const auto* value = descriptor->FindValueByName(name);
  if (value == nullptr || value->number() == 0) {
    std::vector<std::string> names;
    for (int i = 1; i < descriptor->value_count(); ++i) {
      std::string option = absl::AsciiStrToLower(
          descriptor->value(i)->name().substr(prefix.size()));
      absl::StrReplaceAll({{"_", "-"}}, &option);
      names.push_back(option);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be one of ", absl::StrJoin(names, ", "),
                     "; got \"", text, "\""));
  }
  return static_cast<E>(value->number());
}

// The short name of an enum value: REFERRAL_STATE_QUEUED -> QUEUED.
template <typename E>
std::string ShortName(int value, absl::string_view prefix) {
  const auto* v =
      google::protobuf::GetEnumDescriptor<E>()->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  return std::string(absl::StripPrefix(v->name(), prefix));
}

// The value of a required flag; a usage error when it is missing.
absl::StatusOr<std::string> Required(const CliArgs& args,
                                     absl::string_view flag);

// Europe/Stockholm (UTC if tzdata is missing), the zone every time is
// shown in.
const absl::TimeZone& StockholmZone();

// A time in Europe/Stockholm with its zone, "2026-11-22 09:31:20 CET";
// "-" when unset.
std::string FormatTime(const google::protobuf::Timestamp& ts);

// A deadline as the broker means it: one at local midnight is the end of
// the day before, "end of Wed 2026-12-30"; any other as FormatTime.
std::string DeadlineText(const google::protobuf::Timestamp& due);

// How `due` stands at `now`, counted in arbetsdagar (Swedish working days)
// as the deadline itself is: "2 arbetsdagar late", "late today",
// "1 arbetsdag left", "due today".
std::string LatenessText(const google::protobuf::Timestamp& due,
                         const google::protobuf::Timestamp& now);

// `json` (protobuf's JSON of a message) with every Timestamp (a "time" or
// "..._time" field) in Europe/Stockholm with its offset, RFC 3339:
// "2026-12-23T09:31:20+01:00".
std::string LocalTimesInJson(const std::string& json);

// The whole of the file at `path`; INVALID_ARGUMENT "<label>: cannot read
// "<path>"" when it cannot be opened.
absl::StatusOr<std::string> ReadFileText(absl::string_view label,
                                         const std::string& path);

// The file at `path` as `message` in protobuf's JSON; INVALID_ARGUMENT
// naming `label` and the message type when it cannot be read or parsed.
absl::Status ReadJsonFile(absl::string_view label, const std::string& path,
                          google::protobuf::Message* message);

// Prints the broker's refusal; returns kExitRpcError.
int PrintStatus(const CliContext& context, const grpc::Status& status);

// Prints `message` as JSON (proto field names), the whole of it: fields
// at their defaults and empty lists too, times as LocalTimesInJson.
void PrintJson(const CliContext& context,
               const google::protobuf::Message& message);

// Prints `message` as one line of JSON (JSON Lines, for streams).
void PrintJsonLine(const CliContext& context,
                   const google::protobuf::Message& message);

// Prints the usage error of `status` and where to find the command's
// help; returns kExitUsage.
int PrintUsage(const CliContext& context, const absl::Status& status);

// "2026-12-23", or "unknown" for an unset date.
std::string DateText(const slussen::v1::Date& date);

// "2026-12-23" as a Date; a usage error naming `flag` otherwise.
absl::StatusOr<slussen::v1::Date> ParseDate(absl::string_view flag,
                                            absl::string_view text);

// The one name after the command word (`words` = {command, name}); a usage
// error otherwise.
absl::StatusOr<std::string> OneName(const std::vector<std::string>& words,
                                    absl::string_view command);

// "--page-size" as a number; a usage error otherwise.
absl::StatusOr<int> PageSize(const CliArgs& args);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_CLI_CONTEXT_H_

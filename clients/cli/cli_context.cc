#include "clients/cli/cli_context.h"

#include <google/protobuf/util/json_util.h>

#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace slussen::cli {

void CliContext::Prepare(grpc::ClientContext* context) const {
  if (!tls) {
    context->AddMetadata("x-slussen-organisation", organisation);
    context->AddMetadata("x-slussen-role", role);
    if (!region.empty()) context->AddMetadata("x-slussen-region", region);
  }
  if (!person.empty()) context->AddMetadata("x-slussen-person", person);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(timeout_seconds));
}

absl::StatusOr<std::string> Required(const CliArgs& args,
                                     absl::string_view flag) {
  std::string value = args.Get(flag);
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " is required"));
  }
  return value;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  static const absl::TimeZone zone = [] {
    absl::TimeZone tz;
    return absl::LoadTimeZone("Europe/Stockholm", &tz) ? tz
                                                       : absl::UTCTimeZone();
  }();
  return absl::FormatTime("%Y-%m-%d %H:%M:%S",
                          absl::FromUnixSeconds(ts.seconds()), zone);
}

int PrintStatus(const CliContext& context, const grpc::Status& status) {
  *context.err << "error: "
               << absl::StatusCodeToString(
                      static_cast<absl::StatusCode>(status.error_code()))
               << ": " << status.error_message() << "\n";
  return kExitRpcError;
}

void PrintJson(const CliContext& context,
               const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  *context.out << json;
}

int PrintUsage(const CliContext& context, const absl::Status& status) {
  *context.err << "usage error: " << status.message() << " (slussctl "
               << context.command_path << " --help)\n";
  return kExitUsage;
}

absl::StatusOr<int> PageSize(const CliArgs& args) {
  const std::string text = args.Get("page-size", "50");
  int size = 0;
  if (!absl::SimpleAtoi(text, &size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--page-size must be a number; got \"", text, "\""));
  }
  return size;
}

std::string DateText(const slussen::v1::Date& date) {
  if (date.year() == 0) return "unknown";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

absl::StatusOr<slussen::v1::Date> ParseDate(absl::string_view flag,
                                            absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " must be a date such as 2026-12-23, got \"", text, "\""));
  }
  slussen::v1::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::StatusOr<std::string> OneName(const std::vector<std::string>& words,
                                    absl::string_view command) {
  if (words.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("`", command, "` takes one name"));
  }
  return words[1];
}

}  // namespace slussen::cli

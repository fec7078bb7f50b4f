#include "clients/cli/cli_context.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "broker/core/model/calendar.h"

namespace slussen::cli {

void CliContext::Prepare(grpc::ClientContext* context) const {
  if (!tls) {
    context->AddMetadata("x-slussen-organisation", organisation);
    context->AddMetadata("x-slussen-role", role);
    if (!caller_region.empty()) {
      context->AddMetadata("x-slussen-region", caller_region);
    }
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

absl::StatusOr<std::string> ReadFileText(absl::string_view label,
                                         const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": cannot read \"", path, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status ReadJsonFile(absl::string_view label, const std::string& path,
                          google::protobuf::Message* message) {
  absl::StatusOr<std::string> json = ReadFileText(label, path);
  if (!json.ok()) return json.status();
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(*json, message);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": \"", path, "\" is not a ",
                     message->GetDescriptor()->full_name(),
                     " in JSON: ", parsed.message().as_string()));
  }
  return absl::OkStatus();
}

const absl::TimeZone& StockholmZone() {
  static const absl::TimeZone zone = [] {
    absl::TimeZone tz;
    return absl::LoadTimeZone("Europe/Stockholm", &tz) ? tz
                                                       : absl::UTCTimeZone();
  }();
  return zone;
}

namespace {

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::CivilDay LocalDay(absl::Time t) {
  return absl::ToCivilDay(t, StockholmZone());
}

// The last day a deadline allows: a midnight deadline belongs to the day
// before it.
absl::CivilDay DueDay(absl::Time due) {
  return LocalDay(due - absl::Nanoseconds(1));
}

// Working days in (a, b]: 0 when b is not after a.
int WorkingDaysBetween(absl::CivilDay a, absl::CivilDay b) {
  int count = 0;
  for (absl::CivilDay day = a + 1; day <= b; ++day) {
    if (core::SwedishCalendar::IsWorkingDay(day)) ++count;
  }
  return count;
}

std::string Arbetsdagar(int n) {
  return absl::StrCat(n, n == 1 ? " arbetsdag" : " arbetsdagar");
}

}  // namespace

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", ToTime(ts), StockholmZone());
}

std::string DeadlineText(const google::protobuf::Timestamp& due) {
  if (due.seconds() == 0 && due.nanos() == 0) return "-";
  const absl::Time time = ToTime(due);
  const absl::CivilSecond local = absl::ToCivilSecond(time, StockholmZone());
  if (local != absl::CivilSecond(absl::CivilDay(local))) {
    return FormatTime(due);
  }
  return absl::FormatTime("end of %a %Y-%m-%d", time - absl::Seconds(1),
                          StockholmZone());
}

std::string LatenessText(const google::protobuf::Timestamp& due,
                         const google::protobuf::Timestamp& now) {
  const absl::Time due_time = ToTime(due);
  const absl::Time now_time = ToTime(now);
  if (now_time >= due_time) {
    const absl::CivilDay last = DueDay(due_time);
    const absl::CivilDay today = LocalDay(now_time);
    const int n = WorkingDaysBetween(last, today);
    if (n == 0 && last == today) return "late today";
    return absl::StrCat(Arbetsdagar(n), " late");
  }
  const int n = WorkingDaysBetween(LocalDay(now_time), DueDay(due_time));
  return n == 0 ? "due today" : absl::StrCat(Arbetsdagar(n), " left");
}

std::string LocalTimesInJson(const std::string& json) {
  std::string out;
  size_t done = 0;
  for (size_t at = json.find("time\"", 0); at != std::string::npos;
       at = json.find("time\"", at + 1)) {
    // A key "time" or "..._time"; its value a string after the colon.
    if (at == 0 || (json[at - 1] != '"' && json[at - 1] != '_')) continue;
    size_t value = at + 5;
    if (value >= json.size() || json[value] != ':') continue;
    ++value;
    while (value < json.size() && json[value] == ' ') ++value;
    if (value >= json.size() || json[value] != '"') continue;
    ++value;
    const size_t end = json.find('"', value);
    if (end == std::string::npos) break;
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, json.substr(value, end - value),
                         &time, &error)) {
      continue;
    }
    absl::StrAppend(
        &out, absl::string_view(json).substr(done, value - done),
        absl::FormatTime("%Y-%m-%dT%H:%M:%E*S%Ez", time, StockholmZone()));
    done = end;
  }
  absl::StrAppend(&out, absl::string_view(json).substr(done));
  return out;
}

int PrintStatus(const CliContext& context, const grpc::Status& status) {
  *context.err << "error: "
               << absl::StatusCodeToString(
                      static_cast<absl::StatusCode>(status.error_code()))
               << ": " << status.error_message() << "\n";
  return kExitRpcError;
}

namespace {

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return LocalTimesInJson(json);
}

}  // namespace

void PrintJson(const CliContext& context,
               const google::protobuf::Message& message) {
  *context.out << ToJson(message, /*pretty=*/true);
}

void PrintJsonLine(const CliContext& context,
                   const google::protobuf::Message& message) {
  *context.out << ToJson(message, /*pretty=*/false) << "\n";
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

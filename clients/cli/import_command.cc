#include "clients/cli/import_command.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "broker/core/model/status_macros.h"
#include "clients/cli/referral_import.h"
#include "google/protobuf/struct.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace slussen::cli {
namespace {

namespace v1 = ::slussen::v1;

// Set by SIGINT and SIGTERM: take no new row, finish those in flight.
std::atomic<bool> interrupted{false};

extern "C" void OnInterrupt(int) { interrupted.store(true); }

// What became of one row.
struct RowResult {
  enum class Outcome {
    kNotTried,
    kImported,
    kRefused
  } outcome = Outcome::kNotTried;
  std::string referral;
  std::string code;
  std::string column;
  std::string message;
};

// The column a refusal is about: a field violation's field, else the
// column a local check named ("column X: ...").
std::string ColumnOfRefusal(const RowMapper& mapper,
                            const grpc::Status& status) {
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& violation : bad.field_violations()) {
        const std::string column = mapper.ColumnOf(violation.field());
        if (!column.empty()) return column;
      }
    }
  }
  return "";
}

// The delay a refusal's RetryInfo asks for; 100 ms without one.
std::chrono::milliseconds RetryDelay(const grpc::Status& status) {
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::RetryInfo retry;
      if (!any.UnpackTo(&retry)) continue;
      const int64_t ms = retry.retry_delay().seconds() * 1000 +
                         retry.retry_delay().nanos() / 1000000;
      return std::chrono::milliseconds(std::clamp<int64_t>(ms, 10, 1000));
    }
  }
  return std::chrono::milliseconds(100);
}

std::string ColumnOfLocalError(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, "column ")) return "";
  return std::string(message.substr(0, message.find(':')));
}

// The broker's answer for one row; retried while the broker is briefly
// away (the row's request id makes a retry safe).
RowResult ImportRow(const CliContext& context, const RowMapper& mapper,
                    const std::vector<std::string>& cells) {
  RowResult result;
  absl::StatusOr<v1::CreateReferralRequest> request = mapper.Request(cells);
  if (!request.ok()) {
    result.outcome = RowResult::Outcome::kRefused;
    result.code = "INVALID_ARGUMENT";
    result.message = std::string(request.status().message());
    result.column = ColumnOfLocalError(result.message);
    return result;
  }
  grpc::Status status;
  v1::Referral referral;
  // UNAVAILABLE or DEADLINE_EXCEEDED: a few tries, further apart each
  // time; over the organisation's rate (RESOURCE_EXHAUSTED): as long as
  // the broker's RetryInfo says, for up to a minute.
  int unavailable = 0;
  const auto give_up =
      std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (true) {
    grpc::ClientContext call;
    context.Prepare(&call);
    status = context.referrals->CreateReferral(&call, *request, &referral);
    // A deadline passed may still have been created: the row's request id
    // makes asking again safe (the broker answers with that referral).
    if ((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
        ++unavailable < 6) {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(100 << unavailable));
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(RetryDelay(status));
    } else {
      break;
    }
  }
  if (status.ok()) {
    result.outcome = RowResult::Outcome::kImported;
    result.referral = referral.name();
    return result;
  }
  result.outcome = RowResult::Outcome::kRefused;
  result.code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  result.message = status.error_message();
  result.column = ColumnOfRefusal(mapper, status);
  return result;
}

std::string Duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  return s >= 60 ? absl::StrFormat("%d min %02d s", s / 60, s % 60)
                 : absl::StrFormat("%d s", s);
}

std::string ResultPath(const std::string& input) {
  absl::string_view base = input;
  absl::ConsumeSuffix(&base, ".csv");
  return absl::StrCat(base, ".result.csv");
}

absl::Status WriteResults(const std::string& path, const CsvTable& table,
                          const std::vector<RowResult>& results) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const char d = table.delimiter;
  out << "line" << d << "outcome" << d << "referral" << d << "code" << d
      << "column" << d << "message\r\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const RowResult& r = results[i];
    const char* outcome =
        r.outcome == RowResult::Outcome::kImported  ? "imported"
        : r.outcome == RowResult::Outcome::kRefused ? "refused"
                                                    : "not tried";
    out << table.lines[i] << d << outcome << d << CsvField(r.referral, d) << d
        << r.code << d << CsvField(r.column, d) << d << CsvField(r.message, d)
        << "\r\n";
  }
  out.close();
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat("--result: cannot write \"", path, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Import(const CliContext& context,
                           const std::vector<std::string>& words) {
  const CliArgs& args = *context.args;
  if (words.size() != 2) {
    return absl::InvalidArgumentError("`referrals import` takes one CSV file");
  }
  const std::string& path = words[1];
  ASSIGN_OR_RETURN(const std::string text, ReadFileText("FILE", path));
  absl::StatusOr<CsvTable> parsed = ParseCsv(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", parsed.status().message()));
  }
  const CsvTable table = *std::move(parsed);
  v1::Referral template_referral;
  if (args.Has("template")) {
    RETURN_IF_ERROR(
        ReadJsonFile("--template", args.Get("template"), &template_referral));
  }
  int parallel = 8;
  if (args.Has("parallel") &&
      (!absl::SimpleAtoi(args.Get("parallel"), &parallel) || parallel < 1 ||
       parallel > 64)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--parallel must be 1..64; got \"", args.Get("parallel"), "\""));
  }
  ASSIGN_OR_RETURN(
      const RowMapper mapper,
      RowMapper::Create(table.header, template_referral, context.RegionOr("")));
  const std::string result_path =
      args.Has("result") ? args.Get("result") : ResultPath(path);
  {
    // Refuse an unwritable result file before importing anything.
    std::ofstream probe(result_path, std::ios::binary | std::ios::app);
    if (!probe) {
      return absl::InvalidArgumentError(
          absl::StrCat("--result: cannot write \"", result_path, "\""));
    }
  }

  const size_t total = table.rows.size();
  std::vector<RowResult> results(total);
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  interrupted.store(false);
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < parallel; ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < total && !interrupted.load(); i = next++) {
        results[i] = ImportRow(context, mapper, table.rows[i]);
        ++done;
      }
    });
  }
  // A progress line on a terminal: rows, rate, time left.
  const bool progress = isatty(STDERR_FILENO) && !context.quiet;
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  const auto show = [&](bool last) {
    const size_t n = done.load();
    const double seconds = elapsed();
    const double rate = seconds > 0 ? n / seconds : 0;
    *context.err << absl::StrFormat(
        "\rimport: %d of %d rows, %.0f rows/s%s\x1b[K", n, total, rate,
        last || rate <= 0
            ? ""
            : absl::StrCat(", about ", Duration((total - n) / rate), " left"));
    if (last) *context.err << "\n";
    context.err->flush();
  };
  std::mutex mu;
  std::condition_variable finished;
  bool all_joined = false;
  std::thread reporter([&] {
    if (!progress) return;
    std::unique_lock<std::mutex> lock(mu);
    while (!finished.wait_for(lock, std::chrono::milliseconds(200),
                              [&] { return all_joined; })) {
      show(false);
    }
  });
  for (std::thread& worker : workers) worker.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    all_joined = true;
  }
  finished.notify_all();
  reporter.join();
  if (progress) show(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  RETURN_IF_ERROR(WriteResults(result_path, table, results));
  size_t imported = 0;
  size_t refused = 0;
  for (const RowResult& r : results) {
    if (r.outcome == RowResult::Outcome::kImported) ++imported;
    if (r.outcome == RowResult::Outcome::kRefused) ++refused;
  }
  const size_t not_tried = total - imported - refused;
  if (context.json) {
    google::protobuf::Struct summary;
    auto& fields = *summary.mutable_fields();
    fields["rows"].set_number_value(total);
    fields["imported"].set_number_value(imported);
    fields["refused"].set_number_value(refused);
    fields["not_tried"].set_number_value(not_tried);
    fields["seconds"].set_number_value(elapsed());
    fields["result_file"].set_string_value(result_path);
    PrintJson(context, summary);
  } else if (!context.quiet) {
    *context.out << absl::StrFormat(
        "imported %d of %d rows (%d refused%s) in %s; each row's outcome is "
        "in %s\n",
        imported, total, refused,
        not_tried > 0 ? absl::StrCat(", ", not_tried, " not tried") : "",
        Duration(elapsed()), result_path);
  }
  for (size_t i = 0; i < total && !context.json; ++i) {
    const RowResult& r = results[i];
    if (r.outcome != RowResult::Outcome::kRefused) continue;
    *context.err << "line " << table.lines[i] << ": " << r.code
                 << (r.column.empty() ? "" : absl::StrCat(" (", r.column, ")"))
                 << ": " << r.message << "\n";
  }
  if (interrupted.load()) {
    *context.err << "interrupted: run the same command again to import the "
                    "rest; rows already imported are not imported twice\n";
    return 130;
  }
  return refused > 0 ? kExitRpcError : kExitOk;
}

}  // namespace

int RunReferralImport(const CliContext& context,
                      const std::vector<std::string>& words) {
  absl::StatusOr<int> exit_code = Import(context, words);
  if (exit_code.ok()) return *exit_code;
  return PrintUsage(context, exit_code.status());
}

}  // namespace slussen::cli

// Structured logs: one JSON object a line on standard error, so a log
// collector can parse them without a grammar.
//
//   Log(LogLevel::kInfo, "rpc", {{"method", "CreateReferral"},
//                                {"request_id", id}, {"ms", 3}});
//   // {"time":"2026-11-22T08:00:00.123Z","level":"info","msg":"rpc",
//   //  "method":"CreateReferral","request_id":"...","ms":3}
//
// Logs never hold personal data: callers log names, codes and ids, and the
// core's error messages withhold personal values. Thread-safe: each line is
// written whole under a mutex.
#ifndef SLUSSEN_BROKER_SERVICE_JSON_LOG_H_
#define SLUSSEN_BROKER_SERVICE_JSON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace slussen::service {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error" (also "warn"); false for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// Lines below `level` are dropped. Default: kInfo.
void SetMinLogLevel(LogLevel level);

// One key and its value, already encoded as JSON.
class LogField {
 public:
  LogField(absl::string_view key, absl::string_view value);
  LogField(absl::string_view key, const char* value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const std::string& value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, int64_t value)
      : key_(key), json_(absl::StrCat(value)) {}
  LogField(absl::string_view key, int value)
      : LogField(key, static_cast<int64_t>(value)) {}
  LogField(absl::string_view key, double value);
  LogField(absl::string_view key, bool value)
      : key_(key), json_(value ? "true" : "false") {}
  // null when there is none.
  LogField(absl::string_view key, std::optional<int64_t> value)
      : key_(key), json_(value.has_value() ? absl::StrCat(*value) : "null") {}

  absl::string_view key() const { return key_; }
  absl::string_view json() const { return json_; }

 private:
  std::string key_;
  std::string json_;
};

// `text` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view text);

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields = {});
// Whether Log writes a line of `level`: for a caller whose fields cost
// something to build (one line a call).
bool LogEnabled(LogLevel level);

// The header of W3C Trace Context that names a call's trace.
inline constexpr char kTraceparentHeader[] = "traceparent";

// The trace id (32 lowercase hex digits) of a `traceparent` value,
// "<version>-<trace-id>-<parent-id>-<flags>" (version 00, or a later one
// with perhaps more fields); empty when the value is not one, which the
// W3C says to ignore.
std::string TraceIdOf(absl::string_view traceparent);

// While one lives, every line this thread logs carries "trace_id" (unless
// the line gives its own, or the id is empty): a call's trace in each line
// logged on its behalf.
class ScopedLogTrace {
 public:
  explicit ScopedLogTrace(std::string trace_id);
  ~ScopedLogTrace();
  ScopedLogTrace(const ScopedLogTrace&) = delete;
  ScopedLogTrace& operator=(const ScopedLogTrace&) = delete;

 private:
  std::string previous_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_JSON_LOG_H_

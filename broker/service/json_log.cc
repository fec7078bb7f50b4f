#include "broker/service/json_log.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace slussen::service {
namespace {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

absl::Mutex& OutputMutex() {
  static absl::Mutex* const mu = new absl::Mutex;
  return *mu;
}

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  if (text == "debug") {
    *level = LogLevel::kDebug;
  } else if (text == "info") {
    *level = LogLevel::kInfo;
  } else if (text == "warning" || text == "warn") {
    *level = LogLevel::kWarning;
  } else if (text == "error") {
    *level = LogLevel::kError;
  } else {
    return false;
  }
  return true;
}

void SetMinLogLevel(LogLevel level) {
  min_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogField::LogField(absl::string_view key, absl::string_view value)
    : key_(key), json_(JsonString(value)) {}

LogField::LogField(absl::string_view key, double value)
    : key_(key),
      json_(std::isfinite(value) ? absl::StrFormat("%.3f", value) : "null") {}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", u);
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

namespace {

thread_local std::string current_trace_id;

bool IsLowerHex(absl::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string TraceIdOf(absl::string_view traceparent) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(traceparent), '-');
  if (parts.size() < 4) return "";
  const absl::string_view version = parts[0], trace = parts[1],
                          parent = parts[2], flags = parts[3];
  if (version.size() != 2 || !IsLowerHex(version) || version == "ff" ||
      (version == "00" && parts.size() != 4) || trace.size() != 32 ||
      !IsLowerHex(trace) || trace == std::string(32, '0') ||
      parent.size() != 16 || !IsLowerHex(parent) ||
      parent == std::string(16, '0') || flags.size() != 2 ||
      !IsLowerHex(flags)) {
    return "";
  }
  return std::string(trace);
}

ScopedLogTrace::ScopedLogTrace(std::string trace_id)
    : previous_(std::exchange(current_trace_id, std::move(trace_id))) {}

ScopedLogTrace::~ScopedLogTrace() { current_trace_id = std::move(previous_); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line = absl::StrCat(
      "{\"time\":",
      JsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                  absl::UTCTimeZone())),
      ",\"level\":\"", LevelName(level), "\",\"msg\":", JsonString(message));
  bool traced = false;
  for (const LogField& field : fields) {
    absl::StrAppend(&line, ",", JsonString(field.key()), ":", field.json());
    traced = traced || field.key() == "trace_id";
  }
  if (!traced && !current_trace_id.empty()) {
    absl::StrAppend(&line, ",\"trace_id\":", JsonString(current_trace_id));
  }
  line += "}\n";
  absl::MutexLock lock(&OutputMutex());
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace slussen::service

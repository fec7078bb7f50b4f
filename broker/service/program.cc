#include "broker/service/program.h"

#include <cstdlib>
#include <cstring>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/service/json_log.h"
#include "slussen_version.h"

extern char** environ;

namespace slussen::service {

std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", SLUSSEN_VERSION, " (commit ",
                      SLUSSEN_COMMIT, ")");
}

void SetProgramUsage(absl::string_view program, absl::string_view main_file,
                     absl::string_view message) {
  absl::SetProgramUsageMessage(message);
  absl::FlagsUsageConfig config;
  const std::string file(main_file);
  config.contains_help_flags = [file](absl::string_view path) {
    return absl::EndsWith(path, file);
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  // "Flags from broker/server/broker_flags.cc", not the build machine's
  // path.
  config.normalize_filename = [file](absl::string_view path) {
    return absl::EndsWith(path, file) ? file : std::string(path);
  };
  const std::string version = VersionLine(program);
  config.version_string = [version] { return absl::StrCat(version, "\n"); };
  absl::SetFlagsUsageConfig(config);
}

void AcceptShortHelp(int argc, char** argv) {
  static char help[] = "--help";
  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--") break;
    if (absl::string_view(argv[i]) == "-h") argv[i] = help;
  }
}

bool ApplyEnvironment(absl::string_view prefix, absl::string_view main_file,
                      const std::vector<std::string>& not_from_environment,
                      bool refuse_unknown,
                      const std::vector<std::string>& also_known) {
  const auto listed = [](const std::vector<std::string>& names,
                         absl::string_view name) {
    for (const std::string& n : names) {
      if (n == name) return true;
    }
    return false;
  };
  // The flags the program's main file defines, by name.
  absl::flat_hash_map<absl::string_view, absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::EndsWith(flag->Filename(), main_file) &&
        !listed(not_from_environment, name)) {
      flags.emplace(name, flag);
    }
  }
  bool ok = true;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view text(*entry);
    if (!absl::StartsWith(text, prefix)) continue;
    const size_t equals = text.find('=');
    if (equals == absl::string_view::npos) continue;
    const std::string variable(text.substr(0, equals));
    const std::string name =
        absl::AsciiStrToLower(variable.substr(prefix.size()));
    const auto flag = flags.find(name);
    if (flag == flags.end()) {
      if (!refuse_unknown || listed(also_known, name)) continue;
      Log(LogLevel::kError, "unknown environment variable",
          {{"variable", variable},
           {"error", "no flag of this program has this name (see --help)"}});
      ok = false;
      continue;
    }
    std::string error;
    if (!flag->second->ParseFrom(std::string(text.substr(equals + 1)),
                                 &error)) {
      Log(LogLevel::kError, "bad environment variable",
          {{"variable", variable}, {"error", error}});
      ok = false;
    }
  }
  return ok;
}

void StopLockOrderTracking() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

int Fail(absl::string_view message, const absl::Status& status) {
  Log(LogLevel::kError, message, {{"error", status.message()}});
  return 1;
}

sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

void AwaitTerminationSignal(const sigset_t& signals) {
  int received = 0;
  sigwait(&signals, &received);
  Log(LogLevel::kInfo, "signal received", {{"signal", strsignal(received)}});
}

}  // namespace slussen::service

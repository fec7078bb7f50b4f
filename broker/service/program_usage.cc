#include "broker/service/program_usage.h"

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "slussen_version.h"

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
  // "Flags from broker/server/main.cc", not the build machine's path.
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

}  // namespace slussen::service

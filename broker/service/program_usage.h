// --help and --version for Slussen's programs: absl's --help lists only the
// flags of files named like the program, which for `slussen` (main.cc)
// meant none at all ("No flags matched"); --version printed the name alone.
//
//   SetProgramUsage("slussen", "broker/server/main.cc",
//                   "slussen: the referral and matching broker. ...");
//
// Call once at the start of main(), before absl::ParseCommandLine.
#ifndef SLUSSEN_BROKER_SERVICE_PROGRAM_USAGE_H_
#define SLUSSEN_BROKER_SERVICE_PROGRAM_USAGE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace slussen::service {

// "<program> <version> (commit <commit>)": the commit the build was made
// from ("-dirty" when the tree had changes), "unknown" outside git.
std::string VersionLine(absl::string_view program);

// Sets the usage message, has --help and --helpshort list the flags
// defined in `main_file` (a path ending, "broker/server/main.cc") and
// --version print VersionLine(program).
void SetProgramUsage(absl::string_view program, absl::string_view main_file,
                     absl::string_view message);

// Lets `-h` mean --help (absl knows only the long form). As absl does,
// --help and -h then print the usage and exit with status 1.
void AcceptShortHelp(int argc, char** argv);

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_PROGRAM_USAGE_H_

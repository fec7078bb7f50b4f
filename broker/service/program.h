// What every Slussen program (the broker, the web gateway) does at start
// and at its end, in one place:
//
//   SetProgramUsage("slussen", "broker/server/broker_flags.cc", "...");
//   if (!ApplyEnvironment("SLUSSEN_", "broker/server/broker_flags.cc", {}))
//     return 2;
//   AcceptShortHelp(argc, argv);
//   absl::ParseCommandLine(argc, argv);
//   const sigset_t signals = BlockTerminationSignals();
//   ... start serving ...
//   AwaitTerminationSignal(signals);
//
// --help lists the flags of the file that defines them (absl's default
// lists only files named like the program: for `slussen` none, "No flags
// matched"), --version prints the version and the commit.
#ifndef SLUSSEN_BROKER_SERVICE_PROGRAM_H_
#define SLUSSEN_BROKER_SERVICE_PROGRAM_H_

#include <signal.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace slussen::service {

// "<program> <version> (commit <commit>)": the commit the build was made
// from ("-dirty" when the tree had changes), "unknown" outside git.
std::string VersionLine(absl::string_view program);

// Sets the usage message, has --help and --helpshort list the flags
// defined in `main_file` (a path ending, "clients/web/web_main.cc") and
// --version print VersionLine(program). Before absl::ParseCommandLine.
void SetProgramUsage(absl::string_view program, absl::string_view main_file,
                     absl::string_view message);

// Lets `-h` mean --help (absl knows only the long form). As absl does,
// --help and -h then print the usage and exit with status 1.
void AcceptShortHelp(int argc, char** argv);

// Sets the defaults of the flags defined in `main_file` from environment
// variables named `prefix` + the flag's name in capitals
// (SLUSSEN_WEB_LISTEN), except the flags in `not_from_environment`. The
// flags are those the file defines, so a new flag needs no list kept by
// hand. With `refuse_unknown`, any other variable starting with `prefix`
// is a misspelling and refused, except those in `also_known` (names after
// the prefix, in lower case). False, having logged why, when a variable is
// refused or its value does not parse. Before absl::ParseCommandLine (a
// flag on the command line wins).
bool ApplyEnvironment(absl::string_view prefix, absl::string_view main_file,
                      const std::vector<std::string>& not_from_environment,
                      bool refuse_unknown = false,
                      const std::vector<std::string>& also_known = {});

// Stops abseil's tracking of the order in which mutexes are taken.
// Debian builds abseil without NDEBUG, so by default every
// absl::Mutex::Lock (gRPC's locks are absl's too) records the lock in a
// process-wide graph under one spin lock: about 1 % of the broker's CPU
// under load, and a point where all its threads meet. Programs call it
// first thing; tests keep the tracking (it finds lock-order inversions).
void StopLockOrderTracking();

// Logs `message` with `status` as an error; the exit status of a program
// that cannot start (1).
int Fail(absl::string_view message, const absl::Status& status);

// Blocks SIGTERM and SIGINT in this thread, so that the threads started
// after it inherit the block and AwaitTerminationSignal takes them here,
// and ignores SIGPIPE. Call before any other thread starts.
sigset_t BlockTerminationSignals();

// Waits for SIGTERM or SIGINT (blocked by BlockTerminationSignals) and logs
// which came.
void AwaitTerminationSignal(const sigset_t& signals);

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_PROGRAM_H_

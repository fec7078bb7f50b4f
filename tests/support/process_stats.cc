#include "tests/support/process_stats.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace slussen::testing {

// "Threads:" and "VmRSS:" (kB) of `pid`.
std::pair<int64_t, int64_t> ThreadsAndRss(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  int64_t threads = 0;
  int64_t rss = 0;
  while (std::getline(status, line)) {
    absl::string_view view(line);
    if (absl::ConsumePrefix(&view, "Threads:")) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(view), &threads);
    }
    if (absl::ConsumePrefix(&view, "VmRSS:")) {
      (void)absl::SimpleAtoi(
          absl::StripAsciiWhitespace(absl::StripSuffix(view, "kB")), &rss);
    }
  }
  return {threads, rss};
}

// CPU time (user + system) `pid` has used, in microseconds.
double CpuMicros(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name, which may hold spaces: 14 and 15 are
  // utime and stime, in clock ticks.
  const std::vector<std::string> fields =
      absl::StrSplit(text.substr(text.rfind(')') + 2), ' ');
  double ticks = 0;
  for (const int field : {11, 12}) {
    double value = 0;
    (void)absl::SimpleAtod(fields[field], &value);
    ticks += value;
  }
  return ticks * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace slussen::testing

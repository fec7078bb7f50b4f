// What /proc says of a process, for benchmarks that compare a server's
// threads, memory and CPU across loads.
#ifndef SLUSSEN_TESTS_SUPPORT_PROCESS_STATS_H_
#define SLUSSEN_TESTS_SUPPORT_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <utility>

namespace slussen::testing {

// "Threads:" and "VmRSS:" (kB) of `pid`.
std::pair<int64_t, int64_t> ThreadsAndRss(pid_t pid);

// CPU time (user + system) `pid` has used, in microseconds.
double CpuMicros(pid_t pid);

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_PROCESS_STATS_H_

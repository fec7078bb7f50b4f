#include "tests/support/redis_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "broker/core/model/status_macros.h"

namespace slussen::testing {
namespace {

constexpr int kSlots = 16384;

// True when nothing listens on 127.0.0.1:`port` (and one could bind it).
bool PortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool free =
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

// Asks `node` `command` every 50 ms until `ready` holds for its answer;
// DEADLINE_EXCEEDED, saying `what` and the last answer, at `deadline`.
absl::Status AwaitAnswer(RedisServer& node,
                         const std::vector<std::string>& command,
                         const std::function<bool(const std::string&)>& ready,
                         absl::string_view what, absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::string> answer = node.Execute(command);
    if (answer.ok() && ready(*answer)) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          what,
          " after 30 s: ", answer.ok() ? *answer : answer.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// The replicas a CLUSTER NODES table names: the nodes flagged "slave"
// with a primary.
int CountReplicas(absl::string_view table) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 3 && absl::StrContains(fields[2], "slave") &&
        fields[3] != "-") {
      ++count;
    }
  }
  return count;
}

}  // namespace

absl::StatusOr<int> FreeLoopbackPort(int plus) {
  thread_local std::mt19937 random(std::random_device{}() ^
                                   static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> pick(10000, 14999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    if (PortFree(port) && (plus == 0 || PortFree(port + plus))) return port;
  }
  return absl::UnavailableError("no free loopback port");
}

absl::StatusOr<std::unique_ptr<RedisServer>> StartOnFreeLoopbackPort(
    const RedisServer::Options& options, int* port, int plus,
    const std::function<std::vector<std::string>(int)>& more) {
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(const int picked, FreeLoopbackPort(plus));
    RedisServer::Options on_port = options;
    on_port.extra_args.insert(
        on_port.extra_args.end(),
        {"--port", absl::StrCat(picked), "--bind", "127.0.0.1"});
    if (more) {
      const std::vector<std::string> added = more(picked);
      on_port.extra_args.insert(on_port.extra_args.end(), added.begin(),
                                added.end());
    }
    absl::StatusOr<std::unique_ptr<RedisServer>> server =
        RedisServer::Start(on_port);
    if (server.ok()) {
      *port = picked;
      return server;
    }
    last = server.status();
    if (!absl::StrContains(last.message(), "Address already in use")) break;
  }
  return last;
}

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(
    int primaries, RedisServer::Options options, int replicas) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster());
  cluster->replicas_ = replicas;
  const int nodes = primaries * (1 + replicas);
  for (int i = 0; i < nodes; ++i) {
    int port = 0;
    ASSIGN_OR_RETURN(std::unique_ptr<RedisServer> node,
                     StartOnFreeLoopbackPort(
                         options, &port, kClusterBusOffset, [](int picked) {
                           return std::vector<std::string>{
                               "--cluster-enabled", "yes",
                               "--cluster-config-file", "nodes.conf",
                               "--cluster-port",
                               absl::StrCat(picked + kClusterBusOffset),
                               "--cluster-node-timeout", "5000",
                               // As deploy/redis/cluster-node.conf: regions are
                               // independent.
                               "--cluster-require-full-coverage", "no",
                               // A replica's full sync at once, not after
                               // Redis's 5 s wait for more replicas.
                               "--repl-diskless-sync-delay", "0"};
                         }));
    ASSIGN_OR_RETURN(std::string id, node->Execute({"CLUSTER", "MYID"}));
    cluster->nodes_.push_back(std::move(node));
    cluster->ports_.push_back(port);
    cluster->ids_.push_back(std::move(id));
    if (i < primaries) cluster->first_.push_back(kSlots * i / primaries);
  }
  for (int i = 0; i < primaries; ++i) {
    const int last = kSlots * (i + 1) / primaries - 1;
    RETURN_IF_ERROR(
        cluster->nodes_[i]
            ->Execute({"CLUSTER", "ADDSLOTSRANGE",
                       absl::StrCat(cluster->first_[i]), absl::StrCat(last)})
            .status());
  }
  for (int i = 1; i < nodes; ++i) {
    RETURN_IF_ERROR(
        cluster->nodes_[0]
            ->Execute({"CLUSTER", "MEET", "127.0.0.1",
                       absl::StrCat(cluster->ports_[i]),
                       absl::StrCat(cluster->ports_[i] + kClusterBusOffset)})
            .status());
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  const std::string known = absl::StrCat("cluster_known_nodes:", nodes);
  if (replicas > 0) {
    // A node replicates only a primary it has heard of.
    for (int i = primaries; i < nodes; ++i) {
      RETURN_IF_ERROR(AwaitAnswer(
          *cluster->nodes_[i], {"CLUSTER", "INFO"},
          [&](const std::string& info) {
            return absl::StrContains(info, known);
          },
          absl::StrCat("cluster node ", i, " has not met every node"),
          deadline));
    }
    for (int p = 0; p < primaries; ++p) {
      for (int r = 0; r < replicas; ++r) {
        RETURN_IF_ERROR(
            cluster->nodes_[cluster->ReplicaOf(p, r)]
                ->Execute({"CLUSTER", "REPLICATE", cluster->ids_[p]})
                .status());
      }
    }
  }
  for (int i = 0; i < nodes; ++i) {
    // Every slot's owner known here too: with full coverage not required a
    // node says "ok" before it has heard of the others' slots, and then
    // answers CLUSTERDOWN for them.
    RETURN_IF_ERROR(AwaitAnswer(
        *cluster->nodes_[i], {"CLUSTER", "INFO"},
        [&](const std::string& info) {
          return absl::StrContains(info, "cluster_state:ok") &&
                 absl::StrContains(info, known) &&
                 absl::StrContains(
                     info, absl::StrCat("cluster_slots_assigned:", kSlots));
        },
        absl::StrCat("cluster node ", i, " not ready"), deadline));
    if (replicas == 0) continue;
    // Every node knows every replica's primary (the primaries elect a
    // replica of a failed one), and each replica has synced.
    RETURN_IF_ERROR(AwaitAnswer(
        *cluster->nodes_[i], {"CLUSTER", "NODES"},
        [&](const std::string& table) {
          return CountReplicas(table) == primaries * replicas;
        },
        absl::StrCat("cluster node ", i, " does not know every replica"),
        deadline));
    if (i < primaries) continue;
    RETURN_IF_ERROR(AwaitAnswer(
        *cluster->nodes_[i], {"INFO", "replication"},
        [](const std::string& info) {
          return absl::StrContains(info, "master_link_status:up");
        },
        absl::StrCat("cluster replica ", i, " not in sync"), deadline));
  }
  return cluster;
}

store::RedisAddress RedisCluster::seed() const {
  store::RedisAddress address;
  address.host = "127.0.0.1";
  address.port = ports_[0];
  return address;
}

store::RedisOptions RedisCluster::ClientOptions(
    store::RedisOptions base) const {
  base.address = seed();
  base.cluster = true;
  return base;
}

int RedisCluster::NodeOfSlot(int slot) const {
  for (auto it = moved_.rbegin(); it != moved_.rend(); ++it) {
    if (it->first == slot) return it->second;
  }
  int node = 0;
  for (int i = 0; i < primaries(); ++i) {
    if (slot >= first_[i]) node = i;
  }
  return node;
}

absl::Status RedisCluster::MoveEmptySlot(int slot, int to) {
  // The owner last, as the Redis Cluster specification orders it.
  const int from = NodeOfSlot(slot);
  for (int i = 0; i < primaries(); ++i) {
    if (i == from) continue;
    RETURN_IF_ERROR(nodes_[i]
                        ->Execute({"CLUSTER", "SETSLOT", absl::StrCat(slot),
                                   "NODE", ids_[to]})
                        .status());
  }
  RETURN_IF_ERROR(nodes_[from]
                      ->Execute({"CLUSTER", "SETSLOT", absl::StrCat(slot),
                                 "NODE", ids_[to]})
                      .status());
  moved_.emplace_back(slot, to);
  return absl::OkStatus();
}

}  // namespace slussen::testing

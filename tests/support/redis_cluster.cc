#include "tests/support/redis_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(
    int primaries, RedisServer::Options options) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster());
  for (int i = 0; i < primaries; ++i) {
    ASSIGN_OR_RETURN(const int port, FreeLoopbackPort(kClusterBusOffset));
    RedisServer::Options node_options = options;
    node_options.extra_args.insert(
        node_options.extra_args.end(),
        {"--port", absl::StrCat(port), "--bind", "127.0.0.1",
         "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
         "--cluster-port", absl::StrCat(port + kClusterBusOffset),
         "--cluster-node-timeout", "5000",
         // As deploy/redis/cluster-node.conf: regions are independent.
         "--cluster-require-full-coverage", "no"});
    ASSIGN_OR_RETURN(std::unique_ptr<RedisServer> node,
                     RedisServer::Start(node_options));
    ASSIGN_OR_RETURN(std::string id, node->Execute({"CLUSTER", "MYID"}));
    cluster->nodes_.push_back(std::move(node));
    cluster->ports_.push_back(port);
    cluster->ids_.push_back(std::move(id));
    cluster->first_.push_back(kSlots * i / primaries);
  }
  for (int i = 0; i < primaries; ++i) {
    const int last = kSlots * (i + 1) / primaries - 1;
    RETURN_IF_ERROR(
        cluster->nodes_[i]
            ->Execute({"CLUSTER", "ADDSLOTSRANGE",
                       absl::StrCat(cluster->first_[i]), absl::StrCat(last)})
            .status());
    if (i > 0) {
      RETURN_IF_ERROR(
          cluster->nodes_[0]
              ->Execute({"CLUSTER", "MEET", "127.0.0.1",
                         absl::StrCat(cluster->ports_[i]),
                         absl::StrCat(cluster->ports_[i] + kClusterBusOffset)})
              .status());
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (int i = 0; i < primaries; ++i) {
    while (true) {
      absl::StatusOr<std::string> info =
          cluster->nodes_[i]->Execute({"CLUSTER", "INFO"});
      // Every slot's owner known here too: with full coverage not
      // required a node says "ok" before it has heard of the others'
      // slots, and then answers CLUSTERDOWN for them.
      if (info.ok() && absl::StrContains(*info, "cluster_state:ok") &&
          absl::StrContains(*info,
                            absl::StrCat("cluster_known_nodes:", primaries)) &&
          absl::StrContains(*info,
                            absl::StrCat("cluster_slots_assigned:", kSlots))) {
        break;
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("cluster node ", i, " not ready after 30 s: ",
                         info.ok() ? *info : info.status().ToString()));
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
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
  for (int i = 0; i < size(); ++i) {
    if (slot >= first_[i]) node = i;
  }
  return node;
}

absl::Status RedisCluster::MoveEmptySlot(int slot, int to) {
  // The owner last, as the Redis Cluster specification orders it.
  const int from = NodeOfSlot(slot);
  for (int i = 0; i < size(); ++i) {
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

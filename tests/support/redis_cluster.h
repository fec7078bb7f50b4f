// A private Redis Cluster for tests: `primaries` real redis-servers with
// cluster mode on, each on a free TCP port of 127.0.0.1 (a cluster's nodes
// and its clients speak TCP; FreeLoopbackPort) besides its Unix socket, the
// 16,384 slots split evenly among them, joined with CLUSTER MEET; Start()
// returns once every node reports cluster_state:ok and knows every slot's
// owner. No replicas unless asked for; as in
// deploy/redis/cluster-node.conf, the cluster keeps serving the slots of
// its live primaries while one is down. The servers stop and their dirs go
// with the object. A node Kill()ed and Restart()ed comes back on its port
// with its slots (nodes.conf in its dir) and its append-only file.
//
//   absl::StatusOr<std::unique_ptr<RedisCluster>> cluster =
//       RedisCluster::Start(3);
//   RedisOptions options{.address = (*cluster)->seed(), .cluster = true};
//
// With replicas (Start(3, {}, 1)), a primary killed is failed over by the
// cluster itself: once the other primaries have marked it failed (node
// timeout 5 s) its replica is elected and takes its slots; the old primary,
// Restart()ed, rejoins as a replica of the new one. Nodes are numbered
// primaries first, then the replicas (ReplicaOf); the numbers stay with the
// servers, not with the roles.
//
// Not thread-safe; one owner, as RedisServer.
#ifndef SLUSSEN_TESTS_SUPPORT_REDIS_CLUSTER_H_
#define SLUSSEN_TESTS_SUPPORT_REDIS_CLUSTER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/store/redis_client.h"
#include "tests/support/redis_server.h"

namespace slussen::testing {

// A TCP port of 127.0.0.1 nothing listens on, with `plus` above it free
// too (a cluster node's bus port), picked at random from 10000..14999:
// below the ports the shell tests pick (20000 up) and the kernel gives
// listeners on port 0 (32768 up), so that those never collide with it.
absl::StatusOr<int> FreeLoopbackPort(int plus = 0);

// A server started as `options` says on a free port P of 127.0.0.1
// (FreeLoopbackPort(plus)), with "--port P --bind 127.0.0.1" and `more(P)`
// appended to its command line; sets `*port` to P. A port found free can
// be taken by another test before the server binds it: a start that fails
// so ("Address already in use") is tried again on another port, up to
// five times.
absl::StatusOr<std::unique_ptr<RedisServer>> StartOnFreeLoopbackPort(
    const RedisServer::Options& options, int* port, int plus = 0,
    const std::function<std::vector<std::string>(int)>& more = nullptr);

// A cluster node's bus port is its port plus this (--cluster-port), so
// that both stay below 20000.
inline constexpr int kClusterBusOffset = 5000;

class RedisCluster {
 public:
  // `replicas` of each primary (0: none), made with CLUSTER REPLICATE;
  // then Start() returns only once every replica's link to its primary is
  // up and every node knows which node replicates which.
  static absl::StatusOr<std::unique_ptr<RedisCluster>> Start(
      int primaries, RedisServer::Options options = {}, int replicas = 0);

  // The first node's TCP address: what a client is given.
  store::RedisAddress seed() const;
  // `base` (timeouts and the like) pointed at this cluster: the seed, in
  // cluster mode.
  store::RedisOptions ClientOptions(store::RedisOptions base = {}) const;
  // Every node, replicas included.
  int size() const { return static_cast<int>(nodes_.size()); }
  int primaries() const { return static_cast<int>(first_.size()); }
  // The node started as the `r`th replica of node `primary`.
  int ReplicaOf(int primary, int r = 0) const {
    return primaries() + primary * replicas_ + r;
  }
  RedisServer& node(int i) { return *nodes_[i]; }
  int port(int i) const { return ports_[i]; }
  // The node's cluster id (CLUSTER MYID).
  const std::string& id(int i) const { return ids_[i]; }
  // The primary whose slots include `slot` (as started: a failover is not
  // followed).
  int NodeOfSlot(int slot) const;

  // Moves an empty `slot` to node `to`, telling every primary (no keys are
  // migrated: the slot must hold none).
  absl::Status MoveEmptySlot(int slot, int to);

 private:
  RedisCluster() = default;

  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<int> ports_;
  std::vector<std::string> ids_;
  // The first slot of each node's range; node i serves [first_[i],
  // first_[i + 1]) unless slots were moved.
  std::vector<int> first_;
  std::vector<std::pair<int, int>> moved_;  // slot, node
  int replicas_ = 0;                        // of each primary
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_REDIS_CLUSTER_H_

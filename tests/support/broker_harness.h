// The broker, in-process, on a loopback port, over a private redis-server:
// what end-to-end and fault tests talk to through the generated gRPC client.
//
//   absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
//       BrokerHarness::Start();
//   ReferralClient halmstad = (*harness)->Client(kHalmstadKommun);
//   grpc::Status status = halmstad.Create(request, &referral);
//
// With Options::tls the broker serves mutual TLS with certificates of a CA
// made for the harness, and Client(identity) and ChannelFor(identity)
// present a client certificate naming `identity` (the identity metadata
// Identify() adds is then ignored by the broker). The same test code thus
// runs in either identity mode. GatewayChannelFor(identity) calls as
// `identity` the other way mutual TLS allows: through a gateway, whose
// certificate names the gateway and whose calls name `identity` in
// metadata.
//
// Thread-safe: the channels and stubs it makes are; ChannelFor may be
// called from any thread.
#ifndef SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_
#define SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/service/broker_server.h"
#include "gtest/gtest.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/referral_client.h"
#include "tests/support/test_certificates.h"

namespace slussen::testing {

// Creates, as an admin, what the sample referrals name (see
// BrokerHarness::Options::sample_directory).
absl::Status LoadSampleDirectory(const std::shared_ptr<grpc::Channel>& channel);

class BrokerHarness {
 public:
  struct Options {
    Options();
    // Listen address and Redis address are set by Start().
    service::BrokerOptions broker;
    RedisServer::Options redis;
    // Loads what the sample referrals name (activity types, the framework
    // agreement, the team and the supplier), without offerings: referrals
    // are accepted and wait, as no capacity is published.
    bool sample_directory = true;
    // Serve mutual TLS (see above): the server's certificate and the
    // clients' are made by ca() for each harness.
    bool tls = false;
    // Also serve health, reflection and channelz on a plaintext loopback
    // admin port (admin_target()).
    bool admin_port = false;
    // > 0: Redis is a cluster of this many primaries (RedisCluster), not
    // one server; redis() may not be called.
    int cluster_primaries = 0;
    // Set: the broker uses broker.redis as given (a Redis the test runs,
    // e.g. behind Sentinels) and the harness starts none; redis() and
    // DataDigest() may not be called.
    bool external_redis = false;
  };

  static absl::StatusOr<std::unique_ptr<BrokerHarness>> Start();
  static absl::StatusOr<std::unique_ptr<BrokerHarness>> Start(Options options);
  ~BrokerHarness();

  // The redis-server (not with a cluster: tests that need one server skip
  // when redis_options().cluster).
  RedisServer& redis() { return *redis_; }
  // Options::cluster_primaries: the cluster.
  RedisCluster& cluster() { return *cluster_; }
  // How the broker reaches Redis (one server or a cluster): for a test's
  // own RedisPool.
  const store::RedisOptions& redis_options() const { return redis_options_; }
  // A digest of every key and value in Redis (DEBUG DIGEST; of each
  // primary of a cluster), so that any write shows.
  absl::StatusOr<std::string> DataDigest();
  service::BrokerServer& broker() { return *broker_; }
  // "127.0.0.1:<port>".
  std::string target() const;
  // "127.0.0.1:<admin port>" (Options::admin_port).
  std::string admin_target() const;
  // A channel to the broker, for any service's stub: in development mode
  // the one every identity shares (Identify() names the caller); under TLS
  // one that presents no client certificate, which the broker refuses (use
  // ChannelFor).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // A channel on which `identity` calls: channel() in development mode;
  // under TLS one presenting a certificate (made once, kept) whose URI SAN
  // names `identity`.
  std::shared_ptr<grpc::Channel> ChannelFor(const Identity& identity) const;
  // Options::tls: a channel on which `identity` calls through the gateway
  // `gateway`: it presents a certificate (made once, kept) whose URI SAN is
  // urn:slussen:gateway:<gateway>, and sends `identity`'s organisation,
  // role and region as identity headers on every call (add
  // x-slussen-person to a call's context if wanted).
  std::shared_ptr<grpc::Channel> GatewayChannelFor(
      const Identity& identity, const std::string& gateway = "web-1") const;
  // A TLS channel to the broker trusting `trusted_ca_pem` and presenting
  // `client` (no certificate if null): for certificates made by hand.
  std::shared_ptr<grpc::Channel> TlsChannel(
      const KeyAndCertificate* client, const std::string& trusted_ca_pem) const;
  // Options::tls: the CA of the server's and the clients' certificates.
  const TestCertificateAuthority& ca() const { return *ca_; }
  std::unique_ptr<slussen::v1::ReferralService::Stub> ReferralStub() const;
  // The referral API as `identity` calls it.
  ReferralClient Client(const Identity& identity,
                        absl::Duration deadline = absl::Seconds(10)) const;
  // The health status the broker reports for `service` ("" for the whole
  // server), asked over gRPC (as the admin under TLS): "SERVING",
  // "NOT_SERVING", or the call's error.
  std::string HealthStatus(const std::string& service = "") const;
  // The same, asked over `channel` (e.g. one to admin_target()).
  static std::string HealthStatus(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& service = "");

  // The value of one series ("name{labels}", labels in name order) of the
  // broker's metrics; nullopt when it has none yet.
  std::optional<double> Metric(const std::string& series) const;
  // Metric(series) once it is `want` (a value counted now and then, the
  // clocks every 5 s say: waits up to 10 s), or as it is then; -1 when
  // the broker has no such series.
  double MetricReaching(const std::string& series, double want) const;

  // The personnummer key the broker was started with.
  static constexpr char kPnrKey[] = "test-key-0123456789abcdef0123456789abcdef";

 private:
  BrokerHarness() = default;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisCluster> cluster_;
  store::RedisOptions redis_options_;
  std::optional<TestCertificateAuthority> ca_;
  std::unique_ptr<service::BrokerServer> broker_;
  std::shared_ptr<grpc::Channel> channel_;
  mutable absl::Mutex mu_;
  // TLS: a channel per identity URI (for a gateway's, the gateway's URI
  // and the acting identity's).
  mutable std::map<std::string, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
};

// A test with a broker of its own, started with the default options in
// SetUp (a fixture that sets more up calls BrokerTest::SetUp() first).
class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  std::unique_ptr<BrokerHarness> harness_;
};

// "urn:slussen:<role>:<organisation>[:<region>]": how a client certificate
// names `identity`.
std::string IdentityUri(const Identity& identity);

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_BROKER_HARNESS_H_

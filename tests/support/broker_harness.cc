#include "tests/support/broker_harness.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/status_macros.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"

namespace slussen::testing {

namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// Call credentials that name `identity` in the identity headers of every
// call, as a gateway does for the person it acts for.
class IdentityHeaders final : public grpc::MetadataCredentialsPlugin {
 public:
  explicit IdentityHeaders(Identity identity)
      : identity_(std::move(identity)) {}

  // Only copies strings: run inline, not on a thread of gRPC's.
  bool IsBlocking() const override { return false; }

  grpc::Status GetMetadata(
      grpc::string_ref service_url, grpc::string_ref method_name,
      const grpc::AuthContext& channel_auth_context,
      std::multimap<std::string, std::string>* metadata) override {
    metadata->emplace("x-slussen-organisation", identity_.organisation);
    metadata->emplace("x-slussen-role", identity_.role);
    if (!identity_.region.empty()) {
      metadata->emplace("x-slussen-region", identity_.region);
    }
    return grpc::Status::OK;
  }

 private:
  const Identity identity_;
};

// Credentials trusting `trusted_ca_pem` and presenting `client` (no
// certificate if null).
std::shared_ptr<grpc::ChannelCredentials> SslCredentialsFor(
    const KeyAndCertificate* client, const std::string& trusted_ca_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = trusted_ca_pem;
  if (client != nullptr) {
    ssl.pem_private_key = client->private_key_pem;
    ssl.pem_cert_chain = client->certificate_pem;
  }
  return grpc::SslCredentials(ssl);
}

// A channel of its own (not a subchannel shared with another channel of
// the same target), so that each presents its own certificate.
std::shared_ptr<grpc::Channel> OwnChannel(
    const std::string& target,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, credentials, arguments);
}

}  // namespace

absl::Status LoadSampleDirectory(
    const std::shared_ptr<grpc::Channel>& channel) {
  namespace v1 = ::slussen::v1;
  auto directory = v1::ProviderDirectory::NewStub(channel);
  const auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    Identify(&context, kAdmin);
    return FromGrpc(((*directory).*method)(&context, request, response));
  };
  for (const char* id :
       {"halsosam", "redo", "arbetslivsinriktad-rehabilitering",
        "teamoverlamning", "funktionsbrevlada", "gemensam-kartlaggning"}) {
    v1::CreateActivityTypeRequest request;
    request.set_activity_type_id(id);
    request.mutable_activity_type()->set_display_name(id);
    v1::ActivityType made;
    RETURN_IF_ERROR(
        call(&v1::ProviderDirectory::Stub::CreateActivityType, request, &made));
  }
  for (const auto& [id, kind] :
       std::vector<std::pair<std::string, v1::ProviderKind>>{
           {"work-for-you", v1::PROVIDER_KIND_REHAB_SUPPLIER},
           {"amia-korgen", v1::PROVIDER_KIND_AGENCY_TEAM}}) {
    v1::CreateProviderRequest request;
    request.set_provider_id(id);
    v1::Provider* p = request.mutable_provider();
    p->set_display_name(id);
    p->set_organisation(id);
    p->set_kind(kind);
    if (kind == v1::PROVIDER_KIND_AGENCY_TEAM) {
      p->set_agency_kind(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
    }
    p->add_regions("13");
    v1::Provider made;
    RETURN_IF_ERROR(
        call(&v1::ProviderDirectory::Stub::CreateProvider, request, &made));
  }
  v1::CreateFrameworkAgreementRequest agreement;
  agreement.set_framework_agreement_id("fk-rehab-2025");
  v1::FrameworkAgreement* a = agreement.mutable_framework_agreement();
  a->set_display_name("FK rehab 2025");
  a->set_procuring_agency(v1::AGENCY_KIND_FORSAKRINGSKASSAN);
  a->add_services("arbetslivsinriktad-rehabilitering");
  a->add_regions("13");
  v1::RankedSupplier* supplier = a->add_suppliers();
  supplier->set_provider("providers/work-for-you");
  supplier->set_rank(1);
  a->mutable_start_date()->set_year(2025);
  a->mutable_start_date()->set_month(1);
  a->mutable_start_date()->set_day(1);
  a->mutable_end_date()->set_year(2030);
  a->mutable_end_date()->set_month(12);
  a->mutable_end_date()->set_day(31);
  v1::FrameworkAgreement made;
  return call(&v1::ProviderDirectory::Stub::CreateFrameworkAgreement, agreement,
              &made);
}

BrokerHarness::Options::Options() {
  // Generous: parallel tests on two cores can hold an fsync up. Tests of
  // Redis failures see refused connections, which fail at once anyway.
  broker.redis.command_timeout = absl::Seconds(10);
  // No shortfall warnings appear in the event streams of tests that do not
  // ask for them (shortfall_e2e_test does).
  broker.shortfall_check_interval = absl::ZeroDuration();
}

absl::StatusOr<std::unique_ptr<BrokerHarness>> BrokerHarness::Start() {
  return Start(Options());
}

absl::StatusOr<std::unique_ptr<BrokerHarness>> BrokerHarness::Start(
    Options options) {
  std::unique_ptr<BrokerHarness> harness(new BrokerHarness);
  // SLUSSEN_TEST_REDIS_CLUSTER=N runs every harness on a cluster of N
  // primaries (by hand, to try the whole suite on one; tests that reach
  // for redis() cannot run so).
  if (const char* primaries = std::getenv("SLUSSEN_TEST_REDIS_CLUSTER");
      options.cluster_primaries == 0 && !options.external_redis &&
      primaries != nullptr) {
    options.cluster_primaries = std::atoi(primaries);
  }
  if (options.external_redis) {
    // As given.
  } else if (options.cluster_primaries > 0) {
    ASSIGN_OR_RETURN(
        harness->cluster_,
        RedisCluster::Start(options.cluster_primaries, options.redis));
    options.broker.redis =
        harness->cluster_->ClientOptions(options.broker.redis);
  } else {
    ASSIGN_OR_RETURN(harness->redis_, RedisServer::Start(options.redis));
    ASSIGN_OR_RETURN(options.broker.redis.address,
                     store::RedisAddress::Parse(harness->redis_->address()));
  }
  harness->redis_options_ = options.broker.redis;
  options.broker.listen = "127.0.0.1:0";
  options.broker.health_interval = absl::Milliseconds(100);
  if (options.admin_port) options.broker.admin_listen = "127.0.0.1:0";
  if (options.tls) {
    ASSIGN_OR_RETURN(harness->ca_,
                     TestCertificateAuthority::Create("Slussen test CA"));
    ASSIGN_OR_RETURN(const KeyAndCertificate server,
                     harness->ca_->Issue(LocalhostServerCertificate()));
    options.broker.tls =
        service::TlsMaterial{.certificate_chain_pem = server.certificate_pem,
                             .private_key_pem = server.private_key_pem,
                             .client_ca_pem = harness->ca_->certificate_pem()};
  }
  ASSIGN_OR_RETURN(core::Pseudonymizer pseudonymizer,
                   core::Pseudonymizer::FromKey(kPnrKey));
  ASSIGN_OR_RETURN(harness->broker_,
                   service::BrokerServer::Start(std::move(options.broker),
                                                std::move(pseudonymizer)));
  harness->channel_ =
      options.tls
          ? harness->TlsChannel(nullptr, harness->ca_->certificate_pem())
          : grpc::CreateChannel(harness->target(),
                                grpc::InsecureChannelCredentials());
  if (options.sample_directory) {
    RETURN_IF_ERROR(LoadSampleDirectory(harness->ChannelFor(kAdmin)));
  }
  return harness;
}

absl::StatusOr<std::string> BrokerHarness::DataDigest() {
  if (cluster_ == nullptr) return redis_->Execute({"DEBUG", "DIGEST"});
  std::string digests;
  for (int i = 0; i < cluster_->size(); ++i) {
    ASSIGN_OR_RETURN(const std::string digest,
                     cluster_->node(i).Execute({"DEBUG", "DIGEST"}));
    absl::StrAppend(&digests, i == 0 ? "" : " ", digest);
  }
  return digests;
}

BrokerHarness::~BrokerHarness() {
  // The broker first: it still talks to Redis while calls drain.
  broker_.reset();
  redis_.reset();
  cluster_.reset();
}

double BrokerHarness::MetricReaching(const std::string& series,
                                     double want) const {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  double now = -1;
  while ((now = Metric(series).value_or(-1)) != want && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  return now;
}

std::optional<double> BrokerHarness::Metric(const std::string& series) const {
  const std::string text = broker_->metrics().Text();
  const std::string line = absl::StrCat(series, " ");
  size_t at = text.find(line);
  // A whole line, not the end of a longer series' name.
  while (at != std::string::npos && at > 0 && text[at - 1] != '\n') {
    at = text.find(line, at + 1);
  }
  if (at == std::string::npos) return std::nullopt;
  double value = 0;
  if (!absl::SimpleAtod(
          text.substr(at + line.size(), text.find('\n', at) - at - line.size()),
          &value)) {
    return std::nullopt;
  }
  return value;
}

std::string BrokerHarness::target() const {
  return absl::StrCat("127.0.0.1:", broker_->port());
}

std::string BrokerHarness::admin_target() const {
  return absl::StrCat("127.0.0.1:", broker_->admin_port());
}

std::shared_ptr<grpc::Channel> BrokerHarness::TlsChannel(
    const KeyAndCertificate* client, const std::string& trusted_ca_pem) const {
  return OwnChannel(target(), SslCredentialsFor(client, trusted_ca_pem));
}

std::shared_ptr<grpc::Channel> BrokerHarness::GatewayChannelFor(
    const Identity& identity, const std::string& gateway) const {
  if (!ca_.has_value()) return channel_;
  const CertificateSpec spec = GatewayCertificate(gateway);
  absl::MutexLock lock(&mu_);
  std::shared_ptr<grpc::Channel>& channel =
      channels_[absl::StrCat(spec.uris.front(), " ", IdentityUri(identity))];
  if (channel == nullptr) {
    absl::StatusOr<KeyAndCertificate> cert = ca_->Issue(spec);
    // A channel without a certificate fails every call, which says enough.
    channel = OwnChannel(target(),
                         grpc::CompositeChannelCredentials(
                             SslCredentialsFor(cert.ok() ? &*cert : nullptr,
                                               ca_->certificate_pem()),
                             grpc::MetadataCredentialsFromPlugin(
                                 std::make_unique<IdentityHeaders>(identity))));
  }
  return channel;
}

std::shared_ptr<grpc::Channel> BrokerHarness::ChannelFor(
    const Identity& identity) const {
  if (!ca_.has_value()) return channel_;
  const std::string uri = IdentityUri(identity);
  absl::MutexLock lock(&mu_);
  std::shared_ptr<grpc::Channel>& channel = channels_[uri];
  if (channel == nullptr) {
    absl::StatusOr<KeyAndCertificate> cert = ca_->Issue(ClientCertificate(uri));
    // A channel without a certificate fails every call, which says enough.
    channel = TlsChannel(cert.ok() ? &*cert : nullptr, ca_->certificate_pem());
  }
  return channel;
}

std::string IdentityUri(const Identity& identity) {
  return absl::StrCat("urn:slussen:", identity.role, ":", identity.organisation,
                      identity.region.empty() ? "" : ":", identity.region);
}

std::unique_ptr<slussen::v1::ReferralService::Stub>
BrokerHarness::ReferralStub() const {
  return slussen::v1::ReferralService::NewStub(channel_);
}

ReferralClient BrokerHarness::Client(const Identity& identity,
                                     absl::Duration deadline) const {
  return ReferralClient(ChannelFor(identity), identity, deadline);
}

std::string BrokerHarness::HealthStatus(const std::string& service) const {
  return HealthStatus(ChannelFor(kAdmin), service);
}

std::string BrokerHarness::HealthStatus(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return absl::StrCat("error: ", status.error_message());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
      response.status());
}

}  // namespace slussen::testing

// Mutual TLS end to end: the broker serving TLS with certificates made for
// each test by a throwaway CA, real gRPC clients presenting (or not) client
// certificates. A caller is who its verified certificate says, never what
// its headers claim; a client without a valid certificate of the broker's
// CA gets no call through; the plaintext admin port answers health and
// reflection only; development identity stays on loopback.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/reflection_client.h"
#include "tests/support/sample_referrals.h"
#include "tests/support/test_certificates.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    options.tls = true;
    options.admin_port = true;
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  // A channel presenting a certificate of the broker's CA made from `spec`.
  std::shared_ptr<grpc::Channel> ChannelWith(const CertificateSpec& spec) {
    absl::StatusOr<KeyAndCertificate> cert = harness_->ca().Issue(spec);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return harness_->TlsChannel(cert.ok() ? &*cert : nullptr,
                                harness_->ca().certificate_pem());
  }

  // GetReferral of `name` over `channel`, with `headers` as metadata.
  static grpc::Status GetReferral(
      const std::shared_ptr<grpc::Channel>& channel, const std::string& name,
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    auto stub = v1::ReferralService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    for (const auto& [key, value] : headers) context.AddMetadata(key, value);
    v1::GetReferralRequest request;
    request.set_name(name);
    v1::Referral referral;
    return stub->GetReferral(&context, request, &referral);
  }

  // A referral made by Halmstad's ekonomiskt bistånd.
  std::string CreateHalmstadImpulse() {
    v1::Referral made;
    const grpc::Status status =
        harness_->Client(kHalmstadKommun).Create(SampleImpulse(), &made);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return made.name();
  }

  std::unique_ptr<BrokerHarness> harness_;
};

TEST_F(TlsE2eTest, AnAgencyIsTheOrganisationItsCertificateNames) {
  const std::string name = CreateHalmstadImpulse();
  v1::Referral seen;
  const grpc::Status own = harness_->Client(kHalmstadKommun).Get(name, &seen);
  ASSERT_TRUE(own.ok()) << own.error_message();
  EXPECT_EQ(seen.referring_organisation(), "kommun-halmstad-eb");

  const grpc::Status other = harness_->Client(kLaholmKommun).Get(name, &seen);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND)
      << other.error_message();
}

TEST_F(TlsE2eTest, EachRoleIsIdentifiedFromItsCertificate) {
  const std::string name = CreateHalmstadImpulse();
  // A coordinator sees its region's referrals, not another region's.
  v1::Referral seen;
  EXPECT_TRUE(harness_->Client(kHallandCoordinator).Get(name, &seen).ok());
  EXPECT_EQ(harness_->Client(kSkaneCoordinator).Get(name, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // A provider not offered it does not see it; an admin reads no referral.
  EXPECT_EQ(harness_->Client(kProvider).Get(name, &seen).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(harness_->Client(kAdmin).Get(name, &seen).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The provider's own offers (none yet) are its to list.
  auto offers = v1::OfferService::NewStub(harness_->ChannelFor(kProvider));
  grpc::ClientContext context;
  v1::ListOffersRequest request;
  request.set_parent("regions/13");
  v1::ListOffersResponse response;
  const grpc::Status listed = offers->ListOffers(&context, request, &response);
  EXPECT_TRUE(listed.ok()) << listed.error_message();
  // An admin manages the directory (the harness loaded it as one); an
  // agency may not.
  auto directory =
      v1::ProviderDirectory::NewStub(harness_->ChannelFor(kHalmstadKommun));
  grpc::ClientContext agency_context;
  v1::CreateActivityTypeRequest create;
  create.set_activity_type_id("faros");
  create.mutable_activity_type()->set_display_name("FAROS");
  v1::ActivityType made;
  EXPECT_EQ(directory->CreateActivityType(&agency_context, create, &made)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TlsE2eTest, SpoofedIdentityHeadersAreIgnored) {
  // Halmstad's certificate, with headers claiming to be Laholm: the
  // referral is Halmstad's.
  auto stub =
      v1::ReferralService::NewStub(harness_->ChannelFor(kHalmstadKommun));
  grpc::ClientContext context;
  Identify(&context, kLaholmKommun);
  context.AddMetadata("x-slussen-person", "handlaggare.17");
  v1::Referral made;
  const grpc::Status created =
      stub->CreateReferral(&context, SampleImpulse(), &made);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(made.referring_organisation(), "kommun-halmstad-eb");
  ASSERT_GT(made.history_size(), 0);
  EXPECT_EQ(made.history(0).actor().organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(made.history(0).actor().role(), v1::ROLE_AGENCY);
  // The staff handle is taken from metadata: recorded, not an authority.
  EXPECT_EQ(made.history(0).actor().person(), "handlaggare.17");

  // Laholm's certificate claiming, by header, to be Halmstad or a
  // coordinator of the region sees nothing of it.
  const auto laholm = harness_->ChannelFor(kLaholmKommun);
  for (const auto& headers :
       std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"x-slussen-organisation", "kommun-halmstad-eb"},
            {"x-slussen-role", "agency"},
            {"x-slussen-region", "13"}},
           {{"x-slussen-organisation", "samordning-halland"},
            {"x-slussen-role", "coordinator"},
            {"x-slussen-region", "13"}}}) {
    EXPECT_EQ(GetReferral(laholm, made.name(), headers).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(TlsE2eTest, AClientWithoutACertificateIsRefused) {
  const std::string name = CreateHalmstadImpulse();
  // The handshake fails: no call reaches the broker, headers or not.
  const grpc::Status status =
      GetReferral(harness_->channel(), name,
                  {{"x-slussen-organisation", "kommun-halmstad-eb"},
                   {"x-slussen-role", "agency"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(TlsE2eTest, AnExpiredCertificateIsRefused) {
  const std::string name = CreateHalmstadImpulse();
  CertificateSpec expired = ClientCertificate(IdentityUri(kHalmstadKommun));
  expired.not_before = -absl::Hours(48);
  expired.not_after = -absl::Hours(24);
  const grpc::Status status = GetReferral(ChannelWith(expired), name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(TlsE2eTest, ACertificateNotYetValidIsRefused) {
  const std::string name = CreateHalmstadImpulse();
  CertificateSpec future = ClientCertificate(IdentityUri(kHalmstadKommun));
  future.not_before = absl::Hours(24);
  future.not_after = absl::Hours(48);
  EXPECT_EQ(GetReferral(ChannelWith(future), name).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsE2eTest, ACertificateOfAnotherCaIsRefused) {
  const std::string name = CreateHalmstadImpulse();
  absl::StatusOr<TestCertificateAuthority> other =
      TestCertificateAuthority::Create("Slussen test CA");  // the same name
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<KeyAndCertificate> cert =
      other->Issue(ClientCertificate(IdentityUri(kHalmstadKommun)));
  ASSERT_TRUE(cert.ok()) << cert.status();
  // The client trusts the broker's CA; its own certificate is of another.
  const grpc::Status status = GetReferral(
      harness_->TlsChannel(&*cert, harness_->ca().certificate_pem()), name);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(TlsE2eTest, ACertificateWithoutTheIdentityUriIsUnauthenticated) {
  CertificateSpec spec = ClientCertificate("");
  spec.common_name = "kommun-halmstad-eb";
  spec.dns_names = {"halmstad.example"};
  const grpc::Status status = GetReferral(
      ChannelWith(spec), "regions/13/referrals/01M8QNDNBY2AJ4HS530DMVB5VP",
      {{"x-slussen-organisation", "kommun-halmstad-eb"},
       {"x-slussen-role", "agency"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("exactly one URI subject alternative name"));
  EXPECT_THAT(status.error_message(), HasSubstr("it has 0"));
  EXPECT_THAT(status.error_message(), HasSubstr("CN=kommun-halmstad-eb"));
}

TEST_F(TlsE2eTest, AMalformedIdentityUriIsUnauthenticatedNamingTheProblem) {
  struct Case {
    std::vector<std::string> uris;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"urn:slussen:agency"}, "must be urn:slussen:<role>:<organisation>"},
      {{"urn:slussen:agency:kommun-halmstad-eb:13:extra"},
       "must be urn:slussen:<role>:<organisation>"},
      {{"urn:slussen:boss:kommun-halmstad-eb"},
       "<role> must be agency, provider, coordinator or admin, got \"boss\""},
      {{"urn:slussen:system:slussen"},
       "<role> must be agency, provider, coordinator or admin, got \"system\""},
      {{"urn:slussen:agency:Kommun_Halmstad"},
       "<organisation> must name the calling organisation"},
      {{"urn:slussen:agency:kommun-halmstad-eb:99"},
       "<region> must be a two-digit län code (01, 03, ..., 25), got \"99\""},
      {{"urn:slussen:agency:kommun-halmstad-eb:"},
       "<region> must be a two-digit län code"},
      {{"urn:slussen:coordinator:samordning-halland"},
       "<region> is required for a coordinator"},
      {{"urn:slussen:agency:kommun-halmstad-eb",
        "urn:slussen:agency:kommun-laholm-eb"},
       "it has 2"},
  };
  for (const Case& c : cases) {
    CertificateSpec spec = ClientCertificate("");
    spec.uris = c.uris;
    const grpc::Status status = GetReferral(
        ChannelWith(spec), "regions/13/referrals/01M8QNDNBY2AJ4HS530DMVB5VP");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << c.uris[0];
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.uris[0];
  }
}

TEST_F(TlsE2eTest, OtherUrisBesideTheIdentityAreIgnored) {
  const std::string name = CreateHalmstadImpulse();
  CertificateSpec spec = ClientCertificate(IdentityUri(kHalmstadKommun));
  spec.uris.insert(spec.uris.begin(),
                   "spiffe://halmstad.example/ns/eb/sa/slussctl");
  EXPECT_TRUE(GetReferral(ChannelWith(spec), name).ok());
}

TEST_F(TlsE2eTest, TheAdminPortAnswersHealthAndReflectionOnly) {
  auto admin = grpc::CreateChannel(harness_->admin_target(),
                                   grpc::InsecureChannelCredentials());
  EXPECT_EQ(BrokerHarness::HealthStatus(admin), "SERVING");
  EXPECT_EQ(BrokerHarness::HealthStatus(admin, "slussen.v1.ReferralService"),
            "SERVING");
  const absl::StatusOr<std::set<std::string>> services =
      ReflectedServices(admin);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_TRUE(services->count("grpc.health.v1.Health"));
  EXPECT_FALSE(services->count("slussen.v1.ReferralService"));
  // The public API is not served there, whatever the headers say.
  EXPECT_EQ(
      GetReferral(admin, "regions/13/referrals/01M8QNDNBY2AJ4HS530DMVB5VP",
                  {{"x-slussen-organisation", "kommun-halmstad-eb"},
                   {"x-slussen-role", "agency"}})
          .error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
  // The TLS port reflects the public API to a client with a certificate.
  const absl::StatusOr<std::set<std::string>> public_services =
      ReflectedServices(harness_->ChannelFor(kHalmstadKommun));
  ASSERT_TRUE(public_services.ok()) << public_services.status();
  EXPECT_TRUE(public_services->count("slussen.v1.ReferralService"));
}

TEST_F(TlsE2eTest, TheAdminPortsHealthFollowsRedis) {
  if (harness_->redis_options().cluster) {
    GTEST_SKIP() << "needs one redis-server (SLUSSEN_TEST_REDIS_CLUSTER)";
  }
  auto admin = grpc::CreateChannel(harness_->admin_target(),
                                   grpc::InsecureChannelCredentials());
  ASSERT_TRUE(harness_->redis().Kill().ok());
  const auto wait_for = [&](const std::string& want) {
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    std::string status;
    while ((status = BrokerHarness::HealthStatus(admin)) != want &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    return status;
  };
  EXPECT_EQ(wait_for("NOT_SERVING"), "NOT_SERVING");
  ASSERT_TRUE(harness_->redis().Restart().ok());
  EXPECT_EQ(wait_for("SERVING"), "SERVING");
}

// Where the broker may listen, by identity mode.
class ListenAddressTest : public ::testing::Test {
 protected:
  static absl::StatusOr<std::unique_ptr<service::BrokerServer>> StartOn(
      service::BrokerOptions options) {
    absl::StatusOr<core::Pseudonymizer> pseudonymizer =
        core::Pseudonymizer::FromKey(BrokerHarness::kPnrKey);
    if (!pseudonymizer.ok()) return pseudonymizer.status();
    options.redis.address = *store::RedisAddress::Parse("unix:/nonexistent");
    return service::BrokerServer::Start(std::move(options),
                                        *std::move(pseudonymizer));
  }
};

TEST_F(ListenAddressTest, LoopbackIsLoopbackByAddressNotByHowANameStarts) {
  for (const char* loopback : {"127.0.0.1:50051", "127.1.2.3:0", "[::1]:50051",
                               "localhost:50051", "unix:/tmp/slussen.sock"}) {
    EXPECT_TRUE(service::IsLoopbackAddress(loopback)) << loopback;
  }
  for (const char* remote :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.1:50051",
        "127.example.org:50051", "localhost.example.org:50051",
        "[::1.example]:1", "slussen.example:443", "127.0.0.1"}) {
    EXPECT_FALSE(service::IsLoopbackAddress(remote)) << remote;
  }
}

TEST_F(ListenAddressTest, PlaintextOnANonLoopbackAddressIsRefused) {
  service::BrokerOptions options;
  options.listen = "0.0.0.0:0";
  const absl::StatusOr<std::unique_ptr<service::BrokerServer>> broker =
      StartOn(options);
  ASSERT_FALSE(broker.ok());
  EXPECT_EQ(broker.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(broker.status().message(), HasSubstr("--insecure_allow_remote"));
  EXPECT_THAT(broker.status().message(), HasSubstr("mutual TLS"));
}

TEST_F(ListenAddressTest, AnAdminPortOffLoopbackIsRefused) {
  service::BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.admin_listen = "0.0.0.0:0";
  const absl::StatusOr<std::unique_ptr<service::BrokerServer>> broker =
      StartOn(options);
  ASSERT_FALSE(broker.ok());
  EXPECT_THAT(broker.status().message(), HasSubstr("admin port on 0.0.0.0:0"));
}

TEST_F(ListenAddressTest, MutualTlsMayListenAnywhereDevelopmentOnlyIfForced) {
  service::BrokerOptions options;
  options.listen = "192.0.2.10:50051";
  EXPECT_FALSE(service::CheckListenAddresses(options).ok());
  options.allow_remote_development_identity = true;
  EXPECT_TRUE(service::CheckListenAddresses(options).ok());
  options.allow_remote_development_identity = false;
  options.tls = service::TlsMaterial{};
  EXPECT_TRUE(service::CheckListenAddresses(options).ok());
}

TEST_F(ListenAddressTest, MismatchedTlsFilesAreRefusedNamingTheFlag) {
  absl::StatusOr<TestCertificateAuthority> ca =
      TestCertificateAuthority::Create("CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<KeyAndCertificate> server =
      ca->Issue(LocalhostServerCertificate());
  absl::StatusOr<KeyAndCertificate> other =
      ca->Issue(LocalhostServerCertificate());
  ASSERT_TRUE(server.ok() && other.ok());
  service::BrokerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls =
      service::TlsMaterial{.certificate_chain_pem = server->certificate_pem,
                           .private_key_pem = other->private_key_pem,
                           .client_ca_pem = ca->certificate_pem()};
  const absl::StatusOr<std::unique_ptr<service::BrokerServer>> broker =
      StartOn(options);
  ASSERT_FALSE(broker.ok());
  EXPECT_EQ(broker.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(broker.status().message(), HasSubstr("--tls_key_file"));
}

}  // namespace
}  // namespace slussen::testing

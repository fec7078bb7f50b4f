// A gateway over real mutual TLS: a certificate urn:slussen:gateway:web-1
// (an HTTP gateway for people) acts for the caller its identity headers
// name, call by call, exactly as that caller would directly; history and
// the audit trail record both the person and the gateway; the same headers
// from any other certificate count for nothing (README, Security).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/privacy_service.grpc.pb.h"
#include "slussen/v1/referral_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"
#include "tests/support/test_certificates.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

using Headers = std::vector<std::pair<std::string, std::string>>;

// "kommun-halmstad-eb, agency, person a123, via gateway web-1".
std::string Who(const v1::Actor& actor) {
  return absl::StrCat(actor.organisation(), ", ",
                      absl::AsciiStrToLower(absl::StripPrefix(
                          v1::Role_Name(actor.role()), "ROLE_")),
                      actor.person().empty() ? "" : ", person ", actor.person(),
                      actor.via().empty() ? "" : ", via gateway ", actor.via());
}

class GatewayE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerHarness::Options options;
    options.tls = true;
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start(std::move(options));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
    absl::StatusOr<KeyAndCertificate> gateway =
        harness_->ca().Issue(GatewayCertificate("web-1"));
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    // Headers set call by call here, not by the harness's channel.
    gateway_ =
        harness_->TlsChannel(&*gateway, harness_->ca().certificate_pem());
  }

  static void Prepare(grpc::ClientContext* context, const Headers& headers) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    for (const auto& [key, value] : headers) context->AddMetadata(key, value);
  }

  // The headers a gateway sends for `identity`'s member of staff `person`.
  static Headers OnBehalfOf(const Identity& identity,
                            const std::string& person = "") {
    Headers headers = {{"x-slussen-organisation", identity.organisation},
                       {"x-slussen-role", identity.role}};
    if (!identity.region.empty()) {
      headers.emplace_back("x-slussen-region", identity.region);
    }
    if (!person.empty()) headers.emplace_back("x-slussen-person", person);
    return headers;
  }

  static grpc::Status Create(const std::shared_ptr<grpc::Channel>& channel,
                             const Headers& headers,
                             const v1::CreateReferralRequest& request,
                             v1::Referral* made) {
    grpc::ClientContext context;
    Prepare(&context, headers);
    return v1::ReferralService::NewStub(channel)->CreateReferral(&context,
                                                                 request, made);
  }

  static grpc::Status Get(const std::shared_ptr<grpc::Channel>& channel,
                          const Headers& headers, const std::string& name,
                          v1::Referral* seen) {
    grpc::ClientContext context;
    Prepare(&context, headers);
    v1::GetReferralRequest request;
    request.set_name(name);
    return v1::ReferralService::NewStub(channel)->GetReferral(&context, request,
                                                              seen);
  }

  // The audit records of the sample participant, asked by the region's
  // coordinator with its own certificate.
  std::vector<v1::AuditRecord> AuditOfSampleParticipant() {
    auto privacy =
        v1::PrivacyService::NewStub(harness_->ChannelFor(kHallandCoordinator));
    grpc::ClientContext context;
    Prepare(&context, {});
    v1::ListAuditRecordsRequest request;
    request.set_parent("regions/13");
    request.set_participant_pseudonym(
        SampleActivityReferral("13").referral().participant().pseudonym());
    v1::ListAuditRecordsResponse response;
    const grpc::Status status =
        privacy->ListAuditRecords(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.records().begin(), response.records().end()};
  }

  std::unique_ptr<BrokerHarness> harness_;
  // A channel presenting the certificate urn:slussen:gateway:web-1.
  std::shared_ptr<grpc::Channel> gateway_;
};

TEST_F(GatewayE2eTest, AGatewayActsForThePersonAndTheRecordsSayBoth) {
  v1::Referral made;
  const grpc::Status created =
      Create(gateway_, OnBehalfOf(kHalmstadKommun, "a123"),
             SampleActivityReferral("13"), &made);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(made.referring_organisation(), "kommun-halmstad-eb");
  ASSERT_GT(made.history_size(), 0);
  EXPECT_EQ(Who(made.history(0).actor()),
            "kommun-halmstad-eb, agency, person a123, via gateway web-1");

  // Read back through the gateway: the read is audited as the person's,
  // via the gateway, like the creation.
  v1::Referral seen;
  const grpc::Status got =
      Get(gateway_, OnBehalfOf(kHalmstadKommun, "a123"), made.name(), &seen);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(seen.history(0).actor().via(), "web-1");

  std::vector<std::string> audited;
  for (const v1::AuditRecord& record : AuditOfSampleParticipant()) {
    if (record.resource() != made.name()) continue;
    audited.push_back(absl::StrCat(v1::AuditOperation_Name(record.operation()),
                                   " by ", Who(record.actor())));
  }
  EXPECT_THAT(audited,
              IsSupersetOf({"AUDIT_OPERATION_CREATE by kommun-halmstad-eb, "
                            "agency, person a123, via gateway web-1",
                            "AUDIT_OPERATION_READ by kommun-halmstad-eb, "
                            "agency, person a123, via gateway web-1"}));
}

TEST_F(GatewayE2eTest, ThroughAGatewayAnotherAgencySeesNothingOfIt) {
  v1::Referral made;
  ASSERT_TRUE(Create(gateway_, OnBehalfOf(kHalmstadKommun),
                     SampleActivityReferral("13"), &made)
                  .ok());
  // The same gateway, call by call: whom it acts for decides.
  v1::Referral seen;
  EXPECT_EQ(
      Get(gateway_, OnBehalfOf(kLaholmKommun), made.name(), &seen).error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(
      Get(gateway_, OnBehalfOf(kHalmstadKommun), made.name(), &seen).ok());
  // Exactly as Laholm calling with its own certificate.
  EXPECT_EQ(Get(harness_->ChannelFor(kLaholmKommun), {}, made.name(), &seen)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayE2eTest, AnAgencysCertificateIgnoresTheHeadersAGatewaySends) {
  v1::Referral made;
  const grpc::Status created =
      Create(harness_->ChannelFor(kHalmstadKommun),
             OnBehalfOf(kLaholmKommun, "b456"), SampleImpulse(), &made);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(made.referring_organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(made.history(0).actor().organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(made.history(0).actor().person(), "b456");
  EXPECT_EQ(made.history(0).actor().via(), "");
  v1::Referral seen;
  EXPECT_EQ(Get(harness_->ChannelFor(kLaholmKommun), {}, made.name(), &seen)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayE2eTest, AGatewayThatNamesNoCallerIsUnauthenticated) {
  v1::Referral made;
  const grpc::Status status =
      Create(gateway_, {{"x-slussen-person", "a123"}}, SampleImpulse(), &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("a gateway must name the caller it acts for"));
}

TEST_F(GatewayE2eTest, AGatewayMayNotActForAnAdminOrAGateway) {
  v1::Referral made;
  const grpc::Status admin =
      Create(gateway_, OnBehalfOf(kAdmin), SampleImpulse(), &made);
  EXPECT_EQ(admin.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(admin.error_message(),
              HasSubstr("gateway web-1 may not act for an admin"));
  const grpc::Status gateway = Create(
      gateway_, OnBehalfOf({"web-2", "gateway", ""}), SampleImpulse(), &made);
  EXPECT_EQ(gateway.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GatewayE2eTest, AGatewayCertificateWithARegionIsRefused) {
  absl::StatusOr<KeyAndCertificate> cert =
      harness_->ca().Issue(ClientCertificate("urn:slussen:gateway:web-1:13"));
  ASSERT_TRUE(cert.ok()) << cert.status();
  const auto channel =
      harness_->TlsChannel(&*cert, harness_->ca().certificate_pem());
  v1::Referral made;
  const grpc::Status status =
      Create(channel, OnBehalfOf(kHalmstadKommun), SampleImpulse(), &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("must be urn:slussen:gateway:<name>"));
}

}  // namespace
}  // namespace slussen::testing

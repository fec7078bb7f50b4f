// The RPC edge (broker/service/rpc_scope.h): a core status becomes a
// grpc::Status with its payloads as google.rpc.Status details; identity
// resolution checks development metadata and client-certificate URIs by the
// same rules, and under mutual TLS the identity headers count for nothing
// except through a gateway's certificate.
#include "broker/service/rpc_scope.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/cord.h"
#include "broker/core/model/field_error.h"
#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"

namespace slussen::service {
namespace {

namespace v1 = ::slussen::v1;
using ::slussen::testing::ClientCertificate;
using ::slussen::testing::KeyAndCertificate;
using ::slussen::testing::TestCertificateAuthority;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using Metadata = std::multimap<std::string, std::string>;

// The details of a refusal, by type URL.
std::map<std::string, google::protobuf::Any> DetailsOf(
    const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(details.message(), status.error_message());
  std::map<std::string, google::protobuf::Any> out;
  for (const google::protobuf::Any& any : details.details()) {
    out[any.type_url()] = any;
  }
  return out;
}

google::rpc::ErrorInfo ErrorInfoIn(const grpc::Status& status) {
  google::rpc::ErrorInfo info;
  const auto details = DetailsOf(status);
  const auto it = details.find("type.googleapis.com/google.rpc.ErrorInfo");
  EXPECT_NE(it, details.end()) << "no ErrorInfo";
  // Braces: EXPECT_TRUE is an if-else of its own.
  if (it != details.end()) {
    EXPECT_TRUE(it->second.UnpackTo(&info));
  }
  return info;
}

TEST(ToGrpcStatusTest, KeepsCodeAndMessageAndNamesTheCodeAsTheReason) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  const grpc::Status status =
      ToGrpcStatus(absl::NotFoundError("referral regions/13/referrals/x"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "referral regions/13/referrals/x");
  const google::rpc::ErrorInfo info = ErrorInfoIn(status);
  EXPECT_EQ(info.reason(), "NOT_FOUND");
  EXPECT_EQ(info.domain(), "slussen.se");
  EXPECT_EQ(DetailsOf(status).size(), 1u);  // no RetryInfo for NOT_FOUND
}

TEST(ToGrpcStatusTest, AFieldErrorsBadRequestGoesIntoTheRpcStatusDetails) {
  const absl::Status field_error = core::InvalidField(
      "referral.impulse.kommun_code", "must be four digits", "138");
  const grpc::Status status = ToGrpcStatus(field_error);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), field_error.message());

  const auto details = DetailsOf(status);
  ASSERT_EQ(details.count("type.googleapis.com/google.rpc.BadRequest"), 1u);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.at("type.googleapis.com/google.rpc.BadRequest")
                  .UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "referral.impulse.kommun_code");
  EXPECT_EQ(bad_request.field_violations(0).description(),
            "must be four digits, got \"138\"");
  EXPECT_EQ(ErrorInfoIn(status).reason(), "INVALID_FIELD");
}

TEST(ToGrpcStatusTest, AReasonGivenIsKeptAndARetryIsTimed) {
  const grpc::Status given = ToGrpcStatus(core::WithRetryDelay(
      core::WithReason(absl::ResourceExhaustedError("slow down"),
                       "RATE_LIMITED"),
      absl::Milliseconds(1500)));
  EXPECT_EQ(ErrorInfoIn(given).reason(), "RATE_LIMITED");
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(DetailsOf(given)
                  .at("type.googleapis.com/google.rpc.RetryInfo")
                  .UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 500000000);

  // UNAVAILABLE without a delay of its own: one second.
  const grpc::Status unavailable =
      ToGrpcStatus(absl::UnavailableError("redis is down"));
  EXPECT_EQ(ErrorInfoIn(unavailable).reason(), "UNAVAILABLE");
  ASSERT_TRUE(DetailsOf(unavailable)
                  .at("type.googleapis.com/google.rpc.RetryInfo")
                  .UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
}

TEST(ToGrpcStatusTest, APreconditionFailureNamesTheRuleAndTheResource) {
  const grpc::Status status = ToGrpcStatus(core::WithReason(
      absl::FailedPreconditionError(
          "offer regions/13/offers/01JX7 was already accepted by "
          "halsosam-halmstad at 2026-12-01 10:00 CET."),
      "OFFER_ALREADY_ACCEPTED"));
  google::rpc::PreconditionFailure failure;
  ASSERT_TRUE(DetailsOf(status)
                  .at("type.googleapis.com/google.rpc.PreconditionFailure")
                  .UnpackTo(&failure));
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).type(), "OFFER_ALREADY_ACCEPTED");
  EXPECT_EQ(failure.violations(0).subject(), "regions/13/offers/01JX7");
  EXPECT_EQ(failure.violations(0).description(), status.error_message());

  // Without a reason or a name: the code's name, no subject.
  const grpc::Status plain = ToGrpcStatus(
      absl::FailedPreconditionError("the cohort has started (subregions/x)"));
  ASSERT_TRUE(DetailsOf(plain)
                  .at("type.googleapis.com/google.rpc.PreconditionFailure")
                  .UnpackTo(&failure));
  EXPECT_EQ(failure.violations(0).type(), "FAILED_PRECONDITION");
  EXPECT_EQ(failure.violations(0).subject(), "");
  // Other codes get none.
  EXPECT_EQ(DetailsOf(ToGrpcStatus(absl::AbortedError("x")))
                .count("type.googleapis.com/google.rpc.PreconditionFailure"),
            0u);
}

TEST(ToGrpcStatusTest, EveryPayloadBecomesOneAny) {
  absl::Status status = absl::UnavailableError("redis is down");
  status.SetPayload("type.googleapis.com/google.rpc.RetryInfo",
                    absl::Cord("retry"));
  status.SetPayload("type.googleapis.com/example.Other", absl::Cord("other"));
  std::map<std::string, std::string> anys;
  for (const auto& [url, any] : DetailsOf(ToGrpcStatus(status))) {
    anys[url] = any.value();
  }
  EXPECT_EQ(anys.size(), 3u);
  EXPECT_EQ(anys["type.googleapis.com/google.rpc.RetryInfo"], "retry");
  EXPECT_EQ(anys["type.googleapis.com/example.Other"], "other");
  EXPECT_EQ(anys.count("type.googleapis.com/google.rpc.ErrorInfo"), 1u);
  // In the order of their type URLs, the same from call to call.
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(ToGrpcStatus(status).error_details()));
  std::vector<std::string> order;
  for (const google::protobuf::Any& any : details.details()) {
    order.push_back(any.type_url());
  }
  EXPECT_THAT(order, ::testing::ElementsAre(
                         "type.googleapis.com/example.Other",
                         "type.googleapis.com/google.rpc.ErrorInfo",
                         "type.googleapis.com/google.rpc.RetryInfo"));
}

TEST(CallerFromMetadataTest, NamesTheCallerFromTheHeaders) {
  const absl::StatusOr<core::Caller> caller =
      CallerFromMetadata({{kOrganisationHeader, "samordning-halland"},
                          {kRoleHeader, "coordinator"},
                          {kRegionHeader, "13"},
                          {kPersonHeader, "anna.b"}});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->organisation, "samordning-halland");
  EXPECT_EQ(caller->role, v1::ROLE_COORDINATOR);
  EXPECT_EQ(caller->region, "13");
  EXPECT_EQ(caller->person, "anna.b");
}

TEST(CallerFromMetadataTest, NamesTheHeaderThatIsWrong) {
  const absl::StatusOr<core::Caller> caller = CallerFromMetadata(
      {{kOrganisationHeader, "kommun-halmstad-eb"}, {kRoleHeader, "system"}});
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(caller.status().message(),
            "metadata x-slussen-role must be agency, provider, coordinator or "
            "admin, got \"system\" (development identity mode; see "
            "docs/security.md)");
}

TEST(CallerFromCertificateNamesTest, NamesTheCallerFromTheUriOnly) {
  const Metadata spoofed = {{kOrganisationHeader, "kommun-laholm-eb"},
                            {kRoleHeader, "coordinator"},
                            {kRegionHeader, "12"},
                            {kPersonHeader, "anna.b"}};
  const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
      "CN=x", {"urn:slussen:agency:kommun-halmstad-eb:13"}, spoofed);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->organisation, "kommun-halmstad-eb");
  EXPECT_EQ(caller->role, v1::ROLE_AGENCY);
  EXPECT_EQ(caller->region, "13");
  EXPECT_EQ(caller->person, "anna.b");
}

TEST(CallerFromCertificateNamesTest, TheRegionIsOptionalExceptForCoordinators) {
  const absl::StatusOr<core::Caller> admin = CallerFromCertificateNames(
      "CN=x", {"urn:slussen:admin:slussen-admin"}, {});
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->role, v1::ROLE_ADMIN);
  EXPECT_EQ(admin->region, "");
  const absl::StatusOr<core::Caller> coordinator = CallerFromCertificateNames(
      "CN=x", {"urn:slussen:coordinator:samordning-halland"},
      {{kRegionHeader, "13"}});
  ASSERT_FALSE(coordinator.ok());
  EXPECT_EQ(coordinator.status().message(),
            "the client certificate's URI "
            "\"urn:slussen:coordinator:samordning-halland\": <region> is "
            "required for a coordinator: the region it coordinates, got \"\" "
            "(mutual TLS identity; see docs/security.md)");
}

TEST(CallerFromCertificateNamesTest, ThePrefixIsCaseInsensitive) {
  const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
      "CN=x", {"URN:Slussen:provider:halsosam-halmstad"}, {});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->role, v1::ROLE_PROVIDER);
}

TEST(CallerFromCertificateNamesTest, APersonnummerAsStaffHandleIsRefused) {
  const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
      "CN=x", {"urn:slussen:agency:kommun-halmstad-eb"},
      {{kPersonHeader, "19121212-1212"}});
  ASSERT_FALSE(caller.ok());
  EXPECT_THAT(caller.status().message(), HasSubstr("x-slussen-person"));
  EXPECT_THAT(caller.status().message(), Not(HasSubstr("1212")));
}

// What a gateway sends for the person it acts for.
const Metadata kOnBehalfOfHalmstad = {
    {kOrganisationHeader, "kommun-halmstad-eb"},
    {kRoleHeader, "agency"},
    {kRegionHeader, "13"},
    {kPersonHeader, "a123"}};

TEST(CallerFromCertificateNamesTest, AGatewayActsForTheCallerItsHeadersName) {
  const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
      "CN=web-1", {"urn:slussen:gateway:web-1"}, kOnBehalfOfHalmstad);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->organisation, "kommun-halmstad-eb");
  EXPECT_EQ(caller->role, v1::ROLE_AGENCY);
  EXPECT_EQ(caller->region, "13");
  EXPECT_EQ(caller->person, "a123");
  EXPECT_EQ(caller->via, "web-1");

  const v1::Actor actor = caller->ToActor();
  EXPECT_EQ(actor.organisation(), "kommun-halmstad-eb");
  EXPECT_EQ(actor.person(), "a123");
  EXPECT_EQ(actor.via(), "web-1");

  const absl::StatusOr<core::Caller> coordinator =
      CallerFromCertificateNames("CN=web-1", {"URN:Slussen:Gateway:web-1"},
                                 {{kOrganisationHeader, "samordning-halland"},
                                  {kRoleHeader, "coordinator"},
                                  {kRegionHeader, "13"}});
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  EXPECT_EQ(coordinator->role, v1::ROLE_COORDINATOR);
  EXPECT_EQ(coordinator->via, "web-1");
  EXPECT_EQ(coordinator->person, "");
}

TEST(CallerFromCertificateNamesTest, ADirectCallerHasNoVia) {
  const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
      "CN=x", {"urn:slussen:agency:kommun-halmstad-eb:13"}, {});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->via, "");
  EXPECT_EQ(caller->ToActor().via(), "");
  const absl::StatusOr<core::Caller> developer =
      CallerFromMetadata(kOnBehalfOfHalmstad);
  ASSERT_TRUE(developer.ok()) << developer.status();
  EXPECT_EQ(developer->via, "");
}

TEST(CallerFromCertificateNamesTest, AGatewayMustNameTheCallerItActsFor) {
  for (const Metadata& metadata : std::vector<Metadata>{
           {},
           {{kPersonHeader, "a123"}},
           {{kOrganisationHeader, "kommun-halmstad-eb"}},
           {{kRoleHeader, "agency"}, {kRegionHeader, "13"}}}) {
    const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
        "CN=web-1", {"urn:slussen:gateway:web-1"}, metadata);
    ASSERT_FALSE(caller.ok());
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(caller.status().message(),
              "a gateway must name the caller it acts for in metadata "
              "x-slussen-organisation and x-slussen-role (gateway web-1; "
              "mutual TLS identity; see docs/security.md)");
  }
}

TEST(CallerFromCertificateNamesTest, TheHeadersFromAGatewayFollowTheSameRules) {
  const absl::StatusOr<core::Caller> bad_org = CallerFromCertificateNames(
      "CN=web-1", {"urn:slussen:gateway:web-1"},
      {{kOrganisationHeader, "Kommun Halmstad"}, {kRoleHeader, "agency"}});
  EXPECT_EQ(bad_org.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(bad_org.status().message(),
            "metadata x-slussen-organisation (on behalf of, from gateway "
            "web-1) must name the calling organisation: 2..63 characters of "
            "[a-z0-9-], got \"Kommun Halmstad\" (mutual TLS identity; see "
            "docs/security.md)");
  const absl::StatusOr<core::Caller> no_region =
      CallerFromCertificateNames("CN=web-1", {"urn:slussen:gateway:web-1"},
                                 {{kOrganisationHeader, "samordning-halland"},
                                  {kRoleHeader, "coordinator"}});
  EXPECT_EQ(no_region.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(no_region.status().message(),
              HasSubstr("metadata x-slussen-region (on behalf of, from "
                        "gateway web-1) is required for a coordinator"));
  Metadata personnummer = kOnBehalfOfHalmstad;
  personnummer.erase(kPersonHeader);
  personnummer.emplace(kPersonHeader, "19121212-1212");
  const absl::StatusOr<core::Caller> pnr = CallerFromCertificateNames(
      "CN=web-1", {"urn:slussen:gateway:web-1"}, personnummer);
  EXPECT_EQ(pnr.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(pnr.status().message(), Not(HasSubstr("1212")));
}

TEST(CallerFromCertificateNamesTest, AGatewayActsForNoGatewayAndNoAdmin) {
  for (const char* role : {"gateway", "Gateway"}) {
    const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
        "CN=web-1", {"urn:slussen:gateway:web-1"},
        {{kOrganisationHeader, "web-2"}, {kRoleHeader, role}});
    ASSERT_FALSE(caller.ok()) << role;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(caller.status().message(),
                HasSubstr("metadata x-slussen-role (on behalf of, from "
                          "gateway web-1) must be the role of the caller"));
  }
  for (const char* role : {"admin", "ADMIN"}) {
    const absl::StatusOr<core::Caller> caller = CallerFromCertificateNames(
        "CN=web-1", {"urn:slussen:gateway:web-1"},
        {{kOrganisationHeader, "slussen-admin"}, {kRoleHeader, role}});
    ASSERT_FALSE(caller.ok()) << role;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(caller.status().message(),
                HasSubstr("gateway web-1 may not act for an admin"));
  }
}

TEST(CallerFromCertificateNamesTest, AMalformedGatewayUriIsRefused) {
  for (const char* uri : {"urn:slussen:gateway:web-1:13",
                          "urn:slussen:gateway:web-1:", "urn:slussen:gateway:",
                          "urn:slussen:gateway:Web_1", "urn:slussen:gateway"}) {
    const absl::StatusOr<core::Caller> caller =
        CallerFromCertificateNames("CN=web-1", {uri}, kOnBehalfOfHalmstad);
    ASSERT_FALSE(caller.ok()) << uri;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated)
        << uri;
    EXPECT_THAT(caller.status().message(), HasSubstr(uri));
  }
  const absl::StatusOr<core::Caller> regional = CallerFromCertificateNames(
      "CN=web-1", {"urn:slussen:gateway:web-1:13"}, kOnBehalfOfHalmstad);
  EXPECT_EQ(regional.status().message(),
            "the client certificate's URI subject alternative name must be "
            "urn:slussen:gateway:<name> for a gateway (no region), got "
            "\"urn:slussen:gateway:web-1:13\" (mutual TLS identity; see "
            "docs/security.md)");
}

TEST(CallerFromCertificateNamesTest,
     OnlyAGatewaysCertificateMakesHeadersCount) {
  // Every role but gateway: the certificate's identity, whatever the
  // headers say, and no via.
  for (const char* uri : {"urn:slussen:agency:kommun-laholm-eb:13",
                          "urn:slussen:provider:redo-halland",
                          "urn:slussen:coordinator:samordning-vastmanland:19",
                          "urn:slussen:admin:slussen-admin"}) {
    const absl::StatusOr<core::Caller> caller =
        CallerFromCertificateNames("CN=x", {uri}, kOnBehalfOfHalmstad);
    ASSERT_TRUE(caller.ok()) << uri << ": " << caller.status();
    EXPECT_NE(caller->organisation, "kommun-halmstad-eb") << uri;
    EXPECT_EQ(caller->via, "") << uri;
    EXPECT_EQ(caller->person, "a123") << uri;
  }
}

TEST(CallerFromCertificateTest, ReadsTheUriFromAPemCertificate) {
  absl::StatusOr<TestCertificateAuthority> ca =
      TestCertificateAuthority::Create("CA");
  ASSERT_TRUE(ca.ok()) << ca.status();
  absl::StatusOr<KeyAndCertificate> cert = ca->Issue(
      ClientCertificate("urn:slussen:coordinator:samordning-halland:13"));
  ASSERT_TRUE(cert.ok()) << cert.status();
  const absl::StatusOr<core::Caller> caller =
      CallerFromCertificate(cert->certificate_pem, {});
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->organisation, "samordning-halland");
  EXPECT_EQ(caller->region, "13");

  const absl::StatusOr<core::Caller> garbage =
      CallerFromCertificate("not a certificate", {});
  EXPECT_EQ(garbage.status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace slussen::service

// Identity resolution (broker/service/rpc_scope.h): development metadata
// and client-certificate URIs are checked by the same rules, and under
// mutual TLS the identity headers count for nothing.
#include "broker/service/rpc_scope.h"

#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
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
using Metadata = std::multimap<std::string, std::string>;

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
            "admin, got \"system\" (development identity mode; see README, "
            "Security)");
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
            "(mutual TLS identity; see README, Security)");
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

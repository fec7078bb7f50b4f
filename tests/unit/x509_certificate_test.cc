// Reading certificates and checking the server's TLS material
// (broker/service/x509_certificate.h), with certificates made in memory.
#include "broker/service/x509_certificate.h"

#include <optional>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"

namespace slussen::service {
namespace {

using ::slussen::testing::CertificateSpec;
using ::slussen::testing::ClientCertificate;
using ::slussen::testing::KeyAndCertificate;
using ::slussen::testing::LocalhostServerCertificate;
using ::slussen::testing::TestCertificateAuthority;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class X509CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificateAuthority> ca =
        TestCertificateAuthority::Create("Test CA");
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_.emplace(*std::move(ca));
  }

  KeyAndCertificate Issue(const CertificateSpec& spec) {
    absl::StatusOr<KeyAndCertificate> cert = ca_->Issue(spec);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return cert.value_or(KeyAndCertificate{});
  }

  TlsMaterial Material(const KeyAndCertificate& server) {
    return TlsMaterial{.certificate_chain_pem = server.certificate_pem,
                       .private_key_pem = server.private_key_pem,
                       .client_ca_pem = ca_->certificate_pem()};
  }

  std::optional<TestCertificateAuthority> ca_;
};

TEST_F(X509CertificateTest, ReadsTheUrisInOrderAndTheSubject) {
  CertificateSpec spec =
      ClientCertificate("urn:slussen:agency:fk-lfc-halmstad");
  spec.uris.push_back("spiffe://example/x");
  spec.dns_names = {"ignored.example"};
  const absl::StatusOr<CertificateNames> names =
      ReadCertificateNames(Issue(spec).certificate_pem);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(names->uris, ElementsAre("urn:slussen:agency:fk-lfc-halmstad",
                                       "spiffe://example/x"));
  EXPECT_THAT(names->subject,
              HasSubstr("CN=urn:slussen:agency:fk-lfc-halmstad"));
  EXPECT_GT(names->not_after, absl::Now());
}

TEST_F(X509CertificateTest, ACertificateWithoutSansHasNoUris) {
  const absl::StatusOr<CertificateNames> names =
      ReadCertificateNames(Issue(ClientCertificate("")).certificate_pem);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_TRUE(names->uris.empty());
}

TEST_F(X509CertificateTest, TextThatIsNoCertificateIsInvalid) {
  EXPECT_EQ(ReadCertificateNames("hello").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(X509CertificateTest, MatchingMaterialIsAccepted) {
  EXPECT_TRUE(CheckTlsMaterial(Material(Issue(LocalhostServerCertificate())),
                               absl::Now())
                  .ok());
}

TEST_F(X509CertificateTest, EachMisfitNamesItsFlag) {
  const KeyAndCertificate server = Issue(LocalhostServerCertificate());
  const KeyAndCertificate other = Issue(LocalhostServerCertificate());

  TlsMaterial wrong_key = Material(server);
  wrong_key.private_key_pem = other.private_key_pem;
  EXPECT_THAT(CheckTlsMaterial(wrong_key, absl::Now()).message(),
              HasSubstr("--tls_key_file is not the private key"));

  TlsMaterial swapped = Material(server);
  swapped.certificate_chain_pem = server.private_key_pem;
  EXPECT_THAT(CheckTlsMaterial(swapped, absl::Now()).message(),
              HasSubstr("--tls_cert_file must hold"));

  TlsMaterial no_key = Material(server);
  no_key.private_key_pem = server.certificate_pem;
  EXPECT_THAT(CheckTlsMaterial(no_key, absl::Now()).message(),
              HasSubstr("--tls_key_file must hold"));

  TlsMaterial no_ca = Material(server);
  no_ca.client_ca_pem = "";
  EXPECT_THAT(CheckTlsMaterial(no_ca, absl::Now()).message(),
              HasSubstr("--tls_client_ca_file"));
}

TEST_F(X509CertificateTest, AnExpiredServerCertificateIsRefused) {
  CertificateSpec spec = LocalhostServerCertificate();
  spec.not_before = -absl::Hours(48);
  spec.not_after = -absl::Hours(1);
  const absl::Status status =
      CheckTlsMaterial(Material(Issue(spec)), absl::Now());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("not now"));
}

}  // namespace
}  // namespace slussen::service

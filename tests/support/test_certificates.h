// Certificates for tests of mutual TLS, made in memory with OpenSSL's C API
// in milliseconds (EC P-256 keys): a throwaway CA, and server and client
// certificates it signs, including the ones a broker must refuse (expired,
// not yet valid, without the identity URI, with a malformed one).
//
//   ASSIGN_OR_RETURN(TestCertificateAuthority ca,
//                    TestCertificateAuthority::Create("Test CA"));
//   ASSIGN_OR_RETURN(KeyAndCertificate client,
//                    ca.Issue(ClientCertificate(
//                        "urn:slussen:agency:kommun-halmstad-eb:13")));
//   ASSIGN_OR_RETURN(KeyAndCertificate gateway,
//                    ca.Issue(GatewayCertificate("web-1")));
//   CertificateSpec expired = ClientCertificate("urn:slussen:agency:x");
//   expired.not_before = -absl::Hours(48);
//   expired.not_after = -absl::Hours(24);
//
// Thread-safe: a CA is immutable once made, and Issue is const.
#ifndef SLUSSEN_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define SLUSSEN_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slussen::testing {

// PEM text, as gRPC's credentials take it.
struct KeyAndCertificate {
  std::string private_key_pem;
  std::string certificate_pem;
};

struct CertificateSpec {
  std::string common_name;
  // Subject alternative names.
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  // The validity period, relative to now.
  absl::Duration not_before = -absl::Hours(1);
  absl::Duration not_after = absl::Hours(24);
  // Extended key usage: serverAuth if set, clientAuth otherwise.
  bool server = false;
};

// A client certificate whose only URI SAN is `uri` (none if empty).
CertificateSpec ClientCertificate(absl::string_view uri);

// A gateway's client certificate: its only URI SAN is
// urn:slussen:gateway:<name> (e.g. urn:slussen:gateway:web-1).
CertificateSpec GatewayCertificate(absl::string_view name);

// A server certificate for localhost and 127.0.0.1.
CertificateSpec LocalhostServerCertificate();

class TestCertificateAuthority {
 public:
  static absl::StatusOr<TestCertificateAuthority> Create(
      absl::string_view common_name);

  // The CA's own (self-signed) certificate: what a peer trusts.
  const std::string& certificate_pem() const { return certificate_pem_; }

  // A new key, and a certificate for it signed by this CA.
  absl::StatusOr<KeyAndCertificate> Issue(const CertificateSpec& spec) const;

 private:
  struct Keys;
  explicit TestCertificateAuthority(std::shared_ptr<const Keys> keys,
                                    std::string certificate_pem);

  std::shared_ptr<const Keys> keys_;
  std::string certificate_pem_;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_TEST_CERTIFICATES_H_

// What the broker reads from X.509 certificates, with OpenSSL: the names in
// a client's certificate (mutual TLS: its URI subject alternative names
// carry the caller's identity, see rpc_scope.h), and a check at start-up
// that the server's TLS material fits together, so that a wrong file is
// named when the broker starts rather than showing up later as failed
// handshakes.
//
//   ASSIGN_OR_RETURN(CertificateNames names, ReadCertificateNames(pem));
//   for (const std::string& uri : names.uris) ...
//
// The certificate is not verified here: gRPC has verified the chain to the
// client CA (and its validity period) before any call reaches a handler.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_BROKER_SERVICE_X509_CERTIFICATE_H_
#define SLUSSEN_BROKER_SERVICE_X509_CERTIFICATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace slussen::service {

struct CertificateNames {
  // The subject on one line, RFC 2253 ("CN=fk-lfc-halmstad,O=Slussen"), for
  // messages and logs.
  std::string subject;
  // The URI subject alternative names, in the certificate's order.
  std::vector<std::string> uris;
  // The end of the validity period.
  absl::Time not_after;
};

// The names of the first certificate in `pem`; INVALID_ARGUMENT when `pem`
// holds no certificate.
absl::StatusOr<CertificateNames> ReadCertificateNames(absl::string_view pem);

// The server's TLS material as PEM text.
struct TlsMaterial {
  // The server's certificate, then any intermediate certificates.
  std::string certificate_chain_pem;
  // The private key of the server's certificate.
  std::string private_key_pem;
  // The CA certificates a client certificate must chain to.
  std::string client_ca_pem;
};

// OK if the chain starts with a certificate valid at `now`, the key is that
// certificate's, and the client CA text holds at least one certificate;
// otherwise INVALID_ARGUMENT naming the flag (--tls_cert_file, --tls_key_file
// or --tls_client_ca_file) whose content does not fit, and why.
absl::Status CheckTlsMaterial(const TlsMaterial& material, absl::Time now);

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_X509_CERTIFICATE_H_

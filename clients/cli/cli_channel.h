// How slussctl reaches the broker: plaintext with a development identity in
// metadata, or mutual TLS with a client certificate that names the caller.
//
//   --tls_ca_file=FILE     the CA certificate that signed the broker's
//   --tls_cert_file=FILE   the client certificate (and --tls_key_file=FILE
//                          its key)
//   --certs=DIR            the three from a `./dev certs` directory:
//                          DIR/ca.pem, DIR/<role>-<org>.pem and .key
//                          (the role and organisation of --role and --org)
//
// Each may also come from SLUSSEN_TLS_CA_FILE, SLUSSEN_TLS_CERT_FILE,
// SLUSSEN_TLS_KEY_FILE and SLUSSEN_CERTS. Not thread-safe (reads CliArgs).
#ifndef SLUSSEN_CLIENTS_CLI_CLI_CHANNEL_H_
#define SLUSSEN_CLIENTS_CLI_CLI_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cli/cli_args.h"

namespace slussen::cli {

// The files of a mutual-TLS connection; all empty for plaintext.
struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;

  bool enabled() const { return !ca_file.empty(); }
};

// The TLS files `args` name, for the caller `role` and `organisation` (used
// with --certs); a usage error (INVALID_ARGUMENT) when they do not go
// together.
absl::StatusOr<TlsFiles> TlsFilesFromArgs(const CliArgs& args,
                                          const std::string& role,
                                          const std::string& organisation);

// The region the client certificate names (urn:slussen:<role>:<org>:<region>
// in its URI subject alternative name); empty when it names none.
// INVALID_ARGUMENT when the file is not a PEM certificate.
absl::StatusOr<std::string> RegionOfCertificate(const std::string& cert_file);

// A channel to `server`: plaintext when `files` is empty, otherwise TLS
// trusting the CA file and presenting the client certificate.
// INVALID_ARGUMENT naming a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& server, const TlsFiles& files);

}  // namespace slussen::cli

#endif  // SLUSSEN_CLIENTS_CLI_CLI_CHANNEL_H_

#include "broker/service/rpc_scope.h"

#include <grpc/grpc_security_constants.h>

#include <memory>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "broker/core/field_error.h"
#include "broker/core/names.h"
#include "broker/core/status_macros.h"
#include "broker/core/text_rules.h"
#include "broker/service/json_log.h"
#include "broker/service/x509_certificate.h"

namespace slussen::service {
namespace {

namespace v1 = ::slussen::v1;

std::string NewRequestId() {
  static absl::Mutex mu(absl::kConstInit);
  static absl::BitGen* gen = new absl::BitGen;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

std::string Header(const std::multimap<std::string, std::string>& metadata,
                   const std::string& key) {
  const auto it = metadata.find(key);
  return it == metadata.end() ? std::string() : it->second;
}

// Where the parts of an identity were read from, for messages.
struct IdentitySource {
  std::string organisation;  // e.g. "metadata x-slussen-organisation"
  std::string role;
  std::string region;
  absl::string_view mode;  // e.g. "development identity mode"
};

absl::Status Unauthenticated(absl::string_view what, absl::string_view rule,
                             absl::string_view value, absl::string_view mode) {
  return absl::UnauthenticatedError(
      absl::StrCat(what, " ", rule, ", got ", core::QuoteValue(value), " (",
                   mode, "; see README, Security)"));
}

bool ParseRole(absl::string_view text, v1::Role* role) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "agency") {
    *role = v1::ROLE_AGENCY;
  } else if (lower == "provider") {
    *role = v1::ROLE_PROVIDER;
  } else if (lower == "coordinator") {
    *role = v1::ROLE_COORDINATOR;
  } else if (lower == "admin") {
    *role = v1::ROLE_ADMIN;
  } else {
    return false;
  }
  return true;
}

// The caller of `organisation`, `role` and `region` once each is checked:
// the one set of rules for both identity modes.
absl::StatusOr<core::Caller> ValidatedCaller(const IdentitySource& source,
                                             absl::string_view organisation,
                                             absl::string_view role,
                                             absl::string_view region) {
  core::Caller caller;
  caller.organisation = std::string(organisation);
  if (!core::IsSlugId(caller.organisation)) {
    return Unauthenticated(
        source.organisation,
        "must name the calling organisation: 2..63 characters of [a-z0-9-]",
        caller.organisation, source.mode);
  }
  if (!ParseRole(role, &caller.role)) {
    return Unauthenticated(source.role,
                           "must be agency, provider, coordinator or admin",
                           role, source.mode);
  }
  caller.region = std::string(region);
  if (!caller.region.empty() && !core::IsRegionCode(caller.region)) {
    return Unauthenticated(source.region,
                           "must be a two-digit län code (01, 03, ..., 25)",
                           caller.region, source.mode);
  }
  if (caller.role == v1::ROLE_COORDINATOR && caller.region.empty()) {
    return Unauthenticated(source.region,
                           "is required for a coordinator: the region it "
                           "coordinates",
                           caller.region, source.mode);
  }
  return caller;
}

// The optional staff handle: recorded with actions, never an authority.
absl::Status ReadPerson(const std::multimap<std::string, std::string>& metadata,
                        absl::string_view mode, core::Caller* caller) {
  caller->person = Header(metadata, kPersonHeader);
  if (!caller->person.empty() &&
      (!core::ValidateRequestId("person", caller->person).ok() ||
       core::ContainsPersonnummer(caller->person))) {
    return Unauthenticated(absl::StrCat("metadata ", kPersonHeader),
                           "must be a staff handle of 1..64 characters of "
                           "[A-Za-z0-9._:-], never a personnummer",
                           "(withheld)", mode);
  }
  return absl::OkStatus();
}

// What gRPC's InsecureServerCredentials put in the auth context since gRPC
// 1.3x (grpc_core::kInsecureTransportSecurityType; no public header names
// it). Every development-mode end-to-end test depends on it.
constexpr absl::string_view kInsecureTransportSecurityType = "insecure";

constexpr absl::string_view kDevelopmentMode = "development identity mode";
constexpr absl::string_view kCertificateMode = "mutual TLS identity";
constexpr absl::string_view kIdentityUriForms =
    "urn:slussen:<role>:<organisation> or "
    "urn:slussen:<role>:<organisation>:<region>";

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<core::Caller> CallerFromMetadata(
    const std::multimap<std::string, std::string>& metadata) {
  static const IdentitySource* const kSource = new IdentitySource{
      absl::StrCat("metadata ", kOrganisationHeader),
      absl::StrCat("metadata ", kRoleHeader),
      absl::StrCat("metadata ", kRegionHeader), kDevelopmentMode};
  absl::StatusOr<core::Caller> caller = ValidatedCaller(
      *kSource, Header(metadata, kOrganisationHeader),
      Header(metadata, kRoleHeader), Header(metadata, kRegionHeader));
  if (!caller.ok()) return caller.status();
  RETURN_IF_ERROR(ReadPerson(metadata, kDevelopmentMode, &*caller));
  return caller;
}

absl::StatusOr<core::Caller> CallerFromCertificateNames(
    absl::string_view subject, const std::vector<std::string>& uris,
    const std::multimap<std::string, std::string>& metadata) {
  std::vector<absl::string_view> identities;
  for (const std::string& uri : uris) {
    // The scheme and namespace are case-insensitive (RFC 8141).
    if (absl::StartsWithIgnoreCase(uri, kIdentityUriPrefix)) {
      identities.push_back(uri);
    }
  }
  if (identities.size() != 1) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate (subject ", core::QuoteValue(subject),
        ") must name the caller in exactly one URI subject alternative name ",
        kIdentityUriForms, "; it has ", identities.size(), " (",
        kCertificateMode, "; see README, Security)"));
  }
  const absl::string_view uri = identities.front();
  const std::vector<absl::string_view> parts = absl::StrSplit(
      uri.substr(std::char_traits<char>::length(kIdentityUriPrefix)), ':');
  if (parts.size() != 2 && parts.size() != 3) {
    return Unauthenticated(
        "the client certificate's URI subject alternative name",
        absl::StrCat("must be ", kIdentityUriForms), uri, kCertificateMode);
  }
  const std::string what = absl::StrCat("the client certificate's URI ",
                                        core::QuoteValue(uri), ": ");
  const IdentitySource source{absl::StrCat(what, "<organisation>"),
                              absl::StrCat(what, "<role>"),
                              absl::StrCat(what, "<region>"), kCertificateMode};
  if (parts.size() == 3 && parts[2].empty()) {
    // Written, so it must be a region: an empty one is not "no region".
    return Unauthenticated(source.region,
                           "must be a two-digit län code (01, 03, ..., 25)",
                           parts[2], kCertificateMode);
  }
  absl::StatusOr<core::Caller> caller = ValidatedCaller(
      source, parts[1], parts[0], parts.size() == 3 ? parts[2] : "");
  if (!caller.ok()) return caller.status();
  RETURN_IF_ERROR(ReadPerson(metadata, kCertificateMode, &*caller));
  return caller;
}

absl::StatusOr<core::Caller> CallerFromCertificate(
    absl::string_view pem,
    const std::multimap<std::string, std::string>& metadata) {
  absl::StatusOr<CertificateNames> names = ReadCertificateNames(pem);
  if (!names.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the client certificate cannot be read: ", names.status().message()));
  }
  return CallerFromCertificateNames(names->subject, names->uris, metadata);
}

absl::StatusOr<IdentityMode> IdentityModeOf(
    const grpc::AuthContext& auth_context) {
  const std::vector<grpc::string_ref> types = auth_context.FindPropertyValues(
      GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  const std::string type =
      types.empty() ? "" : std::string(types[0].data(), types[0].size());
  if (type == GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
    return IdentityMode::kClientCertificate;
  }
  if (type == kInsecureTransportSecurityType) {
    return IdentityMode::kDevelopmentMetadata;
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "the connection's transport security ", core::QuoteValue(type),
      " is neither mutual TLS nor development plaintext"));
}

RpcScope::RpcScope(grpc::ServerContext* context, absl::string_view method)
    : context_(context), method_(method), start_(absl::Now()) {
  for (const auto& [key, value] : context->client_metadata()) {
    metadata_.emplace(std::string(key.data(), key.size()),
                      std::string(value.data(), value.size()));
  }
  request_id_ = Header(metadata_, kRequestIdHeader);
  if (request_id_.empty() || !core::ValidateRequestId("", request_id_).ok()) {
    request_id_ = NewRequestId();
  }
  context_->AddInitialMetadata(kRequestIdHeader, request_id_);
}

absl::StatusOr<core::Caller> RpcScope::Identify() {
  absl::StatusOr<core::Caller> caller = Resolve();
  if (caller.ok()) {
    organisation_ = caller->organisation;
    caller->request_id = request_id_;
  }
  return caller;
}

absl::StatusOr<core::Caller> RpcScope::Resolve() const {
  const std::shared_ptr<const grpc::AuthContext> auth =
      context_->auth_context();
  if (auth == nullptr) {
    return absl::UnauthenticatedError("the call has no security context");
  }
  ASSIGN_OR_RETURN(const IdentityMode mode, IdentityModeOf(*auth));
  if (mode == IdentityMode::kDevelopmentMetadata) {
    return CallerFromMetadata(metadata_);
  }
  // gRPC put the certificate here only after verifying its chain to the
  // client CA: the server requires and verifies client certificates.
  const std::vector<grpc::string_ref> pems =
      auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) {
    return absl::UnauthenticatedError(
        "no verified client certificate on this connection (mutual TLS "
        "identity; see README, Security)");
  }
  return CallerFromCertificate(
      absl::string_view(pems[0].data(), pems[0].size()), metadata_);
}

grpc::Status RpcScope::Finish(const absl::Status& status) {
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
  const std::string code = absl::StatusCodeToString(status.code());
  const LogLevel level =
      status.ok() || absl::IsInvalidArgument(status) ||
              absl::IsNotFound(status) || absl::IsFailedPrecondition(status) ||
              absl::IsAborted(status) || absl::IsPermissionDenied(status) ||
              absl::IsUnauthenticated(status)
          ? LogLevel::kInfo
          : LogLevel::kWarning;
  Log(level, "rpc",
      {{"method", method_},
       {"request_id", request_id_},
       {"organisation", organisation_},
       {"code", code},
       {"ms", ms},
       {"error", status.message()}});
  return ToGrpcStatus(status);
}

}  // namespace slussen::service

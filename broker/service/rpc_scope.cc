#include "broker/service/rpc_scope.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/names.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"
#include "broker/service/json_log.h"
#include "broker/service/x509_certificate.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

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
                   mode, "; see docs/security.md)"));
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

// The certificate role of a gateway: never a caller's role (not in
// v1.Role), only the right to name the caller it acts for.
constexpr absl::string_view kGatewayRole = "gateway";

// The caller that the gateway of certificate URI `uri` (split after the
// prefix into `parts`, whose first is "gateway") acts for: named by the
// identity headers, by the rules of development mode. Only a gateway's
// certificate makes the broker read them.
absl::StatusOr<core::Caller> CallerThroughGateway(
    absl::string_view uri, const std::vector<absl::string_view>& parts,
    const std::multimap<std::string, std::string>& metadata) {
  if (parts.size() != 2) {
    // A gateway acts for callers of any region; a region in its name would
    // suggest otherwise, so it is refused rather than ignored.
    return Unauthenticated(
        "the client certificate's URI subject alternative name",
        "must be urn:slussen:gateway:<name> for a gateway (no region)", uri,
        kCertificateMode);
  }
  const std::string gateway(parts[1]);
  if (!core::IsSlugId(gateway)) {
    return Unauthenticated(
        absl::StrCat("the client certificate's URI ", core::QuoteValue(uri),
                     ": <name>"),
        "must name the gateway: 2..63 characters of [a-z0-9-]", gateway,
        kCertificateMode);
  }
  const std::string organisation = Header(metadata, kOrganisationHeader);
  const std::string role = Header(metadata, kRoleHeader);
  if (organisation.empty() || role.empty()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "a gateway must name the caller it acts for in metadata ",
        kOrganisationHeader, " and ", kRoleHeader, " (gateway ", gateway, "; ",
        kCertificateMode, "; see docs/security.md)"));
  }
  const std::string on_behalf =
      absl::StrCat(" (on behalf of, from gateway ", gateway, ")");
  const IdentitySource source{
      absl::StrCat("metadata ", kOrganisationHeader, on_behalf),
      absl::StrCat("metadata ", kRoleHeader, on_behalf),
      absl::StrCat("metadata ", kRegionHeader, on_behalf), kCertificateMode};
  if (absl::EqualsIgnoreCase(role, kGatewayRole)) {
    return Unauthenticated(source.role,
                           "must be the role of the caller the gateway acts "
                           "for (agency, provider or coordinator), never a "
                           "gateway",
                           role, kCertificateMode);
  }
  absl::StatusOr<core::Caller> caller = ValidatedCaller(
      source, organisation, role, Header(metadata, kRegionHeader));
  if (!caller.ok()) return caller.status();
  if (caller->role == v1::ROLE_ADMIN) {
    // Least privilege: a gateway taken over must not manage the directory
    // or read every region's audit trail. Admins use their own certificate.
    return absl::PermissionDeniedError(
        absl::StrCat("gateway ", gateway, " may not act for an admin (",
                     kOrganisationHeader, " ", core::QuoteValue(organisation),
                     "); an admin calls with its own client certificate (see "
                     "docs/security.md)"));
  }
  RETURN_IF_ERROR(ReadPerson(metadata, kCertificateMode, &*caller));
  caller->via = gateway;
  return caller;
}

constexpr char kPreconditionFailureTypeUrl[] =
    "type.googleapis.com/google.rpc.PreconditionFailure";

// The first resource name `message` gives ("regions/13/offers/01J...",
// "providers/x/offerings/y"), up to a space or punctuation; empty if none.
std::string FirstResourceName(absl::string_view message) {
  size_t at = absl::string_view::npos;
  for (const absl::string_view root : {"regions/", "providers/"}) {
    for (size_t from = 0;;) {
      const size_t found = message.find(root, from);
      if (found == absl::string_view::npos) break;
      // At the start of a word only ("subregions/" is not one).
      if (found == 0 || !absl::ascii_isalnum(
                            static_cast<unsigned char>(message[found - 1]))) {
        at = std::min(at, found);
        break;
      }
      from = found + 1;
    }
  }
  if (at == absl::string_view::npos) return "";
  size_t end = at;
  while (end < message.size() &&
         (absl::ascii_isalnum(static_cast<unsigned char>(message[end])) ||
          message[end] == '/' || message[end] == '-' || message[end] == '_' ||
          message[end] == '~' || message[end] == '.')) {
    ++end;
  }
  while (end > at && message[end - 1] == '.') --end;  // a sentence's end
  return std::string(message.substr(at, end - at));
}

// `status` (FAILED_PRECONDITION) with a google.rpc.PreconditionFailure of
// one violation: its type the ErrorInfo reason (OFFER_ALREADY_ACCEPTED,
// or FAILED_PRECONDITION), its subject the resource the message names
// first, its description the message.
absl::Status WithPreconditionFailure(absl::Status status) {
  google::rpc::PreconditionFailure failure;
  google::rpc::PreconditionFailure::Violation* violation =
      failure.add_violations();
  const std::optional<google::rpc::ErrorInfo> info = core::ErrorInfoOf(status);
  violation->set_type(info.has_value() ? info->reason()
                                       : "FAILED_PRECONDITION");
  violation->set_subject(FirstResourceName(status.message()));
  violation->set_description(std::string(status.message()));
  status.SetPayload(kPreconditionFailureTypeUrl,
                    absl::Cord(failure.SerializeAsString()));
  return status;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& given) {
  if (given.ok()) return grpc::Status::OK;
  absl::Status status = given;
  // Every refusal says why in a code a program can branch on, and those a
  // retry may cure say when.
  if (!core::ErrorInfoOf(status).has_value()) {
    status =
        core::WithReason(status, core::BadRequestOf(status).has_value()
                                     ? "INVALID_FIELD"
                                     : absl::StatusCodeToString(status.code()));
  }
  if ((absl::IsUnavailable(status) || absl::IsResourceExhausted(status)) &&
      !status.GetPayload(core::kRetryInfoTypeUrl).has_value()) {
    status = core::WithRetryDelay(status, absl::Seconds(1));
  }
  if (absl::IsFailedPrecondition(status) &&
      !status.GetPayload(kPreconditionFailureTypeUrl).has_value()) {
    status = WithPreconditionFailure(status);
  }
  // absl::StatusCode and grpc::StatusCode share their numbers.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  // Ordered by type URL: absl::Status keeps payloads in no set order, and
  // an answer should not change from one call to the next.
  std::map<std::string, std::string> payloads;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& payload) {
        payloads.emplace(type_url, std::string(payload));
      });
  google::rpc::Status details;
  for (auto& [type_url, value] : payloads) {
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(type_url);
    any->set_value(std::move(value));
  }
  // The payloads' type URLs are those of Any (e.g. a field error's
  // google.rpc.BadRequest), so each goes over as it is.
  details.set_code(static_cast<int32_t>(status.code()));
  details.set_message(message);
  return grpc::Status(code, std::move(message), details.SerializeAsString());
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
        kCertificateMode, "; see docs/security.md)"));
  }
  const absl::string_view uri = identities.front();
  const std::vector<absl::string_view> parts = absl::StrSplit(
      uri.substr(std::char_traits<char>::length(kIdentityUriPrefix)), ':');
  if (parts.size() != 2 && parts.size() != 3) {
    return Unauthenticated(
        "the client certificate's URI subject alternative name",
        absl::StrCat("must be ", kIdentityUriForms), uri, kCertificateMode);
  }
  if (absl::EqualsIgnoreCase(parts[0], kGatewayRole)) {
    return CallerThroughGateway(uri, parts, metadata);
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

std::string RequestIdFor(absl::string_view header) {
  if (!header.empty() && core::ValidateRequestId("", header).ok()) {
    return std::string(header);
  }
  return NewRequestId();
}

namespace {

thread_local int64_t redis_round_trips_of_thread = 0;

std::optional<int64_t> RedisRoundTripsOfThread(
    const grpc::ServerContextBase* context) {
  if (dynamic_cast<const grpc::ServerContext*>(context) == nullptr) {
    return std::nullopt;
  }
  return redis_round_trips_of_thread;
}

}  // namespace

void CountRedisRoundTrip() { ++redis_round_trips_of_thread; }

RpcScope::RpcScope(grpc::ServerContextBase* context, absl::string_view method,
                   CallObserver* observer)
    : context_(context),
      method_(method),
      observer_(observer),
      start_(absl::Now()),
      redis_round_trips_at_start_(RedisRoundTripsOfThread(context)) {
  for (const auto& [key, value] : context->client_metadata()) {
    metadata_.emplace(std::string(key.data(), key.size()),
                      std::string(value.data(), value.size()));
  }
  request_id_ = RequestIdFor(Header(metadata_, kRequestIdHeader));
  // Every answer carries it: also the mark by which the interceptor of
  // calls refused before any handler ran knows that one did
  // (refused_call_interceptor.h).
  context_->AddInitialMetadata(kRequestIdHeader, request_id_);
  trace_id_ = TraceIdOf(Header(metadata_, kTraceparentHeader));
}

absl::StatusOr<core::Caller> RpcScope::Identify() {
  absl::StatusOr<core::Caller> caller = Resolve();
  if (caller.ok()) {
    organisation_ = caller->organisation;
    via_ = caller->via;
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
        "identity; see docs/security.md)");
  }
  return CallerFromCertificate(
      absl::string_view(pems[0].data(), pems[0].size()), metadata_);
}

grpc::Status RpcScope::Finish(const absl::Status& status) {
  const absl::Duration took = absl::Now() - start_;
  const double ms = absl::ToDoubleMilliseconds(took);
  const std::string code = absl::StatusCodeToString(status.code());
  std::optional<int64_t> redis_round_trips;
  if (redis_round_trips_at_start_.has_value()) {
    redis_round_trips =
        redis_round_trips_of_thread - *redis_round_trips_at_start_;
  }
  if (observer_ != nullptr) {
    observer_->OnCall(method_, code, took, redis_round_trips);
  }
  // A refusal (or a watcher that went away) is the caller's business; a
  // failure is ours.
  const LogLevel level =
      status.ok() || absl::IsInvalidArgument(status) ||
              absl::IsNotFound(status) || absl::IsFailedPrecondition(status) ||
              absl::IsAborted(status) || absl::IsPermissionDenied(status) ||
              absl::IsUnauthenticated(status) || absl::IsCancelled(status)
          ? LogLevel::kInfo
          : LogLevel::kWarning;
  if (!LogEnabled(level)) return ToGrpcStatus(status);
  Log(level, "rpc",
      {{"method", method_},
       {"request_id", request_id_},
       {"trace_id", trace_id_},
       {"organisation", organisation_},
       {"via", via_},
       {"code", code},
       {"ms", ms},
       {"redis", redis_round_trips},
       {"error", status.message()}});
  return ToGrpcStatus(status);
}

absl::StatusOr<core::Caller> RpcEdge::Admit(grpc::ServerContextBase* context,
                                            RpcScope& scope) const {
  if (draining_ != nullptr && draining_->load()) {
    return absl::UnavailableError(
        "the broker is shutting down; ask again (another replica answers)");
  }
  if (clock_ != nullptr) {
    context->AddInitialMetadata(
        kBrokerTimeHeader, absl::FormatTime(absl::RFC3339_full, clock_->Now(),
                                            absl::UTCTimeZone()));
  }
  ASSIGN_OR_RETURN(core::Caller caller, scope.Identify());
  if (limiter_ != nullptr) {
    absl::Status admitted = limiter_->Admit(caller.organisation);
    if (!admitted.ok()) {
      if (observer_ != nullptr) observer_->OnRateLimited();
      return admitted;
    }
  }
  return caller;
}

}  // namespace slussen::service

#include "broker/service/rpc_scope.h"

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/core/field_error.h"
#include "broker/core/names.h"
#include "broker/core/text_rules.h"
#include "broker/service/json_log.h"

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

absl::Status Unauthenticated(absl::string_view header, absl::string_view rule,
                             absl::string_view value) {
  return absl::UnauthenticatedError(absl::StrCat(
      "metadata ", header, " ", rule, ", got ", core::QuoteValue(value),
      " (development identity mode; see README, Security)"));
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

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<core::Caller> CallerFromMetadata(
    const std::multimap<std::string, std::string>& metadata) {
  core::Caller caller;
  caller.organisation = Header(metadata, kOrganisationHeader);
  if (!core::IsSlugId(caller.organisation)) {
    return Unauthenticated(
        kOrganisationHeader,
        "must name the calling organisation: 2..63 characters of [a-z0-9-]",
        caller.organisation);
  }
  const std::string role = Header(metadata, kRoleHeader);
  if (!ParseRole(role, &caller.role)) {
    return Unauthenticated(
        kRoleHeader, "must be agency, provider, coordinator or admin", role);
  }
  caller.region = Header(metadata, kRegionHeader);
  if (!caller.region.empty() && !core::IsRegionCode(caller.region)) {
    return Unauthenticated(kRegionHeader,
                           "must be a two-digit län code (01, 03, ..., 25)",
                           caller.region);
  }
  if (caller.role == v1::ROLE_COORDINATOR && caller.region.empty()) {
    return Unauthenticated(kRegionHeader,
                           "is required for a coordinator: the region it "
                           "coordinates",
                           caller.region);
  }
  caller.person = Header(metadata, kPersonHeader);
  if (!caller.person.empty() &&
      (!core::ValidateRequestId("person", caller.person).ok() ||
       core::ContainsPersonnummer(caller.person))) {
    return Unauthenticated(kPersonHeader,
                           "must be a staff handle of 1..64 characters of "
                           "[A-Za-z0-9._:-], never a personnummer",
                           "(withheld)");
  }
  return caller;
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

absl::StatusOr<core::Caller> RpcScope::Identify() const {
  absl::StatusOr<core::Caller> caller = CallerFromMetadata(metadata_);
  if (caller.ok()) caller->request_id = request_id_;
  return caller;
}

grpc::Status RpcScope::Finish(const absl::Status& status) {
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - start_);
  const std::string org = Header(metadata_, kOrganisationHeader);
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
       {"organisation", core::IsSlugId(org) ? org : ""},
       {"code", code},
       {"ms", ms},
       {"error", status.message()}});
  return ToGrpcStatus(status);
}

}  // namespace slussen::service

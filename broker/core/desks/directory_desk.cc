#include "broker/core/desks/directory_desk.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/model/capacity.h"
#include "broker/core/model/directory_validation.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/proto_rules.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"
#include "google/protobuf/util/field_mask_util.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;
using google::protobuf::util::FieldMaskUtil;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr int kDefaultStaleDays = 14;

absl::Status RequireAdmin(const Caller& caller, absl::string_view what) {
  if (caller.role == v1::ROLE_ADMIN) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "role ", RoleName(caller.role), " may not ", what, "; admins do"));
}

absl::Status RequireIdentified(const Caller& caller) {
  if (caller.role == v1::ROLE_UNSPECIFIED) {
    return absl::PermissionDeniedError("an identified caller is required");
  }
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (!IsSlugId(id)) {
    return InvalidField(field,
                        "must be 2..63 characters of [a-z0-9-], starting "
                        "with a letter",
                        id);
  }
  return absl::OkStatus();
}

// Sorted ids of `items` (by `id_of`), and the page `request` asks for.
template <typename T, typename IdOf>
absl::StatusOr<std::vector<const T*>> Paged(const std::vector<T>& items,
                                            IdOf id_of, int requested_size,
                                            const std::string& token,
                                            const std::string& query,
                                            std::string* next_page_token) {
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", requested_size,
                                    kDefaultPageSize, kMaxPageSize));
  std::vector<const T*> sorted;
  for (const T& item : items) sorted.push_back(&item);
  std::sort(sorted.begin(), sorted.end(),
            [&](const T* a, const T* b) { return id_of(*a) < id_of(*b); });
  std::vector<std::string> ids;
  for (const T* item : sorted) ids.push_back(id_of(*item));
  ASSIGN_OR_RETURN(const IdPage page,
                   PageOfIds(ids, token, page_size, QueryFingerprint(query)));
  *next_page_token = page.next_page_token;
  return std::vector<const T*>(sorted.begin() + page.begin,
                               sorted.begin() + page.end);
}

std::string IdOf(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

// Applies `mask` (only `allowed` paths) from `source` onto `target`.
template <typename M>
absl::Status MergeMasked(const google::protobuf::FieldMask& mask,
                         const std::set<std::string>& allowed, const M& source,
                         M& target) {
  if (mask.paths().empty()) {
    return MissingField("update_mask",
                        absl::StrCat("the fields to change, of: ",
                                     absl::StrJoin(allowed, ", ")));
  }
  std::set<std::string> seen;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string item = absl::StrCat("update_mask.paths[", i, "]");
    if (!allowed.count(mask.paths(i))) {
      return InvalidField(
          item, absl::StrCat("must be one of ", absl::StrJoin(allowed, ", ")),
          mask.paths(i));
    }
    // So that a mask holds each path at most once: at most allowed.size().
    if (!seen.insert(mask.paths(i)).second) {
      return InvalidField(item, "must not repeat an earlier path",
                          mask.paths(i));
    }
  }
  FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  options.set_replace_message_fields(true);
  FieldMaskUtil::MergeMessageTo(source, mask, options, &target);
  return absl::OkStatus();
}

}  // namespace

// --- Activity types ---------------------------------------------------------

absl::StatusOr<v1::ActivityType> DirectoryDesk::CreateActivityType(
    const Caller& caller, const v1::CreateActivityTypeRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the catalogue"));
  RETURN_IF_ERROR(ValidateId("activity_type_id", request.activity_type_id()));
  RETURN_IF_ERROR(
      ValidateActivityType("activity_type", request.activity_type()));
  v1::ActivityType type = request.activity_type();
  type.set_name(absl::StrCat("activityTypes/", request.activity_type_id()));
  RETURN_IF_ERROR(directory_->CreateActivityType(type));
  return type;
}

absl::StatusOr<v1::ActivityType> DirectoryDesk::GetActivityType(
    const Caller& caller, const v1::GetActivityTypeRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(const std::string id,
                   ParseSimpleName("name", request.name(), "activityTypes"));
  return directory_->GetActivityType(id);
}

absl::StatusOr<v1::ListActivityTypesResponse> DirectoryDesk::ListActivityTypes(
    const Caller& caller, const v1::ListActivityTypesRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(const std::vector<v1::ActivityType> types,
                   directory_->ListActivityTypes());
  v1::ListActivityTypesResponse response;
  ASSIGN_OR_RETURN(
      const std::vector<const v1::ActivityType*> page,
      Paged(
          types, [](const v1::ActivityType& t) { return IdOf(t.name()); },
          request.page_size(), request.page_token(), "activityTypes",
          response.mutable_next_page_token()));
  for (const v1::ActivityType* type : page) {
    *response.add_activity_types() = *type;
  }
  return response;
}

// --- Providers ---------------------------------------------------------------

absl::StatusOr<v1::Provider> DirectoryDesk::CreateProvider(
    const Caller& caller, const v1::CreateProviderRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the directory"));
  RETURN_IF_ERROR(ValidateId("provider_id", request.provider_id()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  RETURN_IF_ERROR(ValidateProvider("provider", request.provider()));
  v1::Provider provider = request.provider();
  provider.set_name(absl::StrCat("providers/", request.provider_id()));
  const google::protobuf::Timestamp now = ToProtoTimestamp(clock_->Now());
  *provider.mutable_create_time() = now;
  *provider.mutable_update_time() = now;
  provider.clear_etag();
  RETURN_IF_ERROR(directory_->CreateProvider(provider));
  provider.set_etag("1");
  return provider;
}

absl::StatusOr<v1::Provider> DirectoryDesk::GetProvider(
    const Caller& caller, const v1::GetProviderRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(const std::string id,
                   ParseSimpleName("name", request.name(), "providers"));
  ASSIGN_OR_RETURN(Versioned<v1::Provider> provider,
                   directory_->GetProvider(id));
  provider.value.set_etag(absl::StrCat(provider.version));
  return provider.value;
}

absl::StatusOr<v1::ListProvidersResponse> DirectoryDesk::ListProviders(
    const Caller& caller, const v1::ListProvidersRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  if (!request.region().empty() && !IsRegionCode(request.region())) {
    return InvalidField("region", "must be a two-digit län code",
                        request.region());
  }
  RETURN_IF_ERROR(ValidateEnum<v1::ProviderKind>("kind", request.kind(),
                                                 /*required=*/false));
  ASSIGN_OR_RETURN(std::vector<Versioned<v1::Provider>> all,
                   directory_->ListProviders());
  std::vector<v1::Provider> matching;
  for (Versioned<v1::Provider>& p : all) {
    const bool in_region =
        request.region().empty() ||
        std::count(p.value.regions().begin(), p.value.regions().end(),
                   request.region()) > 0;
    if (in_region && (request.kind() == v1::PROVIDER_KIND_UNSPECIFIED ||
                      p.value.kind() == request.kind())) {
      p.value.set_etag(absl::StrCat(p.version));
      matching.push_back(std::move(p.value));
    }
  }
  v1::ListProvidersResponse response;
  ASSIGN_OR_RETURN(
      const std::vector<const v1::Provider*> page,
      Paged(
          matching, [](const v1::Provider& p) { return IdOf(p.name()); },
          request.page_size(), request.page_token(),
          absl::StrCat("providers|", request.region(), "|", request.kind()),
          response.mutable_next_page_token()));
  for (const v1::Provider* p : page) *response.add_providers() = *p;
  return response;
}

absl::StatusOr<v1::Provider> DirectoryDesk::UpdateProvider(
    const Caller& caller, const v1::UpdateProviderRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the directory"));
  ASSIGN_OR_RETURN(
      const std::string id,
      ParseSimpleName("provider.name", request.provider().name(), "providers"));
  RETURN_IF_ERROR(ValidateEtag("provider.etag", request.provider().etag()));
  ASSIGN_OR_RETURN(const Versioned<v1::Provider> read,
                   directory_->GetProvider(id));
  if (!request.provider().etag().empty() &&
      request.provider().etag() != absl::StrCat(read.version)) {
    return absl::AbortedError(absl::StrCat(
        "provider ", request.provider().name(), " changed since etag ",
        request.provider().etag(), " (now ", read.version, ")"));
  }
  v1::Provider changed = read.value;
  RETURN_IF_ERROR(
      MergeMasked(request.update_mask(),
                  {"display_name", "organisation", "kind", "agency_kind",
                   "regions", "kommun_codes", "contact"},
                  request.provider(), changed));
  RETURN_IF_ERROR(ValidateProvider("provider", changed));
  *changed.mutable_update_time() = ToProtoTimestamp(clock_->Now());
  ASSIGN_OR_RETURN(const int64_t version,
                   directory_->UpdateProvider(read.version, changed));
  changed.set_etag(absl::StrCat(version));
  return changed;
}

// --- Offerings ---------------------------------------------------------------

v1::Offering DirectoryDesk::Render(const Versioned<v1::Offering>& o) const {
  v1::Offering out = o.value;
  out.set_etag(absl::StrCat(o.version));
  v1::Capacity& capacity = *out.mutable_capacity();
  const int stale_days =
      out.stale_after_days() > 0 ? out.stale_after_days() : kDefaultStaleDays;
  capacity.set_stale(!capacity.has_update_time() ||
                     ToAbslTime(capacity.update_time()) +
                             absl::Hours(24 * stale_days) <
                         clock_->Now());
  return out;
}

absl::StatusOr<Versioned<v1::Offering>> DirectoryDesk::LoadOffering(
    absl::string_view field, absl::string_view name) const {
  ASSIGN_OR_RETURN(const OfferingName parsed, ParseOfferingName(field, name));
  ASSIGN_OR_RETURN(Versioned<v1::Offering> offering,
                   directory_->GetOffering(parsed.provider, parsed.offering));
  offering.value = Render(offering);
  return offering;
}

absl::StatusOr<std::string> DirectoryDesk::ProviderOrganisation(
    const std::string& provider_id) const {
  ASSIGN_OR_RETURN(const Versioned<v1::Provider> provider,
                   directory_->GetProvider(provider_id));
  return provider.value.organisation();
}

absl::Status DirectoryDesk::CheckOwnsOffering(
    const Caller& caller, const v1::Offering& offering) const {
  if (caller.role == v1::ROLE_ADMIN) return absl::OkStatus();
  if (caller.role != v1::ROLE_PROVIDER) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", RoleName(caller.role),
                     " may not change an offering's capacity; its provider "
                     "does"));
  }
  ASSIGN_OR_RETURN(const OfferingName name,
                   ParseOfferingName("offering", offering.name()));
  ASSIGN_OR_RETURN(const std::string organisation,
                   ProviderOrganisation(name.provider));
  if (organisation != caller.organisation) {
    return absl::NotFoundError(
        absl::StrCat("offering ", offering.name(), " not found"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Offering> DirectoryDesk::CreateOffering(
    const Caller& caller, const v1::CreateOfferingRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the directory"));
  ASSIGN_OR_RETURN(const std::string provider_id,
                   ParseSimpleName("parent", request.parent(), "providers"));
  RETURN_IF_ERROR(ValidateId("offering_id", request.offering_id()));
  RETURN_IF_ERROR(ValidateRequestId("request_id", request.request_id()));
  RETURN_IF_ERROR(ValidateOffering("offering", request.offering()));
  ASSIGN_OR_RETURN(const Versioned<v1::Provider> provider,
                   directory_->GetProvider(provider_id));
  const v1::Offering& in = request.offering();
  if (std::count(provider.value.regions().begin(),
                 provider.value.regions().end(), in.region()) == 0) {
    return InvalidField(
        "offering.region",
        absl::StrCat("must be a region ", request.parent(), " serves"),
        in.region());
  }
  if (absl::Status known =
          directory_->GetActivityType(in.activity_type()).status();
      absl::IsNotFound(known)) {
    return InvalidField("offering.activity_type",
                        "must be an activity type of the catalogue",
                        in.activity_type());
  } else if (!known.ok()) {
    return known;
  }
  if (!in.framework_agreement().empty()) {
    RETURN_IF_ERROR(
        directory_->GetFrameworkAgreement(IdOf(in.framework_agreement()))
            .status());
  }
  // An offering id is unique to its provider, across regions.
  const absl::Status existing =
      directory_->GetOffering(provider_id, request.offering_id()).status();
  if (existing.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("offering ", request.parent(), "/offerings/",
                     request.offering_id(), " already exists"));
  }
  if (!absl::IsNotFound(existing)) return existing;
  v1::Offering offering = in;
  offering.set_name(
      OfferingName{provider_id, request.offering_id()}.ToString());
  offering.clear_capacity();
  offering.clear_etag();
  const google::protobuf::Timestamp now = ToProtoTimestamp(clock_->Now());
  *offering.mutable_create_time() = now;
  *offering.mutable_update_time() = now;
  RETURN_IF_ERROR(directory_->CreateOffering(offering));
  return Render({offering, 1});
}

absl::StatusOr<v1::Offering> DirectoryDesk::GetOffering(
    const Caller& caller, const v1::GetOfferingRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(const Versioned<v1::Offering> offering,
                   LoadOffering("name", request.name()));
  return offering.value;
}

absl::StatusOr<v1::ListOfferingsResponse> DirectoryDesk::ListOfferings(
    const Caller& caller, const v1::ListOfferingsRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  std::string provider_id;
  if (request.parent() != "providers/-") {
    ASSIGN_OR_RETURN(provider_id,
                     ParseSimpleName("parent", request.parent(), "providers"));
  }
  if (!request.region().empty() && !IsRegionCode(request.region())) {
    return InvalidField("region", "must be a two-digit län code",
                        request.region());
  }
  if (!request.activity_type().empty()) {
    RETURN_IF_ERROR(ValidateCode("activity_type", request.activity_type()));
  }
  std::vector<std::string> regions;
  if (!request.region().empty()) {
    regions = {request.region()};
  } else if (!provider_id.empty()) {
    ASSIGN_OR_RETURN(const Versioned<v1::Provider> provider,
                     directory_->GetProvider(provider_id));
    regions.assign(provider.value.regions().begin(),
                   provider.value.regions().end());
  } else {
    for (absl::string_view code : RegionCodes()) regions.emplace_back(code);
  }
  std::vector<v1::Offering> matching;
  for (const std::string& region : regions) {
    ASSIGN_OR_RETURN(const std::vector<Versioned<v1::Offering>> offerings,
                     directory_->ListOfferings(region));
    for (const Versioned<v1::Offering>& o : offerings) {
      const bool of_provider =
          provider_id.empty() ||
          ParseOfferingName("", o.value.name())->provider == provider_id;
      if (of_provider && (request.activity_type().empty() ||
                          o.value.activity_type() == request.activity_type())) {
        matching.push_back(Render(o));
      }
    }
  }
  v1::ListOfferingsResponse response;
  // Offering names are unique; page by the whole name.
  ASSIGN_OR_RETURN(
      const std::vector<const v1::Offering*> page,
      Paged(
          matching,
          [](const v1::Offering& o) {
            const OfferingName n = *ParseOfferingName("", o.name());
            return absl::StrCat(n.provider, "--", n.offering);
          },
          request.page_size(), request.page_token(),
          absl::StrCat("offerings|", request.parent(), "|", request.region(),
                       "|", request.activity_type()),
          response.mutable_next_page_token()));
  for (const v1::Offering* o : page) *response.add_offerings() = *o;
  return response;
}

absl::StatusOr<v1::Offering> DirectoryDesk::UpdateOffering(
    const Caller& caller, const v1::UpdateOfferingRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the directory"));
  RETURN_IF_ERROR(ValidateEtag("offering.etag", request.offering().etag()));
  ASSIGN_OR_RETURN(const Versioned<v1::Offering> read,
                   LoadOffering("offering.name", request.offering().name()));
  if (!request.offering().etag().empty() &&
      request.offering().etag() != absl::StrCat(read.version)) {
    return absl::AbortedError(absl::StrCat(
        "offering ", request.offering().name(), " changed since etag ",
        request.offering().etag(), " (now ", read.version, ")"));
  }
  v1::Offering changed = read.value;
  RETURN_IF_ERROR(MergeMasked(
      request.update_mask(),
      {"display_name", "site", "eligibility", "schedule", "languages",
       "stale_after_days", "offer_hold_hours", "cohort_intake_days"},
      request.offering(), changed));
  RETURN_IF_ERROR(ValidateOffering("offering", changed));
  *changed.mutable_update_time() = ToProtoTimestamp(clock_->Now());
  ASSIGN_OR_RETURN(const int64_t version,
                   directory_->UpdateOffering(read, changed));
  return Render({changed, version});
}

absl::StatusOr<v1::Offering> DirectoryDesk::PublishCapacity(
    const Caller& caller, const v1::PublishCapacityRequest& request) {
  RETURN_IF_ERROR(ValidateEtag("etag", request.etag()));
  ASSIGN_OR_RETURN(const Versioned<v1::Offering> read,
                   LoadOffering("offering", request.offering()));
  RETURN_IF_ERROR(CheckOwnsOffering(caller, read.value));
  if (!request.etag().empty() && request.etag() != absl::StrCat(read.version)) {
    return absl::AbortedError(
        absl::StrCat("offering ", request.offering(), " changed since etag ",
                     request.etag(), " (now ", read.version, ")"));
  }
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(const CapacityPlan plan,
                   PlanCapacity(read.value, request.capacity(), now,
                                calendar_->time_zone()));
  v1::Event event;
  event.set_type(v1::EVENT_TYPE_CAPACITY_PUBLISHED);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_actor() = caller.ToActor();
  event.set_offering(read.value.name());
  event.set_provider(ParseOfferingName("", read.value.name())->ProviderName());
  RETURN_IF_ERROR(directory_->PublishCapacity(read, plan, event).status());
  return LoadOffering("offering", request.offering())->value;
}

// --- Framework agreements ------------------------------------------------

absl::StatusOr<v1::FrameworkAgreement> DirectoryDesk::CreateFrameworkAgreement(
    const Caller& caller, const v1::CreateFrameworkAgreementRequest& request) {
  RETURN_IF_ERROR(RequireAdmin(caller, "change the directory"));
  RETURN_IF_ERROR(
      ValidateId("framework_agreement_id", request.framework_agreement_id()));
  RETURN_IF_ERROR(ValidateFrameworkAgreement("framework_agreement",
                                             request.framework_agreement()));
  v1::FrameworkAgreement agreement = request.framework_agreement();
  agreement.set_name(
      absl::StrCat("frameworkAgreements/", request.framework_agreement_id()));
  agreement.set_etag("1");
  RETURN_IF_ERROR(directory_->CreateFrameworkAgreement(agreement));
  return agreement;
}

absl::StatusOr<v1::FrameworkAgreement> DirectoryDesk::GetFrameworkAgreement(
    const Caller& caller, const v1::GetFrameworkAgreementRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(
      const std::string id,
      ParseSimpleName("name", request.name(), "frameworkAgreements"));
  return directory_->GetFrameworkAgreement(id);
}

absl::StatusOr<v1::ListFrameworkAgreementsResponse>
DirectoryDesk::ListFrameworkAgreements(
    const Caller& caller, const v1::ListFrameworkAgreementsRequest& request) {
  RETURN_IF_ERROR(RequireIdentified(caller));
  ASSIGN_OR_RETURN(const std::vector<v1::FrameworkAgreement> agreements,
                   directory_->ListFrameworkAgreements());
  v1::ListFrameworkAgreementsResponse response;
  ASSIGN_OR_RETURN(
      const std::vector<const v1::FrameworkAgreement*> page,
      Paged(
          agreements,
          [](const v1::FrameworkAgreement& a) { return IdOf(a.name()); },
          request.page_size(), request.page_token(), "frameworkAgreements",
          response.mutable_next_page_token()));
  for (const v1::FrameworkAgreement* a : page) {
    *response.add_framework_agreements() = *a;
  }
  return response;
}

}  // namespace slussen::core

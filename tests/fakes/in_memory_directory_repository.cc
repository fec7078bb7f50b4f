#include "tests/fakes/in_memory_directory_repository.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/core/model/names.h"
#include "broker/core/model/status_macros.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using core::Versioned;

// The id of "collection/{id}".
std::string IdOf(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

// The offering as the Redis store keeps it: no counters, and no capacity
// until one is published.
v1::Offering WithoutCounters(v1::Offering offering) {
  v1::Capacity& c = *offering.mutable_capacity();
  switch (c.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      c.mutable_places()->clear_occupied();
      c.mutable_places()->clear_held();
      break;
    case v1::Capacity::kCaseload:
      c.mutable_caseload()->clear_open_cases();
      c.mutable_caseload()->clear_held();
      break;
    case v1::Capacity::kCohorts:
      for (v1::Cohort& cohort : *c.mutable_cohorts()->mutable_cohorts()) {
        cohort.clear_enrolled();
        cohort.clear_held();
      }
      break;
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      offering.clear_capacity();
      break;
  }
  return offering;
}

absl::Status VersionMismatch(const std::string& what, int64_t stored,
                             int64_t read) {
  return absl::AbortedError(absl::StrCat(what, " changed (version ", stored,
                                         ", expected ", read, ")"));
}

}  // namespace

// --- National resources -----------------------------------------------------

absl::Status InMemoryDirectoryRepository::CreateActivityType(
    const v1::ActivityType& type) {
  absl::MutexLock lock(&mu_);
  const std::string id = IdOf(type.name());
  if (!activity_types_.emplace(id, type).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("activity_type ", id, " already exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ActivityType> InMemoryDirectoryRepository::GetActivityType(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = activity_types_.find(id);
  if (it == activity_types_.end()) {
    return absl::NotFoundError(
        absl::StrCat("activity_type ", id, " not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<v1::ActivityType>>
InMemoryDirectoryRepository::ListActivityTypes() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ActivityType> out;
  for (const auto& [id, type] : activity_types_) out.push_back(type);
  return out;
}

absl::Status InMemoryDirectoryRepository::CreateProvider(
    const v1::Provider& provider) {
  absl::MutexLock lock(&mu_);
  const std::string id = IdOf(provider.name());
  if (!providers_.emplace(id, Versioned<v1::Provider>{provider, 1}).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("provider ", id, " already exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Versioned<v1::Provider>>
InMemoryDirectoryRepository::GetProvider(const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = providers_.find(id);
  if (it == providers_.end()) {
    return absl::NotFoundError(absl::StrCat("provider ", id, " not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<Versioned<v1::Provider>>>
InMemoryDirectoryRepository::ListProviders() {
  absl::MutexLock lock(&mu_);
  std::vector<Versioned<v1::Provider>> out;
  for (const auto& [id, provider] : providers_) out.push_back(provider);
  return out;
}

absl::StatusOr<int64_t> InMemoryDirectoryRepository::UpdateProvider(
    int64_t read_version, const v1::Provider& changed) {
  absl::MutexLock lock(&mu_);
  const auto it = providers_.find(IdOf(changed.name()));
  const std::string what = absl::StrCat("provider ", changed.name());
  if (it == providers_.end()) {
    return absl::NotFoundError(absl::StrCat(what, " changed"));
  }
  if (it->second.version != read_version) {
    return VersionMismatch(what, it->second.version, read_version);
  }
  it->second = {changed, read_version + 1};
  return read_version + 1;
}

absl::Status InMemoryDirectoryRepository::CreateFrameworkAgreement(
    const v1::FrameworkAgreement& agreement) {
  absl::MutexLock lock(&mu_);
  const std::string id = IdOf(agreement.name());
  if (!agreements_.emplace(id, agreement).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("agreement ", id, " already exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::FrameworkAgreement>
InMemoryDirectoryRepository::GetFrameworkAgreement(const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = agreements_.find(id);
  if (it == agreements_.end()) {
    return absl::NotFoundError(absl::StrCat("agreement ", id, " not found"));
  }
  return it->second;
}

absl::StatusOr<std::vector<v1::FrameworkAgreement>>
InMemoryDirectoryRepository::ListFrameworkAgreements() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::FrameworkAgreement> out;
  for (const auto& [id, agreement] : agreements_) out.push_back(agreement);
  return out;
}

// --- Offerings ---------------------------------------------------------------

Versioned<v1::Offering> InMemoryDirectoryRepository::Read(
    const StoredOffering& stored) const {
  Versioned<v1::Offering> out{stored.offering, stored.version};
  if (!out.value.has_capacity()) return out;
  const std::string& name = out.value.name();
  const auto counters = [&](const std::string& unit) {
    return counters_->Counters(name, unit);
  };
  v1::Capacity& capacity = *out.value.mutable_capacity();
  switch (capacity.model_capacity_case()) {
    case v1::Capacity::kPlaces: {
      const auto unit = counters("-");
      if (unit.closed) capacity.mutable_places()->set_total(unit.capacity);
      capacity.mutable_places()->set_occupied(unit.occupied);
      capacity.mutable_places()->set_held(unit.held);
      break;
    }
    case v1::Capacity::kCaseload: {
      const auto unit = counters("-");
      if (unit.closed) {
        capacity.mutable_caseload()->set_max_open_cases(unit.capacity);
      }
      capacity.mutable_caseload()->set_open_cases(unit.occupied);
      capacity.mutable_caseload()->set_held(unit.held);
      break;
    }
    case v1::Capacity::kCohorts:
      for (v1::Cohort& cohort :
           *capacity.mutable_cohorts()->mutable_cohorts()) {
        const auto unit = counters(IdOf(cohort.name()));
        if (unit.closed) cohort.set_max_size(unit.capacity);
        cohort.set_enrolled(unit.occupied);
        cohort.set_held(unit.held);
      }
      break;
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      break;
  }
  return out;
}

absl::Status InMemoryDirectoryRepository::CreateOffering(
    const v1::Offering& offering) {
  ASSIGN_OR_RETURN(const core::OfferingName name,
                   core::ParseOfferingName("offering.name", offering.name()));
  absl::MutexLock lock(&mu_);
  const auto it = offerings_.find({name.provider, name.offering});
  if (it != offerings_.end()) {
    // An offering's id is unique across regions.
    return absl::AlreadyExistsError(
        it->second.region == offering.region()
            ? absl::StrCat("offering ", offering.name(), " already exists")
            : absl::StrCat("offering ", offering.name(),
                           " already exists (in region ", it->second.region,
                           ")"));
  }
  offerings_[{name.provider, name.offering}] = {
      .region = offering.region(),
      .version = 1,
      .offering = WithoutCounters(offering)};
  return absl::OkStatus();
}

absl::StatusOr<Versioned<v1::Offering>>
InMemoryDirectoryRepository::GetOffering(const std::string& provider_id,
                                         const std::string& offering_id) {
  absl::MutexLock lock(&mu_);
  const auto it = offerings_.find({provider_id, offering_id});
  if (it == offerings_.end()) {
    return absl::NotFoundError(absl::StrCat("offering providers/", provider_id,
                                            "/offerings/", offering_id,
                                            " not found"));
  }
  return Read(it->second);
}

absl::StatusOr<std::vector<Versioned<v1::Offering>>>
InMemoryDirectoryRepository::ListOfferings(const std::string& region) {
  absl::MutexLock lock(&mu_);
  std::vector<Versioned<v1::Offering>> out;
  for (const auto& [key, stored] : offerings_) {
    if (stored.region == region) out.push_back(Read(stored));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.value.name() < b.value.name();
  });
  return out;
}

absl::StatusOr<InMemoryDirectoryRepository::StoredOffering*>
InMemoryDirectoryRepository::Stored(const Versioned<v1::Offering>& read) {
  ASSIGN_OR_RETURN(const core::OfferingName name,
                   core::ParseOfferingName("offering.name", read.value.name()));
  const std::string what = absl::StrCat("offering ", read.value.name());
  const auto it = offerings_.find({name.provider, name.offering});
  // The Redis store looks in the region read: elsewhere is missing.
  if (it == offerings_.end() || it->second.region != read.value.region()) {
    return absl::NotFoundError(absl::StrCat(what, " changed"));
  }
  if (it->second.version != read.version) {
    return VersionMismatch(what, it->second.version, read.version);
  }
  return &it->second;
}

absl::StatusOr<int64_t> InMemoryDirectoryRepository::UpdateOffering(
    const Versioned<v1::Offering>& read, const v1::Offering& changed) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(StoredOffering* const stored, Stored(read));
  stored->offering = WithoutCounters(changed);
  stored->version = read.version + 1;
  return stored->version;
}

absl::StatusOr<int64_t> InMemoryDirectoryRepository::PublishCapacity(
    const Versioned<v1::Offering>& read, const core::CapacityPlan& plan,
    const v1::Event& event) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(StoredOffering* const stored, Stored(read));
  // Checks and sets the units atomically with the offers that move them.
  RETURN_IF_ERROR(counters_->PublishUnits(read.value.name(), plan.units,
                                          plan.removed_units,
                                          /*check_fits=*/!plan.closes_units));
  stored->offering = WithoutCounters(plan.offering);
  stored->version = read.version + 1;
  events_.push_back(event);
  return stored->version;
}

std::vector<v1::Event> InMemoryDirectoryRepository::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

}  // namespace slussen::testing

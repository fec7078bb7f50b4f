#include "broker/store/redis_directory_store.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/capacity.h"
#include "broker/core/model/names.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/lua/scripts.h"
#include "broker/store/redis_change.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {
namespace {

// An offering name's claim while its create is in flight: "pending:13".
// It expires, so a create that died before writing frees the name.
constexpr char kPendingClaim[] = "pending:";
constexpr int kPendingClaimMillis = 30000;

namespace v1 = ::slussen::v1;
using core::Versioned;

constexpr char kActivityType[] = "activity_type";
constexpr char kProvider[] = "provider";
constexpr char kAgreement[] = "agreement";

// The id of "collection/{id}".
std::string IdOf(const std::string& name) {
  return name.substr(name.rfind('/') + 1);
}

template <typename T>
absl::StatusOr<T> Decode(const std::string& what, const std::string& bytes) {
  T value;
  if (!value.ParseFromString(bytes)) {
    return absl::DataLossError(
        absl::StrCat("stored ", what, " cannot be decoded"));
  }
  return value;
}

// Hash field -> value of an HGETALL reply.
std::map<std::string, std::string> Fields(const RedisValue& reply) {
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return fields;
}

int Counter(const std::map<std::string, std::string>& fields,
            const std::string& unit, const std::string& name) {
  const auto it = fields.find(absl::StrCat(keys::Unit(unit), name));
  int value = 0;
  if (it != fields.end()) (void)absl::SimpleAtoi(it->second, &value);
  return value;
}

// The offering of an HGETALL, with its counters in the capacity's output
// fields; nullopt for a missing hash.
absl::StatusOr<std::optional<Versioned<v1::Offering>>> DecodeOffering(
    const RedisValue& reply) {
  const std::map<std::string, std::string> fields = Fields(reply);
  const auto data = fields.find("data");
  if (data == fields.end()) return std::nullopt;
  Versioned<v1::Offering> out;
  ASSIGN_OR_RETURN(out.value, Decode<v1::Offering>("offering", data->second));
  (void)absl::SimpleAtoi(fields.at("version"), &out.version);
  // None published yet: mutable_capacity() would add an empty one.
  if (!out.value.has_capacity()) return out;
  v1::Capacity& capacity = *out.value.mutable_capacity();
  constexpr char kWhole[] = "-";
  // A unit a NO_CAPACITY decline closed (CloseUnit) holds what it held
  // then, until the provider publishes capacity again.
  const auto cap = [&](const std::string& unit, int published) {
    int value = published;
    if (fields.count(absl::StrCat(keys::Unit(unit), "closed")) == 0) {
      return value;
    }
    const auto it = fields.find(absl::StrCat(keys::Unit(unit), "cap"));
    if (it != fields.end()) (void)absl::SimpleAtoi(it->second, &value);
    return value;
  };
  switch (capacity.model_capacity_case()) {
    case v1::Capacity::kPlaces:
      capacity.mutable_places()->set_total(
          cap(kWhole, capacity.places().total()));
      capacity.mutable_places()->set_occupied(
          Counter(fields, kWhole, "occupied"));
      capacity.mutable_places()->set_held(Counter(fields, kWhole, "held"));
      break;
    case v1::Capacity::kCaseload:
      capacity.mutable_caseload()->set_max_open_cases(
          cap(kWhole, capacity.caseload().max_open_cases()));
      capacity.mutable_caseload()->set_open_cases(
          Counter(fields, kWhole, "occupied"));
      capacity.mutable_caseload()->set_held(Counter(fields, kWhole, "held"));
      break;
    case v1::Capacity::kCohorts:
      for (v1::Cohort& cohort :
           *capacity.mutable_cohorts()->mutable_cohorts()) {
        const std::string unit = IdOf(cohort.name());
        cohort.set_max_size(cap(unit, cohort.max_size()));
        cohort.set_enrolled(Counter(fields, unit, "occupied"));
        cohort.set_held(Counter(fields, unit, "held"));
      }
      break;
    case v1::Capacity::MODEL_CAPACITY_NOT_SET:
      break;
  }
  return out;
}

// The offering with its capacity's counters cleared: they live in the
// hash's own fields, not in the stored protobuf.
std::string StoredOffering(v1::Offering offering) {
  // (mutable_* of one member would switch the oneof: only touch the set one)
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
  return offering.SerializeAsString();
}

}  // namespace

absl::Status RedisDirectoryStore::Create(
    const std::string& kind, const std::string& id,
    const google::protobuf::Message& value) {
  const std::string key = keys::Directory(kind, id);
  RedisChange change;
  change
      .Absent(key, absl::StrCat(kind, " ", id, " already exists"),
              /*already_exists=*/true)
      .HSet(key, {{"data", value.SerializeAsString()}, {"version", "1"}})
      .ZAdd(keys::DirectoryIndex(kind), "0", id);
  return change.Apply(*pool_).status();
}

absl::StatusOr<Versioned<std::string>> RedisDirectoryStore::Get(
    const std::string& kind, const std::string& id) {
  ASSIGN_OR_RETURN(
      RedisValue reply,
      pool_->Command({"HMGET", keys::Directory(kind, id), "data", "version"}));
  if (reply.elements.size() != 2 || reply.elements[0].is_nil()) {
    return absl::NotFoundError(absl::StrCat(kind, " ", id, " not found"));
  }
  Versioned<std::string> out{reply.elements[0].str, 0};
  (void)absl::SimpleAtoi(reply.elements[1].str, &out.version);
  return out;
}

absl::StatusOr<std::vector<Versioned<std::string>>> RedisDirectoryStore::List(
    const std::string& kind) {
  ASSIGN_OR_RETURN(
      RedisValue ids,
      pool_->Command({"ZRANGE", keys::DirectoryIndex(kind), "0", "-1"}));
  std::vector<std::vector<std::string>> reads;
  for (const RedisValue& id : ids.elements) {
    reads.push_back(
        {"HMGET", keys::Directory(kind, id.str), "data", "version"});
  }
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, pool_->Pipeline(reads));
  std::vector<Versioned<std::string>> out;
  for (const RedisValue& reply : replies) {
    if (reply.elements.size() != 2 || reply.elements[0].is_nil()) continue;
    Versioned<std::string> item{reply.elements[0].str, 0};
    (void)absl::SimpleAtoi(reply.elements[1].str, &item.version);
    out.push_back(std::move(item));
  }
  return out;
}

absl::Status RedisDirectoryStore::CreateActivityType(
    const v1::ActivityType& type) {
  return Create(kActivityType, IdOf(type.name()), type);
}

absl::StatusOr<v1::ActivityType> RedisDirectoryStore::GetActivityType(
    const std::string& id) {
  ASSIGN_OR_RETURN(Versioned<std::string> stored, Get(kActivityType, id));
  return Decode<v1::ActivityType>("activity type", stored.value);
}

absl::StatusOr<std::vector<v1::ActivityType>>
RedisDirectoryStore::ListActivityTypes() {
  ASSIGN_OR_RETURN(std::vector<Versioned<std::string>> stored,
                   List(kActivityType));
  std::vector<v1::ActivityType> out;
  for (const Versioned<std::string>& item : stored) {
    ASSIGN_OR_RETURN(out.emplace_back(),
                     Decode<v1::ActivityType>("activity type", item.value));
  }
  return out;
}

absl::Status RedisDirectoryStore::CreateProvider(const v1::Provider& provider) {
  return Create(kProvider, IdOf(provider.name()), provider);
}

absl::StatusOr<Versioned<v1::Provider>> RedisDirectoryStore::GetProvider(
    const std::string& id) {
  ASSIGN_OR_RETURN(Versioned<std::string> stored, Get(kProvider, id));
  Versioned<v1::Provider> out;
  out.version = stored.version;
  ASSIGN_OR_RETURN(out.value, Decode<v1::Provider>("provider", stored.value));
  return out;
}

absl::StatusOr<std::vector<Versioned<v1::Provider>>>
RedisDirectoryStore::ListProviders() {
  ASSIGN_OR_RETURN(std::vector<Versioned<std::string>> stored, List(kProvider));
  std::vector<Versioned<v1::Provider>> out;
  for (const Versioned<std::string>& item : stored) {
    Versioned<v1::Provider>& provider = out.emplace_back();
    provider.version = item.version;
    ASSIGN_OR_RETURN(provider.value,
                     Decode<v1::Provider>("provider", item.value));
  }
  return out;
}

absl::StatusOr<int64_t> RedisDirectoryStore::UpdateProvider(
    int64_t read_version, const v1::Provider& changed) {
  const std::string key = keys::Directory(kProvider, IdOf(changed.name()));
  RedisChange change;
  change
      .FieldEquals(key, "version", absl::StrCat(read_version),
                   absl::StrCat("provider ", changed.name(), " changed"),
                   /*missing_is_not_found=*/true)
      .HSet(key, {{"data", changed.SerializeAsString()},
                  {"version", absl::StrCat(read_version + 1)}});
  RETURN_IF_ERROR(change.Apply(*pool_).status());
  return read_version + 1;
}

absl::Status RedisDirectoryStore::CreateFrameworkAgreement(
    const v1::FrameworkAgreement& agreement) {
  return Create(kAgreement, IdOf(agreement.name()), agreement);
}

absl::StatusOr<v1::FrameworkAgreement>
RedisDirectoryStore::GetFrameworkAgreement(const std::string& id) {
  ASSIGN_OR_RETURN(Versioned<std::string> stored, Get(kAgreement, id));
  return Decode<v1::FrameworkAgreement>("framework agreement", stored.value);
}

absl::StatusOr<std::vector<v1::FrameworkAgreement>>
RedisDirectoryStore::ListFrameworkAgreements() {
  ASSIGN_OR_RETURN(std::vector<Versioned<std::string>> stored,
                   List(kAgreement));
  std::vector<v1::FrameworkAgreement> out;
  for (const Versioned<std::string>& item : stored) {
    ASSIGN_OR_RETURN(
        out.emplace_back(),
        Decode<v1::FrameworkAgreement>("framework agreement", item.value));
  }
  return out;
}

absl::Status RedisDirectoryStore::ClaimOfferingName(
    const core::OfferingName& name, const std::string& region) {
  const std::string claim =
      keys::OfferingRegionClaim(name.provider, name.offering);
  const std::string pending = absl::StrCat(kPendingClaim, region);
  const std::string offering = absl::StrCat(
      "offering providers/", name.provider, "/offerings/", name.offering);
  ASSIGN_OR_RETURN(const RedisValue set,
                   pool_->Command({"SET", claim, pending, "NX", "PX",
                                   absl::StrCat(kPendingClaimMillis)}));
  if (set.is_nil()) {
    ASSIGN_OR_RETURN(const RedisValue holder, pool_->Command({"GET", claim}));
    if (holder.is_nil() || holder.str == region || holder.str == pending) {
      // Expired meanwhile, a retry, or a create racing in the same region
      // (the region's own script lets one of them through).
      return absl::OkStatus();
    }
    if (absl::StartsWith(holder.str, kPendingClaim)) {
      return absl::AbortedError(absl::StrCat(
          offering, " is being created in region ",
          holder.str.substr(sizeof(kPendingClaim) - 1), "; retry"));
    }
    return absl::AlreadyExistsError(
        absl::StrCat(offering, " already exists (in region ", holder.str, ")"));
  }
  // Claimed. An earlier create may have written its region and died before
  // confirming its claim: look in the other regions once.
  std::vector<std::vector<std::string>> reads;
  std::vector<std::string> regions;
  for (absl::string_view other : core::RegionCodes()) {
    if (other == region) continue;
    regions.emplace_back(other);
    reads.push_back(
        {"EXISTS", keys::Offering(other, name.provider, name.offering)});
  }
  ASSIGN_OR_RETURN(const std::vector<RedisValue> found, pool_->Pipeline(reads));
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].integer == 0) continue;
    RETURN_IF_ERROR(pool_->Command({"SET", claim, regions[i]}).status());
    return absl::AlreadyExistsError(
        absl::StrCat(offering, " already exists (in region ", regions[i], ")"));
  }
  return absl::OkStatus();
}

absl::Status RedisDirectoryStore::CreateOffering(const v1::Offering& offering) {
  ASSIGN_OR_RETURN(const core::OfferingName name,
                   core::ParseOfferingName("offering.name", offering.name()));
  const std::string& region = offering.region();
  // An offering's name is unique across regions (GetOffering takes no
  // region): it is claimed for its region in the directory's slot first,
  // then written in the region's slot (one script cannot touch both slots
  // under Redis Cluster).
  RETURN_IF_ERROR(ClaimOfferingName(name, region));
  const std::string key = keys::Offering(region, name.provider, name.offering);
  RedisChange change;
  change
      .Absent(key,
              absl::StrCat("offering ", offering.name(), " already exists"),
              /*already_exists=*/true)
      .HSet(key, {{"data", StoredOffering(offering)}, {"version", "1"}})
      .ZAdd(keys::Offerings(region), "0",
            absl::StrCat(name.provider, ":", name.offering));
  const absl::Status written = change.Apply(*pool_).status();
  if (!written.ok() && !absl::IsAlreadyExists(written)) return written;
  // The name is the region's for good (also when it already was).
  RETURN_IF_ERROR(
      pool_
          ->Command({"SET",
                     keys::OfferingRegionClaim(name.provider, name.offering),
                     region})
          .status());
  return written;
}

absl::StatusOr<Versioned<v1::Offering>> RedisDirectoryStore::GetOffering(
    const std::string& provider_id, const std::string& offering_id) {
  // The name does not say the region: ask every region at once; at most
  // one has it.
  std::vector<std::vector<std::string>> reads;
  for (absl::string_view region : core::RegionCodes()) {
    reads.push_back(
        {"HGETALL", keys::Offering(region, provider_id, offering_id)});
  }
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, pool_->Pipeline(reads));
  for (const RedisValue& reply : replies) {
    ASSIGN_OR_RETURN(std::optional<Versioned<v1::Offering>> offering,
                     DecodeOffering(reply));
    if (offering.has_value()) return *std::move(offering);
  }
  return absl::NotFoundError(absl::StrCat("offering providers/", provider_id,
                                          "/offerings/", offering_id,
                                          " not found"));
}

// Every offering of the region in one round trip (an arrival reads them on
// the request path): lua/offerings_of_region.lua.
absl::StatusOr<std::vector<Versioned<v1::Offering>>>
RedisDirectoryStore::ListOfferings(const std::string& region) {
  ASSIGN_OR_RETURN(const RedisValue all, pool_->Eval(lua::OfferingsOfRegion(),
                                                     {keys::Offerings(region)},
                                                     {keys::Region(region)}));
  const std::vector<RedisValue>& replies = all.elements;
  std::vector<Versioned<v1::Offering>> out;
  for (const RedisValue& reply : replies) {
    ASSIGN_OR_RETURN(std::optional<Versioned<v1::Offering>> offering,
                     DecodeOffering(reply));
    if (offering.has_value()) out.push_back(*std::move(offering));
  }
  // The index sorts "<p>:<o>", which is not the order of the names when a
  // provider id is another's prefix ("p1:o" before "p:o").
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.value.name() < b.value.name();
  });
  return out;
}

absl::StatusOr<int64_t> RedisDirectoryStore::UpdateOffering(
    const Versioned<v1::Offering>& read, const v1::Offering& changed) {
  ASSIGN_OR_RETURN(const core::OfferingName name,
                   core::ParseOfferingName("offering.name", changed.name()));
  const std::string key =
      keys::Offering(read.value.region(), name.provider, name.offering);
  RedisChange change;
  change
      .FieldEquals(key, "version", absl::StrCat(read.version),
                   absl::StrCat("offering ", changed.name(), " changed"),
                   /*missing_is_not_found=*/true)
      .HSet(key, {{"data", StoredOffering(changed)},
                  {"version", absl::StrCat(read.version + 1)}});
  RETURN_IF_ERROR(change.Apply(*pool_).status());
  return read.version + 1;
}

absl::StatusOr<int64_t> RedisDirectoryStore::PublishCapacity(
    const Versioned<v1::Offering>& read, const core::CapacityPlan& plan,
    const v1::Event& event) {
  ASSIGN_OR_RETURN(const core::OfferingName name,
                   core::ParseOfferingName("offering.name", read.value.name()));
  const std::string& region = read.value.region();
  const std::string key = keys::Offering(region, name.provider, name.offering);
  RedisChange change;
  change.FieldEquals(key, "version", absl::StrCat(read.version),
                     absl::StrCat("offering ", read.value.name(), " changed"),
                     /*missing_is_not_found=*/true);
  RedisChange::Fields fields = {{"data", StoredOffering(plan.offering)},
                                {"version", absl::StrCat(read.version + 1)}};
  for (const auto& [unit, capacity] : plan.units) {
    if (!plan.closes_units) {
      change.UnitFits(
          key, keys::Unit(unit), capacity,
          absl::StrCat(read.value.name(), unit == "-" ? "" : " cohort " + unit,
                       " holds more than ", capacity, " now"));
    }
    fields.emplace_back(absl::StrCat(keys::Unit(unit), "cap"),
                        absl::StrCat(capacity));
  }
  for (const std::string& unit : plan.removed_units) {
    change.UnitFits(key, keys::Unit(unit), 0,
                    absl::StrCat(read.value.name(), " cohort ", unit,
                                 " took a place meanwhile; decide it instead"));
  }
  change.HSet(key, fields);
  for (const auto& [unit, capacity] : plan.units) {
    change.HDel(key, absl::StrCat(keys::Unit(unit), "closed"));
  }
  for (const std::string& unit : plan.removed_units) {
    for (const char* counter : {"cap", "occupied", "held", "closed"}) {
      change.HDel(key, absl::StrCat(keys::Unit(unit), counter));
    }
  }
  change.XAdd(keys::Events(region), EventEntry(event));
  RETURN_IF_ERROR(change.Apply(*pool_).status());
  return read.version + 1;
}

}  // namespace slussen::store

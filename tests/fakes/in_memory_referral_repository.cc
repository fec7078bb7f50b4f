#include "tests/fakes/in_memory_referral_repository.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace slussen::testing {

absl::StatusOr<core::CreateOutcome> InMemoryReferralRepository::Create(
    const core::ReferralRecord& record, const slussen::v1::Event& event,
    const std::optional<core::IdempotencyKey>& key) {
  absl::MutexLock lock(&mu_);
  core::CreateOutcome outcome;
  const std::string idem =
      key ? absl::StrCat(record.region, "\n", key->organisation, "\n",
                         key->request_id)
          : "";
  if (key) {
    const auto it = idempotency_.find(idem);
    if (it != idempotency_.end()) {
      outcome.record = records_.at({record.region, it->second.first});
      outcome.stored_fingerprint = it->second.second;
      return outcome;
    }
  }
  if (records_.count({record.region, record.id})) {
    return absl::AbortedError(absl::StrCat("id ", record.id, " is taken"));
  }
  outcome.created = true;
  outcome.record = record;
  outcome.record.version = 1;
  records_[{record.region, record.id}] = outcome.record;
  events_.push_back(event);
  if (key) idempotency_[idem] = {record.id, key->fingerprint};
  return outcome;
}

absl::StatusOr<core::ReferralRecord> InMemoryReferralRepository::Get(
    const std::string& region, const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = records_.find({region, id});
  if (it == records_.end()) return absl::NotFoundError("no such referral");
  return it->second;
}

absl::StatusOr<int64_t> InMemoryReferralRepository::Apply(
    const core::ReferralChange& change) {
  absl::MutexLock lock(&mu_);
  const core::ReferralRecord& read = *change.read;
  const auto it = records_.find({read.region, read.id});
  if (it == records_.end()) return absl::NotFoundError("no such referral");
  if (abort_updates_ > 0) {
    --abort_updates_;
    ++it->second.version;
    return absl::AbortedError("changed by someone else");
  }
  if (it->second.version != read.version) {
    return absl::AbortedError("version changed");
  }
  // Every check before any write, as the Redis store does.
  if (change.offer.has_value()) {
    const Key key{change.offer->region, change.offer->id};
    if (change.offer_read == nullptr
            ? offers_.count(key) > 0
            : offers_[key].version != change.offer_read->version) {
      return absl::AbortedError("offer changed");
    }
  }
  for (const core::CapacityDelta& delta : change.capacity) {
    const Unit& unit = units_[{delta.offering, delta.unit}];
    if (delta.require_room && unit.capacity - unit.occupied - unit.held <= 0) {
      return absl::FailedPreconditionError("no free place");
    }
  }
  it->second = change.changed;
  it->second.version = read.version + 1;
  events_.push_back(change.event);
  if (change.offer.has_value()) {
    core::OfferRecord& offer =
        offers_[{change.offer->region, change.offer->id}];
    const int64_t version = offer.version;
    offer = *change.offer;
    offer.version = version + 1;
  }
  for (const core::CapacityDelta& delta : change.capacity) {
    Unit& unit = units_[{delta.offering, delta.unit}];
    unit.held += delta.held;
    unit.occupied += delta.occupied;
  }
  return it->second.version;
}

absl::StatusOr<std::vector<core::ReferralRecord>>
InMemoryReferralRepository::ListMatchable(const std::string& region) {
  absl::MutexLock lock(&mu_);
  std::vector<core::ReferralRecord> out;
  for (const auto& [key, record] : records_) {
    const auto state = record.referral.state();
    if (key.first == region && (state == slussen::v1::REFERRAL_STATE_RECEIVED ||
                                state == slussen::v1::REFERRAL_STATE_QUEUED)) {
      out.push_back(record);
    }
  }
  return out;
}

absl::StatusOr<core::OfferRecord> InMemoryReferralRepository::GetOffer(
    const std::string& region, const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = offers_.find({region, id});
  if (it == offers_.end()) return absl::NotFoundError("no such offer");
  return it->second;
}

absl::StatusOr<core::OfferPage> InMemoryReferralRepository::ListOffers(
    const core::OfferQuery& query) {
  absl::MutexLock lock(&mu_);
  core::OfferPage page;
  for (const auto& [key, offer] : offers_) {
    if (std::count(query.regions.begin(), query.regions.end(), key.first) &&
        (query.provider_organisation.empty() ||
         offer.provider_organisation == query.provider_organisation) &&
        (query.states.empty() ||
         std::count(query.states.begin(), query.states.end(),
                    offer.offer.state()))) {
      page.records.push_back(offer);
    }
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> InMemoryReferralRepository::DueHolds(
    const std::string& region, absl::Time now) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> due;
  for (const auto& [key, offer] : offers_) {
    if (key.first == region &&
        offer.offer.state() == slussen::v1::OFFER_STATE_HELD &&
        absl::FromUnixSeconds(offer.offer.hold_expire_time().seconds()) <=
            now) {
      due.push_back(key.second);
    }
  }
  return due;
}

void InMemoryReferralRepository::SetCapacity(const std::string& offering,
                                             const std::string& unit,
                                             int capacity) {
  absl::MutexLock lock(&mu_);
  units_[{offering, unit}].capacity = capacity;
}

int InMemoryReferralRepository::Taken(const std::string& offering,
                                      const std::string& unit) const {
  absl::MutexLock lock(&mu_);
  const auto it = units_.find({offering, unit});
  return it == units_.end() ? 0 : it->second.occupied + it->second.held;
}

absl::StatusOr<core::ListPage> InMemoryReferralRepository::List(
    const core::ListQuery& query) {
  absl::MutexLock lock(&mu_);
  std::vector<const core::ReferralRecord*> candidates;
  for (const auto& [key, record] : records_) {
    const bool in_region = std::count(query.regions.begin(),
                                      query.regions.end(), record.region) > 0;
    const bool in_index =
        query.index == core::ListIndex::kRegion ||
        (query.index == core::ListIndex::kReferringOrganisation &&
         record.referral.referring_organisation() == query.organisation) ||
        (query.index == core::ListIndex::kAssignedOrganisation &&
         record.assigned_organisation == query.organisation);
    if (in_region && in_index &&
        (query.before_id.empty() || record.id < query.before_id)) {
      candidates.push_back(&record);
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const auto* a, const auto* b) { return a->id > b->id; });
  core::ListPage page;
  int examined = 0;
  for (const core::ReferralRecord* record : candidates) {
    if (static_cast<int>(page.records.size()) == query.page_size ||
        examined == query.scan_limit) {
      page.resume_before_id = candidates[examined - 1]->id;
      return page;
    }
    ++examined;
    const auto& r = record->referral;
    const bool matches =
        (query.states.empty() ||
         std::count(query.states.begin(), query.states.end(), r.state())) &&
        (query.kinds.empty() ||
         std::count(query.kinds.begin(), query.kinds.end(), r.kind())) &&
        (query.referring_organisation.empty() ||
         r.referring_organisation() == query.referring_organisation);
    if (matches) page.records.push_back(*record);
  }
  return page;
}

void InMemoryReferralRepository::FailNextUpdatesWithAborted(int count) {
  absl::MutexLock lock(&mu_);
  abort_updates_ = count;
}

std::vector<slussen::v1::Event> InMemoryReferralRepository::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

}  // namespace slussen::testing

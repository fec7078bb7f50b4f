#include "tests/fakes/in_memory_referral_repository.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/core/model/audit.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/matcher.h"
#include "broker/core/model/proto_time.h"

namespace slussen::testing {
namespace {

// The sets of open referrals `record` is in, as the Redis store's
// OpenTwinKeys: of its participant to its activity type by personnummer
// hash (not with protected personal data) and by its organisation's
// pseudonym; none for an impulse, which names no person, nor for a
// finished referral.
std::vector<std::string> OpenTwinKeys(const core::ReferralRecord& record) {
  const slussen::v1::Referral& referral = record.referral;
  if (referral.has_impulse() || core::IsTerminal(referral.state())) return {};
  const std::string type = core::ActivityTypeFor(referral);
  std::vector<std::string> out;
  if (!record.personal_identity_pseudonym.empty() &&
      !referral.protected_personal_data()) {
    out.push_back(
        absl::StrCat(type, "\npnr\n", record.personal_identity_pseudonym));
  }
  if (!referral.participant().pseudonym().empty()) {
    out.push_back(absl::StrCat(type, "\norg\n",
                               referral.referring_organisation(), "\n",
                               referral.participant().pseudonym()));
  }
  return out;
}

}  // namespace

absl::StatusOr<core::CreateOutcome> InMemoryReferralRepository::Create(
    const core::ReferralRecord& record,
    const std::vector<slussen::v1::Event>& events,
    const std::optional<core::IdempotencyKey>& key,
    const std::vector<core::ClockWrite>& clocks) {
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
  // The desk looked for an open twin before; this holds against one made
  // meanwhile, as the Redis store's create does.
  const std::vector<std::string> twins = OpenTwinKeys(record);
  for (const auto& [key, other] : records_) {
    if (key.first != record.region ||
        !record.referral.second_referral_reason().empty()) {
      continue;
    }
    for (const std::string& twin : OpenTwinKeys(other)) {
      if (std::count(twins.begin(), twins.end(), twin) == 0) continue;
      return core::WithReason(
          absl::AlreadyExistsError(absl::StrCat(
              "the participant already has an open referral to ",
              core::ActivityTypeFor(record.referral),
              ", made at the same moment; if a second one is right, say why "
              "in referral.second_referral_reason")),
          "OPEN_REFERRAL_EXISTS");
    }
  }
  if (absl::Status clocks_ok = CheckClocks(clocks); !clocks_ok.ok()) {
    return clocks_ok;
  }
  outcome.created = true;
  outcome.record = record;
  outcome.record.version = 1;
  records_[{record.region, record.id}] = outcome.record;
  for (size_t i = 0; i < events.size(); ++i) {
    Log(record.region, events[i]);
    Audit(record, events[i],
          i == 0 ? slussen::v1::AUDIT_OPERATION_CREATE
                 : slussen::v1::AUDIT_OPERATION_UPDATE,
          record.audit_subject);
  }
  if (key) idempotency_[idem] = {record.id, key->fingerprint};
  WriteClocks(clocks);
  return outcome;
}

absl::StatusOr<core::ReferralRecord> InMemoryReferralRepository::Get(
    const std::string& region, const std::string& id) {
  absl::MutexLock lock(&mu_);
  const auto it = records_.find({region, id});
  if (it == records_.end()) return absl::NotFoundError("no such referral");
  return it->second;
}

absl::StatusOr<std::vector<std::optional<core::ReferralRecord>>>
InMemoryReferralRepository::GetReferrals(const std::string& region,
                                         const std::vector<std::string>& ids) {
  absl::MutexLock lock(&mu_);
  std::vector<std::optional<core::ReferralRecord>> out;
  for (const std::string& id : ids) {
    const auto it = records_.find({region, id});
    out.push_back(it == records_.end()
                      ? std::nullopt
                      : std::optional<core::ReferralRecord>(it->second));
  }
  return out;
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
    const auto stored = offers_.find(key);
    if (change.offer_read != nullptr && stored == offers_.end()) {
      return absl::NotFoundError("offer changed");
    }
    if (change.offer_read == nullptr
            ? stored != offers_.end()
            : stored->second.version != change.offer_read->version) {
      return absl::AbortedError("offer changed");
    }
  }
  for (const core::CapacityDelta& delta : change.capacity) {
    const Unit& unit = units_[{delta.offering, delta.unit}];
    if (delta.require_room && unit.capacity - unit.occupied - unit.held <= 0) {
      return absl::FailedPreconditionError("no free place");
    }
  }
  if (absl::Status clocks_ok = CheckClocks(change.clocks); !clocks_ok.ok()) {
    return clocks_ok;
  }
  it->second = change.changed;
  it->second.version = read.version + 1;
  Log(read.region, change.event);
  Audit(change.changed, change.event,
        change.changed.audit_subject.empty()
            ? slussen::v1::AUDIT_OPERATION_ERASE
            : slussen::v1::AUDIT_OPERATION_UPDATE,
        read.audit_subject);
  WriteClocks(change.clocks);
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
    if (delta.close) {
      unit.capacity = unit.occupied + unit.held;
      unit.closed = true;
    }
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
  // As the Redis store: the ids after the cursor in each region's index
  // (of all offers, or of the provider's), merged, at most the scan limit
  // of them, oldest first; then the page from those in its states.
  std::vector<std::pair<std::string, std::string>> candidates;  // id, region
  for (const std::string& region : query.regions) {
    int taken = 0;
    for (auto it = offers_.upper_bound({region, query.after_id});
         it != offers_.end() && it->first.first == region &&
         taken < query.scan_limit;
         ++it) {
      if (query.provider_organisation.empty() ||
          it->second.provider_organisation == query.provider_organisation) {
        candidates.emplace_back(it->first.second, region);
        ++taken;
      }
    }
  }
  std::sort(candidates.begin(), candidates.end());
  const bool cut = static_cast<int>(candidates.size()) >= query.scan_limit;
  if (cut) candidates.resize(std::max(query.scan_limit, 0));
  core::OfferPage page;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const core::OfferRecord& offer =
        offers_.at({candidates[i].second, candidates[i].first});
    if (query.states.empty() ||
        std::count(query.states.begin(), query.states.end(),
                   offer.offer.state()) > 0) {
      page.records.push_back(offer);
    }
    if (static_cast<int>(page.records.size()) == query.page_size) {
      // More may follow: later candidates, or offers past a cut scan.
      if (i + 1 < candidates.size() || cut) {
        page.resume_after_id = candidates[i].first;
      }
      return page;
    }
  }
  if (cut && !candidates.empty()) {
    page.resume_after_id = candidates.back().first;
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> InMemoryReferralRepository::DueHolds(
    const std::string& region, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // As the Redis store: scored by the expiry in milliseconds, soonest first.
  std::vector<std::pair<int64_t, std::string>> due;
  for (const auto& [key, offer] : offers_) {
    const int64_t expires =
        absl::ToUnixMillis(core::ToAbslTime(offer.offer.hold_expire_time()));
    if (key.first == region &&
        offer.offer.state() == slussen::v1::OFFER_STATE_HELD &&
        expires <= absl::ToUnixMillis(now)) {
      due.emplace_back(expires, key.second);
    }
  }
  std::sort(due.begin(), due.end());
  std::vector<std::string> ids;
  for (auto& [expires, id] : due) ids.push_back(std::move(id));
  return ids;
}

absl::StatusOr<std::vector<std::string>>
InMemoryReferralRepository::FindParticipant(const std::string& region,
                                            const std::string& key,
                                            bool by_personnummer) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;  // records_ is ordered by (region, id)
  for (const auto& [k, record] : records_) {
    const std::string& held = by_personnummer
                                  ? record.personal_identity_pseudonym
                                  : record.referral.participant().pseudonym();
    if (k.first == region && !key.empty() && held == key) {
      ids.push_back(k.second);
    }
  }
  return ids;
}

absl::StatusOr<std::vector<std::string>>
InMemoryReferralRepository::ProtectedReferrals(const std::string& region) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [k, record] : records_) {
    if (k.first == region && record.referral.protected_personal_data()) {
      out.push_back(k.second);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>>
InMemoryReferralRepository::FinishedBefore(const std::string& region,
                                           absl::Time before, int limit) {
  absl::MutexLock lock(&mu_);
  // As the Redis store: by the time of the step into a final state.
  std::vector<std::pair<absl::Time, std::string>> due;
  for (const auto& [k, record] : records_) {
    if (k.first != region || record.referral.has_personal_data_erase_time()) {
      continue;
    }
    for (const slussen::v1::Transition& t : record.referral.history()) {
      if (core::IsTerminal(t.to_state()) && !core::IsTerminal(t.from_state())) {
        const absl::Time finished = core::ToAbslTime(t.time());
        if (finished <= before) due.emplace_back(finished, k.second);
        break;
      }
    }
  }
  std::sort(due.begin(), due.end());
  std::vector<std::string> ids;
  for (auto& [time, id] : due) {
    if (static_cast<int>(ids.size()) == limit) break;
    ids.push_back(std::move(id));
  }
  return ids;
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
         core::IsReferringParty(record.referral, query.organisation)) ||
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
         core::IsReferringParty(r, query.referring_organisation));
    if (matches) page.records.push_back(*record);
  }
  return page;
}

InMemoryReferralRepository::UnitCounters InMemoryReferralRepository::Counters(
    const std::string& offering, const std::string& unit) const {
  absl::MutexLock lock(&mu_);
  const auto it = units_.find({offering, unit});
  if (it == units_.end()) return {};
  return {.capacity = it->second.capacity,
          .occupied = it->second.occupied,
          .held = it->second.held,
          .closed = it->second.closed};
}

absl::Status InMemoryReferralRepository::PublishUnits(
    const std::string& offering,
    const std::vector<std::pair<std::string, int>>& units,
    const std::vector<std::string>& removed, bool check_fits) {
  absl::MutexLock lock(&mu_);
  const auto taken =
      [&](const std::string& unit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        const auto it = units_.find({offering, unit});
        return it == units_.end() ? 0 : it->second.occupied + it->second.held;
      };
  for (const auto& [unit, capacity] : units) {
    if (check_fits && taken(unit) > capacity) {
      return absl::FailedPreconditionError(
          absl::StrCat(offering, unit == "-" ? "" : " cohort " + unit,
                       " holds more than ", capacity, " now"));
    }
  }
  for (const std::string& unit : removed) {
    if (taken(unit) > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(offering, " cohort ", unit,
                       " took a place meanwhile; decide it instead"));
    }
  }
  for (const auto& [unit, capacity] : units) {
    units_[{offering, unit}].capacity = capacity;
    units_[{offering, unit}].closed = false;
  }
  for (const std::string& unit : removed) units_.erase({offering, unit});
  return absl::OkStatus();
}

void InMemoryReferralRepository::FailNextUpdatesWithAborted(int count) {
  absl::MutexLock lock(&mu_);
  abort_updates_ = count;
}

void InMemoryReferralRepository::Audit(const core::ReferralRecord& record,
                                       const slussen::v1::Event& event,
                                       slussen::v1::AuditOperation operation,
                                       const std::string& subject) {
  if (audit_ == nullptr || subject.empty()) return;
  slussen::v1::AuditRecord audited =
      core::AuditOfChange(record, event, operation);
  audited.set_subject(subject);
  // The in-memory chains cannot fail to append.
  (void)audit_->Append(record.region, {audited});
}

void InMemoryReferralRepository::Log(const std::string& region,
                                     const slussen::v1::Event& event) {
  events_.emplace_back(region, event);
}

std::vector<slussen::v1::Event> InMemoryReferralRepository::events() const {
  absl::MutexLock lock(&mu_);
  std::vector<slussen::v1::Event> out;
  out.reserve(events_.size());
  for (const auto& [region, event] : events_) out.push_back(event);
  return out;
}

std::vector<slussen::v1::Event> InMemoryReferralRepository::events(
    const std::string& region) const {
  absl::MutexLock lock(&mu_);
  std::vector<slussen::v1::Event> out;
  for (const auto& [in, event] : events_) {
    if (in == region) out.push_back(event);
  }
  return out;
}

}  // namespace slussen::testing

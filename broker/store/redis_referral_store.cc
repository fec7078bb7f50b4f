#include "broker/store/redis_referral_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/model/audit.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/joint.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/matcher.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/store/redis_audit_store.h"
#include "broker/store/redis_event_log.h"
#include "broker/store/redis_keys.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using core::ReferralRecord;

std::string IndexKey(const std::string& region, core::ListIndex index,
                     const std::string& organisation) {
  switch (index) {
    case core::ListIndex::kReferringOrganisation:
      return keys::ReferralsOf(region, organisation);
    case core::ListIndex::kAssignedOrganisation:
      return keys::ReferralsAssignedTo(region, organisation);
    case core::ListIndex::kRegion:
      break;
  }
  return keys::Referrals(region);
}

// Waiting for capacity: the matcher's input.
bool IsMatchable(v1::ReferralState state) {
  return state == v1::REFERRAL_STATE_RECEIVED ||
         state == v1::REFERRAL_STATE_QUEUED;
}

// The fields Get and List read, in this order.
const std::vector<std::string>& RecordFields() {
  static const auto* const kFields = new std::vector<std::string>{
      "data", "version", "pnr", "assigned", "subj"};
  return *kFields;
}

std::vector<std::string> ReadCommand(const std::string& region,
                                     const std::string& id) {
  std::vector<std::string> argv = {"HMGET", keys::Referral(region, id)};
  argv.insert(argv.end(), RecordFields().begin(), RecordFields().end());
  return argv;
}

// The record from an HMGET of RecordFields(); nullopt when the hash does
// not exist.
absl::StatusOr<std::optional<ReferralRecord>> DecodeRecord(
    const std::string& region, const std::string& id, const RedisValue& reply) {
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 5) {
    return absl::InternalError(
        absl::StrCat("redis: unexpected reply reading referral ", id));
  }
  if (reply.elements[0].is_nil()) return std::nullopt;
  ReferralRecord record;
  record.region = region;
  record.id = id;
  if (!record.referral.ParseFromString(reply.elements[0].str) ||
      !absl::SimpleAtoi(reply.elements[1].str, &record.version)) {
    return absl::DataLossError(absl::StrCat(
        "stored referral ", keys::Referral(region, id), " cannot be decoded"));
  }
  record.personal_identity_pseudonym = reply.elements[2].str;
  record.assigned_organisation = reply.elements[3].str;
  record.audit_subject = reply.elements[4].str;
  return record;
}

}  // namespace

RedisReferralStore::RedisReferralStore(RedisPool* pool, Options options)
    : pool_(pool), options_(std::move(options)) {}

namespace {

// The sets of open referrals of `record`'s participant to its activity
// type (keys::OpenReferralsOf): by personnummer hash (not for a
// participant with protected personal data, whose referral another agency
// must not run into), and by its organisation's pseudonym; none for an
// impulse, which names no person, nor for a finished referral.
std::vector<std::string> OpenTwinKeys(const ReferralRecord& record) {
  const v1::Referral& referral = record.referral;
  if (referral.has_impulse() || core::IsTerminal(referral.state())) return {};
  const std::string type = core::ActivityTypeFor(referral);
  std::vector<std::string> out;
  if (!record.personal_identity_pseudonym.empty() &&
      !referral.protected_personal_data()) {
    out.push_back(keys::OpenReferralsOf(
        record.region, type, record.personal_identity_pseudonym, "", ""));
  }
  if (!referral.participant().pseudonym().empty()) {
    out.push_back(keys::OpenReferralsOf(record.region, type, "",
                                        referral.referring_organisation(),
                                        referral.participant().pseudonym()));
  }
  return out;
}

}  // namespace

std::string RedisReferralStore::EventStreamKey(const std::string& region) {
  return keys::Events(region);
}

absl::StatusOr<core::CreateOutcome> RedisReferralStore::Create(
    const ReferralRecord& record, const std::vector<v1::Event>& events,
    const std::optional<core::IdempotencyKey>& key,
    const std::vector<core::ClockWrite>& clocks) {
  const std::string& region = record.region;
  const std::string& id = record.id;
  const std::string& org = record.referral.referring_organisation();
  const std::string referral_key = keys::Referral(region, id);
  RedisChange change;
  std::string idempotency_key;
  if (key) {
    idempotency_key =
        keys::Idempotency(region, key->organisation, key->request_id);
    change.IfExistsReturn(idempotency_key);
  }
  change.Absent(referral_key, absl::StrCat("referral id ", id, " is taken"));
  // The desk looked for an open twin before (naming it); this holds against
  // one created meanwhile, by a create racing this one.
  const std::vector<std::string> twins = OpenTwinKeys(record);
  for (const std::string& twin : twins) {
    if (!record.referral.second_referral_reason().empty()) break;
    change.Absent(
        twin,
        absl::StrCat("the participant already has an open referral to ",
                     core::ActivityTypeFor(record.referral),
                     ", made at the same moment; if a second one is right, "
                     "say why in referral.second_referral_reason"),
        /*already_exists=*/true);
  }
  RedisChange::Fields fields = {
      {"data", record.referral.SerializeAsString()},
      {"version", "1"},
      {"state", absl::StrCat(record.referral.state())},
      {"kind", absl::StrCat(record.referral.kind())},
      {"org", org},
      {"pnr", record.personal_identity_pseudonym},
      {"assigned", record.assigned_organisation},
      {"subj", record.audit_subject}};
  // The referral's new clocks are named in this write (ClockInto).
  const auto named_here = [&](const core::ClockWrite& clock) {
    return clock.record.version == 0 && clock.record.region == region &&
           keys::ReferralOfClock(clock.record.id) == id;
  };
  for (const core::ClockWrite& clock : clocks) {
    if (named_here(clock)) {
      fields.emplace_back(keys::ClockField(clock.record.id), "");
    }
  }
  change.HSet(referral_key, std::move(fields))
      .ZAdd(keys::Referrals(region), "0", id)
      .ZAdd(keys::ReferralsOf(region, org), "0", id);
  // The other agencies of a joint referral list it among theirs.
  for (const v1::JointParty& party : record.referral.joint().parties()) {
    change.ZAdd(keys::ReferralsOf(region, party.organisation()), "0", id);
  }
  if (!record.personal_identity_pseudonym.empty()) {
    change.SAdd(keys::Personnummer(region, record.personal_identity_pseudonym),
                id);
  }
  if (!record.referral.participant().pseudonym().empty()) {
    change.SAdd(
        keys::Participant(region, record.referral.participant().pseudonym()),
        id);
  }
  if (!record.assigned_organisation.empty()) {
    change.ZAdd(keys::ReferralsAssignedTo(region, record.assigned_organisation),
                "0", id);
  }
  if (IsMatchable(record.referral.state())) {
    change.ZAdd(keys::Matchable(region), "0", id);
  }
  for (const std::string& twin : twins) change.SAdd(twin, id);
  if (record.referral.protected_personal_data()) {
    change.SAdd(keys::Protected(region), id);
  }
  // The create's event, then any decision's written with it; each audited
  // as a change would be.
  for (size_t i = 0; i < events.size(); ++i) {
    change.XAdd(keys::Events(region), EventEntry(events[i]));
    if (!record.audit_subject.empty()) {
      RedisAuditStore::AppendInto(
          change, region,
          core::AuditOfChange(record, events[i],
                              i == 0 ? v1::AUDIT_OPERATION_CREATE
                                     : v1::AUDIT_OPERATION_UPDATE));
    }
  }
  for (const core::ClockWrite& clock : clocks) {
    ClockInto(change, clock, named_here(clock));
  }
  if (key) {
    change.SetWithTtl(idempotency_key, absl::StrCat(id, " ", key->fingerprint),
                      absl::ToInt64Milliseconds(options_.idempotency_ttl));
  }
  // What matching needs to know of the moment of the write (a change that
  // freed capacity counted since it planned this arrival?): read with it,
  // not in a round trip of its own (RedisMatchingMarks counts them).
  change.ReadAlong(keys::MatchingChanges(region));
  absl::StatusOr<RedisChange::Result> applied = change.Apply(*pool_);
  if (absl::IsAlreadyExists(applied.status())) {
    return core::WithReason(applied.status(), "OPEN_REFERRAL_EXISTS");
  }
  ASSIGN_OR_RETURN(RedisChange::Result result, std::move(applied));

  core::CreateOutcome outcome;
  if (!result.existing.has_value()) {
    outcome.created = true;
    outcome.record = record;
    outcome.record.version = 1;
    if (!result.reads.empty()) {
      // No key yet: no change counted (RedisMatchingMarks reads it so).
      outcome.matching_changes = result.reads[0].value_or("0");
    }
    return outcome;
  }
  // The key was used before: "<id> <fingerprint>".
  const std::string& prior = *result.existing;
  const size_t space = prior.find(' ');
  if (space == std::string::npos) {
    return absl::DataLossError("stored idempotency key cannot be decoded");
  }
  outcome.stored_fingerprint = prior.substr(space + 1);
  ASSIGN_OR_RETURN(outcome.record, Get(region, prior.substr(0, space)));
  return outcome;
}

absl::StatusOr<ReferralRecord> RedisReferralStore::Get(
    const std::string& region, const std::string& id) {
  ASSIGN_OR_RETURN(RedisValue reply, pool_->Command(ReadCommand(region, id)));
  ASSIGN_OR_RETURN(std::optional<ReferralRecord> record,
                   DecodeRecord(region, id, reply));
  if (!record.has_value()) {
    return absl::NotFoundError(absl::StrCat("referral regions/", region,
                                            "/referrals/", id, " not found"));
  }
  return *std::move(record);
}

absl::StatusOr<std::vector<std::optional<ReferralRecord>>>
RedisReferralStore::GetReferrals(const std::string& region,
                                 const std::vector<std::string>& ids) {
  std::vector<std::vector<std::string>> reads;
  reads.reserve(ids.size());
  for (const std::string& id : ids) reads.push_back(ReadCommand(region, id));
  ASSIGN_OR_RETURN(const std::vector<RedisValue> hashes,
                   pool_->Pipeline(reads));
  std::vector<std::optional<ReferralRecord>> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<ReferralRecord> record,
                     DecodeRecord(region, ids[i], hashes[i]));
    out.push_back(std::move(record));
  }
  return out;
}

int64_t RedisReferralStore::UpdateInto(RedisChange& change,
                                       const ReferralRecord& read,
                                       const ReferralRecord& changed,
                                       const v1::Event& event) {
  const std::string& region = read.region;
  const std::string& id = read.id;
  const std::string key = keys::Referral(region, id);
  const std::string name = read.referral.name();
  const int64_t version = read.version + 1;
  change
      .FieldEquals(key, "version", absl::StrCat(read.version),
                   absl::StrCat("referral ", name, " changed"),
                   /*missing_is_not_found=*/true)
      .FieldEquals(key, "assigned", read.assigned_organisation,
                   absl::StrCat("referral ", name, " changed"))
      .HSet(key, {{"data", changed.referral.SerializeAsString()},
                  {"version", absl::StrCat(version)},
                  {"state", absl::StrCat(changed.referral.state())},
                  {"assigned", changed.assigned_organisation},
                  {"pnr", changed.personal_identity_pseudonym},
                  {"subj", changed.audit_subject}});
  if (read.assigned_organisation != changed.assigned_organisation) {
    if (!read.assigned_organisation.empty()) {
      change.ZRem(keys::ReferralsAssignedTo(region, read.assigned_organisation),
                  id);
    }
    if (!changed.assigned_organisation.empty()) {
      change.ZAdd(
          keys::ReferralsAssignedTo(region, changed.assigned_organisation), "0",
          id);
    }
  }
  if (IsMatchable(changed.referral.state())) {
    change.ZAdd(keys::Matchable(region), "0", id);
  } else {
    change.ZRem(keys::Matchable(region), id);
  }
  change.XAdd(keys::Events(region), EventEntry(event));
  // Erasure empties the participant's fields: their indexes go with them.
  const std::string& pnr = read.personal_identity_pseudonym;
  if (!pnr.empty() && changed.personal_identity_pseudonym.empty()) {
    change.SRem(keys::Personnummer(region, pnr), id);
  }
  const std::string& pseudonym = read.referral.participant().pseudonym();
  if (!pseudonym.empty() &&
      changed.referral.participant().pseudonym().empty()) {
    change.SRem(keys::Participant(region, pseudonym), id);
  }
  if (changed.referral.protected_personal_data() !=
      read.referral.protected_personal_data()) {
    if (changed.referral.protected_personal_data()) {
      change.SAdd(keys::Protected(region), id);
    } else {
      change.SRem(keys::Protected(region), id);
    }
  }
  // A finished referral is no open twin of a new one; protection takes it
  // out of the personnummer's set (OpenTwinKeys).
  const std::vector<std::string> twins_before = OpenTwinKeys(read);
  const std::vector<std::string> twins_after = OpenTwinKeys(changed);
  for (const std::string& twin : twins_before) {
    if (std::find(twins_after.begin(), twins_after.end(), twin) ==
        twins_after.end()) {
      change.SRem(twin, id);
    }
  }
  for (const std::string& twin : twins_after) {
    if (std::find(twins_before.begin(), twins_before.end(), twin) ==
        twins_before.end()) {
      change.SAdd(twin, id);
    }
  }
  // Finished referrals wait in `finished` for their personal data to go.
  if (changed.referral.has_personal_data_erase_time()) {
    change.ZRem(keys::Finished(region), id);
  } else if (core::IsTerminal(changed.referral.state()) &&
             !core::IsTerminal(read.referral.state())) {
    change.ZAdd(
        keys::Finished(region),
        absl::StrCat(absl::ToUnixMillis(core::ToAbslTime(event.time()))), id);
  }
  if (!read.audit_subject.empty()) {
    v1::AuditRecord audit = core::AuditOfChange(
        changed, event,
        changed.audit_subject.empty() ? v1::AUDIT_OPERATION_ERASE
                                      : v1::AUDIT_OPERATION_UPDATE);
    audit.set_subject(read.audit_subject);
    RedisAuditStore::AppendInto(change, region, audit);
  }
  return version;
}

namespace {

// The offer written with a referral's change.
void OfferInto(RedisChange& change, const core::OfferRecord* read,
               const core::OfferRecord& offer) {
  const std::string key = keys::Offer(offer.region, offer.id);
  const std::string name = offer.offer.name();
  const int64_t version = read == nullptr ? 1 : read->version + 1;
  if (read == nullptr) {
    change.Absent(key, absl::StrCat("offer id ", offer.id, " is taken"))
        .ZAdd(keys::OffersOf(offer.region, offer.provider_organisation), "0",
              offer.id)
        .ZAdd(keys::Offers(offer.region), "0", offer.id);
  } else {
    change.FieldEquals(key, "version", absl::StrCat(read->version),
                       absl::StrCat("offer ", name, " changed"),
                       /*missing_is_not_found=*/true);
  }
  change.HSet(key, {{"data", offer.offer.SerializeAsString()},
                    {"version", absl::StrCat(version)},
                    {"state", absl::StrCat(offer.offer.state())},
                    {"org", offer.provider_organisation},
                    {"unit", offer.unit}});
  if (offer.offer.state() == v1::OFFER_STATE_HELD) {
    change.ZAdd(keys::Holds(offer.region),
                absl::StrCat(absl::ToUnixMillis(
                    core::ToAbslTime(offer.offer.hold_expire_time()))),
                offer.id);
  } else {
    change.ZRem(keys::Holds(offer.region), offer.id);
  }
}

// The counters of one capacity unit of an offering in `region`.
absl::Status CapacityInto(RedisChange& change, const std::string& region,
                          const core::CapacityDelta& delta) {
  ASSIGN_OR_RETURN(const core::OfferingName offering,
                   core::ParseOfferingName("offering", delta.offering));
  const std::string key =
      keys::Offering(region, offering.provider, offering.offering);
  const std::string unit = keys::Unit(delta.unit);
  if (delta.require_room) {
    change.HasFreeUnit(
        key, unit,
        absl::StrCat(delta.offering,
                     delta.unit == "-" ? "" : " cohort " + delta.unit,
                     " has no free place"));
  }
  if (delta.held != 0) change.HIncrBy(key, unit + "held", delta.held);
  if (delta.occupied != 0) {
    change.HIncrBy(key, unit + "occupied", delta.occupied);
  }
  if (delta.close) change.CloseUnit(key, unit);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> RedisReferralStore::Apply(
    const core::ReferralChange& c) {
  RedisChange change;
  const int64_t version = UpdateInto(change, *c.read, c.changed, c.event);
  if (c.offer.has_value()) OfferInto(change, c.offer_read, *c.offer);
  for (const core::CapacityDelta& delta : c.capacity) {
    RETURN_IF_ERROR(CapacityInto(change, c.read->region, delta));
  }
  for (const core::ClockWrite& clock : c.clocks) ClockInto(change, clock);
  RETURN_IF_ERROR(change.Apply(*pool_).status());
  return version;
}

absl::StatusOr<std::vector<ReferralRecord>> RedisReferralStore::ListMatchable(
    const std::string& region) {
  ASSIGN_OR_RETURN(
      RedisValue ids,
      pool_->Command({"ZRANGE", keys::Matchable(region), "0", "-1"}));
  std::vector<std::vector<std::string>> reads;
  for (const RedisValue& id : ids.elements) {
    reads.push_back(ReadCommand(region, id.str));
  }
  ASSIGN_OR_RETURN(std::vector<RedisValue> hashes, pool_->Pipeline(reads));
  std::vector<ReferralRecord> records;
  for (size_t i = 0; i < hashes.size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<ReferralRecord> record,
                     DecodeRecord(region, ids.elements[i].str, hashes[i]));
    if (record.has_value()) records.push_back(*std::move(record));
  }
  return records;
}

absl::StatusOr<core::ListPage> RedisReferralStore::List(
    const core::ListQuery& query) {
  core::ListPage page;
  std::string cursor = query.before_id;
  int examined = 0;
  const bool filtered = !query.states.empty() || !query.kinds.empty() ||
                        !query.referring_organisation.empty();
  while (static_cast<int>(page.records.size()) < query.page_size &&
         examined < query.scan_limit) {
    const int missing = query.page_size - static_cast<int>(page.records.size());
    const int want =
        std::min({query.scan_limit - examined,
                  filtered ? std::max(4 * missing, 50) : missing, 500});
    // The next `want` ids below the cursor in every region, merged.
    std::vector<std::vector<std::string>> ranges;
    for (const std::string& region : query.regions) {
      ranges.push_back({"ZRANGE",
                        IndexKey(region, query.index, query.organisation),
                        cursor.empty() ? "+" : absl::StrCat("(", cursor), "-",
                        "BYLEX", "REV", "LIMIT", "0", absl::StrCat(want)});
    }
    ASSIGN_OR_RETURN(std::vector<RedisValue> replies, pool_->Pipeline(ranges));
    std::vector<std::pair<std::string, std::string>> candidates;  // id, region
    // Every region is exhausted below the cursor when each returned fewer
    // ids than asked for.
    bool regions_exhausted = true;
    for (size_t i = 0; i < replies.size(); ++i) {
      if (replies[i].type == RedisValue::Type::kError) {
        return StatusFromErrorReply(replies[i].str);
      }
      regions_exhausted = regions_exhausted &&
                          static_cast<int>(replies[i].elements.size()) < want;
      for (const RedisValue& id : replies[i].elements) {
        candidates.emplace_back(id.str, query.regions[i]);
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    const bool last_batch =
        regions_exhausted && static_cast<int>(candidates.size()) <= want;
    if (static_cast<int>(candidates.size()) > want) candidates.resize(want);
    if (candidates.empty()) return page;

    std::vector<std::vector<std::string>> reads;
    for (const auto& [id, region] : candidates) {
      reads.push_back(ReadCommand(region, id));
    }
    ASSIGN_OR_RETURN(std::vector<RedisValue> hashes, pool_->Pipeline(reads));
    for (size_t i = 0; i < candidates.size(); ++i) {
      const auto& [id, region] = candidates[i];
      ++examined;
      cursor = id;
      ASSIGN_OR_RETURN(std::optional<ReferralRecord> record,
                       DecodeRecord(region, id, hashes[i]));
      const bool matches =
          record.has_value() &&
          (query.states.empty() ||
           std::count(query.states.begin(), query.states.end(),
                      record->referral.state()) > 0) &&
          (query.kinds.empty() ||
           std::count(query.kinds.begin(), query.kinds.end(),
                      record->referral.kind()) > 0) &&
          (query.referring_organisation.empty() ||
           core::IsReferringParty(record->referral,
                                  query.referring_organisation));
      if (matches) page.records.push_back(*std::move(record));
      if (static_cast<int>(page.records.size()) == query.page_size) {
        if (!(last_batch && i + 1 == candidates.size())) {
          page.resume_before_id = cursor;
        }
        return page;
      }
    }
    if (last_batch) return page;
  }
  page.resume_before_id = cursor;
  return page;
}

namespace {

const std::vector<std::string>& OfferFields() {
  static const auto* const kFields =
      new std::vector<std::string>{"data", "version", "org", "unit"};
  return *kFields;
}

std::vector<std::string> ReadOfferCommand(const std::string& region,
                                          const std::string& id) {
  std::vector<std::string> argv = {"HMGET", keys::Offer(region, id)};
  argv.insert(argv.end(), OfferFields().begin(), OfferFields().end());
  return argv;
}

absl::StatusOr<std::optional<core::OfferRecord>> DecodeOffer(
    const std::string& region, const std::string& id, const RedisValue& reply) {
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 4) {
    return absl::InternalError(
        absl::StrCat("redis: unexpected reply reading offer ", id));
  }
  if (reply.elements[0].is_nil()) return std::nullopt;
  core::OfferRecord record;
  record.region = region;
  record.id = id;
  if (!record.offer.ParseFromString(reply.elements[0].str) ||
      !absl::SimpleAtoi(reply.elements[1].str, &record.version)) {
    return absl::DataLossError(absl::StrCat(
        "stored offer ", keys::Offer(region, id), " cannot be decoded"));
  }
  record.provider_organisation = reply.elements[2].str;
  record.unit = reply.elements[3].str;
  return record;
}

}  // namespace

absl::StatusOr<core::OfferRecord> RedisReferralStore::GetOffer(
    const std::string& region, const std::string& id) {
  ASSIGN_OR_RETURN(RedisValue reply,
                   pool_->Command(ReadOfferCommand(region, id)));
  ASSIGN_OR_RETURN(std::optional<core::OfferRecord> record,
                   DecodeOffer(region, id, reply));
  if (!record.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("offer regions/", region, "/offers/", id, " not found"));
  }
  return *std::move(record);
}

absl::StatusOr<core::OfferPage> RedisReferralStore::ListOffers(
    const core::OfferQuery& query) {
  // Offers are few next to referrals: read each region's index from the
  // cursor, oldest first, up to the scan limit.
  std::vector<std::pair<std::string, std::string>> candidates;  // id, region
  std::vector<std::vector<std::string>> ranges;
  for (const std::string& region : query.regions) {
    ranges.push_back(
        {"ZRANGE",
         query.provider_organisation.empty()
             ? keys::Offers(region)
             : keys::OffersOf(region, query.provider_organisation),
         query.after_id.empty() ? "-" : absl::StrCat("(", query.after_id), "+",
         "BYLEX", "LIMIT", "0", absl::StrCat(query.scan_limit)});
  }
  ASSIGN_OR_RETURN(std::vector<RedisValue> replies, pool_->Pipeline(ranges));
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].type == RedisValue::Type::kError) {
      return StatusFromErrorReply(replies[i].str);
    }
    for (const RedisValue& id : replies[i].elements) {
      candidates.emplace_back(id.str, query.regions[i]);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  if (static_cast<int>(candidates.size()) > query.scan_limit) {
    candidates.resize(query.scan_limit);
  }
  std::vector<std::vector<std::string>> reads;
  for (const auto& [id, region] : candidates) {
    reads.push_back(ReadOfferCommand(region, id));
  }
  ASSIGN_OR_RETURN(std::vector<RedisValue> hashes, pool_->Pipeline(reads));
  core::OfferPage page;
  for (size_t i = 0; i < candidates.size(); ++i) {
    ASSIGN_OR_RETURN(
        std::optional<core::OfferRecord> record,
        DecodeOffer(candidates[i].second, candidates[i].first, hashes[i]));
    if (record.has_value() &&
        (query.states.empty() ||
         std::count(query.states.begin(), query.states.end(),
                    record->offer.state()) > 0)) {
      page.records.push_back(*std::move(record));
    }
    if (static_cast<int>(page.records.size()) == query.page_size) {
      // More may follow this one: later candidates, or, when the scan
      // limit cut the candidates short, offers past them.
      if (i + 1 < candidates.size() ||
          static_cast<int>(candidates.size()) == query.scan_limit) {
        page.resume_after_id = candidates[i].first;
      }
      return page;
    }
  }
  if (static_cast<int>(candidates.size()) == query.scan_limit) {
    page.resume_after_id = candidates.back().first;
  }
  return page;
}

absl::StatusOr<std::vector<std::string>> RedisReferralStore::DueHolds(
    const std::string& region, absl::Time now) {
  ASSIGN_OR_RETURN(RedisValue ids,
                   pool_->Command({"ZRANGEBYSCORE", keys::Holds(region), "-inf",
                                   absl::StrCat(absl::ToUnixMillis(now))}));
  std::vector<std::string> out;
  for (const RedisValue& id : ids.elements) out.push_back(id.str);
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisReferralStore::FindParticipant(
    const std::string& region, const std::string& key, bool by_personnummer) {
  ASSIGN_OR_RETURN(
      RedisValue ids,
      pool_->Command({"SMEMBERS", by_personnummer
                                      ? keys::Personnummer(region, key)
                                      : keys::Participant(region, key)}));
  std::vector<std::string> out;
  for (const RedisValue& id : ids.elements) out.push_back(id.str);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisReferralStore::FinishedBefore(
    const std::string& region, absl::Time before, int limit) {
  ASSIGN_OR_RETURN(
      RedisValue ids,
      pool_->Command({"ZRANGEBYSCORE", keys::Finished(region), "-inf",
                      absl::StrCat(absl::ToUnixMillis(before)), "LIMIT", "0",
                      absl::StrCat(limit)}));
  std::vector<std::string> out;
  for (const RedisValue& id : ids.elements) out.push_back(id.str);
  return out;
}

absl::StatusOr<std::vector<std::string>> RedisReferralStore::ProtectedReferrals(
    const std::string& region) {
  ASSIGN_OR_RETURN(RedisValue ids,
                   pool_->Command({"SMEMBERS", keys::Protected(region)}));
  std::vector<std::string> out;
  for (const RedisValue& id : ids.elements) out.push_back(id.str);
  return out;
}

}  // namespace slussen::store

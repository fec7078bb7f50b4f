#include "broker/store/redis_referral_store.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/core/status_macros.h"

namespace slussen::store {
namespace {

namespace v1 = ::slussen::v1;
using core::ReferralRecord;

// Checks first, then writes: a script that returns early has written
// nothing, and no command after the first write can fail on its arguments.
// KEYS: referral hash, region index, org index, event stream, idempotency
// key, personnummer set, assigned index. ARGV: id, data, state, kind, org,
// pnr hash, event type, referral name, event bytes, idempotency value (""
// for none), idempotency ttl in milliseconds (>= 1), assigned org.
const RedisScript& CreateScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
if ARGV[10] ~= '' then
  local prior = redis.call('GET', KEYS[5])
  if prior then return {0, prior} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('ABORTED referral id ' .. ARGV[1] .. ' is taken')
end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', 1,
           'state', ARGV[3], 'kind', ARGV[4], 'org', ARGV[5],
           'pnr', ARGV[6], 'assigned', ARGV[12])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if ARGV[6] ~= '' then redis.call('SADD', KEYS[6], ARGV[1]) end
if ARGV[12] ~= '' then redis.call('ZADD', KEYS[7], 0, ARGV[1]) end
local event_id = redis.call('XADD', KEYS[4], '*', 'type', ARGV[7],
                            'referral', ARGV[8], 'event', ARGV[9])
if ARGV[10] ~= '' then
  redis.call('SET', KEYS[5], ARGV[10], 'PX', ARGV[11])
end
return {1, event_id}
)lua");
  return *kScript;
}

// KEYS: referral hash, event stream, assigned index of the value read,
// assigned index of the new value. ARGV: expected version, data, state,
// referral name, event type, event bytes, id, assigned org read, new
// assigned org.
const RedisScript& UpdateScript() {
  static const RedisScript* const kScript = new RedisScript(R"lua(
local stored = redis.call('HMGET', KEYS[1], 'version', 'assigned')
local version = stored[1]
if not version then
  return redis.error_reply('NOT_FOUND referral ' .. ARGV[4] .. ' not found')
end
if version ~= ARGV[1] or (stored[2] or '') ~= ARGV[8] then
  return redis.error_reply('ABORTED referral ' .. ARGV[4] ..
                           ' changed: it is at version ' .. version ..
                           ', the change was made on version ' .. ARGV[1])
end
local next_version = tonumber(version) + 1
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', next_version,
           'state', ARGV[3], 'assigned', ARGV[9])
if ARGV[8] ~= ARGV[9] then
  if ARGV[8] ~= '' then redis.call('ZREM', KEYS[3], ARGV[7]) end
  if ARGV[9] ~= '' then redis.call('ZADD', KEYS[4], 0, ARGV[7]) end
end
local event_id = redis.call('XADD', KEYS[2], '*', 'type', ARGV[5],
                            'referral', ARGV[4], 'event', ARGV[6])
return {next_version, event_id}
)lua");
  return *kScript;
}

std::string Tag(const std::string& region) {
  return absl::StrCat("slussen:{r", region, "}:");
}

std::string ReferralKey(const std::string& region, const std::string& id) {
  return absl::StrCat(Tag(region), "referral:", id);
}

std::string IndexKey(const std::string& region, core::ListIndex index,
                     const std::string& organisation) {
  switch (index) {
    case core::ListIndex::kReferringOrganisation:
      return absl::StrCat(Tag(region), "referrals:org:", organisation);
    case core::ListIndex::kAssignedOrganisation:
      return absl::StrCat(Tag(region), "referrals:assigned:", organisation);
    case core::ListIndex::kRegion:
      break;
  }
  return absl::StrCat(Tag(region), "referrals");
}

// The fields Get and List read, in this order.
const std::vector<std::string>& RecordFields() {
  static const auto* const kFields =
      new std::vector<std::string>{"data", "version", "pnr", "assigned"};
  return *kFields;
}

std::vector<std::string> ReadCommand(const std::string& region,
                                     const std::string& id) {
  std::vector<std::string> argv = {"HMGET", ReferralKey(region, id)};
  argv.insert(argv.end(), RecordFields().begin(), RecordFields().end());
  return argv;
}

// The record from an HMGET of RecordFields(); nullopt when the hash does
// not exist.
absl::StatusOr<std::optional<ReferralRecord>> DecodeRecord(
    const std::string& region, const std::string& id, const RedisValue& reply) {
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 4) {
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
        "stored referral ", ReferralKey(region, id), " cannot be decoded"));
  }
  record.personal_identity_pseudonym = reply.elements[2].str;
  record.assigned_organisation = reply.elements[3].str;
  return record;
}

std::string EventBytes(const v1::Event& event) {
  return event.SerializeAsString();
}

}  // namespace

RedisReferralStore::RedisReferralStore(RedisPool* pool, Options options)
    : pool_(pool), options_(std::move(options)) {}

std::string RedisReferralStore::EventStreamKey(const std::string& region) {
  return absl::StrCat(Tag(region), "events");
}

absl::StatusOr<core::CreateOutcome> RedisReferralStore::Create(
    const ReferralRecord& record, const v1::Event& event,
    const std::optional<core::IdempotencyKey>& key) {
  const std::string& region = record.region;
  const std::string& org = record.referral.referring_organisation();
  const std::vector<std::string> keys = {
      ReferralKey(region, record.id),
      IndexKey(region, core::ListIndex::kRegion, ""),
      IndexKey(region, core::ListIndex::kReferringOrganisation, org),
      EventStreamKey(region),
      key ? absl::StrCat(Tag(region), "idem:", key->organisation, ":",
                         key->request_id)
          : absl::StrCat(Tag(region), "idem:-"),
      absl::StrCat(Tag(region), "pnr:", record.personal_identity_pseudonym),
      IndexKey(region, core::ListIndex::kAssignedOrganisation,
               record.assigned_organisation),
  };
  const std::vector<std::string> args = {
      record.id,
      record.referral.SerializeAsString(),
      absl::StrCat(record.referral.state()),
      absl::StrCat(record.referral.kind()),
      org,
      record.personal_identity_pseudonym,
      absl::StrCat(event.type()),
      record.referral.name(),
      EventBytes(event),
      key ? absl::StrCat(record.id, " ", key->fingerprint) : "",
      absl::StrCat(std::max<int64_t>(
          1, absl::ToInt64Milliseconds(options_.idempotency_ttl))),
      record.assigned_organisation,
  };
  ASSIGN_OR_RETURN(RedisValue reply, pool_->Eval(CreateScript(), keys, args));
  if (reply.type != RedisValue::Type::kArray || reply.elements.size() != 2) {
    return absl::InternalError("redis: unexpected reply to create");
  }
  core::CreateOutcome outcome;
  if (reply.elements[0].integer == 1) {
    outcome.created = true;
    outcome.record = record;
    outcome.record.version = 1;
    return outcome;
  }
  // The key was used before: "<id> <fingerprint>".
  const std::string& prior = reply.elements[1].str;
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

absl::StatusOr<int64_t> RedisReferralStore::Update(
    const ReferralRecord& read, const ReferralRecord& changed,
    const v1::Event& event) {
  const std::string& region = read.region;
  const std::vector<std::string> keys = {
      ReferralKey(region, read.id),
      EventStreamKey(region),
      IndexKey(region, core::ListIndex::kAssignedOrganisation,
               read.assigned_organisation),
      IndexKey(region, core::ListIndex::kAssignedOrganisation,
               changed.assigned_organisation),
  };
  const std::vector<std::string> args = {
      absl::StrCat(read.version),
      changed.referral.SerializeAsString(),
      absl::StrCat(changed.referral.state()),
      changed.referral.name(),
      absl::StrCat(event.type()),
      EventBytes(event),
      read.id,
      read.assigned_organisation,
      changed.assigned_organisation,
  };
  ASSIGN_OR_RETURN(RedisValue reply, pool_->Eval(UpdateScript(), keys, args));
  if (reply.type != RedisValue::Type::kArray || reply.elements.empty()) {
    return absl::InternalError("redis: unexpected reply to update");
  }
  return reply.elements[0].integer;
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
      const bool matches = record.has_value() &&
                           (query.states.empty() ||
                            std::count(query.states.begin(), query.states.end(),
                                       record->referral.state()) > 0) &&
                           (query.kinds.empty() ||
                            std::count(query.kinds.begin(), query.kinds.end(),
                                       record->referral.kind()) > 0) &&
                           (query.referring_organisation.empty() ||
                            record->referral.referring_organisation() ==
                                query.referring_organisation);
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

}  // namespace slussen::store

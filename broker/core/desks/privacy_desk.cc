#include "broker/core/desks/privacy_desk.h"

#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/core/desks/placement_desk.h"
#include "broker/core/model/access.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/lifecycle.h"
#include "broker/core/model/names.h"
#include "broker/core/model/page_token.h"
#include "broker/core/model/personnummer.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/referral_validation.h"
#include "broker/core/model/status_macros.h"
#include "broker/core/model/text_rules.h"

namespace slussen::core {
namespace {

namespace v1 = ::slussen::v1;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kChainBatch = 1000;
constexpr int kMaxAttempts = 5;

// The event of an erasure; the reason rides in the transition's note,
// which the audit record of the change takes as its purpose.
v1::Event ErasureEvent(const ReferralRecord& record, const Caller& actor,
                       absl::Time now, absl::string_view reason) {
  v1::Event event;
  event.set_type(v1::EVENT_TYPE_PERSONAL_DATA_ERASED);
  *event.mutable_time() = ToProtoTimestamp(now);
  *event.mutable_actor() = actor.ToActor();
  event.set_request_id(actor.request_id);
  event.set_referral(record.referral.name());
  event.set_referral_kind(record.referral.kind());
  event.set_referring_organisation(record.referral.referring_organisation());
  event.set_provider_organisation(record.assigned_organisation);
  event.set_protected_personal_data(record.referral.protected_personal_data());
  event.mutable_transition()->set_from_state(record.referral.state());
  event.mutable_transition()->set_to_state(record.referral.state());
  event.mutable_transition()->set_note(std::string(reason));
  return event;
}

}  // namespace

PrivacyDesk::PrivacyDesk(ReferralRepository* referrals, AuditRepository& audit,
                         const Clock* clock, const Pseudonymizer* pseudonymizer,
                         const SwedishCalendar* calendar)
    : referrals_(referrals),
      audit_(audit),
      clock_(clock),
      pseudonymizer_(pseudonymizer),
      calendar_(calendar) {}

absl::StatusOr<std::string> PrivacyDesk::PrivacyRegion(
    const Caller& caller, absl::string_view parent) const {
  ASSIGN_OR_RETURN(
      std::string region,
      ParseRegionParent("parent", parent, /*allow_any_region=*/false));
  const bool allowed =
      caller.role == v1::ROLE_ADMIN ||
      (caller.role == v1::ROLE_COORDINATOR && caller.region == region);
  if (!allowed) {
    return absl::PermissionDeniedError(
        absl::StrCat("the audit trail and erasure of region ", region,
                     " are for its coordinators and for admins"));
  }
  return region;
}

template <typename Request>
absl::StatusOr<PrivacyDesk::Subject> PrivacyDesk::FindSubject(
    const std::string& region, const Request& request) const {
  Subject subject;
  std::vector<std::string> ids;
  switch (request.subject_case()) {
    case Request::kParticipantPseudonym: {
      RETURN_IF_ERROR(ValidatePseudonym("participant_pseudonym",
                                        request.participant_pseudonym()));
      ASSIGN_OR_RETURN(ids, referrals_->FindParticipant(
                                region, request.participant_pseudonym(),
                                /*by_personnummer=*/false));
      break;
    }
    case Request::kPersonalIdentityNumber: {
      ASSIGN_OR_RETURN(const Personnummer number,
                       ParsePersonnummer(request.personal_identity_number(),
                                         calendar_->LocalDay(clock_->Now()),
                                         "personal_identity_number"));
      subject.personnummer_pseudonym = pseudonymizer_->Pseudonymize(number);
      ASSIGN_OR_RETURN(ids, referrals_->FindParticipant(
                                region, subject.personnummer_pseudonym,
                                /*by_personnummer=*/true));
      break;
    }
    default:
      return MissingField("subject",
                          "name the participant by participant_pseudonym or "
                          "personal_identity_number");
  }
  std::set<std::string> agencies;
  ASSIGN_OR_RETURN(std::vector<std::optional<ReferralRecord>> records,
                   referrals_->GetReferrals(region, ids));
  for (std::optional<ReferralRecord>& record : records) {
    if (!record.has_value()) continue;
    if (record->referral.protected_personal_data()) {
      subject.withheld.insert(record->referral.name());
      subject.withheld.insert(
          absl::StrCat("regions/", record->region, "/consents/", record->id));
      for (const v1::Transition& t : record->referral.history()) {
        if (!t.offer().empty()) subject.withheld.insert(t.offer());
      }
      continue;
    }
    agencies.insert(record->referral.referring_organisation());
    subject.referrals.push_back(*std::move(record));
  }
  if (request.subject_case() == Request::kParticipantPseudonym &&
      agencies.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("participant_pseudonym is used by ", agencies.size(),
                     " agencies (", absl::StrJoin(agencies, ", "),
                     ") and may name different people: name the participant by "
                     "personal_identity_number"));
  }
  return subject;
}

absl::StatusOr<v1::ListAuditRecordsResponse> PrivacyDesk::ListAuditRecords(
    const Caller& caller, const v1::ListAuditRecordsRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   PrivacyRegion(caller, request.parent()));
  ASSIGN_OR_RETURN(const Subject found, FindSubject(region, request));
  ASSIGN_OR_RETURN(const int page_size,
                   ValidatePageSize("page_size", request.page_size(),
                                    kDefaultPageSize, kMaxPageSize));
  // The audit subjects of the participant: the personnummer's, and those of
  // the referrals found (an agency's pseudonym without a personnummer).
  std::set<std::string> subjects;
  if (!found.personnummer_pseudonym.empty()) {
    subjects.insert(pseudonymizer_->AuditSubject(found.personnummer_pseudonym));
  }
  const std::vector<ReferralRecord>& records = found.referrals;
  for (const ReferralRecord& record : records) {
    if (!record.audit_subject.empty()) subjects.insert(record.audit_subject);
  }
  // The page token: "<subject number>:<offset in its records>".
  const uint64_t query = QueryFingerprint(
      absl::StrCat(request.parent(), "\n", absl::StrJoin(subjects, ",")));
  ASSIGN_OR_RETURN(
      const std::string cursor,
      DecodePageToken("page_token", request.page_token(), query,
                      [](absl::string_view c) { return !c.empty(); }));
  size_t subject_index = 0;
  int64_t offset = 0;
  if (!cursor.empty()) {
    const size_t colon = cursor.find(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(cursor.substr(0, colon), &subject_index) ||
        !absl::SimpleAtoi(cursor.substr(colon + 1), &offset) || offset < 0) {
      return InvalidField("page_token", "is not an audit page position",
                          request.page_token());
    }
  }

  v1::ListAuditRecordsResponse response;
  const std::vector<std::string> ordered(subjects.begin(), subjects.end());
  for (; subject_index < ordered.size(); ++subject_index, offset = 0) {
    const int room = page_size - response.records_size();
    if (room == 0) break;
    ASSIGN_OR_RETURN(
        const AuditPage page,
        audit_.ListBySubject(region, ordered[subject_index], offset, room));
    for (const StoredAuditRecord& stored : page.records) {
      ASSIGN_OR_RETURN(v1::AuditRecord record, ToApiRecord(region, stored));
      if (found.withheld.count(record.resource())) continue;
      *response.add_records() = std::move(record);
    }
    if (!page.next_offset.empty()) {
      response.set_next_page_token(EncodePageToken(
          absl::StrCat(subject_index, ":", page.next_offset), query));
      break;
    }
  }
  if (response.next_page_token().empty() && subject_index < ordered.size() &&
      response.records_size() == page_size) {
    response.set_next_page_token(
        EncodePageToken(absl::StrCat(subject_index, ":0"), query));
  }
  // Reading someone's audit trail is itself a read of their data.
  std::vector<AuditedRead> reads;
  for (const ReferralRecord& record : records) {
    reads.push_back(
        {&record, absl::StrCat("regions/", region, "/auditRecords")});
  }
  RETURN_IF_ERROR(RecordReads(audit_, caller, reads, clock_->Now()));
  return response;
}

absl::StatusOr<v1::VerifyAuditChainResponse> PrivacyDesk::VerifyAuditChain(
    const Caller& caller, const v1::VerifyAuditChainRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   PrivacyRegion(caller, request.parent()));
  // The head first: records appended while the walk runs lie beyond it.
  ASSIGN_OR_RETURN(const AuditHead head, audit_.Head(region));
  if (request.anchor_count() < 0 ||
      (request.anchor_count() > 0) == request.anchor_hash().empty()) {
    return InvalidField("anchor_count",
                        "must be 0 without anchor_hash, or a record number "
                        "(1, 2, ...) with it",
                        absl::StrCat(request.anchor_count()));
  }
  if (!request.anchor_hash().empty() &&
      (request.anchor_hash().size() != 40 ||
       request.anchor_hash().find_first_not_of("0123456789abcdef") !=
           std::string::npos)) {
    return InvalidField("anchor_hash",
                        "must be 40 lowercase hex digits, as a verification "
                        "printed it",
                        request.anchor_hash());
  }
  ChainVerifier verifier;
  if (request.anchor_count() > 0) {
    verifier.ExpectAt(request.anchor_count(), request.anchor_hash());
  }
  std::string after;
  bool more = true;
  while (more && verifier.intact() && verifier.checked() < head.count) {
    ASSIGN_OR_RETURN(const std::vector<StoredAuditRecord> batch,
                     audit_.ReadChain(region, after, kChainBatch));
    more = static_cast<int>(batch.size()) == kChainBatch;
    for (const StoredAuditRecord& record : batch) {
      if (verifier.checked() == head.count) break;
      if (!verifier.Add(record)) break;
      after = record.position;
    }
  }
  verifier.Finish(head);
  v1::VerifyAuditChainResponse response;
  response.set_intact(verifier.intact());
  response.set_records_checked(verifier.checked());
  response.set_head_hash(verifier.last_hash());
  if (!verifier.intact()) {
    response.set_first_broken_record(absl::StrCat(
        "regions/", region, "/auditRecords/", verifier.first_broken()));
    response.set_problem(verifier.problem());
  }
  return response;
}

absl::Status PrivacyDesk::Erase(const ReferralRecord& read, const Caller& actor,
                                absl::string_view reason) const {
  ReferralRecord current = read;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (current.referral.has_personal_data_erase_time()) {
      return absl::OkStatus();
    }
    const absl::Time now = clock_->Now();
    ReferralRecord changed = current;
    ErasePersonalData(changed, now);
    *changed.referral.mutable_update_time() = ToProtoTimestamp(now);
    absl::StatusOr<int64_t> version = referrals_->Update(
        current, changed, ErasureEvent(current, actor, now, reason));
    if (version.ok()) return absl::OkStatus();
    if (!absl::IsAborted(version.status())) return version.status();
    ASSIGN_OR_RETURN(current, referrals_->Get(read.region, read.id));
  }
  return absl::AbortedError(absl::StrCat(
      read.referral.name(), " kept changing while it was erased; try again"));
}

absl::StatusOr<v1::EraseParticipantResponse> PrivacyDesk::EraseParticipant(
    const Caller& caller, const v1::EraseParticipantRequest& request) {
  ASSIGN_OR_RETURN(const std::string region,
                   PrivacyRegion(caller, request.parent()));
  ASSIGN_OR_RETURN(const Subject found, FindSubject(region, request));
  RETURN_IF_ERROR(
      ValidateText("reason", request.reason(),
                   {.min_chars = 1, .max_chars = 2000, .free_text = true}));
  const std::vector<ReferralRecord>& records = found.referrals;
  std::vector<std::string> open;
  for (const ReferralRecord& record : records) {
    if (!IsTerminal(record.referral.state())) {
      open.push_back(record.referral.name());
    }
  }
  if (!open.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the participant still takes part in ", absl::StrJoin(open, ", "),
        ": withdraw the consent (or cancel) first; nothing was erased"));
  }
  v1::EraseParticipantResponse response;
  for (const ReferralRecord& record : records) {
    RETURN_IF_ERROR(Erase(record, caller, request.reason()));
    response.add_referrals(record.referral.name());
  }
  return response;
}

absl::StatusOr<int> PrivacyDesk::EraseExpired(const std::string& region,
                                              absl::Duration retention,
                                              int limit) {
  ASSIGN_OR_RETURN(
      const std::vector<std::string> ids,
      referrals_->FinishedBefore(region, clock_->Now() - retention, limit));
  int erased = 0;
  ASSIGN_OR_RETURN(const std::vector<std::optional<ReferralRecord>> records,
                   referrals_->GetReferrals(region, ids));
  for (const std::optional<ReferralRecord>& record : records) {
    if (!record.has_value()) continue;
    RETURN_IF_ERROR(Erase(*record, SystemCaller(),
                          "the retention period after the referral ended"));
    ++erased;
  }
  return erased;
}

}  // namespace slussen::core

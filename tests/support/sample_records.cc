#include "tests/support/sample_records.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "broker/core/model/events.h"
#include "broker/core/model/names.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/ports/ids.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {

namespace v1 = ::slussen::v1;

std::string SampleId(int n) {
  return core::EncodeUlid(1'760'000'000'000 + static_cast<uint64_t>(n) * 1000,
                          0x5a5a,
                          0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(n + 1));
}

core::ReferralRecord SampleRecord(const std::string& region,
                                  const std::string& id, v1::ReferralKind kind,
                                  v1::ReferralState state,
                                  const std::string& org, absl::Time created) {
  core::ReferralRecord record;
  record.region = region;
  record.id = id;
  v1::Referral& referral = record.referral;
  referral =
      SampleOfEveryKind(region).at(static_cast<size_t>(kind) - 1).referral();
  referral.set_name(core::ReferralName{region, id}.ToString());
  referral.set_kind(kind);
  referral.set_state(state);
  referral.set_referring_organisation(org);
  *referral.mutable_create_time() = core::ToProtoTimestamp(created);
  *referral.mutable_update_time() = core::ToProtoTimestamp(created);
  v1::Transition* made = referral.add_history();
  made->set_action(v1::ACTION_CREATE);
  made->set_to_state(state);
  *made->mutable_time() = core::ToProtoTimestamp(created);
  made->mutable_actor()->set_organisation(org);
  made->mutable_actor()->set_role(v1::ROLE_AGENCY);
  if (kind != v1::REFERRAL_KIND_IMPULSE) {
    record.personal_identity_pseudonym = absl::StrCat("pnr-hash-", id);
    if (referral.has_participant()) {
      referral.mutable_participant()->set_pseudonym(absl::StrCat("p-", id));
    }
  }
  return record;
}

v1::Event CreatedEvent(const core::ReferralRecord& record) {
  return core::ReferralEvent(record, record.referral.history(0));
}

core::ClockWrite SampleClock(int n, const std::string& region, absl::Time start,
                             absl::Duration due_after) {
  core::ClockWrite write;
  core::ClockRecord& r = write.record;
  r.region = region;
  r.id = absl::StrCat("ref", n, "-1-0");
  v1::Clock& clock = r.clock;
  clock.set_name(
      core::ClockName{region, r.id, absl::StrCat("ref", n)}.ToString());
  clock.set_referral(absl::StrCat("regions/", region, "/referrals/ref", n));
  clock.set_kind(v1::CLOCK_KIND_IMPULSE_CALL_BACK);
  clock.set_state(v1::CLOCK_STATE_RUNNING);
  *clock.mutable_start_time() = core::ToProtoTimestamp(start);
  *clock.mutable_warn_time() = core::ToProtoTimestamp(start + absl::Hours(48));
  *clock.mutable_due_time() = core::ToProtoTimestamp(start + due_after);
  r.next_fire = start + absl::Hours(48);
  return write;
}

}  // namespace slussen::testing

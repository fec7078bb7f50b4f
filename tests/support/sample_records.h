// Records as the desks store them, for tests of the stores (and the
// contract suite, tests/contract/) to start from: a referral after its
// create, and a running call-back clock written without a plan (as a
// broker before plans wrote clocks), so that a test sets what it needs.
//
//   core::ReferralRecord record = SampleRecord("13", SampleId(1));
//   store.Create(record, CreatedEvent(record), std::nullopt);
//   core::ClockWrite write = SampleClock(1, "13", start, absl::Hours(72));
//   write.record.next_fire.reset();  // one that never fires
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_TESTS_SUPPORT_SAMPLE_RECORDS_H_
#define SLUSSEN_TESTS_SUPPORT_SAMPLE_RECORDS_H_

#include <string>

#include "absl/time/time.h"
#include "broker/core/ports/referral_repository.h"
#include "slussen/v1/event.pb.h"
#include "slussen/v1/referral.pb.h"

namespace slussen::testing {

// The n-th referral id: a larger n sorts after (is newer than) a smaller.
std::string SampleId(int n);

// When SampleRecord's referrals are made unless told.
inline const absl::Time kSampleCreated = absl::FromUnixSeconds(1'760'000'000);

// A referral of `kind` (SampleOfEveryKind's) as the desk stores it after a
// create at `created`, in `state`, made by `org`, never written (version
// 0); its participant its own, so that another's open referral is no twin.
core::ReferralRecord SampleRecord(
    const std::string& region, const std::string& id,
    slussen::v1::ReferralKind kind = slussen::v1::REFERRAL_KIND_ACTIVITY,
    slussen::v1::ReferralState state = slussen::v1::REFERRAL_STATE_RECEIVED,
    const std::string& org = "kommun-halmstad-eb",
    absl::Time created = kSampleCreated);

// The event of the create of `record` (its first transition).
slussen::v1::Event CreatedEvent(const core::ReferralRecord& record);

// The new (version 0) call-back clock "ref<n>-1-0" of referral "ref<n>" in
// `region`, started at `start`, warned 48 hours after it and due
// `due_after` after it; its next firing the warning.
core::ClockWrite SampleClock(int n, const std::string& region, absl::Time start,
                             absl::Duration due_after = absl::Hours(72));

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_SAMPLE_RECORDS_H_

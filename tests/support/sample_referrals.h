// Valid referrals of every kind, for tests to start from and break one field
// at a time. The data is invented; the personnummer are Skatteverket's test
// numbers.
//
//   v1::CreateReferralRequest request = SampleActivityReferral("13");
//   request.mutable_referral()->mutable_activity()->set_activity_type("");
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_TESTS_SUPPORT_SAMPLE_REFERRALS_H_
#define SLUSSEN_TESTS_SUPPORT_SAMPLE_REFERRALS_H_

#include <string>
#include <vector>

#include "slussen/v1/referral.pb.h"
#include "slussen/v1/referral_service.pb.h"

namespace slussen::testing {

// A funktionsbrevlåda impulse from Halmstad's ekonomiskt bistånd.
slussen::v1::CreateReferralRequest SampleImpulse(
    const std::string& region = "13");
// An avrop under a framework agreement.
slussen::v1::CreateReferralRequest SampleRehabServiceOrder(
    const std::string& region = "13");
// A joint mapping request from FK to AF (with a personnummer).
slussen::v1::CreateReferralRequest SampleJointMapping(
    const std::string& region = "13");
// A referral to Hälsosam.
slussen::v1::CreateReferralRequest SampleActivityReferral(
    const std::string& region = "13");
// The agencies of SampleJointReferral besides the lead (the caller): one
// referring together, one kept informed.
inline constexpr char kJointCoReferrer[] = "af-halmstad";
inline constexpr char kJointInformed[] = "kommun-halmstad-eb";
// A joint referral (samordnad insats) to Hälsosam funded by
// samordning-halland: SampleActivityReferral with kJointCoReferrer as a
// co-referrer, whom the consent gives eligibility and outcome, and
// kJointInformed kept informed, whom it gives outcome only.
slussen::v1::CreateReferralRequest SampleJointReferral(
    const std::string& region = "13");
// A handover to a team.
slussen::v1::CreateReferralRequest SampleTeamHandover(
    const std::string& region = "13");

// One of each kind, in ReferralKind order.
std::vector<slussen::v1::CreateReferralRequest> SampleOfEveryKind(
    const std::string& region = "13");

// A valid personnummer (Skatteverket's test number 19121212-1212).
inline constexpr char kTestPersonnummer[] = "19121212-1212";

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_SAMPLE_REFERRALS_H_

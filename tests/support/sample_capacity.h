// Capacity for the sample activity referrals (SampleActivityReferral): the
// provider Hälsosam Halmstad with an offering "kom-igang" in region 13 and
// two cohorts of 8..12, starting in three and in ten weeks. Activity
// referrals made after this are offered a place at once.
#ifndef SLUSSEN_TESTS_SUPPORT_SAMPLE_CAPACITY_H_
#define SLUSSEN_TESTS_SUPPORT_SAMPLE_CAPACITY_H_

#include <grpcpp/channel.h>

#include <memory>

#include "absl/status/status.h"
#include "slussen/v1/common.pb.h"
#include "tests/support/referral_client.h"

namespace slussen::testing {

inline const Identity kHalsosam{"halsosam-halmstad", "provider", "13"};
inline constexpr char kHalsosamOffering[] =
    "providers/halsosam-halmstad/offerings/kom-igang";

// The day `days` after today in Europe/Stockholm, as the API's Date.
slussen::v1::Date DateIn(int days);

// Creates the provider and offering (as kAdmin) and publishes the cohorts
// (as kHalsosam). Needs the harness's sample directory (the activity type).
absl::Status CreateHalsosamCapacity(
    const std::shared_ptr<grpc::Channel>& channel);

inline const Identity kRedo{"redo-halland", "provider", "13"};
inline constexpr char kRedoOffering[] =
    "providers/redo-halland/offerings/vardag";

// Creates the provider ReDO Halland and its offering "vardag" (activity
// type redo, a 16-week programme, in region 13) as kAdmin, with no
// capacity published.
absl::Status CreateRedoOffering(const std::shared_ptr<grpc::Channel>& channel);

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_SAMPLE_CAPACITY_H_

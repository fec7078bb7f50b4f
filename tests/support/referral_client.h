// The referral API as one caller uses it in tests: the generated stub with
// that caller's identity and a deadline on every call.
//
//   ReferralClient halmstad = harness->Client(kHalmstadKommun);
//   v1::Referral made;
//   ASSERT_TRUE(halmstad.Create(SampleImpulse(), &made).ok());
//
// Thread-safe (the stub is).
#ifndef SLUSSEN_TESTS_SUPPORT_REFERRAL_CLIENT_H_
#define SLUSSEN_TESTS_SUPPORT_REFERRAL_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "slussen/v1/referral_service.grpc.pb.h"

namespace slussen::testing {

// A caller's development-mode identity.
struct Identity {
  std::string organisation;
  std::string role = "agency";
  std::string region;
};

inline const Identity kHalmstadKommun{"kommun-halmstad-eb", "agency", "13"};
inline const Identity kLaholmKommun{"kommun-laholm-eb", "agency", "13"};
inline const Identity kFkHalmstad{"fk-lfc-halmstad", "agency", "13"};
inline const Identity kHallandCoordinator{"samordning-halland", "coordinator",
                                          "13"};
inline const Identity kSkaneCoordinator{"samordning-skane", "coordinator",
                                        "12"};
inline const Identity kProvider{"halsosam-halmstad", "provider", "13"};
inline const Identity kAdmin{"slussen-admin", "admin", ""};

// The consent of a referral: "regions/13/referrals/X" ->
// "regions/13/consents/X".
inline std::string ConsentName(const std::string& referral_name) {
  std::string name = referral_name;
  return name.replace(name.find("/referrals/"), 11, "/consents/");
}

// Adds `identity` as request metadata, and a deadline.
void Identify(grpc::ClientContext* context, const Identity& identity,
              absl::Duration deadline = absl::Seconds(10));

class ReferralClient {
 public:
  ReferralClient(std::shared_ptr<grpc::Channel> channel, Identity identity,
                 absl::Duration deadline = absl::Seconds(10));

  grpc::Status Create(const slussen::v1::CreateReferralRequest& request,
                      slussen::v1::Referral* out) const;
  grpc::Status Get(const std::string& name, slussen::v1::Referral* out) const;
  grpc::Status Cancel(const std::string& name, slussen::v1::CancelReason reason,
                      slussen::v1::Referral* out) const;
  grpc::Status List(const slussen::v1::ListReferralsRequest& request,
                    slussen::v1::ListReferralsResponse* out) const;
  // The names of every referral under `parent`, following page tokens,
  // `page_size` at a time.
  grpc::Status ListNames(const std::string& parent,
                         std::vector<std::string>* names,
                         int page_size = 100) const;

  slussen::v1::ReferralService::Stub& stub() const { return *stub_; }

 private:
  void Prepare(grpc::ClientContext* context) const;

  std::unique_ptr<slussen::v1::ReferralService::Stub> stub_;
  Identity identity_;
  absl::Duration deadline_;
};

}  // namespace slussen::testing

#endif  // SLUSSEN_TESTS_SUPPORT_REFERRAL_CLIENT_H_

// The gRPC ReferralService: the transport edge over core::ReferralDesk.
//
// Each handler identifies the caller, calls the desk and converts its
// status (rpc_scope.h); no domain logic lives here. Methods of the service
// that this version does not serve yet (the provider actions after
// acceptance) answer UNIMPLEMENTED from the generated base class.
//
// Thread-safe: gRPC calls handlers concurrently; the desk is thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_

#include "broker/core/referral_desk.h"
#include "slussen/v1/referral_service.grpc.pb.h"

namespace slussen::service {

class ReferralServiceImpl final : public slussen::v1::ReferralService::Service {
 public:
  // `desk` must outlive the service.
  explicit ReferralServiceImpl(core::ReferralDesk* desk) : desk_(desk) {}

  grpc::Status CreateReferral(grpc::ServerContext* context,
                              const slussen::v1::CreateReferralRequest* request,
                              slussen::v1::Referral* response) override;
  grpc::Status GetReferral(grpc::ServerContext* context,
                           const slussen::v1::GetReferralRequest* request,
                           slussen::v1::Referral* response) override;
  grpc::Status ListReferrals(
      grpc::ServerContext* context,
      const slussen::v1::ListReferralsRequest* request,
      slussen::v1::ListReferralsResponse* response) override;
  grpc::Status CancelReferral(grpc::ServerContext* context,
                              const slussen::v1::CancelReferralRequest* request,
                              slussen::v1::Referral* response) override;

 private:
  core::ReferralDesk* const desk_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_

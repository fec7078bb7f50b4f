// The gRPC ReferralService: the transport edge over core::ReferralDesk.
//
// Each handler identifies the caller, calls the desk and converts its
// status (rpc_scope.h); no domain logic lives here. What changes capacity
// or waiting referrals asks the match scheduler to run the region: a new
// referral is matched before its create answers, so the answer shows it
// queued, offered or rejected.
//
// Thread-safe: gRPC calls handlers concurrently; the desk is thread-safe.
#ifndef SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_

#include "broker/core/desks/referral_desk.h"
#include "broker/service/match_scheduler.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/referral_service.grpc.pb.h"

namespace slussen::service {

class ReferralServiceImpl final : public slussen::v1::ReferralService::Service,
                                  private RpcEdge {
 public:
  // All must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  ReferralServiceImpl(core::ReferralDesk* desk, MatchScheduler* scheduler,
                      const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk), scheduler_(scheduler) {}

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
  grpc::Status ResubmitReferral(
      grpc::ServerContext* context,
      const slussen::v1::ResubmitReferralRequest* request,
      slussen::v1::Referral* response) override;
  grpc::Status SetProtectedPersonalData(
      grpc::ServerContext* context,
      const slussen::v1::SetProtectedPersonalDataRequest* request,
      slussen::v1::Referral* response) override;
  grpc::Status RecordContact(grpc::ServerContext* context,
                             const slussen::v1::RecordContactRequest* request,
                             slussen::v1::Referral* response) override;
  grpc::Status StartReferral(grpc::ServerContext* context,
                             const slussen::v1::StartReferralRequest* request,
                             slussen::v1::Referral* response) override;
  grpc::Status RecordAttendanceDeviation(
      grpc::ServerContext* context,
      const slussen::v1::RecordAttendanceDeviationRequest* request,
      slussen::v1::Referral* response) override;
  grpc::Status CompleteReferral(
      grpc::ServerContext* context,
      const slussen::v1::CompleteReferralRequest* request,
      slussen::v1::Referral* response) override;
  grpc::Status RecordFollowUp(grpc::ServerContext* context,
                              const slussen::v1::RecordFollowUpRequest* request,
                              slussen::v1::Referral* response) override;
  grpc::Status ExitReferral(grpc::ServerContext* context,
                            const slussen::v1::ExitReferralRequest* request,
                            slussen::v1::Referral* response) override;

 private:
  // The region of a referral name ("regions/13/referrals/..." -> "13").
  static std::string RegionOf(const std::string& name);
  // `changed` (a referral just made or sent to the queue) as matching
  // leaves it: it is placed now (MatchScheduler::PlaceArrival, after the
  // `plan` its create followed, if any), and the answer shows the result
  // (queued, offered, or rejected with its reasons).
  absl::StatusOr<slussen::v1::Referral> AfterMatching(
      const core::Caller& caller, absl::StatusOr<slussen::v1::Referral> changed,
      const MatchScheduler::ArrivalPlan* plan = nullptr);

  core::ReferralDesk* const desk_;
  MatchScheduler* const scheduler_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_REFERRAL_SERVICE_H_

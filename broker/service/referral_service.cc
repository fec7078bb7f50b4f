#include "broker/service/referral_service.h"

#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

std::string ReferralServiceImpl::RegionOf(const std::string& name) {
  return name.substr(8, 2);  // "regions/13/..."
}

grpc::Status ReferralServiceImpl::CreateReferral(
    grpc::ServerContext* context, const v1::CreateReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "CreateReferral", response, [&](const Caller& caller) {
    MatchScheduler::ArrivalPlan plan;
    absl::StatusOr<v1::Referral> made = desk_->CreateReferral(
        caller, *request,
        [&](const core::ReferralRecord& record) {
          plan = scheduler_->PlanArrival(record);
          return plan.queue_at_once;
        },
        &plan.changes_at_write);
    return AfterMatching(caller, std::move(made), &plan);
  });
}

absl::StatusOr<v1::Referral> ReferralServiceImpl::AfterMatching(
    const Caller& caller, absl::StatusOr<v1::Referral> changed,
    const MatchScheduler::ArrivalPlan* plan) {
  if (!changed.ok()) return changed;
  const std::string& name = changed->name();
  // Written as matching left it: the answer stands.
  if (scheduler_->PlaceArrival(RegionOf(name), name.substr(name.rfind('/') + 1),
                               plan)) {
    return changed;
  }
  absl::StatusOr<v1::Referral> now =
      desk_->ViewAfterCreate(caller, changed->name());
  return now.ok() ? now : changed;
}

grpc::Status ReferralServiceImpl::GetReferral(
    grpc::ServerContext* context, const v1::GetReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "GetReferral", response, [&](const Caller& caller) {
    return desk_->GetReferral(caller, *request);
  });
}

grpc::Status ReferralServiceImpl::ListReferrals(
    grpc::ServerContext* context, const v1::ListReferralsRequest* request,
    v1::ListReferralsResponse* response) {
  return Serve(context, "ListReferrals", response, [&](const Caller& caller) {
    return desk_->ListReferrals(caller, *request);
  });
}

grpc::Status ReferralServiceImpl::CancelReferral(
    grpc::ServerContext* context, const v1::CancelReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "CancelReferral", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Referral> {
                 absl::StatusOr<v1::Referral> cancelled =
                     desk_->CancelReferral(caller, *request);
                 // A place it held is free again.
                 if (cancelled.ok())
                   scheduler_->RunNow(RegionOf(request->name()));
                 return cancelled;
               });
}

grpc::Status ReferralServiceImpl::ResubmitReferral(
    grpc::ServerContext* context, const v1::ResubmitReferralRequest* request,
    v1::Referral* response) {
  return Serve(
      context, "ResubmitReferral", response, [&](const Caller& caller) {
        return AfterMatching(caller, desk_->ResubmitReferral(caller, *request));
      });
}

grpc::Status ReferralServiceImpl::SetProtectedPersonalData(
    grpc::ServerContext* context,
    const v1::SetProtectedPersonalDataRequest* request,
    v1::Referral* response) {
  return Serve(
      context, "SetProtectedPersonalData", response,
      [&](const Caller& caller) -> absl::StatusOr<v1::Referral> {
        absl::StatusOr<v1::Referral> changed =
            desk_->SetProtectedPersonalData(caller, *request);
        // Protection sets kommun rules aside: a waiting referral may now
        // fit where it did not.
        if (changed.ok() && changed->state() == v1::REFERRAL_STATE_QUEUED) {
          return AfterMatching(caller, std::move(changed));
        }
        return changed;
      });
}

grpc::Status ReferralServiceImpl::RecordContact(
    grpc::ServerContext* context, const v1::RecordContactRequest* request,
    v1::Referral* response) {
  return Serve(context, "RecordContact", response, [&](const Caller& caller) {
    return desk_->RecordContact(caller, *request);
  });
}

grpc::Status ReferralServiceImpl::StartReferral(
    grpc::ServerContext* context, const v1::StartReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "StartReferral", response, [&](const Caller& caller) {
    return desk_->StartReferral(caller, *request);
  });
}

grpc::Status ReferralServiceImpl::RecordAttendanceDeviation(
    grpc::ServerContext* context,
    const v1::RecordAttendanceDeviationRequest* request,
    v1::Referral* response) {
  return Serve(context, "RecordAttendanceDeviation", response,
               [&](const Caller& caller) {
                 return desk_->RecordAttendanceDeviation(caller, *request);
               });
}

grpc::Status ReferralServiceImpl::CompleteReferral(
    grpc::ServerContext* context, const v1::CompleteReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "CompleteReferral", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Referral> {
                 absl::StatusOr<v1::Referral> done =
                     desk_->CompleteReferral(caller, *request);
                 if (done.ok()) scheduler_->RunNow(RegionOf(request->name()));
                 return done;
               });
}

grpc::Status ReferralServiceImpl::RecordFollowUp(
    grpc::ServerContext* context, const v1::RecordFollowUpRequest* request,
    v1::Referral* response) {
  return Serve(context, "RecordFollowUp", response, [&](const Caller& caller) {
    return desk_->RecordFollowUp(caller, *request);
  });
}

grpc::Status ReferralServiceImpl::ExitReferral(
    grpc::ServerContext* context, const v1::ExitReferralRequest* request,
    v1::Referral* response) {
  return Serve(context, "ExitReferral", response,
               [&](const Caller& caller) -> absl::StatusOr<v1::Referral> {
                 absl::StatusOr<v1::Referral> done =
                     desk_->ExitReferral(caller, *request);
                 if (done.ok()) scheduler_->RunNow(RegionOf(request->name()));
                 return done;
               });
}

}  // namespace slussen::service

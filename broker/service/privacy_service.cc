#include "broker/service/privacy_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "broker/core/model/names.h"
#include "broker/service/json_log.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;
using core::Caller;

grpc::Status ConsentServiceImpl::GetConsent(
    grpc::ServerContext* context, const v1::GetConsentRequest* request,
    v1::Consent* response) {
  return Serve(context, "GetConsent", response, [&](const Caller& caller) {
    return desk_->GetConsent(caller, *request);
  });
}

grpc::Status ConsentServiceImpl::ListConsents(
    grpc::ServerContext* context, const v1::ListConsentsRequest* request,
    v1::ListConsentsResponse* response) {
  return Serve(context, "ListConsents", response, [&](const Caller& caller) {
    return desk_->ListConsents(caller, *request);
  });
}

grpc::Status ConsentServiceImpl::WithdrawConsent(
    grpc::ServerContext* context, const v1::WithdrawConsentRequest* request,
    v1::Consent* response) {
  return Serve(context, "WithdrawConsent", response, [&](const Caller& caller) {
    return desk_->WithdrawConsent(caller, *request);
  });
}

grpc::Status PrivacyServiceImpl::ListAuditRecords(
    grpc::ServerContext* context, const v1::ListAuditRecordsRequest* request,
    v1::ListAuditRecordsResponse* response) {
  return Serve(context, "ListAuditRecords", response,
               [&](const Caller& caller) {
                 return desk_->ListAuditRecords(caller, *request);
               });
}

grpc::Status PrivacyServiceImpl::VerifyAuditChain(
    grpc::ServerContext* context, const v1::VerifyAuditChainRequest* request,
    v1::VerifyAuditChainResponse* response) {
  return Serve(context, "VerifyAuditChain", response,
               [&](const Caller& caller) {
                 return desk_->VerifyAuditChain(caller, *request);
               });
}

grpc::Status PrivacyServiceImpl::EraseParticipant(
    grpc::ServerContext* context, const v1::EraseParticipantRequest* request,
    v1::EraseParticipantResponse* response) {
  return Serve(context, "EraseParticipant", response,
               [&](const Caller& caller) {
                 return desk_->EraseParticipant(caller, *request);
               });
}

void RetentionSweeper::Start() {
  thread_ = std::thread([this] {
    while (!stopping_.WaitForNotificationWithTimeout(options_.interval)) {
      Sweep();
    }
  });
}

void RetentionSweeper::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (thread_.joinable()) thread_.join();
}

int RetentionSweeper::Sweep() {
  constexpr int kBatch = 200;
  int total = 0;
  for (absl::string_view code : core::RegionCodes()) {
    const std::string region(code);
    // A backlog is worked off in batches within the sweep.
    for (;;) {
      const absl::StatusOr<int> erased =
          desk_->EraseExpired(region, options_.retention, kBatch);
      if (!erased.ok()) {
        Log(LogLevel::kWarning, "retention sweep failed",
            {{"region", region},
             {"error", std::string(erased.status().message())}});
        break;
      }
      total += *erased;
      if (*erased > 0) {
        Log(LogLevel::kInfo, "personal data erased after retention",
            {{"region", region}, {"referrals", absl::StrCat(*erased)}});
      }
      if (*erased < kBatch || stopping_.HasBeenNotified()) break;
    }
  }
  RemoveOldEvents();
  return total;
}

void RetentionSweeper::RemoveOldEvents() {
  const absl::Time cutoff = clock_->Now() - options_.retention;
  for (absl::string_view code : core::RegionCodes()) {
    const std::string region(code);
    const absl::StatusOr<int64_t> removed =
        events_->RemoveBefore(region, cutoff);
    if (!removed.ok()) {
      Log(LogLevel::kWarning, "removing old events failed",
          {{"region", region},
           {"error", std::string(removed.status().message())}});
    } else if (*removed > 0) {
      Log(LogLevel::kInfo, "events removed after retention",
          {{"region", region}, {"events", absl::StrCat(*removed)}});
    }
  }
}

}  // namespace slussen::service

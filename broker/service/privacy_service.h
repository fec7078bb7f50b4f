// The gRPC ConsentService and PrivacyService over the consent and privacy
// desks, and the retention sweep that erases personal data of referrals
// finished longer ago than the retention period.
#ifndef SLUSSEN_BROKER_SERVICE_PRIVACY_SERVICE_H_
#define SLUSSEN_BROKER_SERVICE_PRIVACY_SERVICE_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "broker/core/desks/consent_desk.h"
#include "broker/core/desks/privacy_desk.h"
#include "broker/core/ports/clock.h"
#include "broker/core/ports/event_log.h"
#include "broker/service/rpc_scope.h"
#include "slussen/v1/consent_service.grpc.pb.h"
#include "slussen/v1/privacy_service.grpc.pb.h"

namespace slussen::service {

class ConsentServiceImpl final : public slussen::v1::ConsentService::Service,
                                 private RpcEdge {
 public:
  // Both must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  ConsentServiceImpl(core::ConsentDesk* desk, const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk) {}

  grpc::Status GetConsent(grpc::ServerContext* context,
                          const slussen::v1::GetConsentRequest* request,
                          slussen::v1::Consent* response) override;
  grpc::Status ListConsents(
      grpc::ServerContext* context,
      const slussen::v1::ListConsentsRequest* request,
      slussen::v1::ListConsentsResponse* response) override;
  grpc::Status WithdrawConsent(
      grpc::ServerContext* context,
      const slussen::v1::WithdrawConsentRequest* request,
      slussen::v1::Consent* response) override;

 private:
  core::ConsentDesk* const desk_;
};

class PrivacyServiceImpl final : public slussen::v1::PrivacyService::Service,
                                 private RpcEdge {
 public:
  // Both must outlive the service; `edge` is what all services share
  // (rpc_scope.h).
  PrivacyServiceImpl(core::PrivacyDesk* desk, const RpcEdgeOptions& edge)
      : RpcEdge(edge), desk_(desk) {}

  grpc::Status ListAuditRecords(
      grpc::ServerContext* context,
      const slussen::v1::ListAuditRecordsRequest* request,
      slussen::v1::ListAuditRecordsResponse* response) override;
  grpc::Status VerifyAuditChain(
      grpc::ServerContext* context,
      const slussen::v1::VerifyAuditChainRequest* request,
      slussen::v1::VerifyAuditChainResponse* response) override;
  grpc::Status EraseParticipant(
      grpc::ServerContext* context,
      const slussen::v1::EraseParticipantRequest* request,
      slussen::v1::EraseParticipantResponse* response) override;

 private:
  core::PrivacyDesk* const desk_;
};

// Every `interval`, erases in every region the personal data of referrals
// that finished more than `retention` ago, and removes the region's events
// older than `retention` (they hold no personal data, but would otherwise
// be kept for ever; a watcher resuming from before them is told,
// EventDesk). Several replicas may sweep at once: an erasure is a
// version-checked write, and erasing or removing twice finds nothing
// left. Thread-safe.
class RetentionSweeper {
 public:
  struct Options {
    absl::Duration retention = absl::Hours(24 * 365);
    absl::Duration interval = absl::Minutes(10);
  };

  // All must outlive the sweeper.
  RetentionSweeper(core::PrivacyDesk* desk, core::EventLog* events,
                   const core::Clock* clock, Options options)
      : desk_(desk), events_(events), clock_(clock), options_(options) {}
  ~RetentionSweeper() { Stop(); }

  void Start();
  void Stop();

  // One sweep; how many referrals it erased.
  int Sweep();

 private:
  // Removes every region's events older than the retention.
  void RemoveOldEvents();

  core::PrivacyDesk* const desk_;
  core::EventLog* const events_;
  const core::Clock* const clock_;
  const Options options_;
  absl::Notification stopping_;
  std::thread thread_;
};

}  // namespace slussen::service

#endif  // SLUSSEN_BROKER_SERVICE_PRIVACY_SERVICE_H_

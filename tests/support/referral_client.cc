#include "tests/support/referral_client.h"

#include <utility>

namespace slussen::testing {

namespace v1 = ::slussen::v1;

void Identify(grpc::ClientContext* context, const Identity& identity,
              absl::Duration deadline) {
  context->AddMetadata("x-slussen-organisation", identity.organisation);
  context->AddMetadata("x-slussen-role", identity.role);
  if (!identity.region.empty()) {
    context->AddMetadata("x-slussen-region", identity.region);
  }
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
}

ReferralClient::ReferralClient(std::shared_ptr<grpc::Channel> channel,
                               Identity identity, absl::Duration deadline)
    : stub_(v1::ReferralService::NewStub(std::move(channel))),
      identity_(std::move(identity)),
      deadline_(deadline) {}

void ReferralClient::Prepare(grpc::ClientContext* context) const {
  Identify(context, identity_, deadline_);
}

grpc::Status ReferralClient::Create(const v1::CreateReferralRequest& request,
                                    v1::Referral* out) const {
  grpc::ClientContext context;
  Prepare(&context);
  return stub_->CreateReferral(&context, request, out);
}

grpc::Status ReferralClient::Get(const std::string& name,
                                 v1::Referral* out) const {
  grpc::ClientContext context;
  Prepare(&context);
  v1::GetReferralRequest request;
  request.set_name(name);
  return stub_->GetReferral(&context, request, out);
}

grpc::Status ReferralClient::Cancel(const std::string& name,
                                    v1::CancelReason reason,
                                    v1::Referral* out) const {
  grpc::ClientContext context;
  Prepare(&context);
  v1::CancelReferralRequest request;
  request.set_name(name);
  request.set_reason(reason);
  return stub_->CancelReferral(&context, request, out);
}

grpc::Status ReferralClient::List(const v1::ListReferralsRequest& request,
                                  v1::ListReferralsResponse* out) const {
  grpc::ClientContext context;
  Prepare(&context);
  return stub_->ListReferrals(&context, request, out);
}

grpc::Status ReferralClient::ListNames(const std::string& parent,
                                       std::vector<std::string>* names,
                                       int page_size) const {
  v1::ListReferralsRequest request;
  request.set_parent(parent);
  request.set_page_size(page_size);
  do {
    v1::ListReferralsResponse response;
    const grpc::Status status = List(request, &response);
    if (!status.ok()) return status;
    for (const v1::Referral& r : response.referrals()) {
      names->push_back(r.name());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return grpc::Status::OK;
}

}  // namespace slussen::testing

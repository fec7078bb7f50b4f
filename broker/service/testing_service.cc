#include "broker/service/testing_service.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/core/model/field_error.h"
#include "broker/core/model/proto_time.h"
#include "broker/core/model/status_macros.h"
#include "broker/service/rpc_scope.h"

namespace slussen::service {

namespace v1 = ::slussen::v1;

grpc::Status TestingServiceImpl::SetTime(grpc::ServerContext* context,
                                         const v1::SetTimeRequest* request,
                                         v1::SetTimeResponse* response) {
  return Serve(
      context, "SetTime", response,
      [&](const core::Caller&) -> absl::StatusOr<v1::SetTimeResponse> {
        static absl::Mutex mu(absl::kConstInit);
        absl::MutexLock lock(&mu);
        if (!request->has_time()) {
          return core::MissingField("time");
        }
        RETURN_IF_ERROR(core::ValidateTimestamp("time", request->time()));
        const absl::Time time = core::ToAbslTime(request->time());
        const absl::Time now = clock_->Now();
        if (time < now) {
          return absl::FailedPreconditionError(absl::StrCat(
              "time must not go back: the broker's time is ",
              absl::FormatTime(now), ", asked for ", absl::FormatTime(time)));
        }
        clock_->Set(time);
        v1::SetTimeResponse out;
        *out.mutable_time() = core::ToProtoTimestamp(time);
        out.set_deadline_steps_fired(fire_deadlines_());
        return out;
      });
}

}  // namespace slussen::service

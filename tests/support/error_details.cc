#include "tests/support/error_details.h"

#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace slussen::testing {

std::vector<google::rpc::BadRequest::FieldViolation> FieldViolationsOf(
    const grpc::Status& status) {
  std::vector<google::rpc::BadRequest::FieldViolation> violations;
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.Is<google::rpc::BadRequest>()) continue;
    EXPECT_TRUE(any.UnpackTo(&bad_request)) << any.type_url();
    for (const auto& violation : bad_request.field_violations()) {
      violations.push_back(violation);
    }
  }
  return violations;
}

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  for (const auto& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field());
  }
  return fields;
}

}  // namespace slussen::testing

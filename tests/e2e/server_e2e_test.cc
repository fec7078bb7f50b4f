// The broker as a server, over real gRPC: reflection lists the services, a
// graceful shutdown lets in-flight calls finish and refuses new ones.
// (Health following Redis is in tests/fault/redis_restart_fault_test.cc.)
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "tests/support/broker_harness.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;
using ::google::protobuf::UnknownField;
using ::google::protobuf::UnknownFieldSet;

// The names of the services the server reflects, asked with
// grpc.reflection.v1alpha's list_services. The reflection protos are not
// packaged on Debian (and the library registers them itself), so the
// request and answer are encoded by field number:
// ServerReflectionRequest.list_services = 7; ServerReflectionResponse.
// list_services_response = 6; ListServiceResponse.service = 1;
// ServiceResponse.name = 1.
std::set<std::string> ReflectedServices(const std::string& target) {
  auto channel =
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::CompletionQueue queue;
  void* tag;
  bool ok;
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  call->StartCall(reinterpret_cast<void*>(1));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);

  const std::string request("\x3a\x00", 2);  // field 7, empty string
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);

  grpc::ByteBuffer answer;
  call->Read(&answer, reinterpret_cast<void*>(4));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  EXPECT_TRUE(queue.Next(&tag, &ok));
  EXPECT_TRUE(status.ok()) << status.error_message();

  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(answer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  std::set<std::string> names;
  UnknownFieldSet response;
  EXPECT_TRUE(response.ParseFromString(bytes));
  for (int i = 0; i < response.field_count(); ++i) {
    const UnknownField& list = response.field(i);
    if (list.number() != 6 ||
        list.type() != UnknownField::TYPE_LENGTH_DELIMITED)
      continue;
    UnknownFieldSet services;
    EXPECT_TRUE(services.ParseFromString(list.length_delimited()));
    for (int j = 0; j < services.field_count(); ++j) {
      UnknownFieldSet service;
      EXPECT_TRUE(
          service.ParseFromString(services.field(j).length_delimited()));
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) {
          names.insert(service.field(k).length_delimited());
        }
      }
    }
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return names;
}

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<BrokerHarness>> harness =
        BrokerHarness::Start();
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  std::unique_ptr<BrokerHarness> harness_;
};

TEST_F(ServerE2eTest, ReflectionListsTheServices) {
  const std::set<std::string> services = ReflectedServices(harness_->target());
  EXPECT_TRUE(services.count("slussen.v1.ReferralService"));
  EXPECT_TRUE(services.count("grpc.health.v1.Health"));
}

TEST_F(ServerE2eTest, ShutdownLetsInFlightCallsFinishAndRefusesNewOnes) {
  ReferralClient client = harness_->Client(kHalmstadKommun);
  // Hold Redis, so that a create is in flight in the broker when the
  // shutdown starts.
  ASSERT_EQ(kill(harness_->redis().pid(), SIGSTOP), 0);
  grpc::Status in_flight;
  v1::Referral made;
  std::thread caller(
      [&] { in_flight = client.Create(SampleImpulse(), &made); });
  // Time for the call to reach the broker (it then waits on Redis); generous
  // for a loaded machine.
  absl::SleepFor(absl::Seconds(1));

  absl::Notification shut_down;
  std::thread stopper([&] {
    harness_->broker().Shutdown(absl::Seconds(20));
    shut_down.Notify();
  });
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(shut_down.HasBeenNotified())
      << "the shutdown did not wait for the call in flight";
  ASSERT_EQ(kill(harness_->redis().pid(), SIGCONT), 0);
  caller.join();
  stopper.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_FALSE(made.name().empty());

  v1::Referral refused;
  const grpc::Status after = harness_->Client(kHalmstadKommun, absl::Seconds(2))
                                 .Create(SampleImpulse(), &refused);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAVAILABLE);
  // What was acknowledged is in Redis.
  absl::StatusOr<std::string> kind = harness_->redis().Execute(
      {"HGET",
       "slussen:{r13}:referral:" +
           made.name().substr(made.name().rfind('/') + 1),
       "kind"});
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, std::to_string(v1::REFERRAL_KIND_IMPULSE));
}

}  // namespace
}  // namespace slussen::testing

#include "tests/contract/repository_contract.h"

#include <utility>

#include "broker/core/model/events.h"
#include "broker/core/model/proto_time.h"

namespace slussen::testing {

namespace v1 = ::slussen::v1;

std::string TargetName(const ::testing::TestParamInfo<ContractTarget>& info) {
  return info.param.name;
}

void PrintTo(const ContractTarget& target, std::ostream* os) {
  *os << target.name;
}

void RepositoryContractTest::SetUp() {
  absl::StatusOr<std::unique_ptr<ContractStores>> stores = GetParam().make();
  ASSERT_TRUE(stores.ok()) << GetParam().name << ": " << stores.status();
  stores_ = *std::move(stores);
}

std::vector<slussen::v1::Event> RepositoryContractTest::Events(
    const std::string& region) {
  absl::StatusOr<std::vector<slussen::v1::Event>> events =
      stores_->Events(region);
  EXPECT_TRUE(events.ok()) << events.status();
  return events.value_or(std::vector<slussen::v1::Event>());
}

Moved MoveTo(const core::ReferralRecord& read, v1::Action action,
             v1::ReferralState to, const std::string& assigned) {
  Moved out{.changed = read};
  v1::Transition* t = out.changed.referral.add_history();
  t->set_action(action);
  t->set_from_state(read.referral.state());
  t->set_to_state(to);
  *t->mutable_time() = core::ToProtoTimestamp(
      core::ToAbslTime(read.referral.create_time()) + absl::Minutes(5));
  t->mutable_actor()->set_organisation(read.referral.referring_organisation());
  out.changed.referral.set_state(to);
  out.changed.assigned_organisation = assigned;
  out.event = core::ReferralEvent(out.changed, *t);
  return out;
}

}  // namespace slussen::testing

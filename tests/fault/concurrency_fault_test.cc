// Two broker processes on one redis-server, many clients at once: agencies
// creating and cancelling, providers accepting and declining, all against
// the same few offerings through either broker. Afterwards, read back from
// Redis, the invariants hold: no unit holds more than its capacity; the
// counters agree with the referrals and offers; no referral has two live
// offers; and no waiting referral is left while a place it fits is free.
//
// The slussen binary comes from $SLUSSEN_BINARY (set by CMake).
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "broker/core/model/capacity.h"
#include "broker/store/redis_directory_store.h"
#include "broker/store/redis_referral_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "slussen/v1/offer_service.grpc.pb.h"
#include "slussen/v1/provider_service.grpc.pb.h"
#include "tests/support/broker_harness.h"
#include "tests/support/redis_server.h"
#include "tests/support/sample_referrals.h"

namespace slussen::testing {
namespace {

namespace v1 = ::slussen::v1;

// One slussen process, stopped (SIGTERM) when destroyed.
class BrokerProcess {
 public:
  static std::unique_ptr<BrokerProcess> Start(const std::string& redis,
                                              const std::string& dir, int n) {
    const char* binary = std::getenv("SLUSSEN_BINARY");
    EXPECT_NE(binary, nullptr) << "SLUSSEN_BINARY is not set";
    if (binary == nullptr) return nullptr;
    auto process = std::make_unique<BrokerProcess>();
    process->log_ = absl::StrCat(dir, "/broker-", n, ".log");
    const std::string key = absl::StrCat(dir, "/pnr.key");
    if (n == 0) {
      std::ofstream(key) << BrokerHarness::kPnrKey;
      chmod(key.c_str(), 0600);
    }
    process->pid_ = fork();
    if (process->pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      freopen(process->log_.c_str(), "w", stderr);
      const std::string redis_flag = absl::StrCat("--redis=", redis);
      const std::string key_flag = absl::StrCat("--pnr_key_file=", key);
      execl(binary, binary, "--listen=127.0.0.1:0", redis_flag.c_str(),
            key_flag.c_str(), "--redis_command_timeout_ms=10000",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // The broker logs the address it listens on.
    const std::regex listening(
        "\"msg\":\"listening\",\"address\":\"([^\"]+)\"");
    for (int i = 0; i < 200 && process->target_.empty(); ++i) {
      std::ifstream in(process->log_);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch match;
      const std::string log = text.str();
      if (std::regex_search(log, match, listening)) {
        process->target_ = match[1];
      } else {
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
    EXPECT_FALSE(process->target_.empty())
        << "broker " << n << " did not start";
    return process;
  }

  ~BrokerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& target() const { return target_; }

 private:
  pid_t pid_ = 0;
  std::string log_;
  std::string target_;
};

struct Unit {
  std::string offering;
  std::string unit;
};

class ConcurrencyFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<RedisServer>> redis = RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    for (int n = 0; n < 2; ++n) {
      brokers_.push_back(
          BrokerProcess::Start(redis_->address(), redis_->dir(), n));
      ASSERT_NE(brokers_.back(), nullptr);
      ASSERT_FALSE(brokers_.back()->target().empty());
      channels_.push_back(grpc::CreateChannel(
          brokers_.back()->target(), grpc::InsecureChannelCredentials()));
    }
    ASSERT_TRUE(LoadSampleDirectory(channels_[0]).ok());
    ASSERT_NO_FATAL_FAILURE(CreateOfferings());
  }

  // A provider with one offering of each capacity model, small, so that
  // clients compete for the same few places.
  void CreateOfferings() {
    auto directory = v1::ProviderDirectory::NewStub(channels_[0]);
    const auto admin = [&](auto call) {
      grpc::ClientContext context;
      Identify(&context, kAdmin);
      return call(&context);
    };
    v1::CreateProviderRequest provider;
    provider.set_provider_id("halsosam-halmstad");
    provider.mutable_provider()->set_display_name("Hälsosam Halmstad");
    provider.mutable_provider()->set_organisation("halsosam-halmstad");
    provider.mutable_provider()->set_kind(v1::PROVIDER_KIND_ACTIVITY);
    provider.mutable_provider()->add_regions("13");
    v1::Provider made;
    ASSERT_TRUE(admin([&](auto* c) {
                  return directory->CreateProvider(c, provider, &made);
                }).ok());
    absl::TimeZone zone;
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Stockholm", &zone));
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), zone);
    struct Spec {
      std::string id;
      std::string activity;
      v1::Capacity capacity;
    };
    std::vector<Spec> specs(3);
    specs[0] = {"platser", "halsosam", {}};
    specs[0].capacity.mutable_places()->set_total(3);
    specs[1] = {"grupp", "halsosam", {}};
    v1::Cohort* cohort = specs[1].capacity.mutable_cohorts()->add_cohorts();
    cohort->set_name(
        "providers/halsosam-halmstad/offerings/grupp/cohorts/hosten");
    const absl::CivilDay start = today + 14;
    cohort->mutable_start_date()->set_year(static_cast<int>(start.year()));
    cohort->mutable_start_date()->set_month(start.month());
    cohort->mutable_start_date()->set_day(start.day());
    cohort->set_min_size(2);
    cohort->set_max_size(4);
    specs[2] = {"redo", "redo", {}};
    specs[2].capacity.mutable_caseload()->set_max_open_cases(2);
    for (const Spec& spec : specs) {
      v1::CreateOfferingRequest create;
      create.set_parent("providers/halsosam-halmstad");
      create.set_offering_id(spec.id);
      v1::Offering* o = create.mutable_offering();
      o->set_display_name(spec.id);
      o->set_activity_type(spec.activity);
      o->set_region("13");
      o->set_kommun_code("1380");
      v1::Offering offering;
      ASSERT_TRUE(admin([&](auto* c) {
                    return directory->CreateOffering(c, create, &offering);
                  }).ok());
      v1::PublishCapacityRequest publish;
      publish.set_offering(offering.name());
      *publish.mutable_capacity() = spec.capacity;
      const grpc::Status status = admin([&](auto* c) {
        return directory->PublishCapacity(c, publish, &offering);
      });
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  std::unique_ptr<RedisServer> redis_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

TEST_F(ConcurrencyFaultTest, InvariantsHoldAfterARaceThroughTwoBrokers) {
  constexpr int kAgencies = 4;
  constexpr int kCreatesEach = 25;
  constexpr int kProviders = 3;
  std::atomic<bool> agencies_done{false};
  std::atomic<int> created{0}, answered{0};
  std::vector<std::thread> threads;
  for (int a = 0; a < kAgencies; ++a) {
    threads.emplace_back([&, a] {
      std::mt19937 random(a);
      for (int i = 0; i < kCreatesEach; ++i) {
        ReferralClient client(channels_[random() % 2], kFkHalmstad);
        v1::CreateReferralRequest request = SampleActivityReferral("13");
        request.mutable_referral()->mutable_activity()->set_activity_type(
            random() % 3 == 0 ? "redo" : "halsosam");
        request.mutable_referral()->mutable_participant()->set_pseudonym(
            absl::StrCat("p-", a, "-", i));
        v1::Referral made;
        if (client.Create(request, &made).ok()) {
          ++created;
          if (random() % 6 == 0) {
            v1::Referral cancelled;
            (void)client.Cancel(made.name(), v1::CANCEL_REASON_DUPLICATE,
                                &cancelled);
          }
        }
      }
    });
  }
  for (int p = 0; p < kProviders; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937 random(100 + p);
      while (!agencies_done) {
        auto offers = v1::OfferService::NewStub(channels_[random() % 2]);
        v1::ListOffersRequest list;
        list.set_parent("regions/13");
        list.add_states(v1::OFFER_STATE_HELD);
        v1::ListOffersResponse held;
        grpc::ClientContext context;
        Identify(&context, {"halsosam-halmstad", "provider", "13"});
        if (!offers->ListOffers(&context, list, &held).ok()) continue;
        for (const v1::Offer& offer : held.offers()) {
          grpc::ClientContext answer;
          Identify(&answer, {"halsosam-halmstad", "provider", "13"});
          v1::Offer out;
          if (random() % 3 == 0) {
            v1::DeclineOfferRequest decline;
            decline.set_name(offer.name());
            decline.set_reason(v1::DECLINE_REASON_NO_CAPACITY);
            if (offers->DeclineOffer(&answer, decline, &out).ok()) ++answered;
          } else {
            v1::AcceptOfferRequest accept;
            accept.set_name(offer.name());
            if (offers->AcceptOffer(&answer, accept, &out).ok()) ++answered;
          }
        }
      }
    });
  }
  for (int a = 0; a < kAgencies; ++a) threads[a].join();
  agencies_done = true;
  for (size_t t = kAgencies; t < threads.size(); ++t) threads[t].join();
  EXPECT_GT(created.load(), kAgencies * kCreatesEach / 2);
  EXPECT_GT(answered.load(), 0);

  // Read it all back from Redis.
  store::RedisPool pool(
      redis_->ClientOptions({.command_timeout = absl::Seconds(10)}));
  store::RedisReferralStore referrals(&pool);
  store::RedisDirectoryStore directory(&pool);

  // Let the schedulers finish what the last answers started.
  std::vector<core::ReferralRecord> all;
  for (int round = 0; round < 100; ++round) {
    all.clear();
    core::ListQuery query{
        .regions = {"13"}, .page_size = 1000, .scan_limit = 100000};
    absl::StatusOr<core::ListPage> page = referrals.List(query);
    ASSERT_TRUE(page.ok()) << page.status();
    all = page->records;
    const bool settled =
        std::none_of(all.begin(), all.end(), [](const auto& r) {
          return r.referral.state() == v1::REFERRAL_STATE_RECEIVED;
        });
    if (settled && round > 5) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(static_cast<int>(all.size()), created.load());

  absl::StatusOr<std::vector<core::Versioned<v1::Offering>>> offerings =
      directory.ListOfferings("13");
  ASSERT_TRUE(offerings.ok()) << offerings.status();
  core::OfferQuery offer_query{
      .regions = {"13"}, .page_size = 100000, .scan_limit = 100000};
  absl::StatusOr<core::OfferPage> offers = referrals.ListOffers(offer_query);
  ASSERT_TRUE(offers.ok()) << offers.status();

  // Count, per unit, what the referrals and offers say is taken.
  std::map<std::pair<std::string, std::string>, int> held, occupied;
  std::map<std::string, int> live_offers;
  for (const core::OfferRecord& offer : offers->records) {
    if (offer.offer.state() == v1::OFFER_STATE_HELD) {
      ++held[{offer.offer.offering(), offer.unit}];
      ++live_offers[offer.offer.referral()];
    }
  }
  for (const core::ReferralRecord& r : all) {
    const v1::ReferralState state = r.referral.state();
    EXPECT_LE(live_offers[r.referral.name()], 1) << r.referral.name();
    EXPECT_EQ(live_offers[r.referral.name()] == 1,
              state == v1::REFERRAL_STATE_OFFERED)
        << r.referral.name() << " is " << v1::ReferralState_Name(state);
    if (state == v1::REFERRAL_STATE_ACCEPTED ||
        state == v1::REFERRAL_STATE_STARTED) {
      const std::string unit =
          r.referral.cohort().empty()
              ? "-"
              : r.referral.cohort().substr(r.referral.cohort().rfind('/') + 1);
      ++occupied[{r.referral.assigned_offering(), unit}];
    }
  }
  std::map<std::string, int> free_by_activity;
  for (const core::Versioned<v1::Offering>& o : *offerings) {
    const v1::Capacity& c = o.value.capacity();
    std::vector<std::pair<std::string, int>> units;
    if (c.has_places()) units.emplace_back("-", c.places().total());
    if (c.has_caseload())
      units.emplace_back("-", c.caseload().max_open_cases());
    for (const v1::Cohort& cohort : c.cohorts().cohorts()) {
      units.emplace_back(cohort.name().substr(cohort.name().rfind('/') + 1),
                         cohort.max_size());
    }
    for (const auto& [unit, capacity] : units) {
      const int taken = core::TakenOf(o.value, unit);
      const int stored_held =
          taken - (c.has_places()     ? c.places().occupied()
                   : c.has_caseload() ? c.caseload().open_cases()
                                      : c.cohorts().cohorts(0).enrolled());
      SCOPED_TRACE(absl::StrCat(o.value.name(), " unit ", unit));
      EXPECT_LE(taken, capacity) << "more taken than there is";
      EXPECT_EQ(stored_held, (held[{o.value.name(), unit}]));
      EXPECT_EQ(taken - stored_held, (occupied[{o.value.name(), unit}]));
      free_by_activity[o.value.activity_type()] += capacity - taken;
    }
  }
  // No one waits while a place they fit is free (everyone fits everything
  // of their activity type here, unless that offering declined them).
  for (const core::ReferralRecord& r : all) {
    if (r.referral.state() != v1::REFERRAL_STATE_QUEUED) continue;
    const std::string activity = r.referral.activity().activity_type();
    for (const core::Versioned<v1::Offering>& o : *offerings) {
      if (o.value.activity_type() != activity) continue;
      const bool excluded =
          std::count(r.referral.excluded_offerings().begin(),
                     r.referral.excluded_offerings().end(), o.value.name()) > 0;
      const v1::Capacity& c = o.value.capacity();
      int free = 0;
      if (c.has_places()) {
        free = c.places().total() - core::TakenOf(o.value, "-");
      } else if (c.has_caseload()) {
        free = c.caseload().max_open_cases() - core::TakenOf(o.value, "-");
      } else {
        for (const v1::Cohort& cohort : c.cohorts().cohorts()) {
          free +=
              cohort.max_size() -
              core::TakenOf(o.value,
                            cohort.name().substr(cohort.name().rfind('/') + 1));
        }
      }
      EXPECT_TRUE(excluded || free == 0)
          << r.referral.name() << " waits while " << o.value.name() << " has "
          << free << " free";
    }
  }
}

}  // namespace
}  // namespace slussen::testing

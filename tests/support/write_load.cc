#include "tests/support/write_load.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace slussen::testing {
namespace {

// Keys read back in one round trip.
constexpr size_t kReadBatch = 1000;

}  // namespace

std::string FormatSeconds(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return "never";
  return absl::StrFormat("%.2f s", absl::ToDoubleSeconds(d));
}

std::string WriteLoad::Figures::ToString() const {
  return absl::StrCat(
      writers, " writers: ", acknowledged, " writes acknowledged, ", lost,
      " of them lost, ", refused,
      " attempts refused; the first write sent after the fault acknowledged ",
      FormatSeconds(served_again),
      " after it; the slowest acknowledged write sent after the fault took ",
      FormatSeconds(slowest_after_fault));
}

WriteLoad::WriteLoad(store::RedisPool* pool, Options options)
    : pool_(pool), options_(std::move(options)) {
  for (int w = 0; w < options_.writers; ++w) {
    writers_.emplace_back([this, w] { Write(w); });
  }
}

WriteLoad::~WriteLoad() { Stop(); }

void WriteLoad::Write(int writer) {
  for (int n = 0; !stop_.load(); ++n) {
    const std::string key = absl::StrCat(options_.key_prefix, writer, ":", n);
    const absl::Time sent = absl::Now();
    const bool ok = pool_->Command({"SET", key, "1"}).ok();
    const absl::Time answered = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        ++refused_;
      } else {
        acknowledged_.push_back(key);
        if (sent > fault_) {
          served_again_ = std::min(served_again_, answered);
          slowest_after_fault_ =
              std::max(slowest_after_fault_, answered - sent);
        }
      }
    }
    if (!ok) absl::SleepFor(options_.retry_after);
  }
}

absl::Time WriteLoad::MarkFault() {
  absl::MutexLock lock(&mu_);
  fault_ = absl::Now();
  return fault_;
}

bool WriteLoad::ServedAgain() {
  absl::MutexLock lock(&mu_);
  return served_again_ != absl::InfiniteFuture();
}

void WriteLoad::Stop() {
  stop_ = true;
  for (std::thread& writer : writers_) {
    if (writer.joinable()) writer.join();
  }
}

absl::StatusOr<WriteLoad::Figures> WriteLoad::Finish() {
  Stop();
  absl::MutexLock lock(&mu_);
  Figures figures;
  figures.writers = options_.writers;
  figures.acknowledged = static_cast<int64_t>(acknowledged_.size());
  figures.refused = refused_;
  if (served_again_ != absl::InfiniteFuture()) {
    figures.served_again = served_again_ - fault_;
  }
  figures.slowest_after_fault = slowest_after_fault_;
  for (size_t from = 0; from < acknowledged_.size(); from += kReadBatch) {
    std::vector<std::vector<std::string>> gets;
    const size_t to = std::min(acknowledged_.size(), from + kReadBatch);
    for (size_t i = from; i < to; ++i) {
      gets.push_back({"GET", acknowledged_[i]});
    }
    absl::StatusOr<std::vector<store::RedisValue>> got = pool_->Pipeline(gets);
    if (!got.ok()) return got.status();
    for (const store::RedisValue& value : *got) {
      if (value.type == store::RedisValue::Type::kError) {
        return absl::UnavailableError(
            absl::StrCat("reading the acknowledged writes back: ", value.str));
      }
      figures.lost += value.is_nil() ? 1 : 0;
    }
  }
  return figures;
}

}  // namespace slussen::testing

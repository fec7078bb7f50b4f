#include "broker/core/ports/ids.h"

#include "absl/random/distributions.h"

namespace slussen::core {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string EncodeUlid(uint64_t unix_millis, uint64_t random_high16,
                       uint64_t random_low64) {
  // 128 bits: 48 time bits, 80 random bits; 26 base32 characters hold 130
  // bits, the top two of which are zero.
  const uint64_t high = (unix_millis << 16) | (random_high16 & 0xFFFF);
  const uint64_t low = random_low64;
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    const int bit = (25 - i) * 5;  // position of this character's low bit
    uint64_t value;
    if (bit + 5 <= 64) {
      value = low >> bit;
    } else if (bit >= 64) {
      value = high >> (bit - 64);
    } else {
      value = (low >> bit) | (high << (64 - bit));
    }
    out[i] = kAlphabet[value & 0x1F];
  }
  return out;
}

std::string MinIdAt(absl::Time time) {
  const int64_t millis = absl::ToUnixMillis(time);
  return EncodeUlid(millis < 0 ? 0 : static_cast<uint64_t>(millis), 0, 0);
}

std::string UlidGenerator::NewId() {
  const int64_t millis = absl::ToUnixMillis(clock_->Now());
  uint64_t high16, low64;
  {
    absl::MutexLock lock(&mu_);
    high16 = absl::Uniform<uint64_t>(bitgen_) & 0xFFFF;
    low64 = absl::Uniform<uint64_t>(bitgen_);
  }
  return EncodeUlid(millis < 0 ? 0 : static_cast<uint64_t>(millis), high16,
                    low64);
}

}  // namespace slussen::core

#include "broker/core/model/pseudonymizer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "broker/core/model/personnummer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Exactly 32 bytes, the minimum.
constexpr absl::string_view kKey = "0123456789abcdef0123456789abcdef";
constexpr absl::string_view kOtherKey = "fedcba9876543210fedcba9876543210";

// Expected values computed in the shell, not with the code under test:
//   K=0123456789abcdef0123456789abcdef
//   printf '%s' "slussen-key-id:$K" | openssl dgst -sha256
//     -> eee3f6663d4e62969e872384157349fb9bb94897edc5ae9cb51741692854c908
//   printf '%s' "personnummer:191212121212" | openssl dgst -sha256 -hmac "$K"
//     -> 2ce78af794888cb268b08121f4fc48194a421c07b3dda48ab51a614e5924edd7
//   printf '%s' "fingerprint:hello" | openssl dgst -sha256 -hmac "$K"
//     -> bc6d04161494f520604d21b4e852fc94ff1a94bd9862f63e42bc901c38fc7fda
//   K2=fedcba9876543210fedcba9876543210
//   printf '%s' "slussen-key-id:$K2" | openssl dgst -sha256
//     -> eb32a872e8430afea1a1c814e8ce4a09d1c62d3f3d7b358ec3133c0d6564d4a0
constexpr absl::string_view kKeyId = "keee3f666";
constexpr absl::string_view kOtherKeyId = "keb32a872";
constexpr absl::string_view kPseudonymOf191212121212 =
    "keee3f666:"
    "2ce78af794888cb268b08121f4fc48194a421c07b3dda48ab51a614e5924edd7";
constexpr absl::string_view kFingerprintOfHello =
    "bc6d04161494f520604d21b4e852fc94ff1a94bd9862f63e42bc901c38fc7fda";

// Printing is how keys leak into logs; the class must not allow it.
template <typename T>
concept Streamable = requires(std::ostream& os, const T& value) {
  os << value;
};
static_assert(!Streamable<Pseudonymizer>);
static_assert(!std::is_copy_constructible_v<Pseudonymizer>);
static_assert(std::is_nothrow_move_constructible_v<Pseudonymizer>);

Personnummer Pnr(absl::string_view text) {
  absl::StatusOr<Personnummer> pnr =
      ParsePersonnummer(text, absl::CivilDay(2024, 6, 1), "test");
  EXPECT_TRUE(pnr.ok()) << pnr.status();
  return pnr.ok() ? *std::move(pnr) : Personnummer{};
}

Pseudonymizer Make(absl::string_view key) {
  absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromKey(std::string(key));
  if (!p.ok()) {
    ADD_FAILURE() << p.status();
    std::abort();
  }
  return *std::move(p);
}

// A file made with mkstemp (mode 0600), removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(absl::string_view content) {
    path_ = testing::TempDir() + "pnr_key_XXXXXX";
    const int fd = mkstemp(path_.data());
    if (fd < 0) {
      ADD_FAILURE() << "mkstemp failed for " << path_;
      return;
    }
    EXPECT_EQ(write(fd, content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void Chmod(mode_t mode) const { ASSERT_EQ(chmod(path_.c_str(), mode), 0); }

 private:
  std::string path_;
};

TEST(PseudonymizerTest, MatchesOpenSslHmacSha256) {
  EXPECT_EQ(Make(kKey).Pseudonymize(Pnr("19121212-1212")),
            kPseudonymOf191212121212);
}

TEST(PseudonymizerTest, FingerprintMatchesOpenSslHmacSha256) {
  EXPECT_EQ(Make(kKey).Fingerprint("hello"), kFingerprintOfHello);
}

TEST(PseudonymizerTest, KeyIdIsDerivedFromTheKey) {
  EXPECT_EQ(Make(kKey).key_id(), kKeyId);
  EXPECT_EQ(Make(kOtherKey).key_id(), kOtherKeyId);
}

TEST(PseudonymizerTest, SameKeySameNumberGivesSamePseudonym) {
  const Pseudonymizer a = Make(kKey);
  const Pseudonymizer b = Make(kKey);
  EXPECT_EQ(a.Pseudonymize(Pnr("811218-9876")),
            a.Pseudonymize(Pnr("811218-9876")));
  EXPECT_EQ(a.Pseudonymize(Pnr("811218-9876")),
            b.Pseudonymize(Pnr("811218-9876")));
}

TEST(PseudonymizerTest, EveryWrittenFormOfOneNumberGivesOnePseudonym) {
  const Pseudonymizer p = Make(kKey);
  // A ten-digit form of 1912-12-12 read in 2024 needs the '+'.
  for (absl::string_view form :
       {"121212+1212", "19121212-1212", "191212121212"}) {
    EXPECT_EQ(p.Pseudonymize(Pnr(form)), kPseudonymOf191212121212) << form;
  }
  EXPECT_EQ(p.Pseudonymize(Pnr("811218-9876")),
            p.Pseudonymize(Pnr("198112189876")));
}

TEST(PseudonymizerTest, DifferentNumbersGiveDifferentPseudonyms) {
  const Pseudonymizer p = Make(kKey);
  // 121212-1212 without '+' is a child born 2012.
  EXPECT_NE(p.Pseudonymize(Pnr("121212-1212")), kPseudonymOf191212121212);
  EXPECT_NE(p.Pseudonymize(Pnr("811218-9876")),
            p.Pseudonymize(Pnr("19900101-0017")));
}

TEST(PseudonymizerTest, DifferentKeysGiveDifferentPseudonyms) {
  const std::string a = Make(kKey).Pseudonymize(Pnr("811218-9876"));
  const std::string b = Make(kOtherKey).Pseudonymize(Pnr("811218-9876"));
  EXPECT_NE(a, b);
  // Not only the key id: the MACs differ too.
  EXPECT_NE(a.substr(a.find(':')), b.substr(b.find(':')));
}

TEST(PseudonymizerTest, FingerprintIsDomainSeparatedFromPseudonym) {
  const Pseudonymizer p = Make(kKey);
  const std::string pseudonym = p.Pseudonymize(Pnr("19121212-1212"));
  EXPECT_NE(p.Fingerprint("191212121212"),
            pseudonym.substr(pseudonym.find(':') + 1));
  EXPECT_NE(Make(kOtherKey).Fingerprint("hello"), kFingerprintOfHello);
}

TEST(PseudonymizerTest, MovedPseudonymizerKeepsItsKey) {
  Pseudonymizer original = Make(kKey);
  Pseudonymizer moved(std::move(original));
  EXPECT_EQ(moved.key_id(), kKeyId);
  EXPECT_EQ(moved.Pseudonymize(Pnr("191212121212")), kPseudonymOf191212121212);
  Pseudonymizer assigned = Make(kOtherKey);
  assigned = std::move(moved);
  EXPECT_EQ(assigned.Pseudonymize(Pnr("191212121212")),
            kPseudonymOf191212121212);
}

TEST(PseudonymizerTest, FromKeyRefusesShortKeyWithoutShowingIt) {
  const std::string short_key(kKey.substr(0, 31));
  const absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromKey(short_key);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(p.status().message(), HasSubstr("has 31"));
  EXPECT_THAT(p.status().message(), Not(HasSubstr(short_key)));
}

TEST(PseudonymizerTest, FromFileTrimsWhitespace) {
  const TempFile file("  \n" + std::string(kKey) + "\n");
  const absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromFile(file.path());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key_id(), kKeyId);
  EXPECT_EQ(p->Pseudonymize(Pnr("19121212-1212")), kPseudonymOf191212121212);
}

TEST(PseudonymizerTest, FromFileRefusesShortKeyNamingTheFile) {
  // 31 bytes of key; the newline is trimmed and does not count.
  const TempFile file(std::string(kKey.substr(0, 31)) + "\n");
  const absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromFile(file.path());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr(file.path()));
  EXPECT_THAT(p.status().message(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(p.status().message(), Not(HasSubstr(kKey.substr(0, 31))));
}

TEST(PseudonymizerTest, FromFileRefusesFileReadableByOthers) {
  for (mode_t mode : {0640, 0604, 0644, 0660}) {
    const TempFile file(kKey);
    file.Chmod(mode);
    const absl::StatusOr<Pseudonymizer> p =
        Pseudonymizer::FromFile(file.path());
    ASSERT_FALSE(p.ok()) << std::oct << mode;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(p.status().message(), HasSubstr(file.path()));
    EXPECT_THAT(p.status().message(), HasSubstr("chmod 600 " + file.path()));
    EXPECT_THAT(p.status().message(), Not(HasSubstr(kKey)));
  }
}

TEST(PseudonymizerTest, FromFileAcceptsOwnerOnlyModes) {
  for (mode_t mode : {0600, 0400}) {
    const TempFile file(kKey);
    file.Chmod(mode);
    EXPECT_TRUE(Pseudonymizer::FromFile(file.path()).ok()) << std::oct << mode;
  }
}

TEST(PseudonymizerTest, FromFileRefusesMissingFile) {
  const std::string path = testing::TempDir() + "no/such/pnr.key";
  const absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromFile(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr(path));
}

TEST(PseudonymizerTest, FromFileRefusesDirectory) {
  std::string dir = testing::TempDir() + "pnr_dir_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ASSERT_EQ(chmod(dir.c_str(), 0700), 0);
  const absl::StatusOr<Pseudonymizer> p = Pseudonymizer::FromFile(dir);
  rmdir(dir.c_str());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(p.status().message(), HasSubstr("regular file"));
}

// setenv/unsetenv are not thread-safe; GoogleTest runs tests of one binary
// sequentially, and each test removes what it set.
constexpr char kVariable[] = "SLUSSEN_TEST_PNR_KEY";

TEST(PseudonymizerTest, FromEnvironmentTrimsWhitespace) {
  ASSERT_EQ(setenv(kVariable, (" " + std::string(kKey) + "\n").c_str(), 1), 0);
  const absl::StatusOr<Pseudonymizer> p =
      Pseudonymizer::FromEnvironment(kVariable);
  unsetenv(kVariable);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->Pseudonymize(Pnr("19121212-1212")), kPseudonymOf191212121212);
}

TEST(PseudonymizerTest, FromEnvironmentRefusesMissingVariable) {
  unsetenv(kVariable);
  const absl::StatusOr<Pseudonymizer> p =
      Pseudonymizer::FromEnvironment(kVariable);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(p.status().message(), HasSubstr(kVariable));
  EXPECT_THAT(p.status().message(), HasSubstr("is not set"));
}

TEST(PseudonymizerTest, FromEnvironmentRefusesShortKey) {
  const std::string short_key(kKey.substr(0, 20));
  ASSERT_EQ(setenv(kVariable, short_key.c_str(), 1), 0);
  const absl::StatusOr<Pseudonymizer> p =
      Pseudonymizer::FromEnvironment(kVariable);
  unsetenv(kVariable);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr(kVariable));
  EXPECT_THAT(p.status().message(), HasSubstr("at least 32 bytes"));
  EXPECT_THAT(p.status().message(), Not(HasSubstr(short_key)));
}

}  // namespace
}  // namespace slussen::core

// absl_sync_tsan.cc: tells ThreadSanitizer the order abseil's Mutex,
// CondVar, Notification and BlockingCounter put between threads; built
// and linked only in the SLUSSEN_SANITIZE=thread build.
//
// Debian's libabsl_synchronization is compiled without -fsanitize=thread:
// its atomics and futex waits are invisible to ThreadSanitizer, which so
// sees no order at all between a thread that unlocks an absl::Mutex and
// the next that locks it, and reports every ABSL_GUARDED_BY member as a
// data race (abseil's own TSan builds instrument abseil instead; we take
// abseil from Debian). This shared library comes before
// libabsl_synchronization in every executable of that build, so the
// dynamic linker binds our code's calls, and gRPC's, to the definitions
// here. Each calls the real function (found with dlsym(RTLD_NEXT)) and
// tells TSan what it did: a release before giving a mutex up, an acquire
// after getting it. A Condition is evaluated inside abseil, with the mutex
// held, by the waiting thread or by whichever thread unlocks: each is
// wrapped in one that acquires before and releases after it reads. Only
// that: TSan learns the happens-before edges, not lock ownership, so its
// lock-order (deadlock) reports do not cover absl::Mutex.
//
// Thread-safety: each function is as safe as the one it wraps; the lookup
// of the real function is a function-local static.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

// The address of a non-virtual member function (Itanium C++ ABI: a
// member function pointer's first word).
template <typename Member>
void* AddressOf(Member member) {
  void* address;
  static_assert(sizeof(member) >= sizeof(address));
  std::memcpy(&address, &member, sizeof(address));
  return address;
}

// The definition of MEMBER that ours hides: the next object's after this
// library (libabsl_synchronization). Looked up by the symbol name of our
// own definition, so abseil's inline namespace need not be spelled here.
template <typename Member>
Member Real(Member ours) {
  Dl_info info;
  void* real = nullptr;
  if (dladdr(AddressOf(ours), &info) != 0 && info.dli_sname != nullptr) {
    real = dlsym(RTLD_NEXT, info.dli_sname);
  }
  if (real == nullptr) {
    std::fprintf(stderr,
                 "absl_sync_tsan: the abseil function this library wraps "
                 "was not found after it (%s)\n",
                 dlerror());
    std::abort();
  }
  Member member{};
  std::memcpy(&member, &real, sizeof(real));
  return member;
}

// Where Notification keeps its flag, for HasBeenNotified(): that is
// inline, an acquire load compiled into our (instrumented) code, which
// TSan pairs with a release at the same address.
struct NotificationLayout {
  absl::Mutex mutex;
  std::atomic<bool> notified_yet;
};
static_assert(sizeof(NotificationLayout) == sizeof(absl::Notification));

void* FlagOf(const absl::Notification* n) {
  return &reinterpret_cast<NotificationLayout*>(
              const_cast<absl::Notification*>(n))
              ->notified_yet;
}

// A Condition evaluated in order with the mutex it waits on: whoever
// evaluates it holds that mutex, so it sees what the mutex's last holder
// wrote, and the next holder sees what it read.
struct OrderedCondition {
  OrderedCondition(const absl::Condition& cond, absl::Mutex* mu)
      : inner(&cond), mu(mu), outer(&Eval, this) {}
  static bool Eval(void* self) {
    const auto* c = static_cast<const OrderedCondition*>(self);
    __tsan_acquire(c->mu);
    const bool result = c->inner->Eval();
    __tsan_release(c->mu);
    return result;
  }
  const absl::Condition* inner;
  absl::Mutex* mu;
  absl::Condition outer;
};

}  // namespace

// Calls the real definition of the member function we are in.
#define SLUSSEN_REAL(Class, Name, ...)         \
  static const auto real = Real(&Class::Name); \
  return (this->*real)(__VA_ARGS__)

namespace absl {

// Getting the mutex: acquire after.
void Mutex::Lock() {
  [&] { SLUSSEN_REAL(Mutex, Lock); }();
  __tsan_acquire(this);
}
void Mutex::ReaderLock() {
  [&] { SLUSSEN_REAL(Mutex, ReaderLock); }();
  __tsan_acquire(this);
}
bool Mutex::TryLock() {
  const bool got = [&] { SLUSSEN_REAL(Mutex, TryLock); }();
  if (got) __tsan_acquire(this);
  return got;
}
bool Mutex::ReaderTryLock() {
  const bool got = [&] { SLUSSEN_REAL(Mutex, ReaderTryLock); }();
  if (got) __tsan_acquire(this);
  return got;
}
// The *When calls hold the mutex on return, the condition true or not.
void Mutex::LockWhen(const Condition& cond) {
  const OrderedCondition ordered(cond, this);
  [&] { SLUSSEN_REAL(Mutex, LockWhen, ordered.outer); }();
  __tsan_acquire(this);
}
bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  const OrderedCondition ordered(cond, this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, LockWhenWithTimeout, ordered.outer, timeout);
  }();
  __tsan_acquire(this);
  return met;
}
bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  const OrderedCondition ordered(cond, this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, LockWhenWithDeadline, ordered.outer, deadline);
  }();
  __tsan_acquire(this);
  return met;
}
void Mutex::ReaderLockWhen(const Condition& cond) {
  const OrderedCondition ordered(cond, this);
  [&] { SLUSSEN_REAL(Mutex, ReaderLockWhen, ordered.outer); }();
  __tsan_acquire(this);
}
bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  const OrderedCondition ordered(cond, this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, ReaderLockWhenWithTimeout, ordered.outer, timeout);
  }();
  __tsan_acquire(this);
  return met;
}
bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  const OrderedCondition ordered(cond, this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, ReaderLockWhenWithDeadline, ordered.outer, deadline);
  }();
  __tsan_acquire(this);
  return met;
}

// Giving it up: release before.
void Mutex::Unlock() {
  __tsan_release(this);
  SLUSSEN_REAL(Mutex, Unlock);
}
void Mutex::ReaderUnlock() {
  __tsan_release(this);
  SLUSSEN_REAL(Mutex, ReaderUnlock);
}

// Waiting gives the mutex up and gets it back.
void Mutex::Await(const Condition& cond) {
  const OrderedCondition ordered(cond, this);
  __tsan_release(this);
  [&] { SLUSSEN_REAL(Mutex, Await, ordered.outer); }();
  __tsan_acquire(this);
}
bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  const OrderedCondition ordered(cond, this);
  __tsan_release(this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, AwaitWithTimeout, ordered.outer, timeout);
  }();
  __tsan_acquire(this);
  return met;
}
bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  const OrderedCondition ordered(cond, this);
  __tsan_release(this);
  const bool met = [&] {
    SLUSSEN_REAL(Mutex, AwaitWithDeadline, ordered.outer, deadline);
  }();
  __tsan_acquire(this);
  return met;
}
void CondVar::Wait(Mutex* mu) {
  __tsan_release(mu);
  [&] { SLUSSEN_REAL(CondVar, Wait, mu); }();
  __tsan_acquire(mu);
}
bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  __tsan_release(mu);
  const bool timed_out = [&] {
    SLUSSEN_REAL(CondVar, WaitWithTimeout, mu, timeout);
  }();
  __tsan_acquire(mu);
  return timed_out;
}
bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  __tsan_release(mu);
  const bool timed_out = [&] {
    SLUSSEN_REAL(CondVar, WaitWithDeadline, mu, deadline);
  }();
  __tsan_acquire(mu);
  return timed_out;
}

// Notify() happens before whatever sees it notified.
void Notification::Notify() {
  __tsan_release(this);
  __tsan_release(FlagOf(this));
  SLUSSEN_REAL(Notification, Notify);
}
void Notification::WaitForNotification() const {
  [&] { SLUSSEN_REAL(Notification, WaitForNotification); }();
  __tsan_acquire(const_cast<Notification*>(this));
}
bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  const bool notified = [&] {
    SLUSSEN_REAL(Notification, WaitForNotificationWithTimeout, timeout);
  }();
  __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}
bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  const bool notified = [&] {
    SLUSSEN_REAL(Notification, WaitForNotificationWithDeadline, deadline);
  }();
  __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

// Each DecrementCount() happens before Wait() returns.
bool BlockingCounter::DecrementCount() {
  __tsan_release(this);
  SLUSSEN_REAL(BlockingCounter, DecrementCount);
}
void BlockingCounter::Wait() {
  [&] { SLUSSEN_REAL(BlockingCounter, Wait); }();
  __tsan_acquire(this);
}

}  // namespace absl

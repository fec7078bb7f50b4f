// Status propagation macros for absl::Status / absl::StatusOr.
//
// abseil 20220623 (Debian bookworm) ships neither RETURN_IF_ERROR nor
// ASSIGN_OR_RETURN, so they are written once here. Both evaluate their
// argument exactly once. Thread-safe: they touch only their arguments.
//
//   RETURN_IF_ERROR(store.Write(record));
//   ASSIGN_OR_RETURN(Referral referral, store.Read(name));
#ifndef SLUSSEN_BROKER_CORE_MODEL_STATUS_MACROS_H_
#define SLUSSEN_BROKER_CORE_MODEL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SLUSSEN_STATUS_CONCAT_INNER_(x, y) x##y
#define SLUSSEN_STATUS_CONCAT_(x, y) SLUSSEN_STATUS_CONCAT_INNER_(x, y)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const ::absl::Status slussen_status_ = (expr); \
    if (!slussen_status_.ok()) {                   \
      return slussen_status_;                      \
    }                                              \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  SLUSSEN_ASSIGN_OR_RETURN_IMPL_(    \
      SLUSSEN_STATUS_CONCAT_(slussen_statusor_, __LINE__), lhs, rexpr)

#define SLUSSEN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) {                                      \
    return std::move(statusor).status();                     \
  }                                                          \
  lhs = std::move(statusor).value()

#endif  // SLUSSEN_BROKER_CORE_MODEL_STATUS_MACROS_H_

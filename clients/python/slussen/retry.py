"""Retries of what the broker says may be retried, when it says.

The broker answers UNAVAILABLE when it cannot serve a call now (Redis
unreachable, the broker draining before it stops) and RESOURCE_EXHAUSTED
when the calling organisation is over its rate limit; both carry a
``google.rpc.RetryInfo`` with the delay to wait (one second, or when the
rate limit's bucket refills). gRPC's own retry policy cannot read
RetryInfo, hence this one:

- UNAVAILABLE is retried: after the RetryInfo's delay, or, when the call
  never reached the broker (no details), after an exponential backoff with
  full jitter, so that many clients do not return at the same moment.
- RESOURCE_EXHAUSTED is retried only with a RetryInfo: without one it is
  gRPC's refusal of a message too large, which no retry mends.
- Nothing else is retried. Every attempt is sent within the call's own
  deadline (``timeout=`` is for all attempts together), and no retry
  starts whose wait would end past it.

A change retried after an UNAVAILABLE may have been applied the first
time; give it a ``request_id`` (every create and state change takes one)
and the broker applies it once.

Time is injected (``sleep``, ``clock``, ``jitter``), so tests count the
attempts without waiting.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc

from slussen._call_details import with_details
from slussen.errors import SlussenError, error_from_rpc


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``max_attempts`` counts the first call. Without a RetryInfo the n-th
    retry waits a random time up to ``min(max_backoff, initial_backoff *
    multiplier ** (n - 1))`` seconds; with one, its delay, unless that is
    longer than ``max_retry_delay`` (then the error is the caller's to
    weigh). ``on_retry(attempt, error, delay)`` is told before each wait.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    max_retry_delay: float = 30.0
    on_retry: Callable[[int, SlussenError, float], None] | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"max_attempts must be at least 1, got {self.max_attempts}")

    def retryable(self, error: SlussenError) -> bool:
        """Whether ``error`` is worth another attempt at all."""
        if error.code == grpc.StatusCode.UNAVAILABLE:
            return True
        return (error.code == grpc.StatusCode.RESOURCE_EXHAUSTED and
                error.retry_delay is not None)

    def delay(self, error: SlussenError, retry: int) -> float | None:
        """Seconds to wait before retry number ``retry`` (1 the first) of a
        call that failed with ``error``; None: do not retry."""
        if retry >= self.max_attempts or not self.retryable(error):
            return None
        if error.retry_delay is not None:
            seconds = max(0.0, error.retry_delay.total_seconds())
            return seconds if seconds <= self.max_retry_delay else None
        ceiling = min(self.max_backoff,
                      self.initial_backoff * self.multiplier**(retry - 1))
        return self.jitter() * ceiling


_RETRIED_CODES = (grpc.StatusCode.UNAVAILABLE,
                  grpc.StatusCode.RESOURCE_EXHAUSTED)


class RetryInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Retries unary calls by a RetryPolicy (``slussen.connect`` installs
    one). The call's result is the last attempt's: its response, or its
    error as gRPC raised it (``error_from_rpc`` reads it). A ``.future()``
    call is retried too, before the future is returned: grpcio runs
    interceptors of futures in the caller's thread."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def intercept_unary_unary(self, continuation: Callable[..., Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        policy = self._policy
        timeout = client_call_details.timeout
        deadline = None if timeout is None else policy.clock() + timeout
        details = client_call_details
        attempt = 1
        while True:
            outcome = continuation(details, request)
            if outcome.code() not in _RETRIED_CODES:
                return outcome
            error = error_from_rpc(outcome)
            wait = policy.delay(error, attempt)
            if wait is None:
                return outcome
            if deadline is not None and policy.clock() + wait >= deadline:
                return outcome  # the retry would start too late
            if policy.on_retry is not None:
                policy.on_retry(attempt, error, wait)
            policy.sleep(wait)
            attempt += 1
            if deadline is not None:
                details = with_details(client_call_details,
                                       timeout=deadline - policy.clock())

"""Tests of the Python client (clients/python/slussen) against a real broker.

Run by clients/python/tests/python_client_test.sh (ctest python_client),
which starts redis-server and the broker and sets:

  SLUSSEN_SERVER                a broker in development identity mode,
                                with the sample catalogue
  SLUSSEN_RATE_LIMITED_SERVER   one with a rate limit of one call in two
                                seconds, bursts of one (optional: its test
                                is skipped without it)

By hand, with ``./dev up`` running:

  SLUSSEN_SERVER=127.0.0.1:50051 PYTHONPATH=clients/python:build/python \\
      /usr/bin/python3 -m unittest discover -s clients/python/tests -v

The retry tests count attempts and inject the sleep and the clock: nothing
here waits on a timer except the rate-limited call, and nothing asserts a
duration.
"""

from __future__ import annotations

import datetime
import os
import socket
import unittest
import uuid
from typing import Any, Callable

import grpc

import slussen
from google.rpc import error_details_pb2, status_pb2
from slussen.v1 import (common_pb2, offer_service_pb2, offer_service_pb2_grpc,
                        referral_pb2, referral_service_pb2,
                        referral_service_pb2_grpc)

TIMEOUT_SECONDS = 10.0
AGENCY = slussen.Identity(organisation="kommun-laholm-eb", role="agency",
                          region="13", person="karin.l")


def server_from_environment(variable: str) -> str:
    """The broker address in ``variable``; a clear failure without one."""
    server = os.environ.get(variable, "")
    if not server:
        raise unittest.SkipTest(
            f"{variable} is not set: run clients/python/tests/"
            "python_client_test.sh, or see this module's docstring")
    return server


def impulse_request(kommun_code: str) -> referral_service_pb2.CreateReferralRequest:
    """An impulse for ``kommun_code`` to region 13, with a fresh request id."""
    return referral_service_pb2.CreateReferralRequest(
        parent="regions/13",
        request_id=f"py-test-{uuid.uuid4().hex[:16]}",
        referral=referral_pb2.Referral(impulse=referral_pb2.Impulse(
            kommun_code=kommun_code,
            need_category=referral_pb2.NEED_CATEGORY_OTHER,
            call_back=common_pb2.ContactRoute(display_name="Karin Lind",
                                              unit="Ekonomiskt bistånd",
                                              phone="0430-260 00"))))


def refusal(call: Callable[[], object]) -> slussen.SlussenError:
    """The SlussenError ``call`` fails with; AssertionError if it works."""
    try:
        call()
    except grpc.RpcError as rpc_error:
        return slussen.error_from_rpc(rpc_error)
    raise AssertionError("the call went through; it should have been refused")


class BrokerTest(unittest.TestCase):
    """Calls to the broker of SLUSSEN_SERVER as a development identity."""

    server: str

    @classmethod
    def setUpClass(cls) -> None:
        if not os.environ.get("SLUSSEN_SERVER"):
            raise RuntimeError(
                "SLUSSEN_SERVER is not set: run clients/python/tests/"
                "python_client_test.sh, or see this module's docstring")
        cls.server = os.environ["SLUSSEN_SERVER"]

    def referrals(self, identity: slussen.Identity = AGENCY
                  ) -> referral_service_pb2_grpc.ReferralServiceStub:
        channel = slussen.connect(self.server, identity)
        self.addCleanup(channel.close)
        return referral_service_pb2_grpc.ReferralServiceStub(channel)

    def test_development_identity_names_the_caller_on_every_call(self) -> None:
        referrals = self.referrals()
        created = referrals.CreateReferral(impulse_request("1381"),
                                           timeout=TIMEOUT_SECONDS)
        self.assertEqual(created.referring_organisation, AGENCY.organisation)
        seen = referrals.GetReferral(
            referral_service_pb2.GetReferralRequest(name=created.name),
            timeout=TIMEOUT_SECONDS)
        creation = seen.history[0]
        self.assertEqual(creation.action, referral_pb2.ACTION_CREATE)
        self.assertEqual(creation.actor.organisation, AGENCY.organisation)
        self.assertEqual(creation.actor.role, common_pb2.ROLE_AGENCY)
        self.assertEqual(creation.actor.person, AGENCY.person)

    def test_bad_field_is_named_by_the_field_violations(self) -> None:
        referrals = self.referrals()
        error = refusal(lambda: referrals.CreateReferral(
            impulse_request("1280"), timeout=TIMEOUT_SECONDS))
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.reason, "INVALID_FIELD")
        self.assertEqual(error.domain, "slussen.se")
        self.assertIn("referral.impulse.kommun_code",
                      [v.field for v in error.field_violations])
        violation = error.violation("referral.impulse.kommun_code")
        assert violation is not None
        self.assertIn("1280", violation.description)
        self.assertIsNone(error.retry_delay)

    def test_forbidden_call_is_permission_denied_with_a_reason(self) -> None:
        channel = slussen.connect(self.server, AGENCY)
        self.addCleanup(channel.close)
        offers = offer_service_pb2_grpc.OfferServiceStub(channel)
        error = refusal(lambda: offers.ListOffers(
            offer_service_pb2.ListOffersRequest(parent="regions/13"),
            timeout=TIMEOUT_SECONDS))
        self.assertEqual(error.code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(error.reason, "PERMISSION_DENIED")
        self.assertEqual(error.domain, "slussen.se")
        self.assertEqual(error.field_violations, ())

    def test_wrong_state_names_the_rule_and_the_referral(self) -> None:
        referrals = self.referrals()
        made = referrals.CreateReferral(impulse_request("1380"),
                                        timeout=TIMEOUT_SECONDS)
        cancel = referral_service_pb2.CancelReferralRequest(
            name=made.name, reason=referral_pb2.CANCEL_REASON_SENT_IN_ERROR)
        referrals.CancelReferral(cancel, timeout=TIMEOUT_SECONDS)
        error = refusal(lambda: referrals.CancelReferral(
            cancel, timeout=TIMEOUT_SECONDS))
        self.assertEqual(error.code, grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(len(error.precondition_violations), 1)
        violation = error.precondition_violations[0]
        self.assertEqual(violation.type, error.reason)
        self.assertEqual(violation.subject, made.name)
        self.assertIn("WITHDRAWN", violation.description)

    def test_call_without_identity_is_unauthenticated(self) -> None:
        with grpc.insecure_channel(self.server) as channel:
            referrals = referral_service_pb2_grpc.ReferralServiceStub(channel)
            error = refusal(lambda: referrals.ListReferrals(
                referral_service_pb2.ListReferralsRequest(parent="regions/13"),
                timeout=TIMEOUT_SECONDS))
        self.assertEqual(error.code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(error.reason, "UNAUTHENTICATED")


class CountingInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Counts the attempts that reach the channel."""

    def __init__(self) -> None:
        self.attempts = 0

    def intercept_unary_unary(self, continuation: Callable[..., Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        self.attempts += 1
        return continuation(client_call_details, request)


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RetryTest(unittest.TestCase):
    """Retries of UNAVAILABLE against a port that refuses connections."""

    def setUp(self) -> None:
        # Bound but not listening: every connection is refused, and no
        # other program can take the port while the test runs.
        self.closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.closed.bind(("127.0.0.1", 0))
        self.addCleanup(self.closed.close)
        self.address = f"127.0.0.1:{self.closed.getsockname()[1]}"
        self.time = FakeTime()

    def policy(self, **overrides: Any) -> slussen.RetryPolicy:
        settings: dict[str, Any] = dict(sleep=self.time.sleep,
                                        clock=self.time.clock,
                                        jitter=lambda: 1.0)
        settings.update(overrides)
        return slussen.RetryPolicy(**settings)

    def list_referrals(self, channel: grpc.Channel,
                       timeout: float = 5.0) -> slussen.SlussenError:
        referrals = referral_service_pb2_grpc.ReferralServiceStub(channel)
        return refusal(lambda: referrals.ListReferrals(
            referral_service_pb2.ListReferralsRequest(parent="regions/13"),
            timeout=timeout))

    def test_unavailable_is_retried_until_the_attempts_run_out(self) -> None:
        counter = CountingInterceptor()
        channel = grpc.intercept_channel(
            grpc.insecure_channel(self.address),
            slussen.RetryInterceptor(self.policy(max_attempts=4)), counter)
        self.addCleanup(channel.close)
        error = self.list_referrals(channel)
        self.assertEqual(error.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(error.reason, "")  # it never reached a broker
        self.assertEqual(counter.attempts, 4)
        # Backoff doubles from 0.1 s (jitter pinned at its ceiling).
        self.assertEqual(self.time.sleeps, [0.1, 0.2, 0.4])

    def test_connect_retries_by_its_policy(self) -> None:
        retries: list[int] = []
        policy = self.policy(
            max_attempts=3,
            on_retry=lambda attempt, error, delay: retries.append(attempt))
        channel = slussen.connect(self.address, AGENCY, retry=policy)
        self.addCleanup(channel.close)
        error = self.list_referrals(channel)
        self.assertEqual(error.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(retries, [1, 2])

    def test_no_retry_starts_that_would_end_past_the_deadline(self) -> None:
        counter = CountingInterceptor()
        policy = self.policy(max_attempts=10, initial_backoff=0.4,
                             multiplier=1.0)
        channel = grpc.intercept_channel(grpc.insecure_channel(self.address),
                                         slussen.RetryInterceptor(policy),
                                         counter)
        self.addCleanup(channel.close)
        self.list_referrals(channel, timeout=1.0)
        # Attempts at 0.0 and 0.4 and 0.8 s of the fake clock; a fourth
        # would start at 1.2 s, past the deadline of 1 s.
        self.assertEqual(counter.attempts, 3)


class RetryPolicyTest(unittest.TestCase):
    """Which errors the policy retries, and after how long."""

    def test_retry_info_sets_the_delay(self) -> None:
        error = slussen.SlussenError(
            code=grpc.StatusCode.UNAVAILABLE, message="Redis is unreachable",
            retry_delay=datetime.timedelta(seconds=1))
        self.assertEqual(slussen.RetryPolicy().delay(error, 1), 1.0)

    def test_rate_limit_is_retried_when_the_broker_says_when(self) -> None:
        policy = slussen.RetryPolicy()
        with_info = slussen.SlussenError(
            code=grpc.StatusCode.RESOURCE_EXHAUSTED, message="over its limit",
            reason="RATE_LIMITED",
            retry_delay=datetime.timedelta(milliseconds=5))
        self.assertEqual(policy.delay(with_info, 1), 0.005)
        # Without RetryInfo it is gRPC refusing a message too large.
        too_large = slussen.SlussenError(
            code=grpc.StatusCode.RESOURCE_EXHAUSTED, message="too large")
        self.assertIsNone(policy.delay(too_large, 1))

    def test_other_codes_and_long_delays_are_not_retried(self) -> None:
        policy = slussen.RetryPolicy(max_retry_delay=30)
        for code in (grpc.StatusCode.INVALID_ARGUMENT,
                     grpc.StatusCode.FAILED_PRECONDITION,
                     grpc.StatusCode.ABORTED,
                     grpc.StatusCode.DEADLINE_EXCEEDED):
            self.assertIsNone(
                policy.delay(slussen.SlussenError(code=code, message=""), 1),
                code.name)
        later = slussen.SlussenError(code=grpc.StatusCode.UNAVAILABLE,
                                     message="",
                                     retry_delay=datetime.timedelta(minutes=5))
        self.assertIsNone(policy.delay(later, 1))

    def test_last_attempt_is_not_retried(self) -> None:
        error = slussen.SlussenError(code=grpc.StatusCode.UNAVAILABLE,
                                     message="")
        self.assertIsNotNone(slussen.RetryPolicy(max_attempts=2).delay(error, 1))
        self.assertIsNone(slussen.RetryPolicy(max_attempts=2).delay(error, 2))


class FakeRpcError(grpc.RpcError, grpc.Call):
    """A failed call as grpcio raises it, with chosen trailers."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 trailers: tuple[tuple[str, Any], ...]) -> None:
        self._code, self._message, self._trailers = code, message, trailers

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._message

    def trailing_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self._trailers

    def initial_metadata(self) -> tuple[tuple[str, Any], ...]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False


class ErrorFromRpcTest(unittest.TestCase):
    """error_from_rpc reads every detail the broker sends."""

    def test_reads_error_info_bad_request_and_retry_info(self) -> None:
        status = status_pb2.Status(code=14, message="the broker is draining")
        status.details.add().Pack(
            error_details_pb2.ErrorInfo(reason="UNAVAILABLE", domain="slussen.se",
                                        metadata={"region": "13"}))
        status.details.add().Pack(error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="referral.impulse.kommun_code",
                    description="must lie in the referral's region")
            ]))
        status.details.add().Pack(error_details_pb2.RetryInfo(
            retry_delay={"seconds": 1, "nanos": 500_000_000}))
        error = slussen.error_from_rpc(
            FakeRpcError(grpc.StatusCode.UNAVAILABLE, "the broker is draining",
                         (("x-request-id", "r1"),
                          (slussen.errors.STATUS_DETAILS_KEY,
                           status.SerializeToString()))))
        self.assertEqual(error.code, grpc.StatusCode.UNAVAILABLE)
        self.assertEqual(error.reason, "UNAVAILABLE")
        self.assertEqual(error.metadata, {"region": "13"})
        self.assertEqual(error.field_violations, (slussen.FieldViolation(
            "referral.impulse.kommun_code",
            "must lie in the referral's region"),))
        self.assertEqual(error.retry_delay, datetime.timedelta(seconds=1.5))
        self.assertIn("[UNAVAILABLE]", str(error))

    def test_without_details_only_code_and_message(self) -> None:
        error = slussen.error_from_rpc(
            FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded",
                         ()))
        self.assertEqual(error.code, grpc.StatusCode.DEADLINE_EXCEEDED)
        self.assertEqual(error.message, "Deadline Exceeded")
        self.assertEqual((error.reason, error.field_violations,
                          error.retry_delay), ("", (), None))

    def test_malformed_details_are_ignored(self) -> None:
        error = slussen.error_from_rpc(
            FakeRpcError(grpc.StatusCode.INTERNAL, "oops",
                         ((slussen.errors.STATUS_DETAILS_KEY, b"\xff\xff"),)))
        self.assertEqual((error.code, error.reason),
                         (grpc.StatusCode.INTERNAL, ""))


class IdentityTest(unittest.TestCase):
    """The identity as request metadata."""

    def test_metadata_names_every_part_given(self) -> None:
        self.assertEqual(
            slussen.Identity("samordning-halland", "coordinator", "13",
                             "eva.s").metadata(),
            (("x-slussen-organisation", "samordning-halland"),
             ("x-slussen-role", "coordinator"), ("x-slussen-region", "13"),
             ("x-slussen-person", "eva.s")))
        self.assertEqual(
            slussen.Identity("fk-lfc-halmstad", "provider").metadata(),
            (("x-slussen-organisation", "fk-lfc-halmstad"),
             ("x-slussen-role", "provider")))

    def test_unknown_role_is_refused_before_any_call(self) -> None:
        with self.assertRaisesRegex(ValueError, "role must be one of"):
            slussen.Identity("kommun-halmstad-eb", "agnecy")

    def test_connect_needs_someone_to_name(self) -> None:
        with self.assertRaisesRegex(ValueError, "identity"):
            slussen.connect("127.0.0.1:1")

    def test_certificates_from_a_dev_certs_directory(self) -> None:
        files = slussen.Certificates.from_directory("certs", "agency",
                                                    "kommun-halmstad-eb")
        self.assertEqual(
            (str(files.ca_file), str(files.cert_file), str(files.key_file)),
            ("certs/ca.pem", "certs/agency-kommun-halmstad-eb.pem",
             "certs/agency-kommun-halmstad-eb.key"))


class RateLimitedBrokerTest(unittest.TestCase):
    """RESOURCE_EXHAUSTED with RetryInfo, from a real broker's rate limit."""

    def test_rate_limited_call_is_retried_after_the_retry_info(self) -> None:
        server = server_from_environment("SLUSSEN_RATE_LIMITED_SERVER")
        retries: list[slussen.SlussenError] = []
        policy = slussen.RetryPolicy(
            on_retry=lambda attempt, error, delay: retries.append(error))
        identity = slussen.Identity(f"kommun-test-{uuid.uuid4().hex[:8]}",
                                    "agency", "13")
        channel = slussen.connect(server, identity, retry=policy)
        self.addCleanup(channel.close)
        referrals = referral_service_pb2_grpc.ReferralServiceStub(channel)
        request = referral_service_pb2.ListReferralsRequest(parent="regions/13")
        # A burst of one: the second call is over the limit until the
        # bucket refills, which the RetryInfo tells; the retry then works.
        for _ in range(2):
            referrals.ListReferrals(request, timeout=30)
        self.assertTrue(retries, "no call was refused for the rate limit")
        self.assertEqual(retries[0].code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(retries[0].reason, "RATE_LIMITED")
        self.assertIsNotNone(retries[0].retry_delay)


if __name__ == "__main__":
    unittest.main()

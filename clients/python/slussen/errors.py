"""A failed call's google.rpc details, parsed: what a program branches on.

Every refusal of the broker carries, besides its code and message, a
``google.rpc.Status`` in the trailer ``grpc-status-details-bin``
(broker/service/rpc_scope.h, ToGrpcStatus): always an ``ErrorInfo``
(domain ``slussen.se``, the service name of the resource types) whose ``reason`` is a stable code (``INVALID_FIELD``,
``OPEN_REFERRAL_EXISTS``, ``OFFER_EXPIRED``, ``RATE_LIMITED``, or the
code's name), a ``BadRequest`` naming the fields of an INVALID_ARGUMENT,
for UNAVAILABLE and RESOURCE_EXHAUSTED a ``RetryInfo`` saying when to
try again, and for FAILED_PRECONDITION a ``PreconditionFailure`` naming the
rule (its type, the reason) and the resource it is about. ``error_from_rpc`` reads them with the generated google.rpc
messages (Debian packages no grpcio-status).

A failure gRPC itself produced (a broker that cannot be reached, a
deadline) has no details: its reason is empty, and so are the rest.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import grpc
from google.protobuf.message import DecodeError

try:
    from google.rpc import error_details_pb2, status_pb2
except ModuleNotFoundError as missing:  # the generated half is not on the path
    raise ImportError(
        "slussen: the generated modules (google.rpc, slussen.v1) are not on "
        "the path: build them (./dev build writes build/python) and run with "
        "PYTHONPATH=clients/python:build/python") from missing

# The trailer that carries a failed call's google.rpc.Status.
STATUS_DETAILS_KEY = "grpc-status-details-bin"


class FieldViolation(NamedTuple):
    """One field a BadRequest names: the field's path in the request
    (``referral.impulse.kommun_code``) and what is wrong with it."""

    field: str
    description: str


class PreconditionViolation(NamedTuple):
    """What a PreconditionFailure names: the rule (``type``, the reason
    code, e.g. ``OFFER_ALREADY_ACCEPTED``), the resource it is about
    (``subject``, e.g. ``regions/13/offers/01J...``; may be empty) and
    what is wrong."""

    type: str
    subject: str
    description: str


@dataclass(eq=False)
class SlussenError(Exception):
    """A failed call, with the details the broker gave.

    ``reason``, ``domain`` and ``metadata`` are the ErrorInfo's (empty when
    the call failed before reaching the broker); ``field_violations`` the
    BadRequest's; ``precondition_violations`` the PreconditionFailure's;
    ``retry_delay`` the RetryInfo's, None when the broker did not say. ``rpc_error`` is the grpc.RpcError it was made from.
    """

    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    field_violations: tuple[FieldViolation, ...] = ()
    precondition_violations: tuple[PreconditionViolation, ...] = ()
    retry_delay: datetime.timedelta | None = None
    rpc_error: grpc.RpcError | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        return f"{text} [{self.reason}]" if self.reason else text

    def violation(self, field_path: str) -> FieldViolation | None:
        """The violation of ``field_path``, if the BadRequest names it."""
        for violation in self.field_violations:
            if violation.field == field_path:
                return violation
        return None


def status_details(rpc_error: grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status in ``rpc_error``'s trailers; None when there is
    none or it cannot be parsed (then the code and message are all)."""
    trailers = _call_attribute(rpc_error, "trailing_metadata") or ()
    for key, value in trailers:
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            status = status_pb2.Status()
            try:
                status.ParseFromString(value)
            except DecodeError:  # malformed: the code and message remain
                return None
            return status
    return None


def error_from_rpc(rpc_error: grpc.RpcError) -> SlussenError:
    """The SlussenError of a failed call: its code, message and parsed
    details. Details of a type other than ErrorInfo, BadRequest,
    PreconditionFailure and RetryInfo are skipped, so that a newer broker's additions do not break
    an older client."""
    code = _call_attribute(rpc_error, "code") or grpc.StatusCode.UNKNOWN
    message = _call_attribute(rpc_error, "details") or ""
    status = status_details(rpc_error)
    if status is None:
        return SlussenError(code=code, message=message, rpc_error=rpc_error)
    info = error_details_pb2.ErrorInfo()
    violations: list[FieldViolation] = []
    preconditions: list[PreconditionViolation] = []
    retry_delay: datetime.timedelta | None = None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(
                FieldViolation(v.field, v.description)
                for v in bad_request.field_violations)
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            preconditions.extend(
                PreconditionViolation(v.type, v.subject, v.description)
                for v in failure.violations)
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry_info = error_details_pb2.RetryInfo()
            detail.Unpack(retry_info)
            retry_delay = retry_info.retry_delay.ToTimedelta()
    return SlussenError(code=code,
                        message=message or status.message,
                        reason=info.reason,
                        domain=info.domain,
                        metadata=dict(info.metadata),
                        field_violations=tuple(violations),
                        precondition_violations=tuple(preconditions),
                        retry_delay=retry_delay,
                        rpc_error=rpc_error)


def _call_attribute(rpc_error: grpc.RpcError, name: str) -> Any:
    """``rpc_error.name()`` when the error is also a grpc.Call (as the
    errors of grpcio's calls are), else None."""
    method = getattr(rpc_error, name, None)
    return method() if callable(method) else None

"""Slussen's Python client: what every program that calls the broker repeats.

The gRPC modules are generated from ``protos/`` at build time, not kept in
the repository: ``./dev build`` (or ``./dev test``, ``./dev up``) writes
them to ``build/python`` (``slussen/v1/*_pb2.py``, ``*_pb2_grpc.py``,
``google/rpc/*_pb2.py`` and ``google/api/*_pb2.py``). With both directories
on the path,

    PYTHONPATH=clients/python:build/python /usr/bin/python3 ...

``slussen`` is this package and ``slussen.v1`` the generated one beside it
(``pkgutil.extend_path`` joins the two halves of the package)::

    import grpc
    import slussen
    from slussen.v1 import referral_service_pb2, referral_service_pb2_grpc

    identity = slussen.Identity(organisation="kommun-halmstad-eb",
                                role="agency", region="13")
    with slussen.connect("127.0.0.1:50051", identity=identity) as channel:
        referrals = referral_service_pb2_grpc.ReferralServiceStub(channel)
        try:
            referrals.ListReferrals(
                referral_service_pb2.ListReferralsRequest(parent="regions/13"),
                timeout=10)
        except grpc.RpcError as rpc_error:
            error = slussen.error_from_rpc(rpc_error)
            print(error.reason, error.field_violations)

What it adds to the generated stubs (see README.md beside this package):

- ``connect``: a channel that names the caller, by a development identity
  (plaintext, request metadata) or a client certificate (mutual TLS), and
  retries what the broker says may be retried.
- ``error_from_rpc``: a failed call's ``google.rpc`` details as a
  ``SlussenError`` (ErrorInfo's reason, BadRequest's field violations,
  RetryInfo's delay).
- ``RetryPolicy``, ``RetryInterceptor``: retries of UNAVAILABLE, and of
  RESOURCE_EXHAUSTED when the broker says when, honouring RetryInfo.

Needs Debian's python3-grpcio and python3-protobuf (gRPC 1.51 and protobuf
3.21, the releases the broker is built with) and the standard library.
"""

# First, before anything imports slussen.v1: the generated half of the
# package (build/python/slussen/v1) lies in another directory of sys.path.
import pkgutil

__path__ = pkgutil.extend_path(__path__, __name__)

from slussen.channel import Certificates, Identity, connect  # noqa: E402
from slussen.errors import (  # noqa: E402
    FieldViolation, PreconditionViolation, SlussenError, error_from_rpc)
from slussen.retry import RetryInterceptor, RetryPolicy  # noqa: E402

__all__ = [
    "Certificates",
    "FieldViolation",
    "Identity",
    "PreconditionViolation",
    "RetryInterceptor",
    "RetryPolicy",
    "SlussenError",
    "connect",
    "error_from_rpc",
]

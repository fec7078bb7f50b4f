"""A call's details with some fields replaced, for the interceptors.

grpc.ClientCallDetails is abstract; an interceptor that changes a call's
metadata (an identity) or its timeout (a retry's remaining time) passes a
new one of these on.
"""

from __future__ import annotations

import collections
from typing import Any

import grpc


class CallDetails(
        collections.namedtuple(
            "CallDetails",
            ("method", "timeout", "metadata", "credentials", "wait_for_ready",
             "compression")), grpc.ClientCallDetails):
    """The six fields gRPC reads of a call's details."""


def with_details(details: grpc.ClientCallDetails, **changes: Any) -> CallDetails:
    """``details`` with the fields ``changes`` names replaced."""
    fields = {
        name: getattr(details, name, None) for name in CallDetails._fields
    }
    fields.update(changes)
    return CallDetails(**fields)

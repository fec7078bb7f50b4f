"""A channel to the broker that names the caller, as every program needs.

The broker learns who calls in one of two ways (docs/security.md, Identity;
broker/service/rpc_scope.h):

- Development identity, on a plaintext loopback port: the caller names
  itself in request metadata, ``x-slussen-organisation``,
  ``x-slussen-role``, ``x-slussen-region`` and the optional staff handle
  ``x-slussen-person``. ``Identity`` holds them; ``connect`` sends them on
  every call.
- Mutual TLS: the client certificate's URI subject alternative name
  ``urn:slussen:<role>:<organisation>[:<region>]`` names the caller and the
  broker ignores the identity headers (all but ``x-slussen-person``; a
  gateway's certificate acts for the caller the headers name).
  ``Certificates`` holds the three files; ``Certificates.from_directory``
  picks them from a ``./dev certs`` directory as ``slussctl --certs`` does.

    channel = slussen.connect(
        "127.0.0.1:50051",
        certificates=slussen.Certificates.from_directory(
            "var/certs", role="provider", organisation="fk-lfc-halmstad"))

Thread-safe as gRPC channels are: the interceptors keep no state per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import grpc

from slussen._call_details import CallDetails, with_details
from slussen.retry import RetryInterceptor, RetryPolicy

# The identity headers of development mode (broker/service/rpc_scope.h).
ORGANISATION_HEADER = "x-slussen-organisation"
ROLE_HEADER = "x-slussen-role"
REGION_HEADER = "x-slussen-region"
PERSON_HEADER = "x-slussen-person"

ROLES = ("agency", "provider", "coordinator", "admin")

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Identity:
    """Who calls, in development mode: the organisation (a slug id such as
    ``kommun-halmstad-eb``), its role (agency, provider, coordinator or
    admin), the region (a län code, ``13``; required for a coordinator) and
    optionally the person, a staff handle recorded with what they do.

    The broker checks the values; this class checks only the role, so that
    a typo fails here and not as UNAUTHENTICATED on the first call."""

    organisation: str
    role: str
    region: str = ""
    person: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(
                f"role must be one of {', '.join(ROLES)}, got {self.role!r}")

    def metadata(self) -> Metadata:
        """The request metadata that names this caller."""
        pairs = [(ORGANISATION_HEADER, self.organisation),
                 (ROLE_HEADER, self.role)]
        if self.region:
            pairs.append((REGION_HEADER, self.region))
        if self.person:
            pairs.append((PERSON_HEADER, self.person))
        return tuple(pairs)


@dataclass(frozen=True)
class Certificates:
    """The files of a mutual-TLS connection: the CA that signed the
    broker's certificate, the client certificate that names the caller,
    and its key (PEM)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def from_directory(cls, directory: str | Path, role: str,
                       organisation: str) -> Certificates:
        """The files ``./dev certs`` writes for one caller: DIR/ca.pem and
        DIR/<role>-<organisation>.pem and .key (``slussctl --certs``)."""
        directory = Path(directory)
        base = f"{role}-{organisation}"
        return cls(ca_file=directory / "ca.pem",
                   cert_file=directory / f"{base}.pem",
                   key_file=directory / f"{base}.key")

    def credentials(self) -> grpc.ChannelCredentials:
        """SSL credentials trusting the CA and presenting the client
        certificate; OSError naming a file that cannot be read."""
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca_file),
            private_key=_read(self.key_file),
            certificate_chain=_read(self.cert_file))


def connect(server: str,
            identity: Identity | None = None,
            *,
            certificates: Certificates | None = None,
            person: str = "",
            retry: RetryPolicy | None = RetryPolicy(),
            options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """A channel to the broker at ``server`` (``host:port``).

    Plaintext with ``identity`` sent as metadata on every call, or mutual
    TLS with ``certificates`` (then ``identity``, if given, is sent too: what
    a gateway's certificate acts on). ``person`` names the staff member in
    either mode, where ``identity`` does not. Unary calls are retried by
    ``retry`` (None: never); streams are not, since a stream resumes from
    where it broke (WatchEvents' resume token), not from its start.

    Close it when done, or use it as a context manager. ValueError when
    neither an identity nor certificates name the caller.
    """
    if identity is None and certificates is None:
        raise ValueError(
            "connect needs an identity (development mode) or certificates "
            "(mutual TLS): the broker refuses a call that names no caller "
            "(UNAUTHENTICATED)")
    metadata = identity.metadata() if identity is not None else ()
    if person:
        metadata = tuple(
            (k, v) for k, v in metadata if k != PERSON_HEADER) + (
                (PERSON_HEADER, person),)
    if certificates is not None:
        channel = grpc.secure_channel(server, certificates.credentials(),
                                      options=list(options))
    else:
        channel = grpc.insecure_channel(server, options=list(options))
    # The first interceptor is the outermost: each attempt of a retry is
    # sent with the identity.
    interceptors: list[Any] = []
    if retry is not None:
        interceptors.append(RetryInterceptor(retry))
    if metadata:
        interceptors.append(MetadataInterceptor(metadata))
    return grpc.intercept_channel(channel, *interceptors)


class MetadataInterceptor(grpc.UnaryUnaryClientInterceptor,
                          grpc.UnaryStreamClientInterceptor,
                          grpc.StreamUnaryClientInterceptor,
                          grpc.StreamStreamClientInterceptor):
    """Adds the same metadata (an identity) to every call, of every kind."""

    def __init__(self, metadata: Iterable[tuple[str, str]]) -> None:
        self._metadata: Metadata = tuple(metadata)

    def _details(self, details: grpc.ClientCallDetails) -> CallDetails:
        given = tuple(details.metadata or ())
        return with_details(details, metadata=given + self._metadata)

    def intercept_unary_unary(self, continuation: Callable[..., Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any],
                               client_call_details: grpc.ClientCallDetails,
                               request: Any) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any],
                               client_call_details: grpc.ClientCallDetails,
                               request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details),
                            request_iterator)

    def intercept_stream_stream(self, continuation: Callable[..., Any],
                                client_call_details: grpc.ClientCallDetails,
                                request_iterator: Any) -> Any:
        return continuation(self._details(client_call_details),
                            request_iterator)


def _read(path: Path) -> bytes:
    """The bytes of ``path``; OSError naming it when it cannot be read or
    is empty (gRPC would say only that the handshake failed)."""
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror}") from error
    if not content:
        raise OSError(f"cannot read {path}: it is empty")
    return content

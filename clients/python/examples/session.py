#!/usr/bin/env python3
"""The README's example session, in Python: an impulse from a kommun to
Försäkringskassan's funktionsbrevlåda, from creation to acceptance.

1. A socialsekreterare at Halmstad's ekonomiskt bistånd (agency
   kommun-halmstad-eb) sends an impulse: no personal data, only whom to
   call back. Slussen offers it at once to the FK unit behind the
   funktionsbrevlåda for Halmstad. Sending it again with the same request
   id returns the same referral.
2. The FK unit (provider fk-lfc-halmstad) finds the held offer and
   accepts it.
3. The agency sees its referral accepted; the region's coordinator
   (samordning-halland) sees it with its history; another agency
   (kommun-laholm-eb) gets NOT_FOUND, as for a referral that does not
   exist.
4. An impulse whose kommun lies outside the region is refused with
   INVALID_ARGUMENT, and the BadRequest names the field.

Run it against ``./dev up`` (which loads the sample catalogue):

    PYTHONPATH=clients/python:build/python /usr/bin/python3 \\
        clients/python/examples/session.py --server 127.0.0.1:50051

or, against ``./dev up --tls``, with the certificates of ``./dev certs``:
``--certs var/certs``. Exits 1, saying what, when the broker answers
otherwise than the README says.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

import slussen
from slussen.v1 import (common_pb2, offer_pb2, offer_service_pb2,
                        offer_service_pb2_grpc, referral_pb2,
                        referral_service_pb2, referral_service_pb2_grpc)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TIMEOUT_SECONDS = 10.0

AGENCY = slussen.Identity(organisation="kommun-halmstad-eb", role="agency",
                          region="13", person="anna.b")
PROVIDER = slussen.Identity(organisation="fk-lfc-halmstad", role="provider")
COORDINATOR = slussen.Identity(organisation="samordning-halland",
                               role="coordinator", region="13")
OTHER_AGENCY = slussen.Identity(organisation="kommun-laholm-eb",
                                role="agency", region="13")


class SessionFailed(Exception):
    """The broker answered otherwise than the README says."""


class Session:
    """Channels to one broker, one per caller, by development identity or
    by the client certificates of a ``./dev certs`` directory."""

    def __init__(self, server: str, certs: str | None) -> None:
        self._server = server
        self._certs = certs
        self._channels: list[grpc.Channel] = []

    def channel(self, identity: slussen.Identity) -> grpc.Channel:
        """A channel on which ``identity`` calls."""
        if self._certs is None:
            channel = slussen.connect(self._server, identity)
        else:
            # The certificate names the caller (and the region).
            channel = slussen.connect(
                self._server,
                certificates=slussen.Certificates.from_directory(
                    self._certs, identity.role, identity.organisation),
                person=identity.person)
        self._channels.append(channel)
        return channel

    def close(self) -> None:
        """Closes every channel made."""
        for channel in self._channels:
            channel.close()


def local_time(timestamp: timestamp_pb2.Timestamp) -> str:
    """``timestamp`` in Europe/Stockholm, as slussctl prints it."""
    return timestamp.ToDatetime(tzinfo=STOCKHOLM).strftime(
        "%Y-%m-%d %H:%M:%S %Z")


def short(enum_type: EnumTypeWrapper, value: int, prefix: str) -> str:
    """An enum value's name without its type's prefix: OFFERED."""
    return enum_type.Name(value).removeprefix(prefix)


def print_referral(referral: referral_pb2.Referral) -> None:
    """The referral as slussctl's `referrals get` shows the essentials."""
    print(f"{referral.name}  "
          f"{short(referral_pb2.ReferralKind, referral.kind, 'REFERRAL_KIND_')}  "
          f"{short(referral_pb2.ReferralState, referral.state, 'REFERRAL_STATE_')}")
    print(f"  referring organisation  {referral.referring_organisation}")
    if referral.assigned_provider:
        print(f"  assigned to             {referral.assigned_provider}")
    if referral.current_offer:
        print(f"  live offer              {referral.current_offer}")
    actions = ", ".join(
        short(referral_pb2.Action, a, "ACTION_")
        for a in referral.allowed_actions)
    print(f"  allowed actions         {actions or '-'}")
    if referral.history:
        print("  history")
    for transition in referral.history:
        action = short(referral_pb2.Action, transition.action, "ACTION_")
        to_state = short(referral_pb2.ReferralState, transition.to_state,
                         "REFERRAL_STATE_")
        role = short(common_pb2.Role, transition.actor.role, "ROLE_").lower()
        print(f"    {local_time(transition.time)}  {action:<8} -> "
              f"{to_state:<9} by {transition.actor.organisation} ({role})")


def held_offers(offers: offer_service_pb2_grpc.OfferServiceStub
                ) -> Iterator[offer_pb2.Offer]:
    """Every held offer the caller may see, following every page."""
    request = offer_service_pb2.ListOffersRequest(
        parent="regions/-", states=[offer_pb2.OFFER_STATE_HELD])
    while True:
        response = offers.ListOffers(request, timeout=TIMEOUT_SECONDS)
        yield from response.offers
        if not response.next_page_token:
            return
        request.page_token = response.next_page_token


def impulse(kommun_code: str) -> referral_pb2.Referral:
    """The README's impulse: a call-back to Anna Berg at ekonomiskt
    bistånd about coordinated rehabilitation."""
    return referral_pb2.Referral(impulse=referral_pb2.Impulse(
        kommun_code=kommun_code,
        need_category=referral_pb2.NEED_CATEGORY_COORDINATED_REHABILITATION,
        call_back=common_pb2.ContactRoute(display_name="Anna Berg",
                                          unit="Ekonomiskt bistånd",
                                          phone="035-13 70 00")))


def expect(condition: bool, what: str) -> None:
    """Fails the session, saying ``what``, unless ``condition``."""
    if not condition:
        raise SessionFailed(what)


def run(session: Session, request_id: str) -> None:
    """The session; SessionFailed at the first surprise."""
    agency = referral_service_pb2_grpc.ReferralServiceStub(
        session.channel(AGENCY))

    print(f"== {AGENCY.organisation} sends an impulse "
          f"(request id {request_id})")
    create = referral_service_pb2.CreateReferralRequest(
        parent="regions/13", referral=impulse("1380"), request_id=request_id)
    referral = agency.CreateReferral(create, timeout=TIMEOUT_SECONDS)
    print_referral(referral)
    expect(referral.state == referral_pb2.REFERRAL_STATE_OFFERED,
           "the impulse was not offered at once")
    again = agency.CreateReferral(create, timeout=TIMEOUT_SECONDS)
    expect(again.name == referral.name,
           f"the same request id made a second referral, {again.name}")
    print(f"   sent again with the same request id: the same {again.name}")

    print(f"\n== {PROVIDER.organisation} accepts the held offer")
    offers = offer_service_pb2_grpc.OfferServiceStub(session.channel(PROVIDER))
    offer = next((o for o in held_offers(offers)
                  if o.referral == referral.name), None)
    if offer is None:
        raise SessionFailed(
            f"{PROVIDER.organisation} holds no offer of {referral.name}")
    accepted = offers.AcceptOffer(
        offer_service_pb2.AcceptOfferRequest(name=offer.name,
                                              request_id=f"{request_id}-accept"),
        timeout=TIMEOUT_SECONDS)
    state = short(offer_pb2.OfferState, accepted.state, "OFFER_STATE_")
    print(f"{accepted.name}  {state}")
    print(f"  referral          {accepted.referral}")
    print(f"  offering          {accepted.offering}")
    for reason in accepted.explanation.reasons:
        print(f"  why               {reason}")
    expect(accepted.state == offer_pb2.OFFER_STATE_ACCEPTED,
           f"the offer is {state}, not ACCEPTED")

    print(f"\n== {AGENCY.organisation} lists its referrals")
    listed = agency.ListReferrals(
        referral_service_pb2.ListReferralsRequest(parent="regions/13"),
        timeout=TIMEOUT_SECONDS)
    mine = [r for r in listed.referrals if r.name == referral.name]
    for r in listed.referrals:
        print(f"{r.name}  "
              f"{short(referral_pb2.ReferralState, r.state, 'REFERRAL_STATE_')}"
              f"  {local_time(r.create_time)}")
    expect(bool(mine) and mine[0].state == referral_pb2.REFERRAL_STATE_ACCEPTED,
           f"{referral.name} is not listed as ACCEPTED")

    print(f"\n== {COORDINATOR.organisation}, coordinator of region 13, "
          "looks at it")
    coordinator = referral_service_pb2_grpc.ReferralServiceStub(
        session.channel(COORDINATOR))
    seen = coordinator.GetReferral(
        referral_service_pb2.GetReferralRequest(name=referral.name),
        timeout=TIMEOUT_SECONDS)
    print_referral(seen)
    expect(seen.state == referral_pb2.REFERRAL_STATE_ACCEPTED,
           "the coordinator does not see it ACCEPTED")

    print(f"\n== {OTHER_AGENCY.organisation} asks for it")
    other = referral_service_pb2_grpc.ReferralServiceStub(
        session.channel(OTHER_AGENCY))
    error = refusal(lambda: other.GetReferral(
        referral_service_pb2.GetReferralRequest(name=referral.name),
        timeout=TIMEOUT_SECONDS))
    print(f"error: {error}")
    expect(error.code == grpc.StatusCode.NOT_FOUND,
           f"another agency got {error.code.name}, not NOT_FOUND")

    print(f"\n== {AGENCY.organisation} sends an impulse for kommun 1280 "
          "(Malmö, region 12) to region 13")
    error = refusal(lambda: agency.CreateReferral(
        referral_service_pb2.CreateReferralRequest(parent="regions/13",
                                                   referral=impulse("1280")),
        timeout=TIMEOUT_SECONDS))
    print(f"error: {error}")
    for violation in error.field_violations:
        print(f"  field {violation.field}: {violation.description}")
    expect(error.violation("referral.impulse.kommun_code") is not None,
           "the refusal does not name referral.impulse.kommun_code")


def refusal(call: Callable[[], object]) -> slussen.SlussenError:
    """The error ``call`` fails with; SessionFailed if it succeeds."""
    try:
        call()
    except grpc.RpcError as rpc_error:
        return slussen.error_from_rpc(rpc_error)
    raise SessionFailed("a call that should have been refused went through")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="127.0.0.1:50051",
                        help="the broker, host:port (127.0.0.1:50051)")
    parser.add_argument(
        "--certs", metavar="DIR",
        help="mutual TLS with the certificates of `./dev certs` in DIR "
        "(ca.pem, <role>-<org>.pem and .key); plaintext with development "
        "identities without it")
    parser.add_argument(
        "--request-id",
        help="the impulse's request id (a fresh one by default, so that "
        "the session runs again against the same broker)")
    args = parser.parse_args(argv)
    request_id = args.request_id or f"eb-py-{uuid.uuid4().hex[:12]}"
    session = Session(args.server, args.certs)
    try:
        run(session, request_id)
    except SessionFailed as failure:
        print(f"session failed: {failure}", file=sys.stderr)
        return 1
    except grpc.RpcError as rpc_error:
        print(f"session failed: {slussen.error_from_rpc(rpc_error)}",
              file=sys.stderr)
        return 1
    finally:
        session.close()
    print("\nThe session went as the README tells it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

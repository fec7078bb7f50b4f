// Who is calling: the organisation, its role and its region, and the
// gateway the call came through, if any.
//
// The service layer builds a Caller from the caller's verified identity
// (request metadata in development mode; a client certificate, or a
// gateway's certificate and the headers naming whom it acts for, under
// mutual TLS) and passes it to every core operation; the core never reads
// identity from a request message. A plain value: thread-compatible.
#ifndef SLUSSEN_BROKER_CORE_MODEL_CALLER_H_
#define SLUSSEN_BROKER_CORE_MODEL_CALLER_H_

#include <string>

#include "slussen/v1/common.pb.h"

namespace slussen::core {

struct Caller {
  // Organisation id, for example "fk-lfc-halmstad".
  std::string organisation;
  slussen::v1::Role role = slussen::v1::ROLE_UNSPECIFIED;
  // The caller's län code; required for coordinators, optional otherwise.
  std::string region;
  // Optional handle of the staff member, recorded with actions.
  std::string person;
  // The call's request id (x-request-id), for the audit trail.
  std::string request_id;
  // The name of the gateway (e.g. "web-1") that called on behalf of this
  // caller; empty for a direct call. Never an authority: the caller's
  // organisation and role decide what it may do, as for a direct call.
  std::string via;

  // As recorded in history, events and the audit trail: who, and through
  // which gateway.
  slussen::v1::Actor ToActor() const {
    slussen::v1::Actor actor;
    actor.set_organisation(organisation);
    actor.set_role(role);
    actor.set_person(person);
    actor.set_via(via);
    return actor;
  }
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_MODEL_CALLER_H_

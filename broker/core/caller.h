// Who is calling: the organisation, its role and its region.
//
// The service layer builds a Caller from the caller's verified identity
// (request metadata in development mode; a client certificate later) and
// passes it to every core operation; the core never reads identity from a
// request message. A plain value: thread-compatible.
#ifndef SLUSSEN_BROKER_CORE_CALLER_H_
#define SLUSSEN_BROKER_CORE_CALLER_H_

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

  slussen::v1::Actor ToActor() const {
    slussen::v1::Actor actor;
    actor.set_organisation(organisation);
    actor.set_role(role);
    actor.set_person(person);
    return actor;
  }
};

}  // namespace slussen::core

#endif  // SLUSSEN_BROKER_CORE_CALLER_H_

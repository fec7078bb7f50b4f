// The Connect protocol's unary JSON form over the API's descriptors: which
// path is which RPC, a request body as the RPC's message, a message as the
// answer, and a failed call as a Connect error.
//
//   POST /slussen.v1.ReferralService/CreateReferral
//   Content-Type: application/json
//   {"parent":"regions/13","referral":{...}}
//
// Nothing here is written per RPC: the methods come from the descriptors
// that the generated code registers (every service of package slussen.v1),
// so a new RPC is served as soon as the gateway is built with its proto.
// Bodies and answers use protobuf's canonical JSON mapping (lowerCamelCase
// names in answers; both spellings accepted in requests).
//
// A Connect error is {"code": "<code name>", "message": "...", "details":
// [{"type": "google.rpc.BadRequest", "value": "<base64>", "debug": {...}}]}
// with the HTTP status the Connect specification gives the code. The
// details are the broker's google.rpc.Status details (from the trailer
// grpc-status-details-bin), passed on unchanged; `debug` is their JSON
// form, for people and for programs that do not decode protobuf.
//
// Thread-safe: the table is immutable once built; the functions are pure.
#ifndef SLUSSEN_CLIENTS_WEB_CONNECT_H_
#define SLUSSEN_CLIENTS_WEB_CONNECT_H_

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace slussen::web {

// The unary RPCs of the API, by their HTTP path "/<service>/<method>".
class MethodTable {
 public:
  // Every unary method of every service in `files` (proto file names, as
  // ApiServiceFiles gives them) of the generated descriptor pool. Streaming
  // methods are left out (WatchEvents is served as Server-Sent Events, see
  // event_hub.h). A file the binary does not hold is skipped.
  static MethodTable FromGeneratedFiles(const std::vector<std::string>& files);

  // The method at `path`, or null.
  const google::protobuf::MethodDescriptor* Find(absl::string_view path) const;

  // Every method, ordered by path.
  std::vector<const google::protobuf::MethodDescriptor*> methods() const;

 private:
  std::map<std::string, const google::protobuf::MethodDescriptor*, std::less<>>
      by_path_;
};

// The API's service files ("slussen/v1/referral_service.proto", ...), as
// the build found them.
std::vector<std::string> ApiServiceFiles();

// "/slussen.v1.ReferralService/CreateReferral".
std::string PathOf(const google::protobuf::MethodDescriptor& method);

// A new, empty message of `descriptor`'s type.
std::unique_ptr<google::protobuf::Message> NewMessage(
    const google::protobuf::Descriptor& descriptor);

// `json` (an object; an empty body is taken as {}) as the binary protobuf
// of a `descriptor` message. INVALID_ARGUMENT saying what is wrong (unknown
// field, wrong type, not JSON) and naming the message type.
absl::StatusOr<std::string> JsonToBinary(
    const google::protobuf::Descriptor& descriptor, absl::string_view json);

// The binary protobuf `binary` of a `descriptor` message, in the canonical
// JSON mapping. INTERNAL if it is not one.
absl::StatusOr<std::string> BinaryToJson(
    const google::protobuf::Descriptor& descriptor, const std::string& binary);

// `json` (an object; an empty body is taken as {}) parsed into a new
// message of `descriptor`'s type. INVALID_ARGUMENT saying what is wrong
// (unknown field, wrong type, not JSON) and naming the message type.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ParseJson(
    const google::protobuf::Descriptor& descriptor, absl::string_view json);

// `message` in the canonical JSON mapping.
std::string ToJson(const google::protobuf::Message& message);

// "invalid_argument" for code 3, and so on; "unknown" for a number that is
// no gRPC code.
std::string ConnectCodeName(absl::StatusCode code);

// The HTTP status of a Connect error with `code`.
int HttpStatusOf(absl::StatusCode code);

// A Connect error: its HTTP status and JSON body.
struct ConnectError {
  int http_status = 500;
  std::string body;
};

// The Connect error of a call that failed with `code` and `message`;
// `details` is a serialized google.rpc.Status (grpc-status-details-bin) or
// empty. Details that cannot be read are left out, never guessed.
ConnectError ConnectErrorOf(absl::StatusCode code, absl::string_view message,
                            absl::string_view details = "");

// The same for an absl::Status; its payloads become the details, as the
// broker sends them.
ConnectError ConnectErrorOf(const absl::Status& status);

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_CONNECT_H_

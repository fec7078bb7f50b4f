// Messages to and from protobuf's canonical JSON mapping, by walking them
// with reflection: the gateway's answers, events and request bodies.
//
//   std::string json;
//   if (!AppendJson(referral, &json)) json = <protobuf's own printer>;
//   if (!ReadJson(body, &request)) <protobuf's own parser, and its error>;
//
// Why not protobuf's: protobuf 3.21 converts through a
// google.protobuf.Type per message type, copied on every conversion, and
// an object writer over a byte stream; that was a quarter of the gateway's
// CPU a call (BENCHMARKS.md), and 50 µs to read a referral's create.
//
// AppendJson writes the same bytes as protobuf's printer with its default
// options (lowerCamelCase names, fields with no value left out, 64-bit
// integers quoted, enums by name, bytes in base64). Where the two could
// differ it does not guess but answers false, and the caller uses
// protobuf's: a google.protobuf type other than Timestamp, Duration and
// FieldMask (Any, Struct, the wrappers), a string that is not UTF-8, a
// time or a duration out of range, a field mask path protobuf would
// rename otherwise. Map entries are written ordered by key (protobuf
// writes them in the order of the wire, which a map does not keep).
//
// ReadJson reads the common subset of what protobuf's parser accepts:
// objects of known fields (by JSON or proto name), strings, integers as
// numbers or quoted, true and false, enums by name, lists and maps with
// string keys, Timestamps in UTC ("...Z") and Durations. Anything else
// (null, floating point, bytes, enums by number, other google.protobuf
// types, an unknown field, a field twice or two of a oneof, invalid JSON)
// answers false, so that protobuf's parser reads it or says what is wrong
// with it, in its own words.
//
// web_proto_json_test checks both against protobuf byte for byte (the
// writer) and message for message (the reader) over random messages of
// every type of the API, and random damage to their JSON.
//
// Thread-safe: pure functions.
#ifndef SLUSSEN_CLIENTS_WEB_PROTO_JSON_H_
#define SLUSSEN_CLIENTS_WEB_PROTO_JSON_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/strings/string_view.h"

namespace slussen::web {

// Appends `message` as JSON to `out`. False, with `out` as it was, for a
// message this leaves to protobuf's printer (see above).
bool AppendJson(const google::protobuf::Message& message, std::string* out);

// Reads `json` into `message` (cleared first). False, with `message` in
// an unspecified state, for a text this leaves to protobuf's parser.
bool ReadJson(absl::string_view json, google::protobuf::Message* message);

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_PROTO_JSON_H_

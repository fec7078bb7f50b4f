// A message in protobuf's canonical JSON mapping, written by walking it with
// reflection: the gateway's answers and events.
//
//   std::string json;
//   if (!AppendJson(referral, &json)) json = <protobuf's own printer>;
//
// Why not protobuf's printer: protobuf 3.21 converts to JSON through a
// google.protobuf.Type per message type, copied on every conversion, and an
// object writer over a byte stream; that was a quarter of the gateway's CPU
// a call (BENCHMARKS.md). This writes the same bytes as protobuf's printer
// with its default options (lowerCamelCase names, fields with no value left
// out, 64-bit integers quoted, enums by name, bytes in base64), and
// web_json_writer_test checks that byte for byte against protobuf over
// random messages of every type of the API. Where the two could differ it
// does not guess but answers false, and the caller uses protobuf's: a
// google.protobuf type other than Timestamp, Duration and FieldMask (Any,
// Struct, the wrappers), a string that is not UTF-8, a time or a duration
// out of range, a field mask path protobuf would rename otherwise. Map
// entries are written ordered by key (protobuf writes them in the order of
// the wire, which a map does not keep).
//
// Thread-safe: a pure function of the message.
#ifndef SLUSSEN_CLIENTS_WEB_JSON_WRITER_H_
#define SLUSSEN_CLIENTS_WEB_JSON_WRITER_H_

#include <google/protobuf/message.h>

#include <string>

namespace slussen::web {

// Appends `message` as JSON to `out`. False, with `out` as it was, for a
// message this leaves to protobuf's printer (see above).
bool AppendJson(const google::protobuf::Message& message, std::string* out);

}  // namespace slussen::web

#endif  // SLUSSEN_CLIENTS_WEB_JSON_WRITER_H_

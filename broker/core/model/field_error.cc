#include "broker/core/model/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace slussen::core {
namespace {

constexpr size_t kMaxQuotedBytes = 64;

// Length of the UTF-8 sequence starting with `lead`, or 1 for a stray byte,
// so that cutting never splits a character.
size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Whether the `n` bytes at `s` are a lead byte and n - 1 continuation
// bytes (10xxxxxx): only then are they copied as one character, so that a
// broken sequence cannot carry a control character past the escaping.
bool WholeSequence(const char* s, size_t n) {
  if (n < 2) return false;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[k]) & 0xC0) != 0x80) return false;
  }
  return true;
}

}  // namespace

std::string QuoteValue(absl::string_view value) {
  std::string out = "\"";
  size_t i = 0;
  while (i < value.size()) {
    if (i >= kMaxQuotedBytes) {
      absl::StrAppend(&out, "...");
      break;
    }
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", absl::string_view(&value[i], 1));
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (const size_t n = Utf8SequenceLength(c);
               n <= value.size() - i && WholeSequence(value.data() + i, n)) {
      out.append(value.data() + i, n);
      i += n;
    } else {
      // Not UTF-8: a stray or broken byte, escaped on its own.
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
      ++i;
    }
  }
  out += "\"";
  return out;
}

absl::Status FieldViolation(absl::string_view field,
                            absl::string_view description) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field, " ", description));
  google::rpc::BadRequest bad_request;
  google::rpc::BadRequest::FieldViolation* violation =
      bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  status.SetPayload(kBadRequestTypeUrl,
                    absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t ms = absl::ToInt64Milliseconds(delay);
  retry.mutable_retry_delay()->set_seconds(ms / 1000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) *
                                         1000000);
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorInfoTypeUrl);
  google::rpc::ErrorInfo info;
  if (!payload.has_value() || !info.ParseFromString(std::string(*payload))) {
    return std::nullopt;
  }
  return info;
}

std::optional<google::rpc::BadRequest> BadRequestOf(
    const absl::Status& status) {
  // absl::optional: Debian's abseil does not alias it to std::optional.
  const auto payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() ||
      !bad_request.ParseFromString(std::string(*payload))) {
    return std::nullopt;
  }
  return bad_request;
}

absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          absl::string_view value) {
  return FieldViolation(field, absl::StrCat(rule, ", got ", QuoteValue(value)));
}

absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          int64_t value) {
  return FieldViolation(field, absl::StrCat(rule, ", got ", value));
}

absl::Status MissingField(absl::string_view field, absl::string_view rule) {
  return FieldViolation(field, rule.empty()
                                   ? std::string("is required")
                                   : absl::StrCat("is required: ", rule));
}

absl::Status InvalidFieldWithheld(absl::string_view field,
                                  absl::string_view rule) {
  return FieldViolation(field,
                        absl::StrCat(rule, " (value withheld: personal data)"));
}

}  // namespace slussen::core

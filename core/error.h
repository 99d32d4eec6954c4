// The closed vocabulary of failures Switchboard reports, and how each maps to the BBB API.
//
// Every ErrorCode has exactly one BBB messageKey (what API clients see in the FAILED envelope)
// and a default message worded as Scalelite/BBB word it. Admin-only codes (kInvalidArgument,
// kAlreadyExists, kUnauthorized, kForbidden) map to HTTP statuses in the admin API instead.
#pragma once

#include <string>
#include <string_view>

namespace sb {

enum class ErrorCode {
  kChecksumError,           // checksumError
  kMissingParamMeetingID,   // missingParamMeetingID
  kMissingParamFullName,    // missingParamFullName
  kMissingParamRecordID,    // missingParamRecordID
  kMissingParamPublish,     // missingParamPublish
  kMissingParameters,       // missingParameters (getRecordings without IDs, when filtered)
  kNotFound,                // notFound (no such meeting / server)
  kValidationError,         // validationError (bad parameter value or encoding)
  kUnsupportedRequest,      // unsupportedRequest (unknown call, wrong method)
  kUnsupportedContentType,  // unsupportedContentType
  kInternalError,           // internalError (transport failure to BBB and the like)
  kNoServerAvailable,       // internalError "Could not find any available servers."
  kServerUnavailable,       // serverUnavailable (meeting's server offline/disabled)
  kServerTagUnavailable,    // serverTagUnavailable
  kStoreUnavailable,        // internalError (state store unreachable)
  kNoRecordings,            // noRecordings (the text-track calls' unknown recording)
  kInvalidKind,             // invalidKind (putRecordingTextTrack)
  kInvalidLang,             // invalidLang (putRecordingTextTrack)
  kEmptyTextTrack,          // empty_uploaded_text_track (putRecordingTextTrack)
  kTextTrackFailed,         // upload_text_track_failed (putRecordingTextTrack)
  kInvalidArgument,         // admin: 400
  kAlreadyExists,           // admin: 409
  kUnauthorized,            // admin: 401
  kForbidden,               // admin: 403 (not allowed by the operator's settings or limits)
  kMaxConcurrent,           // maxConcurrent (a tenant's limit: Moodle shows it as such)
};

struct Error {
  ErrorCode code = ErrorCode::kInternalError;
  std::string message;

  // An error with the code's default message.
  static Error of(ErrorCode code);
  static Error of(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }
};

// The BBB messageKey for a code, e.g. "checksumError".
std::string_view messageKey(ErrorCode code);
// The default message, worded as Scalelite answers it.
std::string_view defaultMessage(ErrorCode code);

}  // namespace sb

#include "core/error.h"

namespace sb {

std::string_view messageKey(ErrorCode code) {
  switch (code) {
    case ErrorCode::kChecksumError:
      return "checksumError";
    case ErrorCode::kMissingParamMeetingID:
      return "missingParamMeetingID";
    case ErrorCode::kMissingParamFullName:
      return "missingParamFullName";
    case ErrorCode::kMissingParamRecordID:
      return "missingParamRecordID";
    case ErrorCode::kMissingParamPublish:
      return "missingParamPublish";
    case ErrorCode::kMissingParameters:
      return "missingParameters";
    case ErrorCode::kNotFound:
      return "notFound";
    case ErrorCode::kValidationError:
      return "validationError";
    case ErrorCode::kUnsupportedRequest:
      return "unsupportedRequest";
    case ErrorCode::kUnsupportedContentType:
      return "unsupportedContentType";
    case ErrorCode::kInternalError:
      return "internalError";
    case ErrorCode::kNoServerAvailable:
      return "internalError";
    case ErrorCode::kServerUnavailable:
      return "serverUnavailable";
    case ErrorCode::kServerTagUnavailable:
      return "serverTagUnavailable";
    case ErrorCode::kStoreUnavailable:
      return "internalError";
    case ErrorCode::kNoRecordings:
      return "noRecordings";
    case ErrorCode::kInvalidKind:
      return "invalidKind";
    case ErrorCode::kInvalidLang:
      return "invalidLang";
    case ErrorCode::kEmptyTextTrack:
      return "empty_uploaded_text_track";
    case ErrorCode::kTextTrackFailed:
      return "upload_text_track_failed";
    case ErrorCode::kInvalidArgument:
      return "invalidArgument";
    case ErrorCode::kAlreadyExists:
      return "alreadyExists";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kMaxConcurrent:
      return "maxConcurrent";
  }
  return "internalError";
}

std::string_view defaultMessage(ErrorCode code) {
  switch (code) {
    case ErrorCode::kChecksumError:
      return "You did not pass the checksum security check";
    case ErrorCode::kMissingParamMeetingID:
      return "You must specify a meeting ID for the meeting.";
    case ErrorCode::kMissingParamFullName:
      return "You must specify a name for the attendee who will be joining the meeting.";
    case ErrorCode::kMissingParamRecordID:
      return "You must specify a recordID.";
    case ErrorCode::kMissingParamPublish:
      return "You must specify a publish value true or false.";
    case ErrorCode::kMissingParameters:
      return "param meetingID or recordID must be included.";
    case ErrorCode::kNotFound:
      return "We could not find a meeting with that meeting ID - perhaps the meeting is not yet "
             "running?";
    case ErrorCode::kValidationError:
      return "Invalid parameter";
    case ErrorCode::kUnsupportedRequest:
      return "This request is not supported.";
    case ErrorCode::kUnsupportedContentType:
      return "POST request Content-Type is missing or unsupported";
    case ErrorCode::kInternalError:
      return "Unable to access server.";
    case ErrorCode::kNoServerAvailable:
      return "Could not find any available servers.";
    case ErrorCode::kServerUnavailable:
      return "The server for this meeting is disabled/offline.";
    case ErrorCode::kServerTagUnavailable:
      return "There is no available server with the required tag.";
    case ErrorCode::kStoreUnavailable:
      return "The meeting store is unavailable.";
    case ErrorCode::kNoRecordings:
      return "No recording found";
    case ErrorCode::kInvalidKind:
      return "Invalid kind parameter, expected='subtitles|captions'";
    case ErrorCode::kInvalidLang:
      return "Malformed lang param";
    case ErrorCode::kEmptyTextTrack:
      return "Empty uploaded text track.";
    case ErrorCode::kTextTrackFailed:
      return "Text track upload failed.";
    case ErrorCode::kInvalidArgument:
      return "Invalid argument";
    case ErrorCode::kAlreadyExists:
      return "Already exists";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kMaxConcurrent:
      return "The maximum number of concurrent meetings has been reached.";
  }
  return "Unknown error";
}

Error Error::of(ErrorCode code) { return Error{code, std::string(defaultMessage(code))}; }

}  // namespace sb

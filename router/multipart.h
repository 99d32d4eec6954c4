// multipart/form-data bodies (RFC 7578), as BBB's putRecordingTextTrack receives its file.
// Pure; the parts point into the body.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

struct FormPart {
  std::string name;      // Content-Disposition's name
  std::string fileName;  // its filename, "" when absent
  std::string contentType;
  std::string_view data;
};

// The boundary of a "multipart/form-data; boundary=…" Content-Type (quoted or not); nullopt
// when it is another type or has no usable boundary (1-70 characters).
std::optional<std::string> multipartBoundary(std::string_view contentType);

// The parts of `body`; nullopt when it is not a whole multipart body with `boundary` (no closing
// delimiter, a part without its blank line, more than `maxParts` parts).
std::optional<std::vector<FormPart>> parseMultipart(std::string_view body,
                                                    std::string_view boundary,
                                                    size_t maxParts = 32);

}  // namespace sb

// What putRecordingTextTrack reads from a client (core/recordings/text_tracks.h,
// router/multipart.h): the input is a multipart body (boundary "b"), each part's data a track
// file, and the first line a lang parameter. Whatever it holds: parts lie inside the body, a
// track converted is WebVTT, a language tag is letters, digits and '-' only.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/recordings/text_tracks.h"
#include "router/multipart.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto lang = sb::TextTracks::languageTag(input.substr(0, input.find('\n')));
  if (lang) {
    FUZZ_CHECK(!lang->empty() && lang->size() <= 35);
    for (char c : *lang) FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-');
    FUZZ_CHECK(sb::TextTracks::languageTag(*lang) == lang);
  }
  auto check = [](std::string_view file) {
    auto vtt = sb::TextTracks::webVttOf(file);
    if (vtt) FUZZ_CHECK(vtt->starts_with("WEBVTT"));
  };
  check(input);
  auto parts = sb::parseMultipart(input, "b");
  if (!parts) return 0;
  FUZZ_CHECK(parts->size() <= 32);
  for (const auto& part : *parts) {
    FUZZ_CHECK(part.data.data() >= input.data() &&
               part.data.data() + part.data.size() <= input.data() + input.size());
    check(part.data);
  }
  return 0;
}

// BBB's metadata.xml as an importer reads it from an archive (importer/metadata_xml.h): the input
// is the file's bytes. Whatever it holds, reading it answers a recording or a refusal; a
// recording read has a record ID fit for a folder name and one playback format; writing its
// metadata back (updateRecordings) and reading again gives the same metadata.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "importer/metadata_xml.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto read = sb::recordingFromMetadataXml(xml);
  if (!read) {
    FUZZ_CHECK(read.error().code == sb::ErrorCode::kValidationError);
    return 0;
  }
  FUZZ_CHECK(!read->recordId.empty());
  for (char c : read->recordId) {
    FUZZ_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  }
  FUZZ_CHECK(read->formats.size() == 1);
  FUZZ_CHECK(!read->formats[0].type.empty());
  // The folder's own ID is required to match.
  FUZZ_CHECK(sb::recordingFromMetadataXml(xml, read->recordId).ok());
  FUZZ_CHECK(!sb::recordingFromMetadataXml(xml, read->recordId + "x").ok());

  auto written = sb::metadataXmlOf(xml, *read);
  if (!written) return 0;  // a key that is no element name (refused, as said)
  auto again = sb::recordingFromMetadataXml(*written, read->recordId);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->metadata == read->metadata);
  return 0;
}

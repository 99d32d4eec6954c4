// A recording as one playback format's metadata.xml describes it (what BBB writes next to each
// published format: <format>/<record_id>/metadata.xml). Pure: text in, Recording out.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/recordings/recording.h"
#include "core/result.h"

namespace sb {

// The recording of `xml`, with the one playback format it describes. `recordId`, when not empty,
// is the ID of the folder the file was found in: a file naming another recording is refused.
// Every refusal is kValidationError with a message saying what is wrong ("metadata.xml: …").
//
// Read as BBB writes it: <id>, <state> ("available" is published or unpublished after
// <published>), <published>, <start_time>, <end_time>, <participants>, <raw_size>,
// <meeting id externalId name breakout>, <meta> (every child, in order: the create's meta_
// parameters and BBB's own), <breakout parentMeetingId>, <breakoutRooms><breakoutRoom>,
// <playback> (<format>, <link>, <processing_time>, <duration> in ms, <size>,
// <extensions><preview><images><image width height alt>url</image>).
Result<Recording> recordingFromMetadataXml(std::string_view xml, std::string_view recordId = {});

// `xml` (a metadata.xml) with its <meta> children replaced by `recording.metadata`, in order,
// and Switchboard's <protected>true</protected> child of <recording> present exactly when
// `recording.isProtected`, the rest untouched: what BBB's updateRecordings does to the file.
// Refused as above when `xml` is not one, or a key is no XML element name.
Result<std::string> metadataXmlOf(std::string_view xml, const Recording& recording);

}  // namespace sb

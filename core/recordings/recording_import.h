// How an imported recording joins what the store already has. Pure.
#pragma once

#include <optional>

#include "core/recordings/recording.h"

namespace sb {

// The recording to keep after importing `incoming` (read from an archive's metadata.xml files)
// when the store holds `existing` under the same record ID:
// - formats: `incoming`'s, plus `existing`'s formats that `incoming` does not carry (a BBB server
//   may send each format once it is processed);
// - state: `existing`'s once it was published, unpublished or deleted (an operator's or a
//   frontend's decision outlives a re-import), else what BBB wrote (processing states become
//   published), with published made unpublished when `importUnpublished` (Scalelite's
//   RECORDING_IMPORT_UNPUBLISHED);
// - metadata, tenant, protection and text tracks: `existing`'s (updateRecordings changes them,
// BBB's copy is
//   older); a new recording is protected when `protectNew` (PROTECTED_RECORDINGS_ENABLED);
// - everything else: `incoming`'s.
Recording mergeImportedRecording(const std::optional<Recording>& existing, Recording incoming,
                                 bool importUnpublished, bool protectNew = false);

}  // namespace sb

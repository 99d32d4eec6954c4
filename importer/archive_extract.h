// Unpacks a recording archive (tar, plain or compressed with gzip, bzip2, xz or zstd) into a
// staging folder, streaming: memory stays at libarchive's block size whatever the archive's
// size. Only regular files and folders come out. Whatever could write outside the staging
// folder or plant something other than data is refused before a byte of it is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace sb {

struct ExtractLimits {
  uint64_t maxBytes = 64ULL << 30;  // the files' sizes together
  size_t maxEntries = 200'000;
  size_t maxDepth = 16;  // path components of one entry
};

struct ExtractedArchive {
  uint64_t bytes = 0;  // file contents written
  size_t files = 0;
};

// Unpacks `archive` into the existing, empty folder `into`. Refused (kValidationError, the
// message says which entry and why): not an archive or a corrupt one, an absolute path or one
// with "..", a symbolic or hard link, a device, FIFO or socket, an entry twice, past the limits.
// Failing to write (a full disk: kInternalError, "no space left on device") stops at once.
// On failure `into` may hold part of the archive: the caller removes it.
Result<ExtractedArchive> extractArchive(const std::string& archive, const std::string& into,
                                        const ExtractLimits& limits);

}  // namespace sb

// What the importer's parts share for files: failures that say why, small files read whole,
// files replaced atomically, and the retry schedule of failed imports and callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

#include "core/result.h"

namespace sb {

// kInternalError "<what>: <the system's reason>".
Error ioFailure(const std::string& what, int err);
Error ioFailure(const std::string& what, const std::error_code& ec);

// The file at `path`, read whole. kNotFound when there is none, kValidationError when it is
// larger than `maxBytes` (never read), kInternalError when it cannot be read.
Result<std::string> readSmallFile(const std::string& path, uintmax_t maxBytes);

// Replaces the file at `path` with `text` through a temporary file, flushed, and a rename:
// readers see the old file or the new one, never a part, even across a crash. `mode`: the new
// file's permissions (0600 for a file that holds secrets).
Status replaceFile(const std::string& path, const std::string& text, unsigned mode = 0644);

// Unix time in milliseconds.
int64_t unixNowMs();

// How long to wait after `failures` failed attempts (>= 1): `first`, twice as long after each
// further failure, at most `longest`.
std::chrono::milliseconds retryWait(std::chrono::milliseconds first, int failures,
                                    std::chrono::milliseconds longest);

}  // namespace sb

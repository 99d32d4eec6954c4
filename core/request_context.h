// Who is calling: resolved once per BBB API request by router/ (from the host or path, and the
// checksum that verified) and handed to every use case in core/, which never reads HTTP.
#pragma once

#include <optional>
#include <string>

#include "core/checksum.h"

namespace sb {

struct RequestContext {
  // The tenant the call belongs to; "" for the single-tenant default.
  std::string tenant;
  // secretId() of the secret that signed the call ("" when none did: calls without a checksum):
  // a create's callbacks are signed later with the same secret.
  std::string secretId;
  // The algorithm of the call's checksum (nullopt when it had none).
  std::optional<ChecksumAlgorithm> algorithm;
  // Where clients and BBB servers reach the routers ("https://host"): playback URLs and relayed
  // callbacks point there.
  std::string origin;
};

}  // namespace sb

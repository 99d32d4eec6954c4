// Signed BBB API URLs: <server api base><call>?<params>&checksum=<H(call + params + secret)>.
#pragma once

#include <string>
#include <string_view>

#include "core/checksum.h"
#include "core/query_string.h"
#include "core/server.h"

namespace sb {

std::string signedApiUrl(const Server& server, std::string_view call, const QueryString& params,
                         ChecksumAlgorithm algorithm);

// The API root of a server (for the version), signed over an empty call and query.
std::string signedApiRootUrl(const Server& server, ChecksumAlgorithm algorithm);

}  // namespace sb

// gzip for large answers (getMeetings over a big pool is megabytes of XML), when the client says
// it accepts it, as BBB's nginx and Scalelite's do. Clients that do not ask get plain text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sb {

// Whether an Accept-Encoding header value (RFC 9110 §12.5.3) accepts gzip: "gzip" or "x-gzip",
// or "*" when gzip is not named, with a q-value above 0. Case-insensitive; "" = no.
bool acceptsGzip(std::string_view acceptEncoding);

// `text` as a gzip stream (zlib's fastest level); nullopt when zlib fails (out of memory).
std::optional<std::string> gzipCompress(std::string_view text);

}  // namespace sb

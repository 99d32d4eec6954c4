// JSON Web Tokens signed with a shared secret (RFC 7519, JWS compact form), the two algorithms
// frontends verify: HS256 (recording-ready callbacks, protected-recording links and cookies)
// and HS512 (Moodle's analytics callback). Pure; OpenSSL's HMAC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sb {

enum class JwtAlgorithm { kHs256, kHs512 };

// `claims` signed with `secret`: header.payload.signature, each base64url without padding.
std::string jwtSign(const nlohmann::json& claims, std::string_view secret,
                    JwtAlgorithm algorithm = JwtAlgorithm::kHs256);

// The claims of `token` when its header names `algorithm` (no other, never "none") and its
// signature is `secret`'s (compared in constant time), and its claims are a JSON object;
// nullopt otherwise. Expiry is the caller's: claims are returned as they are.
std::optional<nlohmann::json> jwtVerify(std::string_view token, std::string_view secret,
                                        JwtAlgorithm algorithm = JwtAlgorithm::kHs256);

// RFC 4648 base64url without padding, and back (nullopt for anything else).
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace sb

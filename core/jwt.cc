#include "core/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace sb {
namespace {

const char* headerOf(JwtAlgorithm algorithm) {
  return algorithm == JwtAlgorithm::kHs512 ? R"({"alg":"HS512","typ":"JWT"})"
                                           : R"({"alg":"HS256","typ":"JWT"})";
}

std::string mac(std::string_view input, std::string_view secret, JwtAlgorithm algorithm) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(algorithm == JwtAlgorithm::kHs512 ? EVP_sha512() : EVP_sha256(), secret.data(),
       static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string padded(text);
  for (char& c : padded) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // standard base64, not base64url
    }
  }
  const size_t padding = (4 - padded.size() % 4) % 4;
  padded.append(padding, '=');
  std::string out(3 * padded.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(padded.data()),
                          static_cast<int>(padded.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);  // EVP_DecodeBlock counts padding as zeros
  return out;
}

std::string jwtSign(const nlohmann::json& claims, std::string_view secret, JwtAlgorithm algorithm) {
  const std::string input =
      base64UrlEncode(headerOf(algorithm)) + "." +
      base64UrlEncode(claims.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return input + "." + base64UrlEncode(mac(input, secret, algorithm));
}

std::optional<nlohmann::json> jwtVerify(std::string_view token, std::string_view secret,
                                        JwtAlgorithm algorithm) {
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto header = base64UrlDecode(token.substr(0, first));
  auto payload = base64UrlDecode(token.substr(first + 1, second - first - 1));
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!header || !payload || !signature) return std::nullopt;
  auto h = nlohmann::json::parse(*header, nullptr, false);
  const char* wanted = algorithm == JwtAlgorithm::kHs512 ? "HS512" : "HS256";
  if (!h.is_object() || !h.contains("alg") || h["alg"] != wanted) return std::nullopt;
  const std::string expected = mac(token.substr(0, second), secret, algorithm);
  if (signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

}  // namespace sb

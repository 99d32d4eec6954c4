#include "core/checksum.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace sb {
namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
using FetchedMd = std::unique_ptr<EVP_MD, MdFree>;

// Fetched once per process: with OpenSSL 3, EVP_sha1() and friends are legacy handles that
// EVP_DigestInit_ex resolves through the provider store (a lookup under a lock) on every call,
// which cost more than hashing a join's query. A fetched EVP_MD skips that.
const EVP_MD* digestFor(ChecksumAlgorithm algorithm) {
  static const FetchedMd kSha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  static const FetchedMd kSha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const FetchedMd kSha384(EVP_MD_fetch(nullptr, "SHA384", nullptr));
  static const FetchedMd kSha512(EVP_MD_fetch(nullptr, "SHA512", nullptr));
  switch (algorithm) {
    case ChecksumAlgorithm::kSha1:
      return kSha1 ? kSha1.get() : EVP_sha1();
    case ChecksumAlgorithm::kSha256:
      return kSha256 ? kSha256.get() : EVP_sha256();
    case ChecksumAlgorithm::kSha384:
      return kSha384 ? kSha384.get() : EVP_sha384();
    case ChecksumAlgorithm::kSha512:
      return kSha512 ? kSha512.get() : EVP_sha512();
  }
  return EVP_sha256();
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// One context per thread, reused: creating one per call costs more than hashing a query.
EVP_MD_CTX* threadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

// Removes every occurrence, as Java's String.replace in bbb-web does.
// Removes every non-overlapping occurrence of `what`, left to right, in one pass (linear in the
// size of `s`: a query of millions of "&checksum=a" must not cost quadratic time). Same result as
// bbb-web's String.replace: text joined by a removal is not searched again.
void removeAll(std::string& s, const std::string& what) {
  size_t pos = s.find(what);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t from = 0;
  for (; pos != std::string::npos; pos = s.find(what, from)) {
    out.append(s, from, pos - from);
    from = pos + what.size();
  }
  out.append(s, from, std::string::npos);
  s = std::move(out);
}

}  // namespace

std::optional<ChecksumAlgorithm> algorithmForChecksumLength(size_t length) {
  switch (length) {
    case 40:
      return ChecksumAlgorithm::kSha1;
    case 64:
      return ChecksumAlgorithm::kSha256;
    case 96:
      return ChecksumAlgorithm::kSha384;
    case 128:
      return ChecksumAlgorithm::kSha512;
    default:
      return std::nullopt;
  }
}

std::optional<ChecksumAlgorithm> parseChecksumAlgorithm(std::string_view name) {
  std::string n;
  for (char c : name) {
    if (c != '-' && c != '_' && c != ' ')
      n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (n == "sha1") return ChecksumAlgorithm::kSha1;
  if (n == "sha256") return ChecksumAlgorithm::kSha256;
  if (n == "sha384") return ChecksumAlgorithm::kSha384;
  if (n == "sha512") return ChecksumAlgorithm::kSha512;
  return std::nullopt;
}

std::string_view algorithmName(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kSha1:
      return "sha1";
    case ChecksumAlgorithm::kSha256:
      return "sha256";
    case ChecksumAlgorithm::kSha384:
      return "sha384";
    case ChecksumAlgorithm::kSha512:
      return "sha512";
  }
  return "sha256";
}

namespace {

// The digest of callName + query + secret as lowercase hex in `out` (at least
// 2 * EVP_MAX_MD_SIZE chars); returns its length.
size_t checksumInto(ChecksumAlgorithm algorithm, std::string_view callName, std::string_view query,
                    std::string_view secret, char* out) {
  EVP_MD_CTX* ctx = threadContext();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx, digestFor(algorithm), nullptr);
  EVP_DigestUpdate(ctx, callName.data(), callName.size());
  EVP_DigestUpdate(ctx, query.data(), query.size());
  EVP_DigestUpdate(ctx, secret.data(), secret.size());
  EVP_DigestFinal_ex(ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xF];
  }
  return 2 * static_cast<size_t>(len);
}

}  // namespace

std::string computeChecksum(ChecksumAlgorithm algorithm, std::string_view callName,
                            std::string_view query, std::string_view secret) {
  char hex[2 * EVP_MAX_MD_SIZE];
  size_t len = checksumInto(algorithm, callName, query, secret, hex);
  return std::string(hex, len);
}

std::string removeChecksumParam(std::string_view rawQuery, std::string_view checksum) {
  std::string q(rawQuery);
  std::string cs(checksum);
  removeAll(q, "&checksum=" + cs);
  removeAll(q, "checksum=" + cs + "&");
  removeAll(q, "checksum=" + cs);
  return q;
}

ChecksumVerifier::ChecksumVerifier(std::vector<std::string> secrets,
                                   std::set<ChecksumAlgorithm> allowed)
    : secrets_(std::move(secrets)), allowed_(std::move(allowed)) {
  secrets_.erase(std::remove(secrets_.begin(), secrets_.end(), std::string()), secrets_.end());
  for (const auto& s : secrets_) secretIds_.push_back(secretId(s));
  if (allowed_.empty()) {
    allowed_ = {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha384,
                ChecksumAlgorithm::kSha512};
  }
}

const std::string& ChecksumVerifier::idOf(const std::string* secret) const {
  return secretIds_.at(static_cast<size_t>(secret - secrets_.data()));
}

const std::string* ChecksumVerifier::signer(std::string_view callName,
                                            std::string_view rawQueryWithoutChecksum,
                                            std::string_view checksum) const {
  auto algorithm = algorithmForChecksumLength(checksum.size());
  if (!algorithm || !allowed_.contains(*algorithm)) return nullptr;
  // Fixed buffers: this runs for every API call.
  char provided[2 * EVP_MAX_MD_SIZE];
  // ASCII lower case, inline (a hex digest is ASCII; anything else fails the comparison anyway).
  std::transform(checksum.begin(), checksum.end(), provided,
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  const std::string* match = nullptr;
  // Every secret is tried (no early exit) so timing does not reveal which one matched.
  for (const auto& secret : secrets_) {
    char expected[2 * EVP_MAX_MD_SIZE];
    size_t len = checksumInto(*algorithm, callName, rawQueryWithoutChecksum, secret, expected);
    const bool same = len == checksum.size() && CRYPTO_memcmp(expected, provided, len) == 0;
    if (same && !match) match = &secret;
  }
  return match;
}

std::string derivedKey(std::string_view secret, std::string_view purpose) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string secretId(std::string_view secret) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string key = derivedKey(secret, "switchboard secret id");
  std::string id;
  for (size_t i = 0; i < 8; ++i) {
    id += kHex[static_cast<unsigned char>(key[i]) >> 4];
    id += kHex[static_cast<unsigned char>(key[i]) & 15];
  }
  return id;
}

const std::string* secretWithId(const std::vector<std::string>& secrets, std::string_view id) {
  for (const auto& s : secrets) {
    if (secretId(s) == id) return &s;
  }
  return nullptr;
}

ChecksumAlgorithm ChecksumVerifier::strongest() const { return *allowed_.rbegin(); }

bool secretEquals(std::string_view given, std::string_view expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool bearerIs(std::string_view authorization, std::string_view token) {
  static constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return false;
  return secretEquals(authorization.substr(kBearer.size()), token);
}

}  // namespace sb

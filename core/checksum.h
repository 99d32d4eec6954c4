// BBB API checksums: hex(H(callName + query + secret)), H chosen by the checksum's length.
//
// Verification follows bbb-web exactly: the checksum is removed from the raw query by plain
// string replacement ("&checksum=X", then "checksum=X&", then "checksum=X"), the algorithm is
// picked by length (40 sha1, 64 sha256, 96 sha384, 128 sha512) and must be allowed, and the
// comparison is constant-time and case-insensitive. Several secrets may be accepted (rotation).
// Thread-safety: ChecksumVerifier is immutable after construction; safe to share.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

enum class ChecksumAlgorithm { kSha1, kSha256, kSha384, kSha512 };

std::optional<ChecksumAlgorithm> algorithmForChecksumLength(size_t length);
// "sha1" / "SHA-256" / "sha512" ... (case- and dash-insensitive); nullopt when unknown.
std::optional<ChecksumAlgorithm> parseChecksumAlgorithm(std::string_view name);
std::string_view algorithmName(ChecksumAlgorithm algorithm);

// Lower-case hex digest of callName + query + secret.
std::string computeChecksum(ChecksumAlgorithm algorithm, std::string_view callName,
                            std::string_view query, std::string_view secret);

// The raw query with the checksum parameter removed, by bbb-web's replacement rule.
std::string removeChecksumParam(std::string_view rawQuery, std::string_view checksum);

// Whether `given` equals the secret `expected`, in time independent of where they differ; never
// true for an empty `expected` (an unset secret opens nothing).
bool secretEquals(std::string_view given, std::string_view expected);
// Whether an Authorization header is "Bearer <token>" (secretEquals on the token).
bool bearerIs(std::string_view authorization, std::string_view token);

class ChecksumVerifier {
 public:
  // `secrets` must not be empty (an empty verifier rejects everything). `allowed` empty means all.
  ChecksumVerifier(std::vector<std::string> secrets, std::set<ChecksumAlgorithm> allowed);

  // True when `checksum` signs callName + rawQueryWithoutChecksum with one of the secrets.
  bool verify(std::string_view callName, std::string_view rawQueryWithoutChecksum,
              std::string_view checksum) const {
    return signer(callName, rawQueryWithoutChecksum, checksum) != nullptr;
  }
  // The secret `checksum` was made with (the first such; it lives as long as the verifier),
  // nullptr when none.
  const std::string* signer(std::string_view callName, std::string_view rawQueryWithoutChecksum,
                            std::string_view checksum) const;

  // secretId() of a secret signer() returned (computed once, at construction).
  const std::string& idOf(const std::string* secret) const;

  // The strongest allowed algorithm (used to sign calls this process makes itself).
  ChecksumAlgorithm strongest() const;

 private:
  std::vector<std::string> secrets_;
  std::vector<std::string> secretIds_;  // secretId() of each of secrets_
  std::set<ChecksumAlgorithm> allowed_;
};

// A secret's public name: 16 hex digits of a hash, so a callback can be signed later with the
// secret that signed the create without the secret being written anywhere.
std::string secretId(std::string_view secret);
// The secret of `secrets` named `id`; nullptr when none is (it was rotated out).
const std::string* secretWithId(const std::vector<std::string>& secrets, std::string_view id);
// A key for `purpose` derived from `secret` (HMAC-SHA256), so the shared secret itself never
// signs anything but checksums.
std::string derivedKey(std::string_view secret, std::string_view purpose);

}  // namespace sb

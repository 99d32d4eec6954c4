// The BBB API's query string and its checksum: the input is a raw query as a frontend sends it
// ("name=Demo+Room&meetingID=m1&checksum=..."). Covers QueryString::parse, urlDecode/urlEncode,
// isValidUtf8, removeChecksumParam and ChecksumVerifier::verify (core/query_string.h,
// core/checksum.h). The full request path (BbbApi's admission, which finds the checksum in the raw
// query) is bbb_api_fuzz.cc.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/checksum.h"
#include "core/query_string.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr std::string_view kSecret = "fuzz-secret";

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The call name BBB signs along with the query, picked by the input's length (no separate field,
// so the seeds stay plain queries).
std::string_view callFor(std::string_view raw) {
  static constexpr std::string_view kCalls[] = {
      "create", "join", "end", "getMeetings", "getMeetingInfo", "isMeetingRunning", ""};
  return kCalls[raw.size() % std::size(kCalls)];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  using sb::ChecksumAlgorithm;

  // Parsing: either an error, or parameters that survive encode() and a second parse unchanged.
  auto parsed = sb::QueryString::parse(raw);
  std::string checksum;
  if (parsed) {
    for (const auto& p : parsed->params()) {
      FUZZ_CHECK(sb::isValidUtf8(p.name) && sb::isValidUtf8(p.value));
      FUZZ_CHECK(p.name.find('\0') == std::string::npos);
      FUZZ_CHECK(sb::urlDecode(sb::urlEncode(p.value)) == p.value);
      FUZZ_CHECK(parsed->get(p.name).has_value());
    }
    auto again = sb::QueryString::parse(parsed->encode());
    FUZZ_CHECK(again && again->params() == parsed->params());
    checksum = std::string(parsed->get("checksum").value_or(""));
    sb::QueryString edited = *parsed;
    edited.remove("checksum");
    FUZZ_CHECK(!edited.has("checksum"));
    edited.set("meetingID", "fuzz");
    FUZZ_CHECK(edited.get("meetingID") == "fuzz");
  }
  // Decoding one component never needs a valid whole query.
  if (auto decoded = sb::urlDecode(raw)) FUZZ_CHECK(decoded->size() <= raw.size());

  // bbb-web's removal rule only ever removes.
  const std::string withoutChecksum = sb::removeChecksumParam(raw, checksum);
  FUZZ_CHECK(withoutChecksum.size() <= raw.size());

  // A checksum is accepted only when it is the digest with the secret, whatever the case.
  const std::string_view call = callFor(raw);
  const sb::ChecksumVerifier verifier({std::string(kSecret)}, {});
  if (!checksum.empty() && verifier.verify(call, withoutChecksum, checksum)) {
    auto algorithm = sb::algorithmForChecksumLength(checksum.size());
    FUZZ_CHECK(algorithm.has_value());
    FUZZ_CHECK(equalsIgnoringCase(checksum,
                                  sb::computeChecksum(*algorithm, call, withoutChecksum, kSecret)));
  }
  // The true digest of any query is accepted, the same with another secret is not, and a verifier
  // restricted to SHA-256 refuses SHA-1.
  const std::string sha1 =
      sb::computeChecksum(ChecksumAlgorithm::kSha1, call, withoutChecksum, kSecret);
  const std::string sha512 =
      sb::computeChecksum(ChecksumAlgorithm::kSha512, call, withoutChecksum, kSecret);
  FUZZ_CHECK(verifier.verify(call, withoutChecksum, sha1));
  FUZZ_CHECK(verifier.verify(call, withoutChecksum, sha512));
  const sb::ChecksumVerifier other({"another-secret"}, {});
  FUZZ_CHECK(!other.verify(call, withoutChecksum, sha1));
  const sb::ChecksumVerifier sha256Only({std::string(kSecret)}, {ChecksumAlgorithm::kSha256});
  FUZZ_CHECK(!sha256Only.verify(call, withoutChecksum, sha1));
  // The raw query itself, taken as a checksum (any length, any bytes), is simply refused.
  FUZZ_CHECK(!verifier.verify(call, withoutChecksum, raw) ||
             sb::algorithmForChecksumLength(raw.size()).has_value());
  (void)sb::parseChecksumAlgorithm(raw);
  return 0;
}

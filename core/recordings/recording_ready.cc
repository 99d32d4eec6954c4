#include "core/recordings/recording_ready.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

namespace sb {
namespace {

// RFC 7515's base64url: base64 with '-' and '_', no padding.
std::string base64Url(std::string_view bytes) {
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

}  // namespace

void keepRecordingReadyUrl(QueryString& params) {
  std::string url;
  for (std::string_view name : kRecordingReadyParams) {
    auto v = params.get(name);
    if (url.empty() && v && !v->empty()) url = std::string(*v);
    params.remove(name);
  }
  params.remove(kSwitchboardRecordingReadyParam);  // never the client's own
  if (!url.empty()) params.append(kSwitchboardRecordingReadyParam, url);
}

std::string recordingReadyJwt(std::string_view meetingId, std::string_view recordId,
                              std::string_view secret) {
  const std::string header = base64Url(R"({"alg":"HS256","typ":"JWT"})");
  const std::string payload = base64Url(nlohmann::json{
      {"meeting_id", std::string(meetingId)},
      {"record_id", std::string(recordId)}}.dump());
  const std::string signingInput = header + "." + payload;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int macLength = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signingInput.data()), signingInput.size(), mac,
       &macLength);
  return signingInput + "." +
         base64Url(std::string_view(reinterpret_cast<const char*>(mac), macLength));
}

}  // namespace sb

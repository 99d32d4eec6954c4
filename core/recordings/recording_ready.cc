#include "core/recordings/recording_ready.h"

#include "core/checksum.h"
#include "core/jwt.h"

namespace sb {

void keepCallbackUrls(QueryString& params, const CallbackRelaying& relaying) {
  std::string url;
  for (std::string_view name : kRecordingReadyParams) {
    auto v = params.get(name);
    if (url.empty() && v && !v->empty()) url = std::string(*v);
    params.remove(name);
  }
  params.remove(kSwitchboardRecordingReadyParam);  // never the client's own
  params.remove(kSecretIdParam);
  bool kept = false;
  if (!url.empty()) {
    params.append(kSwitchboardRecordingReadyParam, url);
    kept = true;
  }
  auto analytics = params.get(kAnalyticsCallbackParam);
  if (analytics && !analytics->empty() && !relaying.origin.empty() && !relaying.relayKey.empty()) {
    const std::string token = analyticsRelayToken(
        AnalyticsTarget{std::string(*analytics), relaying.secretId, relaying.tenant},
        relaying.relayKey);
    params.set(kAnalyticsCallbackParam,
               relaying.origin + std::string(kAnalyticsRelayPath) + "?target=" + token);
    kept = true;
  }
  if (kept && !relaying.secretId.empty()) params.append(kSecretIdParam, relaying.secretId);
}

std::string recordingReadyJwt(std::string_view meetingId, std::string_view recordId,
                              std::string_view secret) {
  return jwtSign({{"meeting_id", std::string(meetingId)}, {"record_id", std::string(recordId)}},
                 secret, JwtAlgorithm::kHs256);
}

std::string analyticsRelayKey(std::string_view firstSecret) {
  return derivedKey(firstSecret, "switchboard analytics relay");
}

std::string analyticsRelayToken(const AnalyticsTarget& target, std::string_view key) {
  nlohmann::json claims = {{"use", "analytics"}, {"url", target.url}, {"sid", target.secretId}};
  if (!target.tenant.empty()) claims["tn"] = target.tenant;
  return jwtSign(claims, key);
}

std::optional<AnalyticsTarget> readAnalyticsRelayToken(std::string_view token,
                                                       std::string_view key) {
  auto claims = jwtVerify(token, key);
  if (!claims) return std::nullopt;
  const auto& c = *claims;
  if (!c.contains("use") || c["use"] != "analytics" || !c.contains("url") ||
      !c["url"].is_string() || !c.contains("sid") || !c["sid"].is_string()) {
    return std::nullopt;
  }
  std::string tenant;
  if (c.contains("tn") && c["tn"].is_string()) tenant = c["tn"].get<std::string>();
  return AnalyticsTarget{c["url"].get<std::string>(), c["sid"].get<std::string>(), tenant};
}

std::string analyticsAuthorization(std::string_view secret, int64_t nowMs) {
  return "Bearer " + jwtSign({{"exp", nowMs / 1000 + 24 * 3600}}, secret, JwtAlgorithm::kHs512);
}

}  // namespace sb

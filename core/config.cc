#include "core/config.h"

#include "core/balancing/strategy_factory.h"

#include <arpa/inet.h>  // inet_pton/inet_ntop: text <-> address, no I/O

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace sb {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on any of `separators`, trims blanks around items, drops empty items.
std::vector<std::string> split(const std::string& text, const std::string& separators) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (separators.find(c) != std::string::npos) {
      if (auto t = trim(cur); !t.empty()) out.push_back(t);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (auto t = trim(cur); !t.empty()) out.push_back(t);
  return out;
}

Error badValue(const std::string& name, const std::string& value, const char* expected) {
  return Error::of(ErrorCode::kInvalidArgument,
                   name + "=" + value + " is not valid: expected " + expected);
}

// Reads an integer variable in [min, max] into `out`; leaves it alone when unset.
Status readInt(const EnvLookup& env, const std::string& name, long min, long max, long& out) {
  auto v = env(name);
  if (!v || v->empty()) return Status::Ok();
  char* end = nullptr;
  long n = std::strtol(v->c_str(), &end, 10);
  if (*end != '\0' || n < min || n > max) {
    return badValue(
        name, *v,
        ("an integer from " + std::to_string(min) + " to " + std::to_string(max)).c_str());
  }
  out = n;
  return Status::Ok();
}

Status readSeconds(const EnvLookup& env, const std::string& name, long min, long max,
                   std::chrono::milliseconds& out) {
  auto v = env(name);
  if (!v || v->empty()) return Status::Ok();
  char* end = nullptr;
  double s = std::strtod(v->c_str(), &end);
  if (*end != '\0' || !std::isfinite(s) || s < static_cast<double>(min) ||
      s > static_cast<double>(max)) {
    return badValue(name, *v, "a number of seconds");
  }
  out = std::chrono::milliseconds(static_cast<long>(s * 1000));
  return Status::Ok();
}

bool truthy(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string s;
  for (char c : *v) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on";
}

// "a=1,b=x y" -> parameters; values may be percent-encoded.
Status readParamList(const EnvLookup& env, const std::string& name, QueryString& out) {
  auto v = env(name);
  if (!v || v->empty()) return Status::Ok();
  QueryString q;
  for (const auto& item : split(*v, ",")) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return badValue(name, *v, "name=value,name=value");
    auto value = urlDecode(item.substr(eq + 1));
    if (!value) return badValue(name, *v, "name=value,name=value");
    q.append(item.substr(0, eq), *value);
  }
  out = q;
  return Status::Ok();
}

// Reads a ','-separated list of networks into `out`; leaves it alone when unset.
Status readNets(const EnvLookup& env, const std::string& name, std::vector<IpNet>& out) {
  auto v = env(name);
  if (!v || v->empty()) return Status::Ok();
  std::vector<IpNet> nets;
  for (const auto& item : split(*v, ",")) {
    auto net = parseIpNet(item);
    if (!net) return badValue(name, *v, "networks such as 127.0.0.0/8,::1/128");
    nets.push_back(*net);
  }
  out = std::move(nets);
  return Status::Ok();
}

Status readPositive(const EnvLookup& env, const std::string& name, double max, double& out) {
  auto v = env(name);
  if (!v || v->empty()) return Status::Ok();
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (*end != '\0' || !std::isfinite(d) || d <= 0 || d > max) {
    return badValue(name, *v, ("a number > 0 and <= " + std::to_string(int(max))).c_str());
  }
  out = d;
  return Status::Ok();
}

Status readRecordings(const EnvLookup& env, RecordingsConfig& r) {
  for (auto [name, target] :
       {std::pair{"RECORDING_DIR", &r.root}, std::pair{"RECORDING_SPOOL_DIR", &r.spoolDir},
        std::pair{"RECORDING_WORK_DIR", &r.workDir},
        std::pair{"RECORDING_PUBLISH_DIR", &r.publishDir},
        std::pair{"RECORDING_UNPUBLISH_DIR", &r.unpublishDir},
        std::pair{"RECORDING_DELETED_DIR", &r.deletedDir},
        std::pair{"RECORDING_CAPTIONS_DIR", &r.captionsDir}}) {
    auto v = env(name);
    if (!v || v->empty()) continue;
    if (v->front() != '/') return badValue(name, *v, "an absolute path");
    while (v->size() > 1 && v->back() == '/') v->pop_back();
    *target = *v;
  }
  if (auto v = env("RECORDING_IMPORTER"); v && !v->empty()) {
    std::string lowered;
    for (char c : *v) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered != "on" && lowered != "off" && lowered != "true" && lowered != "false") {
      return badValue("RECORDING_IMPORTER", *v, "on or off");
    }
    r.importerInServe = lowered == "on" || lowered == "true";
  }
  if (auto s = readSeconds(env, "RECORDING_IMPORT_POLL_INTERVAL", 0, 86400, r.importPollInterval);
      !s) {
    return s;
  }
  if (r.importPollInterval < std::chrono::milliseconds(100)) {
    r.importPollInterval = std::chrono::milliseconds(100);
  }
  if (auto s = readSeconds(env, "RECORDING_IMPORT_RETRY_MAX", 1, 7 * 86400, r.importRetryMax); !s) {
    return s;
  }
  r.importUnpublished = truthy(env("RECORDING_IMPORT_UNPUBLISHED"));
  for (auto [name, target] : {std::pair{"RECORDING_IMPORT_MAX_BYTES", &r.importMaxBytes},
                              std::pair{"RECORDING_UPLOAD_MAX_BYTES", &r.uploadMaxBytes}}) {
    long n = static_cast<long>(*target);
    if (auto s = readInt(env, name, 1024 * 1024, 1L << 50, n); !s) return s;
    *target = static_cast<uint64_t>(n);
  }
  if (auto v = env("RECORDING_UPLOAD_TOKEN")) r.uploadToken = *v;
  r.protection.enabled = truthy(env("PROTECTED_RECORDINGS_ENABLED"));
  for (auto [name, target] :
       {std::pair{"PROTECTED_RECORDINGS_TOKEN_TIMEOUT", &r.protection.linkLifetime},
        std::pair{"PROTECTED_RECORDINGS_TIMEOUT", &r.protection.cookieLifetime}}) {
    long minutes = static_cast<long>(target->count() / 60);
    if (auto s = readInt(env, name, 1, 525600, minutes); !s) return s;
    *target = std::chrono::minutes(minutes);
  }
  if (auto v = env("SECRET_KEY_BASE")) r.protection.key = *v;
  if (auto v = env("RECORDING_PLAYBACK_FORMATS"); v && !v->empty()) {
    r.playbackFormats = split(*v, ":,");
    for (const auto& f : r.playbackFormats) {
      const bool name = std::all_of(f.begin(), f.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
      if (!name || f == "playback" || f == "recording" || f == "captions") {
        return badValue("RECORDING_PLAYBACK_FORMATS", *v,
                        "format names such as presentation:video");
      }
    }
  }
  return Status::Ok();
}

constexpr IpAddress kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};

bool isMappedV4(const IpAddress& a) { return std::memcmp(a.data(), kMappedPrefix.data(), 12) == 0; }

}  // namespace

bool IpNet::contains(const IpAddress& a) const {
  int full = prefixLength / 8;
  if (std::memcmp(a.data(), address.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefixLength % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (address[full] & mask);
}

std::optional<IpAddress> parseIpAddress(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (size_t zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  IpAddress a{};
  if (inet_pton(AF_INET6, s.c_str(), a.data()) == 1) return a;
  a = kMappedPrefix;
  if (inet_pton(AF_INET, s.c_str(), a.data() + 12) == 1) return a;
  return std::nullopt;
}

std::optional<IpNet> parseIpNet(std::string_view text) {
  size_t slash = text.find('/');
  auto address = parseIpAddress(text.substr(0, slash));
  if (!address) return std::nullopt;
  const bool v4 = isMappedV4(*address) && text.substr(0, slash).find(':') == std::string_view::npos;
  int length = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + (c - '0');
    }
    if (length > (v4 ? 32 : 128)) return std::nullopt;
  }
  return IpNet{*address, v4 ? length + 96 : length};
}

std::string ipAddressText(const IpAddress& address) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (isMappedV4(address)) {
    inet_ntop(AF_INET, address.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, address.data(), buf, sizeof buf);
  }
  return buf;
}

// Scalelite settings whose behaviour Switchboard does not have: set, they would be ignored
// without a word and the operator would believe the pool does what it does not.
struct UnimplementedSetting {
  const char* name;
  const char* instead;
};
constexpr UnimplementedSetting kUnimplementedScaleliteSettings[] = {
    {"S3_RECORDING", "recordings are kept in RECORDING_DIR (mount object storage there)"},
    {"S3_BUCKET_NAME", "recordings are kept in RECORDING_DIR (mount object storage there)"},
    {"CLOUDFRONT_URL", "serve RECORDING_DIR's published folder through your CDN"},
    {"CF_KEY_PAIR_ID", "protected recordings use PROTECTED_RECORDINGS_ENABLED"},
    {"CF_PRIVATE_KEY_B64", "protected recordings use PROTECTED_RECORDINGS_ENABLED"},
    {"FSAPI_PASSWORD", "dial-in through Switchboard is not supported; leave it unset"},
    {"USE_EXTERNAL_VOICE_BRIDGE", "BBB servers choose voice bridges; leave it unset"},
    {"VOICE_BRIDGE_LEN", "BBB servers choose voice bridges; leave it unset"},
    {"SERVER_ID_IS_HOSTNAME", "servers have generated ids; the CLI takes host names too"},
    {"DB_DISABLED", "run without REDIS_URL and DATABASE_URL for the embedded store"},
};

Status refuseUnimplemented(const EnvLookup& env) {
  for (const auto& s : kUnimplementedScaleliteSettings) {
    auto v = env(s.name);
    if (!v || v->empty() || *v == "false" || *v == "0") continue;
    return Error::of(ErrorCode::kInvalidArgument,
                     std::string(s.name) +
                         " is a Scalelite setting Switchboard does not "
                         "implement (unset it): " +
                         s.instead);
  }
  return Status::Ok();
}

Result<Config> loadConfig(const EnvLookup& env) {
  if (auto s = refuseUnimplemented(env); !s.ok()) return s.error();
  Config c;
  if (auto s = env("LOADBALANCER_SECRET"); s && !s->empty()) c.api.secrets.push_back(*s);
  if (auto s = env("LOADBALANCER_SECRETS"); s && !s->empty()) {
    for (auto& secret : split(*s, ":")) c.api.secrets.push_back(secret);
  }
  auto algorithms = env("LOADBALANCER_CHECKSUM_ALGORITHM");
  if (!algorithms) algorithms = env("LOADBALANCER_CHECKSUM_ALGORITHMS");
  if (algorithms && !algorithms->empty()) {
    for (const auto& name : split(*algorithms, ":,")) {
      auto a = parseChecksumAlgorithm(name);
      if (!a)
        return badValue("LOADBALANCER_CHECKSUM_ALGORITHM", *algorithms,
                        "sha1:sha256:sha384:sha512");
      c.api.checksumAlgorithms.insert(*a);
    }
  }
  if (auto v = env("CREATE_EXCLUDE_PARAMS")) c.api.createExcludeParams = split(*v, ",");
  if (auto v = env("JOIN_EXCLUDE_PARAMS")) c.api.joinExcludeParams = split(*v, ",");
  for (auto [name, target] : {std::pair{"DEFAULT_CREATE_PARAMS", &c.api.defaultCreateParams},
                              std::pair{"OVERRIDE_CREATE_PARAMS", &c.api.overrideCreateParams},
                              std::pair{"DEFAULT_JOIN_PARAMS", &c.api.defaultJoinParams},
                              std::pair{"OVERRIDE_JOIN_PARAMS", &c.api.overrideJoinParams}}) {
    if (auto s = readParamList(env, name, *target); !s) return s.error();
  }
  long n = c.api.maxMeetingDuration;
  if (auto s = readInt(env, "MAX_MEETING_DURATION", 0, 10'000'000, n); !s) return s.error();
  c.api.maxMeetingDuration = static_cast<int>(n);
  c.api.getMeetingsDisabled = truthy(env("GET_MEETINGS_API_DISABLED"));
  n = c.api.getMeetingsConcurrency;
  if (auto s = readInt(env, "GET_MEETINGS_CONCURRENCY", 0, 1024, n); !s) return s.error();
  c.api.getMeetingsConcurrency = static_cast<int>(n);
  if (auto v = env("BUILD_NUMBER")) c.api.buildNumber = *v;
  c.api.recordingDisabled = truthy(env("RECORDING_DISABLED"));
  c.api.recordingsApiFiltered = truthy(env("GET_RECORDINGS_API_FILTERED"));
  if (auto v = env("URL_HOST")) c.api.urlHost = *v;
  c.api.multitenancy = truthy(env("MULTITENANCY_ENABLED"));
  if (auto v = env("TENANT_BASE_DOMAIN"); v && !v->empty()) {
    c.api.tenantBaseDomain = *v;
  } else {
    c.api.tenantBaseDomain = c.api.urlHost.substr(0, c.api.urlHost.find(':'));
  }
  if (auto s = readSeconds(env, "JOIN_CACHE_TTL", 0, 60, c.api.joinCacheTtl); !s) return s.error();
  if (auto s = readSeconds(env, "PLACEMENT_VIEW_TTL", 0, 60, c.api.placementViewTtl); !s) {
    return s.error();
  }

  if (auto s = readSeconds(env, "CONNECT_TIMEOUT", 0, 600, c.bbb.connectTimeout); !s)
    return s.error();
  if (auto s = readSeconds(env, "RESPONSE_TIMEOUT", 0, 600, c.bbb.responseTimeout); !s)
    return s.error();
  c.poller.pollTimeout = c.bbb.responseTimeout;
  n = c.bbb.serverCallLimit;
  if (auto s = readInt(env, "SERVER_CALL_LIMIT", 0, 100000, n); !s) return s.error();
  c.bbb.serverCallLimit = static_cast<int>(n);
  n = static_cast<long>(c.bbb.answerMaxBytes);
  if (auto s = readInt(env, "BBB_ANSWER_MAX_BYTES", 64 * 1024, 4L * 1024 * 1024 * 1024, n); !s)
    return s.error();
  c.bbb.answerMaxBytes = static_cast<size_t>(n);
  n = static_cast<long>(c.bbb.answersMaxBytes);
  if (auto s = readInt(env, "BBB_ANSWERS_MAX_BYTES", 0, 64L * 1024 * 1024 * 1024, n); !s)
    return s.error();
  if (n != 0 && static_cast<size_t>(n) < c.bbb.answerMaxBytes) {
    return badValue("BBB_ANSWERS_MAX_BYTES", std::to_string(n),
                    "0 or at least BBB_ANSWER_MAX_BYTES");
  }
  c.bbb.answersMaxBytes = static_cast<size_t>(n);

  if (auto s = readSeconds(env, "POLL_INTERVAL", 0, 86400, c.poller.interval); !s) return s.error();
  if (c.poller.interval.count() < 100) c.poller.interval = std::chrono::milliseconds(100);
  if (auto s = readSeconds(env, "POLL_TIMEOUT", 0, 600, c.poller.pollTimeout); !s) return s.error();
  if (auto s = readSeconds(env, "MEETING_GRACE_PERIOD", 0, 86400, c.poller.meetingGracePeriod);
      !s) {
    return s.error();
  }
  n = c.poller.healthyThreshold;
  if (auto s = readInt(env, "SERVER_HEALTHY_THRESHOLD", 1, 100, n); !s) return s.error();
  c.poller.healthyThreshold = static_cast<int>(n);
  n = c.poller.unhealthyThreshold;
  if (auto s = readInt(env, "SERVER_UNHEALTHY_THRESHOLD", 1, 100, n); !s) return s.error();
  c.poller.unhealthyThreshold = static_cast<int>(n);

  n = c.load.minUserCount;
  if (auto s = readInt(env, "LOAD_MIN_USER_COUNT", 0, 100000, n); !s) return s.error();
  c.load.minUserCount = static_cast<int>(n);
  long minutes = c.load.joinBufferTime.count() / 60000;
  if (auto s = readInt(env, "LOAD_JOIN_BUFFER_TIME", 0, 100000, minutes); !s) return s.error();
  c.load.joinBufferTime = std::chrono::minutes(minutes);

  if (auto v = env("LOAD_FORMULA"); v && !v->empty()) {
    if (*v == "scalelite") {
      c.load.formula = LoadFormula::kScalelite;
    } else if (*v == "weighted") {
      c.load.formula = LoadFormula::kWeighted;
    } else {
      return badValue("LOAD_FORMULA", *v, "scalelite or weighted");
    }
  }
  for (auto [name, target] : {std::pair{"LOAD_WEIGHT_USERS", &c.load.weightUsers},
                              std::pair{"LOAD_WEIGHT_VOICE", &c.load.weightVoice},
                              std::pair{"LOAD_WEIGHT_VIDEO", &c.load.weightVideo},
                              std::pair{"LOAD_WEIGHT_MEETINGS", &c.load.weightMeetings}}) {
    auto v = env(name);
    if (!v || v->empty()) continue;
    char* end = nullptr;
    double w = std::strtod(v->c_str(), &end);
    if (*end != '\0' || !std::isfinite(w) || w < 0) return badValue(name, *v, "a number >= 0");
    *target = w;
  }
  if (auto v = env("LOADBALANCER_STRATEGY"); v && !v->empty()) {
    if (!makeStrategy(*v)) {
      return badValue("LOADBALANCER_STRATEGY", *v,
                      "least-load, round-robin, least-connections or hash");
    }
    c.balancing.strategy = *v;
  }

  if (auto v = env("BIND"); v && !v->empty()) c.http.bind = *v;
  n = c.http.port;
  if (auto s = readInt(env, "PORT", 0, 65535, n); !s) return s.error();
  c.http.port = static_cast<uint16_t>(n);
  n = c.http.threads;
  if (auto s = readInt(env, "HTTP_THREADS", 1, 256, n); !s) return s.error();
  c.http.threads = static_cast<int>(n);
  n = c.http.workerThreads;
  if (auto s = readInt(env, "WORKER_THREADS", 1, 1024, n); !s) return s.error();
  c.http.workerThreads = static_cast<int>(n);
  n = std::max(c.http.workerThreadsMax, c.http.workerThreads);
  if (auto s = readInt(env, "WORKER_THREADS_MAX", 1, 4096, n); !s) return s.error();
  c.http.workerThreadsMax = std::max(static_cast<int>(n), c.http.workerThreads);
  n = static_cast<long>(c.http.workerQueueMax);
  if (auto s = readInt(env, "WORKER_QUEUE_MAX", 0, 1'000'000, n); !s) return s.error();
  c.http.workerQueueMax = static_cast<size_t>(n);
  n = static_cast<long>(c.http.maxRequestBytes);
  if (auto s = readInt(env, "MAX_REQUEST_SIZE", 4096, 64L * 1024 * 1024, n); !s) return s.error();
  c.http.maxRequestBytes = static_cast<size_t>(n);

  c.http.tlsCertFile = env("TLS_CERT_FILE").value_or("");
  c.http.tlsKeyFile = env("TLS_KEY_FILE").value_or("");
  if (c.http.tlsCertFile.empty() != c.http.tlsKeyFile.empty()) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "Set both TLS_CERT_FILE and TLS_KEY_FILE (HTTPS), or neither (plain HTTP)");
  }

  if (auto s = readSeconds(env, "RTC_RESERVATION_TTL", 0, 86400, c.rtc.reservationTtl); !s) {
    return s.error();
  }
  if (auto s = readSeconds(env, "RTC_MEETING_TTL", 1, 30 * 86400, c.rtc.meetingTtl); !s) {
    return s.error();
  }
  n = c.rtc.reservationsPerClient;
  if (auto s = readInt(env, "RTC_RESERVATIONS_PER_CLIENT", 0, 1'000'000, n); !s) return s.error();
  c.rtc.reservationsPerClient = static_cast<int>(n);
  if (auto s = readNets(env, "TRUSTED_PROXIES", c.rtc.trustedProxies); !s) return s.error();

  if (auto v = env("SWITCHBOARD_ADMIN_TOKEN")) c.admin.token = *v;
  if (auto v = env("SWITCHBOARD_REGISTRATION_TOKEN")) c.admin.registrationToken = *v;
  if (auto s = readNets(env, "SERVER_URL_ALLOWED_NETS", c.admin.serverUrlAllowedNets); !s) {
    return s.error();
  }
  for (auto [name, target] :
       {std::pair{"REGISTRATION_LOAD_MULTIPLIER_MIN", &c.admin.registrationLoadMultiplierMin},
        std::pair{"REGISTRATION_LOAD_MULTIPLIER_MAX", &c.admin.registrationLoadMultiplierMax}}) {
    if (auto s = readPositive(env, name, 1000, *target); !s) return s.error();
  }
  if (c.admin.registrationLoadMultiplierMin > c.admin.registrationLoadMultiplierMax) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "REGISTRATION_LOAD_MULTIPLIER_MIN is above REGISTRATION_LOAD_MULTIPLIER_MAX");
  }
  if (auto v = env("REGISTRATION_TAGS")) c.admin.registrationTags = split(*v, ",");
  if (auto v = env("REDIS_URL")) c.store.redisUrl = *v;
  if (auto v = env("DATABASE_URL")) c.store.databaseUrl = *v;
  if (c.store.redisUrl.empty() != c.store.databaseUrl.empty()) {
    return Error::of(ErrorCode::kInvalidArgument,
                     "Set both REDIS_URL and DATABASE_URL (Redis + PostgreSQL), or neither (the "
                     "embedded in-memory store)");
  }
  if (auto v = env("REDIS_NAMESPACE"); v && !v->empty()) c.store.redisNamespace = *v;
  if (auto v = env("MIGRATIONS_DIR")) c.store.migrationsDir = *v;
  if (auto v = env("TENANTS_FILE"); v && !v->empty()) c.store.tenantsFile = *v;
  if (auto v = env("DATABASE_PREPARED_STATEMENTS"); v && !v->empty()) {
    c.store.pgPreparedStatements = truthy(v);
  }
  if (auto s = readSeconds(env, "STORE_TIMEOUT", 0, 60, c.store.timeout); !s) return s.error();
  if (auto s = readSeconds(env, "POLLER_LEASE_TTL", 1, 3600, c.store.leaseTtl); !s) {
    return s.error();
  }
  if (auto s = readRecordings(env, c.recordings); !s) return s.error();
  // Every router signs protected-recording links and cookies alike: with SECRET_KEY_BASE, else
  // with a key derived from the secret they share.
  if (c.recordings.protection.key.empty() && !c.api.secrets.empty()) {
    c.recordings.protection.key = RecordingProtection::derivedKey(c.api.secrets.front());
  }
  if (auto v = env("LOG_LEVEL"); v && !v->empty()) c.logLevel = *v;
  if (auto v = env("ACCESS_LOG"); v && !v->empty()) c.accessLog = truthy(v);
  if (auto v = env("LOG_FORMAT"); v && !v->empty()) {
    if (*v != "text" && *v != "json") return badValue("LOG_FORMAT", *v, "text or json");
    c.logJson = *v == "json";
  }
  return c;
}

ChecksumAlgorithm upstreamSigningAlgorithm(const ApiConfig& config) {
  const auto& allowed = config.checksumAlgorithms;
  if (allowed.empty() || allowed.contains(ChecksumAlgorithm::kSha256)) {
    return ChecksumAlgorithm::kSha256;
  }
  return *allowed.rbegin();
}

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace sb

#include "core/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sb {
namespace {

using Env = std::map<std::string, std::string>;

EnvLookup lookup(Env env) {
  return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

Config loadOk(Env env) {
  auto c = loadConfig(lookup(std::move(env)));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? *c : Config{};
}

// The error message for `env`, "" when it loads.
std::string loadError(Env env) {
  auto c = loadConfig(lookup(std::move(env)));
  if (c.ok()) return "";
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  return c.error().message;
}

TEST(ConfigTest, Defaults) {
  Config c = loadOk({});
  EXPECT_TRUE(c.api.secrets.empty());
  EXPECT_TRUE(c.api.checksumAlgorithms.empty());
  EXPECT_TRUE(c.api.createExcludeParams.empty());
  EXPECT_TRUE(c.api.defaultCreateParams.empty());
  EXPECT_TRUE(c.api.overrideJoinParams.empty());
  EXPECT_EQ(c.api.maxMeetingDuration, 0);
  EXPECT_FALSE(c.api.getMeetingsDisabled);
  EXPECT_EQ(c.api.buildNumber, "");
  EXPECT_EQ(c.bbb.connectTimeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(c.bbb.responseTimeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.poller.interval, std::chrono::milliseconds(60000));
  EXPECT_EQ(c.poller.healthyThreshold, 1);
  EXPECT_EQ(c.poller.unhealthyThreshold, 2);
  EXPECT_EQ(c.poller.pollTimeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.poller.meetingGracePeriod, std::chrono::milliseconds(60000));
  EXPECT_EQ(c.load.minUserCount, 15);
  EXPECT_EQ(c.load.joinBufferTime, std::chrono::minutes(15));
  EXPECT_EQ(c.http.bind, "0.0.0.0");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.logLevel, "info");
  EXPECT_EQ(c.api.joinCacheTtl, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.api.placementViewTtl, std::chrono::milliseconds(250));
}

TEST(ConfigTest, PlacementViewTtlTakesFractionsAndZero) {
  EXPECT_EQ(loadOk({{"PLACEMENT_VIEW_TTL", "0.1"}}).api.placementViewTtl,
            std::chrono::milliseconds(100));
  EXPECT_EQ(loadOk({{"PLACEMENT_VIEW_TTL", "0"}}).api.placementViewTtl,
            std::chrono::milliseconds(0));
  EXPECT_NE(loadError({{"PLACEMENT_VIEW_TTL", "-1"}}).find("PLACEMENT_VIEW_TTL"),
            std::string::npos);
}

TEST(ConfigTest, MultitenancyTakesScalelitesNamesAndTheBaseDomainFromUrlHost) {
  Config off = loadOk({});
  EXPECT_FALSE(off.api.multitenancy);
  Config on = loadOk({{"MULTITENANCY_ENABLED", "true"}, {"URL_HOST", "lb.example.org:8443"}});
  EXPECT_TRUE(on.api.multitenancy);
  EXPECT_EQ(on.api.tenantBaseDomain, "lb.example.org");
  Config own = loadOk({{"MULTITENANCY_ENABLED", "true"},
                       {"URL_HOST", "lb.example.org"},
                       {"TENANT_BASE_DOMAIN", "bbb.example.net"},
                       {"TENANTS_FILE", "/data/tenants.json"}});
  EXPECT_EQ(own.api.tenantBaseDomain, "bbb.example.net");
  EXPECT_EQ(own.store.tenantsFile, "/data/tenants.json");
}

TEST(ConfigTest, AScaleliteSettingSwitchboardDoesNotImplementStopsTheStart) {
  for (const char* name : {"S3_RECORDING", "FSAPI_PASSWORD", "SERVER_ID_IS_HOSTNAME",
                           "USE_EXTERNAL_VOICE_BRIDGE", "DB_DISABLED", "CLOUDFRONT_URL"}) {
    std::string error = loadError({{name, "true"}});
    EXPECT_NE(error.find(name), std::string::npos) << error;
    EXPECT_NE(error.find("does not implement"), std::string::npos) << error;
    EXPECT_EQ(loadError({{name, "false"}}), "") << name;  // off is what Switchboard does
  }
}

TEST(ConfigTest, SecretAndSecretsSplitOnColon) {
  Config c = loadOk({{"LOADBALANCER_SECRET", "primary"}, {"LOADBALANCER_SECRETS", "s2:s3::s4"}});
  EXPECT_EQ(c.api.secrets, (std::vector<std::string>{"primary", "s2", "s3", "s4"}));
}

TEST(ConfigTest, SecretsWithoutPrimary) {
  Config c = loadOk({{"LOADBALANCER_SECRETS", "a:b"}});
  EXPECT_EQ(c.api.secrets, (std::vector<std::string>{"a", "b"}));
}

TEST(ConfigTest, EmptySecretIgnored) {
  Config c = loadOk({{"LOADBALANCER_SECRET", ""}});
  EXPECT_TRUE(c.api.secrets.empty());
}

TEST(ConfigTest, ChecksumAlgorithms) {
  Config c = loadOk({{"LOADBALANCER_CHECKSUM_ALGORITHM", "SHA1:sha256"}});
  EXPECT_EQ(c.api.checksumAlgorithms,
            (std::set<ChecksumAlgorithm>{ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}));
  Config commas = loadOk({{"LOADBALANCER_CHECKSUM_ALGORITHM", "sha384,SHA-512"}});
  EXPECT_EQ(commas.api.checksumAlgorithms,
            (std::set<ChecksumAlgorithm>{ChecksumAlgorithm::kSha384, ChecksumAlgorithm::kSha512}));
}

TEST(ConfigTest, ChecksumAlgorithmsPluralName) {
  Config c = loadOk({{"LOADBALANCER_CHECKSUM_ALGORITHMS", "sha256"}});
  EXPECT_EQ(c.api.checksumAlgorithms, std::set<ChecksumAlgorithm>{ChecksumAlgorithm::kSha256});
}

TEST(ConfigTest, BadChecksumAlgorithmNamesTheVariable) {
  std::string e = loadError({{"LOADBALANCER_CHECKSUM_ALGORITHM", "sha1:md5"}});
  EXPECT_NE(e.find("LOADBALANCER_CHECKSUM_ALGORITHM"), std::string::npos) << e;
  EXPECT_NE(e.find("md5"), std::string::npos) << e;
}

TEST(ConfigTest, DefaultCreateParams) {
  Config c = loadOk({{"DEFAULT_CREATE_PARAMS", "record=true,welcome=Hello%2C%20world,autoStart="}});
  const auto& p = c.api.defaultCreateParams.params();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], (QueryParam{"record", "true"}));
  EXPECT_EQ(p[1], (QueryParam{"welcome", "Hello, world"}));
  EXPECT_EQ(p[2], (QueryParam{"autoStart", ""}));
}

TEST(ConfigTest, OverrideAndJoinParams) {
  Config c = loadOk({{"OVERRIDE_CREATE_PARAMS", "allowStartStopRecording=false"},
                     {"DEFAULT_JOIN_PARAMS", "userdata-bbb_auto_join_audio=true"},
                     {"OVERRIDE_JOIN_PARAMS", "guest=false"}});
  EXPECT_EQ(c.api.overrideCreateParams.get("allowStartStopRecording"), "false");
  EXPECT_EQ(c.api.defaultJoinParams.get("userdata-bbb_auto_join_audio"), "true");
  EXPECT_EQ(c.api.overrideJoinParams.get("guest"), "false");
}

// BUG: split() drops every ' ', so a value with a space (the header's own example "b=x y")
// loses it. Operators write DEFAULT_CREATE_PARAMS=welcome=Welcome to our server.
TEST(ConfigTest, DefaultCreateParamsKeepSpacesInValues) {
  Config c = loadOk({{"DEFAULT_CREATE_PARAMS", "welcome=Welcome to BBB,record=true"}});
  EXPECT_EQ(c.api.defaultCreateParams.get("welcome"), "Welcome to BBB");
  EXPECT_EQ(c.api.defaultCreateParams.get("record"), "true");
}

TEST(ConfigTest, BadParamListNamesTheVariable) {
  std::string e = loadError({{"DEFAULT_CREATE_PARAMS", "record"}});
  EXPECT_NE(e.find("DEFAULT_CREATE_PARAMS"), std::string::npos) << e;
  e = loadError({{"OVERRIDE_JOIN_PARAMS", "=x"}});
  EXPECT_NE(e.find("OVERRIDE_JOIN_PARAMS"), std::string::npos) << e;
  e = loadError({{"DEFAULT_JOIN_PARAMS", "a=%zz"}});
  EXPECT_NE(e.find("DEFAULT_JOIN_PARAMS"), std::string::npos) << e;
}

TEST(ConfigTest, ExcludeParams) {
  Config c =
      loadOk({{"CREATE_EXCLUDE_PARAMS", "logo,bannerText"}, {"JOIN_EXCLUDE_PARAMS", "guest"}});
  EXPECT_EQ(c.api.createExcludeParams, (std::vector<std::string>{"logo", "bannerText"}));
  EXPECT_EQ(c.api.joinExcludeParams, std::vector<std::string>{"guest"});
}

TEST(ConfigTest, IntegersAndSeconds) {
  Config c = loadOk({{"MAX_MEETING_DURATION", "120"},
                     {"SERVER_HEALTHY_THRESHOLD", "3"},
                     {"SERVER_UNHEALTHY_THRESHOLD", "4"},
                     {"POLL_INTERVAL", "15"},
                     {"RESPONSE_TIMEOUT", "3"},
                     {"CONNECT_TIMEOUT", "1.5"},
                     {"LOAD_MIN_USER_COUNT", "10"},
                     {"LOAD_JOIN_BUFFER_TIME", "5"},
                     {"MEETING_GRACE_PERIOD", "30"},
                     {"PORT", "9000"}});
  EXPECT_EQ(c.api.maxMeetingDuration, 120);
  EXPECT_EQ(c.poller.healthyThreshold, 3);
  EXPECT_EQ(c.poller.unhealthyThreshold, 4);
  EXPECT_EQ(c.poller.interval, std::chrono::seconds(15));
  EXPECT_EQ(c.bbb.responseTimeout, std::chrono::seconds(3));
  EXPECT_EQ(c.bbb.connectTimeout, std::chrono::milliseconds(1500));
  // POLL_TIMEOUT defaults to RESPONSE_TIMEOUT.
  EXPECT_EQ(c.poller.pollTimeout, std::chrono::seconds(3));
  EXPECT_EQ(c.load.minUserCount, 10);
  EXPECT_EQ(c.load.joinBufferTime, std::chrono::minutes(5));
  EXPECT_EQ(c.poller.meetingGracePeriod, std::chrono::seconds(30));
  EXPECT_EQ(c.http.port, 9000);
}

TEST(ConfigTest, WorkerQueueBound) {
  EXPECT_EQ(loadOk({}).http.workerQueueMax, 4096u);
  EXPECT_EQ(loadOk({}).api.getMeetingsConcurrency, 4);
  EXPECT_EQ(loadOk({{"GET_MEETINGS_CONCURRENCY", "0"}}).api.getMeetingsConcurrency, 0);
  EXPECT_EQ(loadOk({{"GET_MEETINGS_CONCURRENCY", "16"}}).api.getMeetingsConcurrency, 16);
  EXPECT_NE(loadError({{"GET_MEETINGS_CONCURRENCY", "-1"}}).find("GET_MEETINGS_CONCURRENCY"),
            std::string::npos);
  EXPECT_NE(loadError({{"GET_MEETINGS_CONCURRENCY", "5000"}}).find("GET_MEETINGS_CONCURRENCY"),
            std::string::npos);
  EXPECT_EQ(loadOk({{"WORKER_QUEUE_MAX", "0"}}).http.workerQueueMax, 0u);  // no bound
  EXPECT_EQ(loadOk({{"WORKER_QUEUE_MAX", "100"}}).http.workerQueueMax, 100u);
  EXPECT_NE(loadError({{"WORKER_QUEUE_MAX", "-1"}}).find("WORKER_QUEUE_MAX"), std::string::npos);
}

TEST(ConfigTest, BbbAnswerBounds) {
  Config d = loadOk({});
  EXPECT_EQ(d.bbb.answerMaxBytes, 64u * 1024 * 1024);
  EXPECT_EQ(d.bbb.answersMaxBytes, 512u * 1024 * 1024);
  Config c = loadOk({{"BBB_ANSWER_MAX_BYTES", "1048576"}, {"BBB_ANSWERS_MAX_BYTES", "0"}});
  EXPECT_EQ(c.bbb.answerMaxBytes, 1048576u);
  EXPECT_EQ(c.bbb.answersMaxBytes, 0u);
  EXPECT_NE(loadError({{"BBB_ANSWER_MAX_BYTES", "1000"}}).find("BBB_ANSWER_MAX_BYTES"),
            std::string::npos);
  EXPECT_NE(loadError({{"BBB_ANSWERS_MAX_BYTES", "1048576"}}).find("BBB_ANSWERS_MAX_BYTES"),
            std::string::npos)
      << "below one answer's bound";
  EXPECT_NE(loadError({{"BBB_ANSWERS_MAX_BYTES", "-1"}}), "");
}

TEST(ConfigTest, PollTimeoutOverridesResponseTimeout) {
  Config c = loadOk({{"RESPONSE_TIMEOUT", "3"}, {"POLL_TIMEOUT", "7"}});
  EXPECT_EQ(c.poller.pollTimeout, std::chrono::seconds(7));
}

TEST(ConfigTest, BadIntegerNamesTheVariable) {
  for (const char* name : {"MAX_MEETING_DURATION", "SERVER_HEALTHY_THRESHOLD", "PORT",
                           "LOAD_MIN_USER_COUNT", "WORKER_THREADS"}) {
    std::string e = loadError({{name, "12abc"}});
    EXPECT_NE(e.find(name), std::string::npos) << name << ": " << e;
  }
}

TEST(ConfigTest, OutOfRangeIntegerRejected) {
  EXPECT_NE(loadError({{"MAX_MEETING_DURATION", "-5"}}), "");
  EXPECT_NE(loadError({{"SERVER_UNHEALTHY_THRESHOLD", "0"}}), "");
  EXPECT_NE(loadError({{"PORT", "70000"}}), "");
}

TEST(ConfigTest, BadSecondsNamesTheVariable) {
  std::string e = loadError({{"POLL_INTERVAL", "soon"}});
  EXPECT_NE(e.find("POLL_INTERVAL"), std::string::npos) << e;
  e = loadError({{"RESPONSE_TIMEOUT", "-1"}});
  EXPECT_NE(e.find("RESPONSE_TIMEOUT"), std::string::npos) << e;
}

// BUG: readSeconds() range-checks with comparisons that are all false for NaN, so "nan" is accepted
// and converted to a garbage (negative) duration instead of an error naming the variable.
TEST(ConfigTest, NanSecondsRejected) {
  std::string e = loadError({{"RESPONSE_TIMEOUT", "nan"}});
  EXPECT_NE(e.find("RESPONSE_TIMEOUT"), std::string::npos) << "accepted: " << e;
}

TEST(ConfigTest, TinyPollIntervalClamped) {
  Config c = loadOk({{"POLL_INTERVAL", "0"}});
  EXPECT_EQ(c.poller.interval, std::chrono::milliseconds(100));
}

TEST(ConfigTest, GetMeetingsDisabledIsCaseInsensitive) {
  EXPECT_TRUE(loadOk({{"GET_MEETINGS_API_DISABLED", "TRUE"}}).api.getMeetingsDisabled);
  EXPECT_TRUE(loadOk({{"GET_MEETINGS_API_DISABLED", "true"}}).api.getMeetingsDisabled);
  EXPECT_FALSE(loadOk({{"GET_MEETINGS_API_DISABLED", "false"}}).api.getMeetingsDisabled);
  EXPECT_FALSE(loadOk({{"GET_MEETINGS_API_DISABLED", ""}}).api.getMeetingsDisabled);
}

TEST(ConfigTest, PreparedStatementsOnUnlessTurnedOff) {
  EXPECT_TRUE(loadOk({}).store.pgPreparedStatements);
  EXPECT_TRUE(loadOk({{"DATABASE_PREPARED_STATEMENTS", "true"}}).store.pgPreparedStatements);
  EXPECT_FALSE(loadOk({{"DATABASE_PREPARED_STATEMENTS", "false"}}).store.pgPreparedStatements);
  EXPECT_FALSE(loadOk({{"DATABASE_PREPARED_STATEMENTS", "0"}}).store.pgPreparedStatements);
}

TEST(ConfigTest, StringsPassThrough) {
  Config c = loadOk({{"BUILD_NUMBER", "v1.2.3"},
                     {"BIND", "127.0.0.1"},
                     {"SWITCHBOARD_ADMIN_TOKEN", "tok"},
                     {"LOG_LEVEL", "debug"}});
  EXPECT_EQ(c.api.buildNumber, "v1.2.3");
  EXPECT_EQ(c.http.bind, "127.0.0.1");
  EXPECT_EQ(c.admin.token, "tok");
  EXPECT_EQ(c.logLevel, "debug");
}

}  // namespace
}  // namespace sb

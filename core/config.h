// Configuration, read once at start-up into plain structs. Every field documents its default
// and the environment variable it comes from (Scalelite's names where the meaning is the same).
// Nothing reads the environment after start-up.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/checksum.h"
#include "core/query_string.h"
#include "core/recordings/recording_protection.h"
#include "core/result.h"

namespace sb {

// An IP address as 16 bytes: IPv6, or IPv4 as its IPv4-mapped form (::ffff:a.b.c.d), so that one
// network list covers both families.
using IpAddress = std::array<uint8_t, 16>;
// An IP network ("127.0.0.0/8", "fe80::/10"; a bare address is one host).
struct IpNet {
  IpAddress address{};
  int prefixLength = 128;  // of the 16-byte form (an IPv4 /8 is 104 here)
  bool contains(const IpAddress& a) const;
};
// "192.0.2.1", "2001:db8::1", "[::1]" (a zone "%eth0" is ignored); strict: no "127.1" forms.
std::optional<IpAddress> parseIpAddress(std::string_view text);
// "10.0.0.0/8", "::1/128", "192.0.2.7"; nullopt when not a network.
std::optional<IpNet> parseIpNet(std::string_view text);
// "127.0.0.1" for IPv4 (mapped) addresses, "2001:db8::1" for the others.
std::string ipAddressText(const IpAddress& address);

struct ApiConfig {
  // LOADBALANCER_SECRET plus LOADBALANCER_SECRETS (':'-separated): secrets accepted from
  // frontends. Required: the router refuses to start with none.
  std::vector<std::string> secrets;
  // LOADBALANCER_CHECKSUM_ALGORITHM(S) (':' or ','-separated, e.g. "sha1:sha256"); default all
  // four. Calls forwarded to BBB servers are signed with upstreamSigningAlgorithm().
  std::set<ChecksumAlgorithm> checksumAlgorithms;
  // CREATE_EXCLUDE_PARAMS / JOIN_EXCLUDE_PARAMS (','-separated names): never forwarded.
  std::vector<std::string> createExcludeParams;
  std::vector<std::string> joinExcludeParams;
  // DEFAULT_CREATE_PARAMS / OVERRIDE_CREATE_PARAMS / DEFAULT_JOIN_PARAMS / OVERRIDE_JOIN_PARAMS
  // ("name=value,name2=value2"): defaults apply when the request lacks the parameter, overrides
  // always win.
  QueryString defaultCreateParams, overrideCreateParams;
  QueryString defaultJoinParams, overrideJoinParams;
  // MAX_MEETING_DURATION (minutes, default 0 = no cap): a create without duration, with 0, or with
  // more gets this duration.
  int maxMeetingDuration = 0;
  // GET_MEETINGS_API_DISABLED (default false): getMeetings answers noMeetings without checksum.
  bool getMeetingsDisabled = false;
  // GET_MEETINGS_CONCURRENCY (default 4; 0 = no bound): getMeetings answers on their way out at
  // once (handed to the HTTP layer, not yet written). The HTTP layer holds each answer until it
  // is written (a pool's listing is megabytes), so concurrent callers multiplied the memory; the
  // others wait their turn (at most 5 s).
  int getMeetingsConcurrency = 4;
  // BUILD_NUMBER (default empty): shown as <build> in the API root answer.
  std::string buildNumber;
  // RECORDING_DISABLED (default false, as Scalelite): getRecordings answers noRecordings without
  // a checksum; publish, update and delete answer notFound.
  bool recordingDisabled = false;
  // GET_RECORDINGS_API_FILTERED (default false, as Scalelite): getRecordings without recordID
  // and meetingID answers missingParameters instead of every recording.
  bool recordingsApiFiltered = false;
  // URL_HOST (default empty: URLs as the recording server wrote them): the public host
  // ("host" or "host:port") playback and preview URLs point at, over https (Scalelite's name).
  std::string urlHost;
  // MULTITENANCY_ENABLED (default false, Scalelite's name): every call belongs to a tenant,
  // found by host (<tenant>.<TENANT_BASE_DOMAIN>, or one of the tenant's own host names) or by
  // path (/t/<tenant>/bigbluebutton/api/...), and signed with that tenant's secrets
  // (core/tenants/). A call that names no tenant answers checksumError, as Scalelite's.
  bool multitenancy = false;
  // TENANT_BASE_DOMAIN (default URL_HOST's host, as Scalelite's): the domain tenants' host
  // names are under.
  std::string tenantBaseDomain;
  // JOIN_CACHE_TTL (seconds, default 1; 0 = off): how long a router answers joins from its own
  // memory of where a meeting runs (core/join_cache.h). Moves are acknowledged this long after
  // the store changed; a server that went offline or was disabled may still get joins of its
  // meetings from other routers for up to this long.
  std::chrono::milliseconds joinCacheTtl{1000};
  // PLACEMENT_VIEW_TTL (seconds, default 0.25; 0 = read the store on every create): how long a
  // router places new meetings from its own copy of the server list (core/balancing/
  // placement_view.h). Another router's reservations, new poll figures and admin changes (cordon,
  // disable) reach this router's placements at most this long after they reached the store.
  std::chrono::milliseconds placementViewTtl{250};
};

struct BbbClientConfig {
  // CONNECT_TIMEOUT / RESPONSE_TIMEOUT (seconds, defaults 5 and 10): calls to online servers.
  std::chrono::milliseconds connectTimeout{5000};
  std::chrono::milliseconds responseTimeout{10000};
  // Calls to servers marked offline get a tenth of these, at least 200 ms / 500 ms and at most
  // the full value (Scalelite's rule: 1 s / 1 s with the defaults).
  // SERVER_CALL_LIMIT (default 32; 0 = none): when this many API calls of one router wait on one
  // BBB server and it has answered none for a second, further calls to it fail at once
  // (core/server_call_limit.h), so a stalled server cannot take every worker thread.
  int serverCallLimit = 32;
  // BBB_ANSWER_MAX_BYTES (default 64 MiB, from 64 KiB): the largest answer read from a BBB server
  // (as decoded, when it comes gzipped). A getMeetings of 10,000 meetings is about 30 MB. A larger
  // answer is abandoned as it arrives and the call fails as if the server had not answered.
  size_t answerMaxBytes = 64 * 1024 * 1024;
  // BBB_ANSWERS_MAX_BYTES (default 512 MiB; 0 = no bound, else at least BBB_ANSWER_MAX_BYTES):
  // the answers of every call of this process in flight together (being read, or read and not
  // yet handed on). A call whose answer would go past it fails at once, so many large answers
  // (or gzip bombs) at the same time cannot exhaust memory.
  size_t answersMaxBytes = 512 * 1024 * 1024;
};

struct PollerConfig {
  // POLL_INTERVAL (seconds, default 60): time between the starts of two poll rounds.
  std::chrono::milliseconds interval{60000};
  // SERVER_HEALTHY_THRESHOLD (default 1): consecutive good polls before an offline server is
  // online. SERVER_UNHEALTHY_THRESHOLD (default 2): consecutive failures before offline.
  int healthyThreshold = 1;
  int unhealthyThreshold = 2;
  // POLL_TIMEOUT (seconds, default: RESPONSE_TIMEOUT): deadline of one server's poll.
  std::chrono::milliseconds pollTimeout{10000};
  // MEETING_GRACE_PERIOD (seconds, default 60): a meeting placed less than this ago is never
  // removed by the poller, even if its server does not list it yet.
  std::chrono::milliseconds meetingGracePeriod{60000};
};

enum class LoadFormula {
  kScalelite,  // attendees of non-breakout meetings (see load_calculator.h)
  kWeighted,   // weights below applied to users, voice, video and meetings
};

struct LoadConfig {
  // LOAD_MIN_USER_COUNT (default 15): a meeting younger than the join buffer counts as at least
  // this many users (or its size hint, meta_bbb-meeting-size-hint, when larger); a create
  // reserves that many users' load at once.
  int minUserCount = 15;
  // LOAD_JOIN_BUFFER_TIME (minutes, default 15).
  std::chrono::milliseconds joinBufferTime{15 * 60 * 1000};
  // LOAD_FORMULA: "scalelite" (default) or "weighted".
  LoadFormula formula = LoadFormula::kScalelite;
  // LOAD_WEIGHT_USERS / _VOICE / _VIDEO / _MEETINGS (weighted formula only; defaults 1, 0, 0, 0):
  // per user, per voice participant, per webcam, per meeting.
  double weightUsers = 1, weightVoice = 0, weightVideo = 0, weightMeetings = 0;
};

struct BalancingConfig {
  // LOADBALANCER_STRATEGY: least-load (default), round-robin, least-connections, hash.
  std::string strategy = "least-load";
};

struct HttpConfig {
  std::string bind = "0.0.0.0";  // BIND
  uint16_t port = 8080;          // PORT
  int threads = 2;               // HTTP_THREADS: Pistache reactor threads
  int workerThreads = 32;        // WORKER_THREADS: threads that wait on BBB servers
  int workerThreadsMax = 256;    // WORKER_THREADS_MAX: the pool grows up to this
  // WORKER_QUEUE_MAX: requests that may wait for a worker once all WORKER_THREADS_MAX are busy;
  // beyond, BBB calls get internalError ("busy") at once (admin and ops calls always queue). 0:
  // no bound.
  size_t workerQueueMax = 4096;
  size_t maxRequestBytes = 64 * 1024;  // MAX_REQUEST_SIZE; POST create with slides may be more
  // TLS_CERT_FILE / TLS_KEY_FILE (PEM paths, both or neither): serve HTTPS instead of HTTP.
  std::string tlsCertFile;
  std::string tlsKeyFile;
  bool tls() const { return !tlsCertFile.empty(); }
};

struct StoreConfig {
  // REDIS_URL (redis://[:password@]host:port[/db]) and DATABASE_URL
  // (postgresql://user:password@host:port/db): both set = Redis + PostgreSQL; neither = the
  // embedded in-memory store; one alone is a configuration error.
  std::string redisUrl;
  std::string databaseUrl;
  // REDIS_NAMESPACE (default "switchboard"): prefix of every Redis key.
  std::string redisNamespace = "switchboard";
  // STORE_TIMEOUT (seconds, default 1): connect and command timeout of Redis and PostgreSQL.
  std::chrono::milliseconds timeout{1000};
  // POLLER_LEASE_TTL (seconds, default 15): a standby poller takes over at most this long after
  // the active one died.
  std::chrono::milliseconds leaseTtl{15000};
  // DATABASE_PREPARED_STATEMENTS (default true): run PostgreSQL statements prepared once per
  // connection. Turn off behind a pooler that cannot keep them (PgBouncer in transaction mode
  // before 1.21).
  bool pgPreparedStatements = true;
  // MIGRATIONS_DIR (default empty: the migrations compiled into the binary).
  std::string migrationsDir;
  // TENANTS_FILE (default empty: in memory only): where the embedded default keeps its tenants
  // across restarts (scripts/run.sh sets data/tenants.json); the shared store keeps them in
  // PostgreSQL.
  std::string tenantsFile;

  bool shared() const { return !redisUrl.empty() && !databaseUrl.empty(); }
};

// /rtcloadbalance (core/rtc_balancer.h).
struct RtcConfig {
  // RTC_RESERVATION_TTL (seconds, default 60): how long a handed-out connection counts against
  // its server's capacity on top of the polled users.
  std::chrono::milliseconds reservationTtl{60'000};
  // RTC_MEETING_TTL (seconds, default 14400): a meeting's server is forgotten after this long
  // without a request for it.
  std::chrono::milliseconds meetingTtl{4 * 3600 * 1000};
  // RTC_RESERVATIONS_PER_CLIENT (default 10; 0 = no limit): connections one client address
  // may be handed out within the reservation TTL, so one client cannot reserve a cluster's
  // capacity. IPv6 clients count per /64 (one host usually holds a whole /64).
  int reservationsPerClient = 10;
  // TRUSTED_PROXIES (','-separated networks, default none): peers whose X-Forwarded-For header
  // names the client (nginx in front). From anyone else the header is ignored and the client is
  // the socket's peer.
  std::vector<IpNet> trustedProxies;
};

struct AdminConfig {
  // SWITCHBOARD_ADMIN_TOKEN: bearer token of the admin API; admin calls are refused when empty.
  std::string token;
  // SWITCHBOARD_REGISTRATION_TOKEN: bearer token of servers/register and servers/deregister
  // only (what a BBB server's boot script holds); registration is refused when empty.
  std::string registrationToken;
  // SERVER_URL_ALLOWED_NETS (','-separated networks, default none): the router refuses server
  // URLs whose host is (or resolves to) a loopback, link-local or unspecified address
  // (127.0.0.0/8, ::1, 169.254.0.0/16, fe80::/10, 0.0.0.0/8, ::), from the admin API and from
  // registration alike, unless it lies in one of these networks (e.g. 127.0.0.0/8 for bbb-sim).
  std::vector<IpNet> serverUrlAllowedNets;
  // REGISTRATION_LOAD_MULTIPLIER_MIN / _MAX (defaults 1 and 10): the load multipliers the
  // registration token may set (below 1 a server attracts more than its share of meetings). A
  // registration without one gets 1, moved into this range.
  double registrationLoadMultiplierMin = 1;
  double registrationLoadMultiplierMax = 10;
  // REGISTRATION_TAGS (','-separated, default empty = any tag): the tags the registration token
  // may give a server; untagged is always allowed.
  std::vector<std::string> registrationTags;
};

// Recordings: the folders they live in and the importer (importer/). Folder names are Scalelite's
// and BBB's, so an existing transfer (rsync/NFS into the spool folder) and nginx setup carry over.
struct RecordingsConfig {
  // RECORDING_DIR (default /var/bigbluebutton, as BBB and Scalelite): the root of the folders
  // below when they are not set one by one.
  std::string root = "/var/bigbluebutton";
  // RECORDING_SPOOL_DIR (default <root>/spool): archives (<record_id>.tar) waiting to be
  // imported; the importer keeps failed ones in its failed/ folder with the reason.
  std::string spoolDir;
  // RECORDING_WORK_DIR (default <root>/recording/switchboard): staging. It must be on the same
  // file system as the three state folders: an import moves into place by renaming.
  std::string workDir;
  // RECORDING_PUBLISH_DIR, RECORDING_UNPUBLISH_DIR, RECORDING_DELETED_DIR (defaults
  // <root>/published, <root>/unpublished, <root>/deleted): <format>/<record_id>/ of each state.
  std::string publishDir, unpublishDir, deletedDir;
  // RECORDING_CAPTIONS_DIR (default <root>/captions, BBB's folder): <record_id>/ holds the
  // recording's text tracks (<kind>_<lang>.vtt) and their list (captions.json).
  std::string captionsDir;
  // RECORDING_IMPORTER (on/off; default on with the embedded store, off with Redis + PostgreSQL,
  // where `switchboard importer` runs): whether `serve` imports the spool folder itself.
  std::optional<bool> importerInServe;
  // RECORDING_IMPORT_POLL_INTERVAL (seconds, default 60, as Scalelite): time between two looks
  // at the spool folder. A failed archive is retried after it, then after twice as long, up to
  // RECORDING_IMPORT_RETRY_MAX (seconds, default 3600).
  std::chrono::milliseconds importPollInterval{60'000};
  std::chrono::milliseconds importRetryMax{3'600'000};
  // RECORDING_IMPORT_UNPUBLISHED (default false, as Scalelite): new recordings arrive unpublished.
  bool importUnpublished = false;
  // RECORDING_IMPORT_MAX_BYTES (default 64 GiB): the most one archive may unpack to (a
  // compressed archive that claims more is refused, not written out).
  uint64_t importMaxBytes = 64ULL << 30;
  // RECORDING_UPLOAD_TOKEN: bearer token of POST /recordings/upload, which the BBB servers'
  // post-publish hook calls; uploads are refused while it is empty.
  std::string uploadToken;
  // RECORDING_UPLOAD_MAX_BYTES (default 32 GiB): the largest archive an upload may send.
  uint64_t uploadMaxBytes = 32ULL << 30;
  // RECORDING_PLAYBACK_FORMATS (':'-separated, default Scalelite's
  // presentation:video:screenshare:podcast:notes:capture): the formats whose files the router
  // serves at /<format>/<record_id>/… (and /playback/<format>/<record_id>/…).
  std::vector<std::string> playbackFormats{"presentation", "video", "screenshare",
                                           "podcast",      "notes", "capture"};
  // RECORDING_PLAYER_DIR (default <root>): where BBB's players are, as BBB installs them
  // (<dir>/playback/presentation/2.3/…), served at /playback/….
  std::string playerDir;
  // PROTECTED_RECORDINGS_ENABLED, PROTECTED_RECORDINGS_TOKEN_TIMEOUT,
  // PROTECTED_RECORDINGS_TIMEOUT (minutes) and SECRET_KEY_BASE, as Scalelite names them.
  ProtectionConfig protection;
  std::string player() const { return playerDir.empty() ? root : playerDir; }

  std::string spool() const { return spoolDir.empty() ? root + "/spool" : spoolDir; }
  std::string work() const { return workDir.empty() ? root + "/recording/switchboard" : workDir; }
  std::string published() const { return publishDir.empty() ? root + "/published" : publishDir; }
  std::string unpublished() const {
    return unpublishDir.empty() ? root + "/unpublished" : unpublishDir;
  }
  std::string deleted() const { return deletedDir.empty() ? root + "/deleted" : deletedDir; }
  std::string captions() const { return captionsDir.empty() ? root + "/captions" : captionsDir; }
};

struct Config {
  ApiConfig api;
  BbbClientConfig bbb;
  PollerConfig poller;
  LoadConfig load;
  BalancingConfig balancing;
  HttpConfig http;
  AdminConfig admin;
  StoreConfig store;
  RtcConfig rtc;
  RecordingsConfig recordings;
  std::string logLevel = "info";  // LOG_LEVEL: trace, debug, info, warn, error
  bool logJson = false;           // LOG_FORMAT: text (default) or json (one object per line)
  bool accessLog = true;          // ACCESS_LOG (default true): one line per request
};

// Reads the configuration from an environment lookup (getenv in production). Fails with a
// message naming the variable when a value does not parse. Does not check that a secret is set:
// the commands that need one do.
// The algorithm that signs calls to BBB servers: SHA-256 when allowed (every BBB since 2.4 takes
// it; SHA-384/512 need 2.5+), else the strongest allowed one.
ChecksumAlgorithm upstreamSigningAlgorithm(const ApiConfig& config);

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
Result<Config> loadConfig(const EnvLookup& env);
EnvLookup processEnvironment();

}  // namespace sb

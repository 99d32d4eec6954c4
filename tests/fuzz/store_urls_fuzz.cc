// The store URLs an operator configures: REDIS_URL and DATABASE_URL. The input is one URL (or a
// libpq "key=value" string). Covers parseRedisUrl and RedisOptions::endpoint
// (db/redis_connection.h), pgConninfo and redactPgUrl (db/pg_connection.h), and loadConfig's
// reading of both variables (core/config.h). Invariants: a valid Redis URL gives a usable endpoint;
// the password changes neither a Redis URL's error message nor a redacted PostgreSQL URL (so
// neither can show it).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "db/pg_connection.h"
#include "db/redis_connection.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The password of a "scheme://user:password@host..." URL as written (not decoded), found as the
// parser finds it: the authority ends at the first of `ends`, the userinfo at its last '@', and the
// password follows the userinfo's first ':'.
std::string_view rawPassword(std::string_view url, std::string_view scheme, const char* ends) {
  if (!url.starts_with(scheme)) return {};
  std::string_view rest = url.substr(scheme.size());
  std::string_view authority = rest.substr(0, rest.find_first_of(ends));
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view userinfo = authority.substr(0, at);
  size_t colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string_view() : userinfo.substr(colon + 1);
}

// A password whose bytes cannot change how the rest of the URL reads: letters, digits and a few
// marks ('%' only where escapes are not decoded).
bool plain(std::string_view password, bool percent) {
  if (password.empty()) return false;
  for (char c : password) {
    const bool mark = std::string_view("-._~!$*+,;").find(c) != std::string_view::npos;
    if (!std::isalnum(static_cast<unsigned char>(c)) && !mark && !(percent && c == '%')) {
      return false;
    }
  }
  return true;
}

// `url` with `password` (a part of it) replaced by as many 'Q's.
std::string withOtherPassword(std::string_view url, std::string_view password) {
  const size_t at = static_cast<size_t>(password.data() - url.data());
  return std::string(url.substr(0, at)) + std::string(password.size(), 'Q') +
         std::string(url.substr(at + password.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);

  // Redis: a valid URL gives a usable endpoint; an error never shows the password.
  auto redis = sb::parseRedisUrl(url);
  if (redis) {
    FUZZ_CHECK(!redis->host.empty());
    FUZZ_CHECK(redis->port >= 1 && redis->port <= 65535);
    FUZZ_CHECK(redis->db >= 0);
    // The endpoint names the server only: "host:port/db", an IPv6 host in brackets.
    const std::string endpoint = redis->endpoint();
    FUZZ_CHECK(endpoint.starts_with(redis->host) || endpoint.starts_with("[" + redis->host + "]"));
    FUZZ_CHECK(
        endpoint.ends_with(":" + std::to_string(redis->port) + "/" + std::to_string(redis->db)));
  }
  // Another password changes nothing else: not whether the URL reads, nor an error's message.
  if (const auto password = rawPassword(url, "redis://", "/"); plain(password, false)) {
    auto other = sb::parseRedisUrl(withOtherPassword(url, password));
    FUZZ_CHECK(other.ok() == redis.ok());
    if (redis) {
      FUZZ_CHECK(other->host == redis->host && other->port == redis->port &&
                 other->db == redis->db && other->username == redis->username);
    } else {
      FUZZ_CHECK(other.error().message == redis.error().message);
    }
  }

  // PostgreSQL: the conninfo only adds to the URL; the redacted form does not depend on the URL's
  // password (so it does not show it).
  sb::PgOptions pg;
  pg.url = url;
  const std::string conninfo = sb::pgConninfo(pg);
  FUZZ_CHECK(conninfo.starts_with(url));
  const std::string redacted = sb::redactPgUrl(url);
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (const auto password = rawPassword(url, scheme, "/?"); plain(password, true)) {
      FUZZ_CHECK(sb::redactPgUrl(withOtherPassword(url, password)) == redacted);
    }
  }
  (void)sb::redactPgUrl(conninfo);

  // Configuration: both URLs are read as given, or the pair is refused with a message.
  auto config = sb::loadConfig([&](const std::string& name) -> std::optional<std::string> {
    if (name == "REDIS_URL" || name == "DATABASE_URL") return url;
    return std::nullopt;
  });
  FUZZ_CHECK(config.ok());
  FUZZ_CHECK(config->store.redisUrl == url && config->store.databaseUrl == url);
  FUZZ_CHECK(config->store.shared() == !url.empty());
  return 0;
}

// Protected recordings (Scalelite's PROTECTED_RECORDINGS_ENABLED, with Greenlight's `protect`
// parameter of updateRecordings): a protected recording's playback URL in getRecordings is a
// link that works once and for a short time (/recording/<record_id>/<format>?token=…). Its
// first visit sets a cookie scoped to that recording's files (/<format>/<record_id>, and
// /playback/<format>/<record_id> for formats with their own page) and leads to the player;
// without that cookie the files are not served (the router's own playback, or nginx asking the
// router through auth_request).
//
// Links and cookies are HS256 JWTs signed with one key that every router shares, so any router
// can check what another handed out. A link is redeemed once in the pool: its ID goes into a
// LinkRegistry (Redis with the shared store). While that registry does not answer, links are
// redeemed once per router process instead (a copied link then works at most once on each
// router), so playback does not stop with Redis.
// Thread-safety: every member may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/recordings/link_registry.h"
#include "core/recordings/recording_store.h"

namespace sb {

struct ProtectionConfig {
  // PROTECTED_RECORDINGS_ENABLED (default false): recordings imported from now on are protected,
  // getRecordings shows <protected>, and protected recordings' files need the cookie.
  bool enabled = false;
  // PROTECTED_RECORDINGS_TOKEN_TIMEOUT (minutes, default 60): how long a link works (once).
  std::chrono::seconds linkLifetime{3600};
  // PROTECTED_RECORDINGS_TIMEOUT (minutes, default 360): how long the cookie lets the player
  // load the recording's files.
  std::chrono::seconds cookieLifetime{21600};
  // The signing key: SECRET_KEY_BASE when set, else derived from the first LOADBALANCER_SECRET
  // (empty: a random key of this process).
  std::string key;
};

// One Set-Cookie header's value.
struct ProtectionCookie {
  std::string header;  // "recording_<format>_<id>=<jwt>; Path=…; Max-Age=…; Secure; …"
};

class RecordingProtection {
 public:
  // `store` answers whether a recording is protected (may be null: nothing is protected);
  // `links` remembers used links across the pool (null: this process's memory only).
  RecordingProtection(ProtectionConfig config, RecordingStore* store,
                      LinkRegistry* links = nullptr);

  bool enabled() const { return config_.enabled; }

  // The link token for `format` of `recordId`, valid linkLifetime from `nowMs`.
  std::string linkToken(std::string_view recordId, std::string_view format, int64_t nowMs) const;
  // Whether `token` is a link for `format` of `recordId`, unexpired and not redeemed before;
  // redeems it.
  bool redeemLink(std::string_view token, std::string_view recordId, std::string_view format,
                  int64_t nowMs);

  // The cookies a redeemed link sets: one per path the player loads the files under. `secure`
  // when the visit came over HTTPS (Secure, SameSite=None), else SameSite=Lax.
  std::vector<ProtectionCookie> cookiesFor(std::string_view recordId, std::string_view format,
                                           int64_t nowMs, bool secure) const;

  // Whether a request for a file of `format` of `recordId` carrying `cookieHeader` (the Cookie
  // header, "" when absent) may be answered: always when protection is off or the recording is
  // not protected (or unknown: its files are then absent anyway); else only with a valid cookie.
  // A store that fails refuses protected files (never serves them by mistake).
  bool mayServe(std::string_view recordId, std::string_view format, std::string_view cookieHeader,
                int64_t nowMs);

  // Drops what is remembered about `recordId` (its protection changed): the next question reads
  // the store. Without it, a change is seen within a few seconds.
  void forget(const std::string& recordId);

  // The value of cookie `name` in a Cookie header, nullopt when absent.
  static std::optional<std::string_view> cookieValue(std::string_view header,
                                                     std::string_view name);
  // The key used when SECRET_KEY_BASE is not set: an HMAC of `secret`, so the shared secret
  // itself never signs cookies.
  static std::string derivedKey(std::string_view secret);

 private:
  bool cookieValid(std::string_view header, std::string_view recordId, std::string_view format,
                   int64_t nowMs) const;
  // Whether the recording is protected, from a cache of a few seconds (every file of a player
  // asks); nullopt when the store fails.
  std::optional<bool> isProtected(std::string_view recordId, int64_t nowMs);

  ProtectionConfig config_;
  RecordingStore* store_;
  LinkRegistry* links_;
  MemoryLinkRegistry localLinks_;  // without `links`, and while it does not answer
  mutable std::mutex mutex_;
  struct Known {
    bool isProtected;
    int64_t untilMs;
  };
  std::unordered_map<std::string, Known> known_;
};

}  // namespace sb

// The BBB API use-cases: where each call for a meeting goes, and what is kept about it.
//
// Inputs are verified requests (checksum and HTTP method already checked by the router); outputs
// are what the HTTP front renders: BBB's own answer passed through, a redirect, or one of our
// errors. Calls that reach a BBB server block the calling thread up to the configured timeouts,
// so the HTTP front runs them off its reactor threads; join never contacts BBB.
// Thread-safety: all methods may be called concurrently; state lives in the stores.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/balancing/balancing_strategy.h"
#include "core/balancing/placement_view.h"
#include "core/balancing/reservation_writer.h"
#include "core/bbb_client.h"
#include "core/change_marker.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/group_commit.h"
#include "core/join_cache.h"
#include "core/meeting_copies.h"
#include "core/meeting_store.h"
#include "core/meetings_snapshot.h"
#include "core/metrics.h"
#include "core/query_string.h"
#include "core/request_context.h"
#include "core/result.h"
#include "core/server_call_limit.h"
#include "core/server_store.h"

namespace sb {

struct ApiRequest {
  std::string call;         // "create", "join", ...
  QueryString params;       // query and form-body parameters, decoded, checksum removed
  std::string body;         // an XML body (create with slides, insertDocument), else empty
  std::string contentType;  // of `body`
  RequestContext context;   // who is calling (router/ resolves it)
};

// BBB's XML answer, passed through to the client as it came (made strict XML text by the BBB
// client: core/xml_text.h).
struct UpstreamAnswer {
  std::string body;
  std::string serverId;    // for the access log
  bool success = false;    // BBB said SUCCESS
  std::string messageKey;  // BBB's messageKey, "" when none
  // BbbReply::memoryHold: the answer counts against BBB_ANSWERS_MAX_BYTES until it is handed on.
  std::shared_ptr<const void> memoryHold;
};

// Where a join goes: the signed join URL on the meeting's server.
struct JoinTarget {
  std::string url;
  std::string serverId;  // for the access log
};

class MeetingRouter {
 public:
  MeetingRouter(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb, const Clock& clock,
                BalancingStrategy& strategy, const Config& config, Metrics* metrics = nullptr,
                MeetingsSnapshotStore* snapshots = nullptr);

  // Places a new meeting (or finds the existing one) and forwards the create.
  Result<UpstreamAnswer> create(const ApiRequest& request);
  // The signed join URL on the meeting's server (the HTTP front answers 302 to it). Never
  // contacts BBB: when the meeting's server is offline, disabled or gone (or the meeting is
  // orphaned) it fails with kServerUnavailable, and the front calls failoverJoinUrl off the
  // reactor. When the stores do not know the meeting or do not answer, the join goes to the
  // server whose latest poll snapshot lists it running (runningOn), if one does.
  Result<JoinTarget> joinUrl(const ApiRequest& request);
  // joinUrl without any store I/O: the target when the join cache knows the meeting's server
  // (and it still serves existing meetings), nullopt otherwise. The front answers these on the
  // reactor and the rest on a worker, so a cache miss never blocks a reactor on a store round
  // trip (with the shared store, each miss is two Redis reads). `refreshDue`: cache entries are
  // nearly expired and this caller should run refreshJoinCache off the reactor, so meetings that
  // keep being joined keep being answered from the cache.
  struct CachedJoin {
    JoinTarget target;
    bool refreshDue = false;
  };
  std::optional<CachedJoin> cachedJoinUrl(const ApiRequest& request);
  // Reads the servers of the meetings whose join cache entries are due for a refresh from the
  // store again, in one batch, and puts them into the cache (or drops the meetings no longer on
  // a usable server). On a store error the entries are left to expire.
  void refreshJoinCache();
  // Re-creates the meeting on a healthy server from the create parameters stored at its first
  // create (same meetingID, name, passwords, metadata, slides), then answers its join URL there.
  // Concurrent failovers of one meeting re-create it once.
  Result<JoinTarget> failoverJoinUrl(const ApiRequest& request);
  Result<UpstreamAnswer> end(const ApiRequest& request);
  // nullopt when the meeting is unknown (the front answers SUCCESS running=false).
  Result<std::optional<UpstreamAnswer>> isMeetingRunning(const ApiRequest& request);
  Result<UpstreamAnswer> getMeetingInfo(const ApiRequest& request);
  Result<UpstreamAnswer> insertDocument(const ApiRequest& request);
  Result<UpstreamAnswer> sendChatMessage(const ApiRequest& request);
  // The <meeting> elements of every online, non-disabled server, in server-id order: from the
  // poller's snapshot of a server while no create or end went to it since (and it is younger
  // than 3 poll intervals), else asked live. Participant counts lag by at most one poll
  // interval. A server that fails to answer is left out, never fails the call. The answer is
  // the <meeting> elements concatenated, passed through the listing renderer when one is set;
  // while every server's snapshot is usable and unchanged the same answer is handed out again
  // without copying (the only copy this router keeps: megabytes over a large pool).
  Result<std::shared_ptr<const std::string>> getMeetings();
  // Wraps getMeetings' <meeting> elements into the document the HTTP front sends (the BBB API
  // sets its envelope here). Set once, before requests are served.
  using ListingRenderer = std::function<std::string(std::string_view meetingsXml)>;
  void renderListingsWith(ListingRenderer render) { renderListing_ = std::move(render); }

  // Ends a meeting from the admin API (no frontend request): sends end, forgets it.
  Status endMeeting(const std::string& meetingId);
  // Operator move: ends the meeting where it runs (best effort) and re-creates it on `serverId`
  // (enabled and online), so the next joins land there. Returns the moved meeting.
  // Returns (acknowledges) only once JOIN_CACHE_TTL has passed since the store changed, so no
  // router joins the meeting on its old server afterwards.
  Result<Meeting> moveMeeting(const std::string& meetingId, const std::string& serverId);

  // meta_bbb-meeting-size-hint of a create (0 when absent or not a count).
  static int sizeHintOf(const QueryString& params);

  // Creates' claims handed over that wait for the store write under way (tests, diagnostics).
  size_t claimsWaiting() { return claims_.handedOver(); }

 private:
  struct Target {
    Meeting meeting;
    Server server;
  };
  // What is needed to place (or re-place) a meeting and forward its create.
  struct Placement {
    std::string meetingId;
    QueryString params;  // forwardable create parameters, moderatorPW included, no server tag
    std::string body;    // XML slides body, or empty
    std::string tagRequest;
    std::string moderatorPw;
    int sizeHint = 0;
    // The record a failover re-places (orphaned, or released from an unusable server): put back,
    // orphaned, when the placement fails, so the meeting's route and create parameters are never
    // lost with its claim and the next join tries again.
    std::optional<Meeting> previous;
  };
  // The meeting and its server, for calls on an existing meeting. kNotFound when unknown,
  // kServerUnavailable when its server is offline or disabled.
  Result<Target> locate(const std::string& meetingId, bool requireUsableServer);
  Result<std::string> requireMeetingId(const ApiRequest& request) const;
  // Sends a call to `server` with timeouts reduced when it is offline. Transport failures, and a
  // server that already has SERVER_CALL_LIMIT calls waiting on it, become internalError with
  // `failureMessage`.
  Result<UpstreamAnswer> forward(const Server& server, const std::string& call,
                                 const QueryString& params, const std::string& body,
                                 const std::string& failureMessage);
  QueryString createParamsFor(const ApiRequest& request) const;
  QueryString joinParamsFor(const ApiRequest& request) const;
  std::string resolveServerTag(const ApiRequest& request) const;
  Placement placementFor(const ApiRequest& request, const std::string& meetingId) const;
  static Placement placementOf(const Meeting& meeting);
  Meeting meetingFor(const Placement& p, const Server& server) const;
  // Forwards the create of `p` to `server` (with the server's tag as meta_server-tag).
  Result<UpstreamAnswer> createOn(const Server& server, const Placement& p);
  // What placeAndCreate did: forwarded the create (BBB's answer, success or refusal), or found
  // the meeting claimed by another request (its owner; nothing was sent to BBB).
  struct Placed {
    std::optional<UpstreamAnswer> answer;
    std::optional<Meeting> owner;
  };
  // Places the meeting on the best server (chosen from the placement view, in which concurrent
  // placements of this process see each other; then claim + reservation) and forwards the
  // create; on a transport failure releases the claim and tries the next best server.
  Result<Placed> placeAndCreate(const Placement& p);
  // A placement's claim: with the claims of concurrent placements when the store prefers batches.
  Result<MeetingStore::Claim> claim(Meeting meeting);
  // The create of a meeting the store already has: forwarded to its server (BBB answers
  // duplicateWarning), or nullopt after forgetting it when its server no longer serves it (gone,
  // offline, disabled, or cordoned and the meeting ended), so the caller places it anew.
  Result<std::optional<UpstreamAnswer>> createExisting(const Meeting& m, const ApiRequest& request);
  // Parameters of a create for a meeting that already exists (idempotent create).
  QueryString repeatedCreateParams(const ApiRequest& request, const Meeting& existing) const;
  // Releases a claim and its reservation made by placeAndCreate/moveMeeting.
  void release(const Placement& p, const PlacementView::Pick& pick);
  JoinTarget signedJoin(const Server& server, const ApiRequest& request) const;

  ServerStore& servers_;
  MeetingStore& meetings_;
  BbbClient& bbb_;
  const Clock& clock_;
  BalancingStrategy& strategy_;
  const Config& config_;
  Metrics* metrics_;  // placements and failovers; may be null
  // The poller's getMeetings snapshots (null: getMeetings always asks live). Creates and ends
  // mark their server changed, so its snapshot is not used until the next poll.
  MeetingsSnapshotStore* snapshots_;
  std::optional<ChangeMarker> changeMarker_;  // set when snapshots_ is
  void markChanged(const std::string& serverId);
  // The meeting's server read from the store and put into the join cache: kNotFound when the
  // meeting is unknown, kServerUnavailable when it is orphaned or its server no longer serves
  // existing meetings (both drop it from the cache), or the store's error.
  Result<std::shared_ptr<const Server>> readJoinServer(std::string_view meetingId);
  // The server whose latest poll snapshot lists `meetingId`, while it serves existing meetings
  // (the BBB servers are the ground truth of where meetings run); nullopt when none does or the
  // snapshots cannot be read. Only snapshots getMeetings could use count: none older than three
  // poll intervals, none of a server a create or end went to since. Server records come from the
  // store, or from the placement view's last read while the store does not answer. The id → server
  // index is built once per set of snapshots (a fallback path: a Redis wipe with PostgreSQL down,
  // or both stores failing).
  std::optional<Server> runningOn(std::string_view meetingId);
  // The server read from the store, shared: null when it is gone or no longer serves existing
  // meetings (disabled, offline); the store's error otherwise.
  Result<std::shared_ptr<const Server>> usableServer(std::string_view id);
  std::mutex listingMu_;    // guards listingKey_ and listing_: the last all-snapshot listing
  std::string listingKey_;  // "<server id>:<taken ms>;" per serving server
  std::shared_ptr<const std::string> listing_;
  ListingRenderer renderListing_;  // empty: the bare <meeting> elements
  std::mutex runningMu_;           // guards runningKey_ and running_ (runningOn's index)
  std::string runningKey_;         // "<server id>:<taken ms>;" of the snapshots indexed
  std::unordered_map<std::string, std::string> running_;  // meetingID -> server id
  ChecksumAlgorithm signing_;
  JoinCache joinCache_;
  PlacementView placementView_;
  ReservationWriter reservations_;  // after placementView_, which it settles
  // The claims of concurrent placements, written together when the store prefers it
  // (MeetingStore::claimMeetings: with the shared store, one Redis script run and one PostgreSQL
  // statement for all of them).
  GroupCommit<Meeting, Result<MeetingStore::Claim>> claims_;
  ServerCallLimit callLimit_;
  // Ends a meeting's copy on its old server before it gets a new home (one meeting, one place).
  MeetingCopies copies_;
};

}  // namespace sb

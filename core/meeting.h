// A meeting routed by Switchboard: which server it lives on, and what is needed to re-create it
// elsewhere (failover) and to end it.
#pragma once

#include <cstdint>
#include <string>

#include "core/query_string.h"

namespace sb {

struct Meeting {
  std::string id;        // the external meetingID, as the frontend sent it
  std::string serverId;  // the server it is placed on
  std::string moderatorPw;
  std::string tenant;       // empty without multitenancy
  int64_t createdAtMs = 0;  // when Switchboard first placed it
  // The create parameters as forwarded (after defaults/overrides/excludes), and the XML body of a
  // POST create (pre-uploaded slides), kept to re-create the meeting on failover.
  QueryString createParams;
  std::string createBody;
  // The placement request it was created with (meta_server-tag, e.g. "eu!"), reused on failover.
  std::string serverTagRequest;
  // Users the meeting is expected to bring (meta_bbb-meeting-size-hint; 0 = LOAD_MIN_USER_COUNT).
  int sizeHint = 0;
  // Set when its server went away; the next create/join places it again.
  bool orphaned = false;
};

// What the poller reads of every meeting each round (pending load, the sweep): where it runs,
// since when, the users it is expected to bring, whether it awaits failover. Not the create
// parameters and body, which make up most of a meeting: a round's listing of 100,000 whole
// meetings held about 100 MB more at its peak (bench/README.md).
struct PlacedMeeting {
  std::string id;
  std::string serverId;
  int64_t createdAtMs = 0;
  int sizeHint = 0;
  bool orphaned = false;

  static PlacedMeeting of(const Meeting& m) {
    return {m.id, m.serverId, m.createdAtMs, m.sizeHint, m.orphaned};
  }
  bool operator==(const PlacedMeeting&) const = default;
};

}  // namespace sb

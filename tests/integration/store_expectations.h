// Field-by-field comparisons of stored records, shared by the store adapters' integration tests:
// a record read back must equal the one written, every field (doubles exactly).
#pragma once

#include <gtest/gtest.h>

#include "core/meeting.h"
#include "core/server.h"

namespace sb {

inline void expectSameServer(const Server& a, const Server& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.secret, b.secret);
  EXPECT_EQ(a.tag, b.tag);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.loadMultiplier, b.loadMultiplier);  // exact: doubles round-trip bit for bit
  EXPECT_EQ(a.maxUsers, b.maxUsers);
  EXPECT_EQ(a.maxMeetings, b.maxMeetings);
  EXPECT_EQ(a.wsUrl, b.wsUrl);
  EXPECT_EQ(a.wssUrl, b.wssUrl);
  EXPECT_EQ(a.maxConnections, b.maxConnections);
  EXPECT_EQ(a.removeWhenDrained, b.removeWhenDrained);
  EXPECT_EQ(a.addedByOperator, b.addedByOperator);
  EXPECT_EQ(a.live.online, b.live.online);
  EXPECT_EQ(a.live.load, b.live.load);
  EXPECT_EQ(a.live.usage, b.live.usage);
  EXPECT_EQ(a.live.bbbVersion, b.live.bbbVersion);
  EXPECT_EQ(a.live.healthyCount, b.live.healthyCount);
  EXPECT_EQ(a.live.unhealthyCount, b.live.unhealthyCount);
  EXPECT_EQ(a.live.lastPollMs, b.live.lastPollMs);
  EXPECT_EQ(a.live.pollLatencyMs, b.live.pollLatencyMs);
  EXPECT_EQ(a.live.lastError, b.live.lastError);
}

inline void expectSameMeeting(const Meeting& a, const Meeting& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.serverId, b.serverId);
  EXPECT_EQ(a.moderatorPw, b.moderatorPw);
  EXPECT_EQ(a.tenant, b.tenant);
  EXPECT_EQ(a.createdAtMs, b.createdAtMs);
  EXPECT_EQ(a.createParams.params(), b.createParams.params());
  EXPECT_EQ(a.createBody, b.createBody);
  EXPECT_EQ(a.serverTagRequest, b.serverTagRequest);
  EXPECT_EQ(a.sizeHint, b.sizeHint);
  EXPECT_EQ(a.orphaned, b.orphaned);
}

}  // namespace sb

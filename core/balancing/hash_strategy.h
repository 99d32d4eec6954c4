// Hash (HAProxy's "hash-type consistent", done as rendezvous / highest-random-weight hashing): each
// candidate scores hash64(meetingId + '\0' + server.id) and the highest score wins (ties, which
// need a 64-bit collision, go to the smaller id). The same meetingID lands on the same server for
// as long as that server is a candidate, whatever the order of the candidates; removing a server
// moves only the meetings that scored highest on it, adding one takes about 1/n of the meetings.
// Load, usage and the load multiplier are ignored (no weighting).
// Thread-safety: stateless; choose() may be called concurrently.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/balancing/balancing_strategy.h"

namespace sb {

class HashStrategy final : public BalancingStrategy {
 public:
  std::string_view name() const override { return "hash"; }
  const Server* choose(const std::vector<const Server*>& candidates,
                       std::string_view meetingId) override;

  // The rendezvous score of `serverId` for `meetingId`. Stable across builds, platforms and
  // standard libraries (it does not use std::hash): FNV-1a 64 over the bytes of meetingId, one
  // 0x00 byte and serverId, then MurmurHash3's fmix64 finalizer so that nearby inputs spread
  // over all 64 bits. Exposed for tests and diagnostics.
  static uint64_t score(std::string_view meetingId, std::string_view serverId);
};

}  // namespace sb

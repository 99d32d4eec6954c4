// N+M redundancy: can the pool lose its M largest serving servers and still hold the current
// load within the capacity of the rest? A server's capacity is its user limit (maxUsers) when
// set, else its connection capacity (maxConnections, default 500). The load is the users on the
// serving servers (online and not disabled); `switchboard status --survive M` shows the answer.
#pragma once

#include <cstdint>
#include <vector>

#include "core/server.h"

namespace sb {

struct Headroom {
  int survive = 1;           // M
  int servers = 0;           // serving servers now
  int serversLeft = 0;       // after losing the M largest
  int64_t capacity = 0;      // of the serving servers now
  int64_t capacityLeft = 0;  // of the servers left
  int64_t load = 0;          // users now
  bool holds = false;        // servers are left and their capacity covers the load
};

int64_t userCapacity(const Server& server);
Headroom computeHeadroom(const std::vector<Server>& servers, int survive);

}  // namespace sb

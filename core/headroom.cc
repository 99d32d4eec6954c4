#include "core/headroom.h"

#include <algorithm>
#include <functional>

namespace sb {

int64_t userCapacity(const Server& server) {
  return server.maxUsers > 0 ? server.maxUsers : server.maxConnections;
}

Headroom computeHeadroom(const std::vector<Server>& servers, int survive) {
  Headroom h;
  h.survive = std::max(0, survive);
  std::vector<int64_t> capacities;
  for (const Server& s : servers) {
    if (!s.servesExistingMeetings()) continue;
    capacities.push_back(userCapacity(s));
    h.capacity += capacities.back();
    h.load += s.live.usage.users;
  }
  h.servers = static_cast<int>(capacities.size());
  std::sort(capacities.begin(), capacities.end(), std::greater<>());
  size_t lost = std::min(capacities.size(), static_cast<size_t>(h.survive));
  h.serversLeft = static_cast<int>(capacities.size() - lost);
  h.capacityLeft = h.capacity;
  for (size_t i = 0; i < lost; ++i) h.capacityLeft -= capacities[i];
  h.holds = h.serversLeft > 0 && h.capacityLeft >= h.load;
  return h;
}

}  // namespace sb

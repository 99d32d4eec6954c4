// `switchboard serve --demo`: starts a bbb-sim child process with a few simulated BBB servers
// and hands back their URLs and secrets, so a newcomer can try every call at once.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/result.h"

namespace sb {

struct SimServer {
  std::string url;
  std::string secret;
};

class DemoPool {
 public:
  DemoPool() = default;
  ~DemoPool();  // stops the child
  DemoPool(const DemoPool&) = delete;
  DemoPool& operator=(const DemoPool&) = delete;

  // Starts `simPath --servers n` and waits (up to 10 s) for it to print "ready".
  Status start(const std::string& simPath, int servers);
  const std::vector<SimServer>& servers() const { return servers_; }
  const std::string& controlUrl() const { return controlUrl_; }
  void stop();

 private:
  pid_t pid_ = -1;
  std::vector<SimServer> servers_;
  std::string controlUrl_;
};

// The directory of the running executable (bbb-sim is built next to switchboard).
std::string executableDir();

}  // namespace sb

// A bbb-sim child process (simulated BBB servers): started with its arguments, it prints
// `server <i> <url> <secret>` lines, `control <url>` and `ready`, which are read back here.
// Used by `switchboard serve --demo`, the integration tests and the benchmarks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/result.h"

namespace sb {

struct SimServer {
  int index = 0;    // 1-based, as the control API numbers them
  std::string url;  // API base, ".../bigbluebutton/api/"
  std::string secret;
};

class SimProcess {
 public:
  SimProcess() = default;
  ~SimProcess();  // stops the child
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // Starts `simPath args...` and waits up to `wait` for it to print "ready".
  Status start(const std::string& simPath, const std::vector<std::string>& args,
               std::chrono::milliseconds wait = std::chrono::seconds(20));
  const std::vector<SimServer>& servers() const { return servers_; }
  const std::string& controlUrl() const { return controlUrl_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, then SIGKILL when it has not exited after 5 s. The child also gets SIGTERM when
  // this process dies first.
  void stop();

 private:
  pid_t pid_ = -1;
  std::vector<SimServer> servers_;
  std::string controlUrl_;
};

// The directory of the running executable (bbb-sim is built next to switchboard).
std::string executableDir();

}  // namespace sb

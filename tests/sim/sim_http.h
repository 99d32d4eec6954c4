// SimPool: the simulated BBB servers behind their Pistache endpoints, plus the control endpoint.
//
// Two layouts: per-port (server i has its own endpoint, API at
// http://HOST:PORT/bigbluebutton/api/) and shared-port (one endpoint, server i under
// http://HOST:PORT/s<i>/bigbluebutton/api/, for pools of a thousand servers). Faults are applied
// here, in front of SimServer: delays and hung calls go to a DelayedExecutor so no reactor thread
// ever waits; `down` stops a per-port endpoint (connections refused) and restarts it on the same
// port, or answers 503 in shared-port mode.
// Thread-safety: start() and stop() from the owning thread; everything else from any thread.
// Endpoint changes (down/up, reset) are serialized by endpointsMu_.
#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "tests/sim/delayed_executor.h"
#include "tests/sim/sim_server.h"

namespace sb::sim {

class ConnectionRegistry;

struct SimOptions {
  int servers = 3;                     // how many simulated servers (>= 1)
  std::string bind = "127.0.0.1";      // address of every endpoint
  uint16_t basePort = 0;               // per-port: server i on basePort+i-1; 0 = ephemeral each
  std::optional<std::string> secret;   // every server's secret; default "sim-secret-<i>"
  std::optional<uint16_t> sharedPort;  // set: one endpoint for all servers (0 = ephemeral)
  uint16_t controlPort = 0;            // control API; 0 = ephemeral
  int threads = 1;                     // reactor threads of the shared-port endpoint
};

// A partial fault update: unset fields stay as they are.
struct FaultPatch {
  std::optional<int> delayMs;
  std::optional<FaultError> error;
  std::optional<bool> timeout;
  std::optional<bool> down;
  std::optional<bool> malformed;
  std::optional<bool> partial;
};

class SimPool {
 public:
  explicit SimPool(SimOptions options);
  ~SimPool();

  SimPool(const SimPool&) = delete;
  SimPool& operator=(const SimPool&) = delete;

  // Binds and starts every endpoint. Throws std::runtime_error when an endpoint cannot bind.
  void start();
  // Drops held and delayed answers, then shuts every endpoint down. Idempotent.
  void stop();

  int size() const { return static_cast<int>(servers_.size()); }
  // 1-based; nullptr when out of range.
  SimServer* server(int index);
  bool sharedPortMode() const { return options_.sharedPort.has_value(); }
  // The port server `index` answers on (the shared port in shared-port mode).
  uint16_t portOf(int index) const;
  uint16_t controlPort() const { return controlPort_; }
  // "http://127.0.0.1:PORT" for the bind address (loopback when bound to a wildcard).
  std::string baseUrl(uint16_t port) const;

  // Applies a fault update to server `index`; in per-port mode a change of `down` stops or
  // restarts its endpoint. Fails with kNotFound (no such server) or kInternalError (rebind).
  Status applyFault(int index, const FaultPatch& patch);
  // Server `index` loses every meeting (recorded as ended in the history, like a killed BBB
  // process) and goes down as with `down: true`; a later `down: false` brings it back empty.
  // The number of meetings lost, or kNotFound / kInternalError.
  Result<size_t> crash(int index);
  // Clears meetings, counters, faults and the history everywhere and brings every server back up.
  Status resetAll();

  // Every meeting copy the servers ran (thread-safe itself).
  const MeetingHistory& history() const { return history_; }

  // Called by the endpoints' handlers on a reactor thread.
  void onApiRequest(SimServer* server, const Pistache::Http::Request& request,
                    Pistache::Http::ResponseWriter response);
  void onControlRequest(const Pistache::Http::Request& request,
                        Pistache::Http::ResponseWriter response);

 private:
  // One per-port endpoint; the port is kept so `down=false` rebinds the same one.
  struct Slot {
    std::unique_ptr<Pistache::Http::Endpoint> endpoint;  // null while down; guarded by endpointsMu_
    std::shared_ptr<ConnectionRegistry> connections;     // of `endpoint`; guarded by endpointsMu_
    uint16_t port = 0;                                   // fixed after start()
  };

  std::unique_ptr<Pistache::Http::Endpoint> startEndpoint(
      uint16_t port, int threads, std::shared_ptr<Pistache::Http::Handler> handler);
  void startServerEndpoint(int index);  // needs endpointsMu_
  void stopServerEndpoint(int index);   // needs endpointsMu_
  static void answer(const ApiReply& reply, Pistache::Http::ResponseWriter& response);

  const SimOptions options_;
  MeetingHistory history_;                           // before servers_: they point to it
  std::vector<std::unique_ptr<SimServer>> servers_;  // fixed after construction
  DelayedExecutor executor_;

  std::mutex endpointsMu_;
  std::vector<Slot> slots_;                           // per-port mode; guarded by endpointsMu_
  std::unique_ptr<Pistache::Http::Endpoint> shared_;  // shared-port mode
  std::unique_ptr<Pistache::Http::Endpoint> control_;
  uint16_t sharedPort_ = 0;   // fixed after start()
  uint16_t controlPort_ = 0;  // fixed after start()
  bool stopped_ = false;      // guarded by endpointsMu_
};

}  // namespace sb::sim

// Wires the concrete adapters into a running Switchboard: stores, BBB client, router, admin API,
// HTTP front and (optionally) the in-process poller. Only executables and integration tests
// build one. Thread-safety: start()/stop() from one thread.
#pragma once

#include <memory>

#include "core/config.h"
#include "core/meeting_store.h"
#include "core/result.h"
#include "core/server_admin.h"
#include "core/server_store.h"
#include "poller/poller.h"

namespace sb {

struct ServiceOptions {
  bool runPoller = true;  // `serve` runs router and poller in one process
};

class Service {
 public:
  Service(Config config, ServiceOptions options);
  ~Service();

  // Starts the HTTP front (and the poller). Fails when the port cannot be bound.
  Status start();
  void stop();

  uint16_t port() const;
  const Config& config() const;
  ServerStore& servers();
  MeetingStore& meetings();
  ServerAdmin& admin();
  Poller& poller();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb

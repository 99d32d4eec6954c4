// Wires the concrete adapters into a running Switchboard: stores, BBB client, router, admin API,
// HTTP front and (optionally) the poller. Only executables and integration tests build one.
// Thread-safety: start()/stop() from one thread.
#pragma once

#include <memory>
#include <optional>

#include "app/stores.h"
#include "core/config.h"
#include "core/meeting_store.h"
#include "core/result.h"
#include "core/server_admin.h"
#include "core/server_store.h"
#include "importer/callback_relay.h"
#include "importer/recording_importer.h"
#include "poller/poller.h"

namespace spdlog {
class logger;
}

namespace sb {

struct ServiceOptions {
  bool runHttp = true;    // false for `switchboard poller`
  bool runPoller = true;  // `serve` runs router and poller in one process; `router` does not
};

class Service {
 public:
  // `stores` from openStores(); nullptr means the embedded in-memory store.
  Service(Config config, ServiceOptions options, std::unique_ptr<StoreBundle> stores = nullptr);
  ~Service();

  // Whether the recording importer runs here (`switchboard importer`: true). Unless set before
  // start(): as RECORDING_IMPORTER says (default on with the embedded store, off with the
  // shared one).
  void runImporter(bool run);

  // Prepares the stores (schema check, cache warm-up), then starts the HTTP front (and the
  // poller). Fails when the schema is behind or the port cannot be bound.
  Status start();
  void stop();

  uint16_t port() const;
  const Config& config() const;
  StoreBundle& stores();
  ServerStore& servers();
  MeetingStore& meetings();
  ServerAdmin& admin();
  Poller& poller();
  RecordingImporter& importer();
  CallbackRelay& callbacks();
  // The access log's logger (tests add a sink to read its lines).
  spdlog::logger& accessLogger();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb

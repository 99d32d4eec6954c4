#include "app/service.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "bbb/curl_bbb_client.h"
#include "core/balancing/least_load_strategy.h"
#include "core/balancing/strategy_factory.h"
#include "core/meeting_router.h"
#include "core/metrics.h"
#include "core/rtc_balancer.h"
#include "core/tenants/tenant_admin.h"
#include "core/tenants/tenant_directory.h"
#include "core/tenants/tenant_limits.h"
#include "importer/callback_folder.h"
#include "router/access_log.h"
#include "router/admin_api.h"
#include "router/bbb_api.h"
#include "router/http_server.h"
#include "router/ops_api.h"
#include "router/worker_pool.h"

namespace sb {
namespace {

constexpr auto kRouterTrimInterval = std::chrono::seconds(30);
// How often every process checks that its stores lost nothing (StoreBundle::maintain).
constexpr auto kStoreMaintenanceInterval = std::chrono::seconds(5);
// How often a router reads the tenants again (a change made through another router is seen
// within this).
constexpr auto kTenantRefreshInterval = std::chrono::seconds(2);

// What /readyz says of the stores: ready while one answers (joins and, with Redis down, creates
// go on from the other), degraded when one does not.
Readiness readinessOf(const StoreBundle::Health& health) {
  Readiness r;
  std::string why;
  for (const auto& d : health.down) why += (why.empty() ? "" : "; ") + d;
  if (!health.serving()) {
    r.ready = false;
    r.reason = why;
  } else if (!why.empty()) {
    r.degraded = why;
  }
  return r;
}

}  // namespace

struct Service::Impl {
  Config config;
  ServiceOptions options;
  std::unique_ptr<StoreBundle> stores;
  SystemClock clock;
  Metrics metrics;
  CurlBbbClient bbb;
  std::unique_ptr<BalancingStrategy> strategy;
  MeetingRouter router;
  ServerAdmin admin;
  Poller poller;
  RtcBalancer rtc;
  AccessLog accessLog;
  std::unique_ptr<WorkerPool> workers;
  RecordingFolder recordingFolder;
  RecordingImporter importer;
  // Callbacks wait in the stores' queue (PostgreSQL) when they have one, else in the spool.
  FolderCallbackQueue callbackFolder;
  CallbackRelay callbacks;
  bool importerRunning = false;
  bool callbacksRunning = false;
  std::optional<bool> runImporter;
  RecordingLibrary recordings;
  RecordingProtection protection;
  TextTracks textTracks;
  // MULTITENANCY_ENABLED: the tenants every BBB API call is resolved against (null otherwise).
  std::unique_ptr<TenantDirectory> tenants;
  std::unique_ptr<TenantAdmin> tenantAdmin;
  std::unique_ptr<TenantLimitsGate> tenantLimits;
  std::jthread tenantRefresher;
  std::unique_ptr<BbbApi> api;
  std::unique_ptr<AdminApi> adminApi;
  std::unique_ptr<OpsApi> opsApi;
  std::unique_ptr<PlaybackFiles> playback;
  std::unique_ptr<HttpServer> http;
  bool pollerRunning = false;
  // Housekeeping: StoreBundle::maintain every kStoreMaintenanceInterval, and hands freed heap
  // memory back every kRouterTrimInterval.
  std::jthread housekeeper;

  static std::unique_ptr<BalancingStrategy> strategyFor(const Config& c) {
    auto s = makeStrategy(c.balancing.strategy);
    return s ? std::move(s) : std::make_unique<LeastLoadStrategy>();  // loadConfig validated it
  }

  Impl(Config c, ServiceOptions o, std::unique_ptr<StoreBundle> s)
      : config(std::move(c)),
        options(o),
        stores(std::move(s)),
        bbb(config.bbb),
        strategy(strategyFor(config)),
        router(stores->servers(), stores->meetings(), bbb, clock, *strategy, config, &metrics,
               &stores->snapshots()),
        admin(stores->servers(), stores->meetings(), bbb, config),
        poller(stores->servers(), stores->meetings(), bbb, clock, config, stores->lease(), &metrics,
               &stores->snapshots()),
        rtc(stores->servers(), clock, config.rtc),
        accessLog(config.logJson, STDOUT_FILENO, &metrics),
        recordingFolder(config.recordings),
        importer(recordingFolder, stores->recordings(), &metrics),
        callbackFolder(config.recordings.spool() + "/callbacks"),
        callbacks(stores->callbackQueue() ? *stores->callbackQueue() : callbackFolder,
                  config.recordings, config.api.secrets, &metrics),
        recordings(stores->recordings(), &recordingFolder),
        protection(config.recordings.protection, &stores->recordings(), stores->linkRegistry()),
        textTracks(stores->recordings(), &recordingFolder) {}

  // The recordings folder: made when this process writes to it (an importer, or the embedded
  // store, whose index is the folder: read here at start-up); other processes only use what is
  // there. Fails only when this process is the importer and the folder cannot be used.
  Status prepareRecordings() {
    const bool embedded = !config.store.shared();
    const bool importing =
        runImporter.value_or(config.recordings.importerInServe.value_or(embedded));
    // Uploads (the BBB servers' hook, `switchboard recordings import`) are imported by the router
    // that receives them.
    const bool uploads =
        options.runHttp && (!config.recordings.uploadToken.empty() || !config.admin.token.empty());
    // A shared queue is delivered by every router and importer (analytics posts reach any
    // router); the folder's by the processes that share the folder.
    const bool sharedCallbacks = stores->callbackQueue() != nullptr;
    if (sharedCallbacks && (options.runHttp || importing)) startCallbacks();
    if (!embedded && !importing && !uploads) return Status::Ok();
    if (auto s = recordingFolder.prepare(); !s) {
      if (!options.runHttp) return s;
      spdlog::warn(
          "recordings: {}; recordings are not imported or kept until it can be (set "
          "RECORDING_DIR)",
          s.error().message);
      return Status::Ok();
    }
    if (embedded) loadRecordingIndex();
    if (sharedCallbacks) moveFolderCallbacks();
    // Whatever this process imports (spool or uploads) queues its recording-ready callback.
    importer.onImported([this](const Recording& r) { callbacks.recordingImported(r); });
    startCallbacks();
    if (importing) {
      importer.start();
      importerRunning = true;
      spdlog::info("recording importer: watching {} every {:.1f} s, recordings in {}",
                   config.recordings.spool(),
                   std::chrono::duration<double>(config.recordings.importPollInterval).count(),
                   config.recordings.published());
    }
    return Status::Ok();
  }

  void startCallbacks() {
    if (callbacksRunning) return;
    callbacks.start();
    callbacksRunning = true;
  }

  // Callbacks an earlier version (or the embedded default) left in the spool go to the shared
  // queue, once.
  void moveFolderCallbacks() {
    auto moved = callbackFolder.moveTo(*stores->callbackQueue());
    if (!moved) {
      spdlog::warn("recordings: the callbacks in {} stay there for now: {}",
                   callbackFolder.folder(), moved.error().message);
    } else if (*moved > 0) {
      spdlog::info("recordings: {} waiting callbacks moved from {} to the database", *moved,
                   callbackFolder.folder());
    }
  }

  // The embedded store's recordings, read back from the folder (which outlives the process).
  void loadRecordingIndex() {
    const auto started = std::chrono::steady_clock::now();
    auto done = recordings.reindex();
    if (!done) return;  // no folder: nothing to read
    for (size_t n = 0; n < done->problems.size() && n < 20; ++n) {
      spdlog::warn("recordings: skipped {}", done->problems[n]);
    }
    spdlog::info("recordings: {} read from {} in {:.1f} s{}", done->stored, config.recordings.root,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 done->problems.empty() ? "" : fmt::format(" ({} skipped)", done->problems.size()));
  }
};

Service::Service(Config config, ServiceOptions options, std::unique_ptr<StoreBundle> stores) {
  if (!stores) {
    Config memoryOnly = config;
    memoryOnly.store = StoreConfig{};
    stores = std::move(openStores(memoryOnly).value());
  }
  impl_ = std::make_unique<Impl>(std::move(config), options, std::move(stores));
  Impl& i = *impl_;
  i.workers = std::make_unique<WorkerPool>(
      i.config.http.workerThreads, i.config.http.workerThreadsMax, i.config.http.workerQueueMax);
  if (i.config.api.multitenancy) {
    i.tenants = std::make_unique<TenantDirectory>(
        i.stores->tenants(), i.config.api.tenantBaseDomain, i.config.api.checksumAlgorithms);
    i.tenantLimits = std::make_unique<TenantLimitsGate>(i.stores->tenantQuota(), i.clock);
    i.poller.setTenantQuota(&i.stores->tenantQuota());
  }
  i.api = std::make_unique<BbbApi>(i.router, i.config.api, *i.workers,
                                   RecordingCalls{.library = &i.recordings,
                                                  .protection = &i.protection,
                                                  .textTracks = &i.textTracks,
                                                  .callbacks = &i.callbacks},
                                   TenantCalls{i.tenants.get(), i.tenantLimits.get()});
  i.adminApi = std::make_unique<AdminApi>(i.admin, i.stores->servers(), i.stores->meetings(),
                                          i.router, i.config.admin, *i.workers, &i.recordings);
  i.opsApi = std::make_unique<OpsApi>(
      i.stores->servers(), i.rtc, i.metrics, [&i]() { return readinessOf(i.stores->health()); },
      *i.workers);
  RouterHandlers handlers;
  handlers.api = i.api.get();
  handlers.admin = i.adminApi.get();
  handlers.ops = i.opsApi.get();
  handlers.metrics = &i.metrics;
  if (i.config.accessLog) handlers.accessLog = &i.accessLog;
  if (i.tenants) {
    // Callbacks of a tenant's meetings are signed with its secrets, read when they are sent.
    i.callbacks.signTenantsWith([&stores = *i.stores](const std::string& name) {
      auto t = stores.tenants().findTenant(name);
      return t && *t ? (*t)->secrets : std::vector<std::string>();
    });
    i.tenantAdmin = std::make_unique<TenantAdmin>(i.stores->tenants(), i.stores->meetings(),
                                                  i.tenants.get(), &i.stores->tenantQuota());
    i.adminApi->setTenants(i.tenantAdmin.get());
  }
  i.adminApi->setImporter(&i.importer, i.config.recordings.uploadToken, &i.callbacks);
  for (const auto& token : {i.config.recordings.uploadToken, i.config.admin.token}) {
    if (!token.empty()) handlers.uploads.tokens.push_back(token);
  }
  i.playback = std::make_unique<PlaybackFiles>(
      PlaybackConfig{i.config.recordings.published(), i.config.recordings.player(),
                     i.config.recordings.playbackFormats, i.config.recordings.captions()},
      &i.recordings, &i.protection, i.workers.get());
  handlers.playback = i.playback.get();
  if (!handlers.uploads.tokens.empty()) {
    handlers.uploads.folder = i.recordingFolder.uploadFolder();
    handlers.uploads.maxBytes = i.config.recordings.uploadMaxBytes;
  }
  i.http = std::make_unique<HttpServer>(i.config.http, std::move(handlers));
}

Service::~Service() {
  stop();
  // Queued tasks use the APIs and playback: they finish while those still exist.
  if (impl_) impl_->workers.reset();
}

Status Service::start() {
  if (auto s = impl_->stores->prepare(); !s) return s;
  if (impl_->tenants) {
    // Read before the first call is served; while the store does not answer, the router starts
    // with none and the refresher keeps trying.
    if (auto s = impl_->tenants->refresh(); !s) {
      spdlog::warn("tenants could not be read yet: {}", s.error().message);
    }
    spdlog::info("multitenancy: {} tenants{}", impl_->tenants->size(),
                 impl_->config.api.tenantBaseDomain.empty()
                     ? " (no TENANT_BASE_DOMAIN: found by their own host names or /t/<tenant>/)"
                     : " under " + impl_->config.api.tenantBaseDomain);
    impl_->tenantRefresher = std::jthread([tenants = impl_->tenants.get()](std::stop_token stop) {
      std::mutex mu;
      std::condition_variable_any wake;
      std::unique_lock lock(mu);
      bool failing = false;
      while (!wake.wait_for(lock, stop, kTenantRefreshInterval,
                            [&] { return stop.stop_requested(); })) {
        Status s = tenants->refresh();
        if (!s.ok() && !failing) spdlog::warn("tenants not refreshed: {}", s.error().message);
        if (s.ok() && failing) spdlog::info("tenants refreshed again");
        failing = !s.ok();
      }
    });
  }
  if (auto s = impl_->prepareRecordings(); !s) return s;
  if (impl_->options.runHttp) {
    if (auto s = impl_->http->start(); !s) return s;
  }
  if (impl_->options.runPoller) {
    // A round parses every server's answer (megabytes each with thousands of meetings), and
    // the freed memory would stay in the malloc heaps until the next round: hand it back.
    impl_->poller.setAfterRound([] { malloc_trim(0); });
    impl_->poller.start();
    impl_->pollerRunning = true;
  }
  // main.cc raises M_TRIM_THRESHOLD so bursts do not give memory back and take it again, so every
  // process trims on a timer too: only the active poller has rounds, and a router whose poller
  // stands by (another router holds the lease) would otherwise keep its largest burst's heap.
  impl_->housekeeper = std::jthread([stores = impl_->stores.get()](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any wake;
    std::unique_lock lock(mu);
    auto lastTrim = std::chrono::steady_clock::now();
    while (!wake.wait_for(lock, stop, kStoreMaintenanceInterval,
                          [&] { return stop.stop_requested(); })) {
      stores->maintain();
      if (std::chrono::steady_clock::now() - lastTrim >= kRouterTrimInterval) {
        malloc_trim(0);
        lastTrim = std::chrono::steady_clock::now();
      }
    }
  });
  return Status::Ok();
}

void Service::stop() {
  if (!impl_) return;
  if (impl_->tenantRefresher.joinable()) {
    impl_->tenantRefresher.request_stop();
    impl_->tenantRefresher.join();
  }
  if (impl_->housekeeper.joinable()) {
    impl_->housekeeper.request_stop();
    impl_->housekeeper.join();
  }
  if (impl_->pollerRunning) {
    impl_->poller.stop();
    impl_->pollerRunning = false;
  }
  if (impl_->importerRunning) {
    impl_->importer.stop();
    impl_->importerRunning = false;
  }
  if (impl_->callbacksRunning) {
    impl_->callbacks.stop();
    impl_->callbacksRunning = false;
  }
  impl_->http->stop();
}

uint16_t Service::port() const { return impl_->http->port(); }
const Config& Service::config() const { return impl_->config; }
StoreBundle& Service::stores() { return *impl_->stores; }
ServerStore& Service::servers() { return impl_->stores->servers(); }
MeetingStore& Service::meetings() { return impl_->stores->meetings(); }
ServerAdmin& Service::admin() { return impl_->admin; }
Poller& Service::poller() { return impl_->poller; }
RecordingImporter& Service::importer() { return impl_->importer; }
CallbackRelay& Service::callbacks() { return impl_->callbacks; }
void Service::runImporter(bool run) { impl_->runImporter = run; }
spdlog::logger& Service::accessLogger() { return impl_->accessLog.logger(); }

}  // namespace sb

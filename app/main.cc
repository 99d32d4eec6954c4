// switchboard: the router, the poller and the admin CLI in one executable.
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "admin/admin_commands.h"
#include "app/logging.h"
#include "app/service.h"
#include "app/sim_process.h"
#include "app/stores.h"

namespace {

struct ServeOptions {
  std::string bind;
  int port = -1;
  bool demo = false;
  int demoServers = 3;
};

// Blocks SIGINT/SIGTERM in every thread (call before starting any) and waits for one.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

sb::Result<sb::Config> loadOrFail() { return sb::loadConfig(sb::processEnvironment()); }

// serve, router and poller: the same process shape with different parts switched on.
int run(const ServeOptions& opts, sb::ServiceOptions what, const char* command,
        bool importer = false) {
  auto config = loadOrFail();
  if (!config) return fail(config.error().message);
  if (what.runHttp && config->api.secrets.empty()) {
    return fail(
        "LOADBALANCER_SECRET is not set. It is the shared secret your frontends (Greenlight, "
        "Moodle, ...) sign their BBB API calls with; set it, e.g.\n"
        "  export LOADBALANCER_SECRET=$(openssl rand -hex 32)");
  }
  if (std::string(command) != "serve" && !config->store.shared()) {
    return fail(std::string("`switchboard ") + command +
                "` runs beside other processes and needs the shared store: set REDIS_URL and "
                "DATABASE_URL (or run `switchboard serve` for one process on the embedded store)");
  }
  if (!opts.bind.empty()) config->http.bind = opts.bind;
  if (opts.port >= 0) config->http.port = static_cast<uint16_t>(opts.port);
  sb::configureLogging(*config);

  sigset_t stopSignals = blockStopSignals();
  auto stores = sb::openStores(*config);
  if (!stores) return fail(stores.error().message);
  std::string storeName = (*stores)->describe();
  sb::Service service(*config, what, std::move(*stores));
  if (importer) service.runImporter(true);
  sb::SimProcess demo;
  if (opts.demo) {
    if (auto s = demo.start(sb::executableDir() + "/bbb-sim",
                            {"--servers", std::to_string(opts.demoServers)});
        !s) {
      return fail(s.error().message);
    }
    for (const auto& sim : demo.servers()) {
      sb::ServerChanges c;
      c.url = sim.url;
      c.secret = sim.secret;
      c.state = sb::AdminState::kEnabled;
      auto added = service.admin().add(c);
      if (!added) return fail("demo server: " + added.error().message);
    }
  }
  if (auto s = service.start(); !s) return fail(s.error().message);

  if (!what.runHttp && what.runPoller) {
    std::printf(
        "Switchboard poller running on %s (POLL_INTERVAL %lds); one poller of several is "
        "active at a time (lease TTL %lds)\n",
        storeName.c_str(), static_cast<long>(config->poller.interval.count() / 1000),
        static_cast<long>(config->store.leaseTtl.count() / 1000));
  } else if (!what.runHttp) {
    std::printf(
        "Switchboard importer running on %s: archives from %s (every %lds) into %s, failed ones "
        "kept in %s/failed\n",
        storeName.c_str(), config->recordings.spool().c_str(),
        static_cast<long>(config->recordings.importPollInterval.count() / 1000),
        config->recordings.published().c_str(), config->recordings.spool().c_str());
  } else {
    std::string base =
        "http://" +
        (config->http.bind == "0.0.0.0" ? std::string("127.0.0.1") : config->http.bind) + ":" +
        std::to_string(service.port());
    std::printf("Switchboard %s %s listening on %s:%u (%s)\n", "0.1.0", command,
                config->http.bind.c_str(), service.port(), storeName.c_str());
    std::printf(
        "  BBB API:   %s/bigbluebutton/api  (frontends use this URL and "
        "LOADBALANCER_SECRET)\n",
        base.c_str());
    if (config->admin.token.empty()) {
      std::printf("  Admin API: disabled; set SWITCHBOARD_ADMIN_TOKEN to manage servers\n");
    } else {
      std::printf("  Admin API: %s/switchboard/api/v1\n", base.c_str());
    }
    if (opts.demo) {
      std::printf("  Demo pool: %zu simulated BBB servers (bbb-sim, control at %s), enabled\n",
                  demo.servers().size(), demo.controlUrl().c_str());
    }
    std::printf(
        "Add a BBB server (its URL and `bbb-conf --secret`), then enable it:\n"
        "  SWITCHBOARD_URL=%s switchboard servers add "
        "https://bbb1.example.com/bigbluebutton/api SECRET --enable\n",
        base.c_str());
  }
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stopSignals, &sig);
  spdlog::info("stopping on signal {}", sig);
  service.stop();
  demo.stop();
  return 0;
}

int migrate() {
  auto config = loadOrFail();
  if (!config) return fail(config.error().message);
  auto outcome = sb::migrateDatabase(*config);
  if (!outcome) return fail(outcome.error().message);
  std::printf("%s\n", outcome->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Large answers (getMeetings over a big pool is megabytes, copied on its way out) would
  // otherwise get fresh mmap'd, zero-filled pages on every request: keep such buffers in the
  // malloc heaps between requests (measured: bench/README.md, getMeetings). Freed memory is handed
  // back after each poll round and every 30 s instead (app/service.cc, malloc_trim).
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
  // glibc gives each thread that allocates concurrently its own arena (up to 8 per core), and
  // each keeps the memory freed in it: with up to WORKER_THREADS_MAX workers that multiplied the
  // RSS (bench/README.md, memory). A few arenas are enough for 2 reactors and the workers.
  mallopt(M_ARENA_MAX, 4);
  CLI::App app{
      "Switchboard: a BigBlueButton load balancer. Frontends send the BBB API to it; it places\n"
      "each meeting on the least-loaded healthy BBB server and routes every later call there.\n"
      "Configuration comes from environment variables (see README.md)."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("switchboard 0.1.0"));

  ServeOptions serveOpts;
  auto* serveCmd = app.add_subcommand(
      "serve", "Run the router and the poller in one process on the embedded in-memory store");
  serveCmd->add_option("--port", serveOpts.port, "Port to listen on (default: PORT or 8080)");
  serveCmd->add_option("--bind", serveOpts.bind, "Address to listen on (default: BIND or 0.0.0.0)");
  serveCmd->add_flag("--demo", serveOpts.demo,
                     "Also start a small bbb-sim pool of simulated BBB servers and register it");
  serveCmd->add_option("--demo-servers", serveOpts.demoServers, "Servers in the demo pool")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  int exitCode = 0;
  serveCmd->callback([&] { exitCode = run(serveOpts, sb::ServiceOptions{}, "serve"); });

  ServeOptions routerOpts;
  auto* routerCmd =
      app.add_subcommand("router",
                         "Run only the HTTP router, one of several replicas (needs REDIS_URL and "
                         "DATABASE_URL)");
  routerCmd->add_option("--port", routerOpts.port, "Port to listen on (default: PORT or 8080)");
  routerCmd->add_option("--bind", routerOpts.bind, "Address to listen on (default: BIND)");
  routerCmd->callback([&] {
    exitCode = run(routerOpts, sb::ServiceOptions{.runHttp = true, .runPoller = false}, "router");
  });
  app.add_subcommand("poller",
                     "Run only the poller; several may run, one is active at a time (needs "
                     "REDIS_URL and DATABASE_URL)")
      ->callback([&] {
        exitCode =
            run(ServeOptions{}, sb::ServiceOptions{.runHttp = false, .runPoller = true}, "poller");
      });
  app.add_subcommand("importer",
                     "Run only the recording importer: archives from RECORDING_SPOOL_DIR into the "
                     "recordings folder and the store; several may share a spool (needs "
                     "REDIS_URL and DATABASE_URL)")
      ->callback([&] {
        exitCode = run(ServeOptions{}, sb::ServiceOptions{.runHttp = false, .runPoller = false},
                       "importer", true);
      });
  app.add_subcommand("migrate", "Apply pending PostgreSQL migrations (needs DATABASE_URL)")
      ->callback([&] { exitCode = migrate(); });

  sb::admin::registerAdminCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exitCode;
}

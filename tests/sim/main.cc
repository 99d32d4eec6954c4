// bbb-sim: simulated BigBlueButton servers on loopback, for tests, demos and benchmarks.
//
// Prints one line per server ("server <i> <apiBaseUrl> <secret>"), then
// "control http://HOST:PORT", then "ready", and serves until SIGTERM or SIGINT.
// Logs go to stderr; stdout carries only those lines.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include <pthread.h>

#include "tests/sim/sim_http.h"

int main(int argc, char** argv) {
  CLI::App app{"bbb-sim: simulated BigBlueButton servers for tests, demos and benchmarks"};
  sb::sim::SimOptions options;
  std::string secret;
  uint16_t sharedPort = 0;
  std::string logLevel = "warn";
  app.add_option("--servers", options.servers, "Number of simulated servers")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--bind", options.bind, "Address every endpoint binds")->capture_default_str();
  app.add_option("--base-port", options.basePort,
                 "Per-port mode: server i listens on base-port+i-1 (0: an ephemeral port each)")
      ->capture_default_str();
  auto* secretOption =
      app.add_option("--secret", secret, "Secret of every server (default: sim-secret-<i>)");
  auto* sharedOption = app.add_option("--shared-port", sharedPort,
                                      "One endpoint for all servers; server i answers under "
                                      "/s<i>/bigbluebutton/api/ (0: ephemeral)");
  app.add_option("--control-port", options.controlPort, "Control API port (0: ephemeral)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Reactor threads of the shared-port endpoint")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--log-level", logLevel, "trace, debug, info, warn, error, off (logs on stderr)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (*secretOption) {
    if (secret.empty()) {
      std::fprintf(stderr, "bbb-sim: --secret must not be empty\n");
      return 2;
    }
    options.secret = secret;
  }
  if (*sharedOption) {
    options.sharedPort = sharedPort;
  } else if (options.basePort != 0 && options.basePort + options.servers - 1 > 65535) {
    std::fprintf(stderr, "bbb-sim: base-port + servers - 1 exceeds 65535\n");
    return 2;
  }

  spdlog::set_default_logger(spdlog::stderr_color_mt("bbb-sim"));
  spdlog::set_level(spdlog::level::from_str(logLevel));

  // SIGINT/SIGTERM are blocked in every thread (Pistache's threads inherit the mask) and taken
  // synchronously below, so shutdown runs on this thread and not in a signal handler.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  sb::sim::SimPool pool(options);
  try {
    pool.start();
  } catch (const std::exception& e) {
    spdlog::error("cannot start: {}", e.what());
    pool.stop();
    return 1;
  }

  for (int i = 1; i <= pool.size(); ++i) {
    const auto* server = pool.server(i);
    std::printf("server %d %s %s\n", i, server->apiBaseUrl().c_str(), server->secret().c_str());
  }
  std::printf("control %s\n", pool.baseUrl(pool.controlPort()).c_str());
  std::printf("ready\n");
  std::fflush(stdout);
  spdlog::info("{} servers ready ({} mode)", pool.size(),
               pool.sharedPortMode() ? "shared-port" : "per-port");

  int signal = 0;
  sigwait(&stopSignals, &signal);
  spdlog::info("signal {}: stopping", signal);
  pool.stop();
  return 0;
}

// join-path-bench: the router's own work per join, without sockets, Pistache or the kernel.
//
// Builds the BBB API in process on the embedded store (one server, one meeting), then answers
// the same signed join (a join-cache hit, as nearly every join is) many times through
// routeRequest — checksum, parameters, cache, the signed redirect, metrics and the access log
// (written to /dev/null) — and prints the time and the heap allocations per join. The same is
// measured without metrics and access log, to show their share.
//
// These figures are deterministic enough to compare one change of the join path with the next,
// which bench/join.sh's wrk runs (±20% on this machine) are not. A benchmark, not a test: it
// prints figures and exits 0.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>

#include "core/balancing/least_load_strategy.h"
#include "core/checksum.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/meeting_router.h"
#include "core/metrics.h"
#include "db/memory_store.h"
#include "router/access_log.h"
#include "router/bbb_api.h"
#include "router/http_server.h"
#include "router/worker_pool.h"

// GCC cannot see that the replaced operator new below allocates with malloc, and warns where
// its inlined callers' memory reaches this free().
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

// Every operator new of the process is counted (the measured loop runs on one thread).
std::atomic<long> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace sb;

// A join never calls BBB; the meeting is put into the store directly.
class NoBbb final : public BbbClient {
 public:
  Result<BbbReply> call(const BbbCall&) override {
    return Error::of(ErrorCode::kInternalError, "no BBB in this benchmark");
  }
  void pollMeetingsEach(const std::vector<std::string>& urls, CallTimeouts,
                        const PollAnswer& onAnswer) override {
    for (size_t i = 0; i < urls.size(); ++i) onAnswer(i, Error::of(ErrorCode::kInternalError));
  }
  Result<std::string> fetchVersion(const std::string&, CallTimeouts) override {
    return Error::of(ErrorCode::kInternalError, "no BBB in this benchmark");
  }
};

struct Figures {
  double nsPerJoin = 0;
  double allocationsPerJoin = 0;
};

Figures measure(const RouterHandlers& handlers, const HttpRequest& join, int count) {
  int redirects = 0;
  const Reply reply = [&redirects](HttpResponse r) { redirects += r.status == 302 ? 1 : 0; };
  const long allocationsBefore = allocations.load();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) routeRequest(handlers, join, reply);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const long allocated = allocations.load() - allocationsBefore;
  if (redirects != count) {
    std::cerr << "join-path-bench: " << count - redirects << " joins were not answered 302\n";
    std::exit(1);
  }
  return {std::chrono::duration<double, std::nano>(elapsed).count() / count,
          static_cast<double>(allocated) / count};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The router's own work per join (no sockets): time and allocations per join"};
  int count = 200'000;
  app.add_option("--joins", count, "joins per measurement")->check(CLI::Range(1, 100'000'000));
  CLI11_PARSE(app, argc, argv);

  const std::string secret = "bench-secret";
  Config config;
  config.api.secrets = {secret};
  config.api.joinCacheTtl = std::chrono::hours(1);  // every measured join is a cache hit

  MemoryServerStore servers;
  Server server;
  server.id = "bbb-1";
  server.url = "https://bbb-1.example.com/bigbluebutton/api/";
  server.secret = "server-secret";
  server.state = AdminState::kEnabled;
  server.live.online = true;
  MemoryMeetingStore meetings;
  Meeting meeting;
  meeting.id = "room-1234";
  meeting.serverId = server.id;
  meeting.moderatorPw = "mp";
  if (!servers.addServer(server) || !meetings.claimMeeting(meeting)) {
    std::cerr << "join-path-bench: could not set up the store\n";
    return 1;
  }
  NoBbb bbb;
  SystemClock clock;
  LeastLoadStrategy strategy;
  MeetingRouter router(servers, meetings, bbb, clock, strategy, config);
  WorkerPool workers(1);
  BbbApi api(router, config.api, workers);
  Metrics metrics;
  // The access log writes to stdout: /dev/null here; the figures go to stderr.
  std::fflush(stdout);
  FILE* devnull = std::freopen("/dev/null", "w", stdout);
  AccessLog accessLog(false);

  const std::string query = "fullName=Alice+Smith&meetingID=room-1234&password=ap&role=VIEWER";
  HttpRequest join;
  join.method = "GET";
  join.path = "/bigbluebutton/api/join";
  join.rawQuery =
      query + "&checksum=" + computeChecksum(ChecksumAlgorithm::kSha1, "join", query, secret);

  // A first join reads the store and fills the cache.
  ApiRequest first;
  first.call = "join";
  first.params = *QueryString::parse(query);
  if (!router.joinUrl(first)) {
    std::cerr << "join-path-bench: the meeting is not joinable\n";
    return 1;
  }
  RouterHandlers bare;
  bare.api = &api;
  RouterHandlers full = bare;
  full.metrics = &metrics;
  full.accessLog = &accessLog;
  measure(full, join, count / 10 + 1);  // warm-up: caches, metrics series, log buffer
  const Figures apiOnly = measure(bare, join, count);
  const Figures withObservers = measure(full, join, count);
  std::fflush(stdout);
  if (devnull) std::fclose(devnull);

  std::fprintf(stderr,
               "join path (cache hit, sha1, %d joins each, one thread):\n"
               "  BBB API only:                 %7.0f ns/join  %5.1f allocations/join\n"
               "  with metrics and access log:  %7.0f ns/join  %5.1f allocations/join\n",
               count, apiOnly.nsPerJoin, apiOnly.allocationsPerJoin, withObservers.nsPerJoin,
               withObservers.allocationsPerJoin);
  std::fprintf(stderr,
               "join-path: ns_per_join=%.0f allocations_per_join=%.1f "
               "api_only_ns_per_join=%.0f api_only_allocations_per_join=%.1f\n",
               withObservers.nsPerJoin, withObservers.allocationsPerJoin, apiOnly.nsPerJoin,
               apiOnly.allocationsPerJoin);
  return 0;
}

// poll-round-bench: how long one poll round takes over a large simulated pool.
//
// Spawns bbb-sim (shared-port mode, found next to this executable), preloads meetings through
// its control API, builds an in-process Service (HTTP front on 127.0.0.1:0, poller thread not
// started) with every simulated server added enabled, then runs poll rounds with
// Poller::pollOnce() and prints wall and CPU time per round and a summary line against the
// target (1000 servers x 20 meetings in under 2 s; PASS when the slowest measured round is under
// it). It then times the same getMeetings fan-out with curl multi alone (no parsing, no store;
// fresh connections as the poller makes them, then keep-alive) and sb::parseGetMeetings alone,
// to show what the simulator, the transport and the parsing cost by themselves.
//
// A benchmark, not a test: it exits 0 whether or not the target is met and prints PASS/FAIL.
// It exits non-zero only when the benchmark itself broke (bbb-sim did not start, the preload
// failed, servers did not come online, polls failed).
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "app/service.h"
#include "app/sim_process.h"
#include "bbb/bbb_xml.h"
#include "core/bbb_url.h"
#include "core/checksum.h"
#include "core/config.h"
#include "core/meeting.h"
#include "core/server.h"
#include "core/server_admin.h"

namespace {

using Clock = std::chrono::steady_clock;
using sb::SimProcess;

constexpr int kTargetMs = 2000;  // the target for 1000 servers x 20 meetings

struct Options {
  int servers = 1000;
  int meetings = 20;       // per server
  int participants = 3;    // per meeting
  int rounds = 5;          // the first is a warm-up (it also fetches every server's version)
  int baselineRounds = 3;  // curl multi alone; 0 skips
  int simThreads = 1;      // reactor threads of bbb-sim's shared endpoint
  int preloadConnections = 8;
  int delayMs = 0;            // simulated BBB answer latency (bbb-sim fault delay_ms), every server
  bool storeMeetings = true;  // also record the meetings in Switchboard's meeting store
  bool smoke = false;
  std::string logLevel = "warn";
};

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// CPU time (user, sys) of this process, all threads, in ms.
struct CpuTime {
  double userMs = 0;
  double sysMs = 0;
  double totalMs() const { return userMs + sysMs; }
  CpuTime operator-(const CpuTime& o) const { return {userMs - o.userMs, sysMs - o.sysMs}; }
};

double tvMs(const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; }

CpuTime selfCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {tvMs(ru.ru_utime), tvMs(ru.ru_stime)};
}

// CPU time of another process (all threads), from /proc/<pid>/stat; 0 when unreadable.
CpuTime processCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  // After the name: state(3) ... utime(14) stime(15), 1-based over the whole line.
  for (int i = 3; i < 14 && fields >> f; ++i) {
  }
  long long utime = 0, stime = 0;
  fields >> utime >> stime;
  double tick = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  return {utime * tick, stime * tick};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Raises the soft open-files limit to the hard one: each side of the round holds one socket per
// server. Returns the limit in force.
rlim_t raiseOpenFilesLimit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (libcurl).

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct CurlEasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlMultiFree {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct CurlSlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyFree>;
using MultiPtr = std::unique_ptr<CURLM, CurlMultiFree>;

std::optional<std::string> httpGet(const std::string& url, std::string& error) {
  EasyPtr h(curl_easy_init());
  std::string body;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &body);
  CURLcode code = curl_easy_perform(h.get());
  long status = 0;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK || status != 200) {
    error = code != CURLE_OK ? curl_easy_strerror(code) : "HTTP " + std::to_string(status);
    return std::nullopt;
  }
  return body;
}

std::string meetingId(int server, int meeting) {
  return "bench-s" + std::to_string(server) + "-m" + std::to_string(meeting);
}

// A request to the control API: path below the control URL, and its JSON body.
struct ControlPost {
  std::string path;
  std::string body;
};

struct PostResult {
  int ok = 0;
  int failed = 0;
  std::string firstError;
};

// POSTs `count` requests (request(k) for k in [0, count)) to the control API over `connections`
// keep-alive connections at once, on one curl multi handle. A request succeeds when answered
// with `expectStatus`.
PostResult postAll(const std::string& control, int count,
                   const std::function<ControlPost(int)>& request, long expectStatus,
                   int connections) {
  struct Slot {
    EasyPtr easy;
    std::string url;
    std::string response;
  };
  PostResult result;
  MultiPtr multi(curl_multi_init());
  curl_multi_setopt(multi.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(connections));
  std::unique_ptr<curl_slist, CurlSlistFree> headers(
      curl_slist_append(nullptr, "Content-Type: application/json"));
  std::vector<Slot> slots(static_cast<size_t>(std::max(0, std::min(connections, count))));
  int next = 0;
  auto startNext = [&](Slot& slot) {
    ControlPost post = request(next++);
    slot.url = control + post.path;
    slot.response.clear();
    CURL* h = slot.easy.get();
    curl_easy_setopt(h, CURLOPT_URL, slot.url.c_str());
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, post.body.c_str());
    curl_multi_add_handle(multi.get(), h);
  };
  for (auto& slot : slots) {
    slot.easy.reset(curl_easy_init());
    CURL* h = slot.easy.get();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &slot.response);
    curl_easy_setopt(h, CURLOPT_PRIVATE, &slot);
    startNext(slot);
  }
  int running = 0;
  do {
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* slot = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result == CURLE_OK && status == expectStatus) {
        ++result.ok;
      } else if (result.failed++ == 0) {
        result.firstError = slot->url + ": " +
                            (msg->data.result != CURLE_OK
                                 ? curl_easy_strerror(msg->data.result)
                                 : "HTTP " + std::to_string(status) + " " + slot->response);
      }
      curl_multi_remove_handle(multi.get(), msg->easy_handle);
      if (next < count) {
        startNext(*slot);
        ++running;  // the loop must go on for the handle just added
      }
    }
    if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
  } while (running > 0);
  return result;
}

// The getMeetings fan-out of a poll round with curl multi alone: no parsing, no store. With
// fresh connections it does what CurlBbbClient::pollMeetings does (a new multi handle and one new
// connection per server each round), so it shows what transport and simulator cost by
// themselves; with keep-alive it keeps the multi handle, the easy handles and their connections
// from one round to the next, to show what connection reuse would save.
struct RawRound {
  int ok = 0;
  int failed = 0;
  size_t bytes = 0;
};

class RawFanout {
 public:
  RawFanout(std::vector<std::string> urls, bool keepAlive)
      : urls_(std::move(urls)), keepAlive_(keepAlive) {}

  RawRound run() {
    if (!keepAlive_ || !multi_) setUp();
    RawRound r;
    for (auto& t : transfers_) {
      t.body.clear();
      curl_multi_add_handle(multi_.get(), t.easy.get());
    }
    int running = 0;
    do {
      curl_multi_perform(multi_.get(), &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (msg->data.result == CURLE_OK && status == 200) {
          ++r.ok;
        } else {
          ++r.failed;
        }
        curl_multi_remove_handle(multi_.get(), msg->easy_handle);
      }
      // The same wait as CurlBbbClient::pollMeetings (it returns early on activity).
      if (running > 0) curl_multi_poll(multi_.get(), nullptr, 0, 100, nullptr);
    } while (running > 0);
    for (const auto& t : transfers_) r.bytes += t.body.size();
    return r;
  }

 private:
  struct Transfer {
    EasyPtr easy;
    std::string body;
  };

  void setUp() {
    transfers_.clear();
    multi_.reset(curl_multi_init());
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(urls_.size()));
    transfers_ = std::vector<Transfer>(urls_.size());
    for (size_t i = 0; i < urls_.size(); ++i) {
      Transfer& t = transfers_[i];
      t.easy.reset(curl_easy_init());
      CURL* h = t.easy.get();
      curl_easy_setopt(h, CURLOPT_URL, urls_[i].c_str());
      curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &t.body);
    }
  }

  std::vector<std::string> urls_;
  bool keepAlive_;
  // Every easy handle is removed from multi_ when its transfer ends, so either may go first.
  std::vector<Transfer> transfers_;
  MultiPtr multi_;  // owns the connection cache
};

// ---------------------------------------------------------------------------------------------

// Thrown when the benchmark itself broke (not when it is slow): main prints it and exits 1.
struct Broken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One measured stretch: wall time, this process's CPU and bbb-sim's CPU.
struct Sample {
  double wallMs = 0;
  CpuTime cpu;
  CpuTime simCpu;
};

template <typename F>
Sample measure(pid_t sim, F&& work) {
  CpuTime cpu0 = selfCpu();
  CpuTime sim0 = processCpu(sim);
  auto w0 = Clock::now();
  work();
  Sample s;
  s.wallMs = msSince(w0);
  s.cpu = selfCpu() - cpu0;
  s.simCpu = processCpu(sim) - sim0;
  return s;
}

std::string describe(const Sample& s) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "wall_ms=%.0f cpu_ms=%.0f (user %.0f sys %.0f) sim_cpu_ms=%.0f",
                s.wallMs, s.cpu.totalMs(), s.cpu.userMs, s.cpu.sysMs, s.simCpu.totalMs());
  return buf;
}

std::unique_ptr<SimProcess> startSim(const Options& o) {
  rlim_t files = raiseOpenFilesLimit();
  if (files < static_cast<rlim_t>(o.servers) + 256) {
    std::printf("warning: open-files limit %llu is low for %d servers (ulimit -n 65536)\n",
                static_cast<unsigned long long>(files), o.servers);
  }
  const std::string path = sb::executableDir() + "/bbb-sim";
  std::printf("bbb-sim: %s --servers %d --shared-port 0 --threads %d\n", path.c_str(), o.servers,
              o.simThreads);
  std::fflush(stdout);
  auto t0 = Clock::now();
  auto sim = std::make_unique<SimProcess>();
  auto started =
      sim->start(path,
                 std::vector<std::string>{"--servers", std::to_string(o.servers), "--shared-port",
                                          "0", "--threads", std::to_string(o.simThreads)},
                 std::chrono::seconds(60));
  if (!started) throw Broken(started.error().message);
  if (sim->servers().size() != static_cast<size_t>(o.servers)) {
    throw Broken("bbb-sim announced " + std::to_string(sim->servers().size()) +
                 " servers, expected " + std::to_string(o.servers));
  }
  std::printf("sim started: %d servers in %.0f ms (pid %d)\n", o.servers, msSince(t0),
              static_cast<int>(sim->pid()));
  return sim;
}

// Creates the meetings (and the delay fault) in bbb-sim, then checks its totals.
void preloadSim(const SimProcess& sim, const Options& o) {
  const int total = o.servers * o.meetings;
  auto t0 = Clock::now();
  auto meetingPost = [&o](int k) {
    int server = k / o.meetings + 1;
    int meeting = k % o.meetings + 1;
    return ControlPost{"/servers/" + std::to_string(server) + "/meetings",
                       nlohmann::json{{"meeting_id", meetingId(server, meeting)},
                                      {"name", "Bench meeting " + std::to_string(meeting)},
                                      {"participants", o.participants}}
                           .dump()};
  };
  PostResult preload = postAll(sim.controlUrl(), total, meetingPost, 201, o.preloadConnections);
  double preloadMs = msSince(t0);
  if (preload.failed > 0) {
    throw Broken("preload: " + std::to_string(preload.failed) + " of " + std::to_string(total) +
                 " meetings failed; first: " + preload.firstError);
  }
  if (o.delayMs > 0) {
    auto faultPost = [&o](int k) {
      return ControlPost{"/servers/" + std::to_string(k + 1) + "/fault",
                         nlohmann::json{{"delay_ms", o.delayMs}}.dump()};
    };
    PostResult faults = postAll(sim.controlUrl(), o.servers, faultPost, 200, o.preloadConnections);
    if (faults.failed > 0) throw Broken("setting delay_ms: " + faults.firstError);
    std::printf("every simulated server answers %d ms late (delay_ms)\n", o.delayMs);
  }
  std::string error;
  auto listing = httpGet(sim.controlUrl() + "/servers", error);
  if (!listing) throw Broken("GET " + sim.controlUrl() + "/servers: " + error);
  const nlohmann::json state = nlohmann::json::parse(*listing, nullptr, false);
  if (state.is_discarded() || !state.contains("servers")) {
    throw Broken("GET " + sim.controlUrl() + "/servers: unreadable answer");
  }
  long long meetings = 0, participants = 0;
  for (const auto& server : state["servers"]) {
    meetings += server["meetings"].get<long long>();
    participants += server["participants"].get<long long>();
  }
  std::printf("preloaded: %d meetings (%lld participants) in %.0f ms (%.0f/s)\n", preload.ok,
              participants, preloadMs, preload.ok / (preloadMs / 1000.0));
  if (meetings != total) {
    throw Broken("bbb-sim holds " + std::to_string(meetings) + " meetings, expected " +
                 std::to_string(total));
  }
}

sb::Config benchConfig(const Options& o) {
  auto config = sb::loadConfig([](const std::string&) { return std::nullopt; });
  if (!config) throw Broken("config: " + config.error().message);
  sb::Config c = *config;
  c.api.secrets = {"bench-secret"};
  c.http.bind = "127.0.0.1";
  c.http.port = 0;
  c.logLevel = o.logLevel;
  return c;
}

// Adds every simulated server, enabled; with storeMeetings also records their meetings in the
// store, as if created through Switchboard an hour ago, so that the sweep compares each
// server's listing with the store as it does in production. Returns the servers in sim order.
std::vector<sb::Server> populate(sb::Service& service, const SimProcess& sim, const Options& o) {
  std::vector<sb::Server> added;
  added.reserve(sim.servers().size());
  for (const auto& s : sim.servers()) {
    sb::ServerChanges changes;
    changes.url = s.url;
    changes.secret = s.secret;
    changes.state = sb::AdminState::kEnabled;
    auto server = service.admin().add(changes);
    if (!server) throw Broken("add " + s.url + ": " + server.error().message);
    added.push_back(*server);
  }
  if (o.storeMeetings) {
    int64_t createdAt = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() -
                        3600 * 1000;
    for (size_t i = 0; i < added.size(); ++i) {
      for (int j = 1; j <= o.meetings; ++j) {
        sb::Meeting m;
        m.id = meetingId(static_cast<int>(i) + 1, j);
        m.serverId = added[i].id;
        m.createdAtMs = createdAt;
        auto claim = service.meetings().claimMeeting(m);
        if (!claim || !claim->claimed) throw Broken("cannot store meeting " + m.id);
      }
    }
  }
  std::printf("switchboard: %zu servers added enabled, %s meetings in its store\n", added.size(),
              o.storeMeetings ? std::to_string(o.servers * o.meetings).c_str() : "no");
  std::fflush(stdout);
  return added;
}

// The measured poll rounds (the warm-up is printed, not kept). Throws Broken when a round did
// not see every server online, without failures and without sweeping a meeting.
std::vector<Sample> pollRounds(sb::Service& service, pid_t sim, const Options& o) {
  std::vector<Sample> kept;
  std::string problem;
  for (int r = 1; r <= o.rounds; ++r) {
    bool warmUp = r == 1 && o.rounds > 1;
    sb::PollRoundStats stats;
    Sample sample = measure(sim, [&] { stats = service.poller().pollOnce(); });
    std::printf("round %d%s: %s servers=%d online=%d failed=%d swept=%d\n", r,
                warmUp ? " (warm-up)" : "", describe(sample).c_str(), stats.servers, stats.online,
                stats.failed, stats.meetingsSwept);
    std::fflush(stdout);
    if (problem.empty() && (stats.servers != o.servers || stats.online != o.servers ||
                            stats.failed != 0 || stats.meetingsSwept != 0)) {
      problem = "round " + std::to_string(r) + " did not see every server online without failures";
    }
    if (!warmUp) kept.push_back(sample);
  }
  if (!problem.empty()) throw Broken(problem);
  return kept;
}

// The same getMeetings fan-out with curl multi alone, with fresh connections (as the poller)
// and with keep-alive.
void baselines(const std::vector<std::string>& urls, pid_t sim, const Options& o) {
  for (bool keepAlive : {false, true}) {
    const char* mode = keepAlive ? "keep-alive" : "fresh connections";
    RawFanout fanout(urls, keepAlive);
    if (keepAlive) fanout.run();  // opens the connections
    std::vector<double> wall, cpu, simCpu;
    for (int r = 1; r <= o.baselineRounds; ++r) {
      RawRound raw;
      Sample sample = measure(sim, [&] { raw = fanout.run(); });
      std::printf("baseline %d (curl multi alone, %s): %s ok=%d failed=%d bytes=%zu\n", r, mode,
                  describe(sample).c_str(), raw.ok, raw.failed, raw.bytes);
      std::fflush(stdout);
      if (raw.failed > 0) throw Broken(std::string("baseline (") + mode + "): failed transfers");
      wall.push_back(sample.wallMs);
      cpu.push_back(sample.cpu.totalMs());
      simCpu.push_back(sample.simCpu.totalMs());
    }
    std::printf("baseline (%s): wall_ms_median=%.0f cpu_ms_median=%.0f sim_cpu_ms_median=%.0f\n",
                mode, median(wall), median(cpu), median(simCpu));
  }
}

// The parsing share of a round: one server's getMeetings answer parsed once per server.
void parseCost(const std::string& url, pid_t sim, const Options& o) {
  std::string error;
  auto body = httpGet(url, error);
  if (!body) throw Broken("getMeetings of server 1: " + error);
  size_t parsed = 0;
  Sample sample = measure(sim, [&] {
    for (int i = 0; i < o.servers; ++i) {
      auto meetings = sb::parseGetMeetings(*body);
      if (meetings) parsed += meetings->size();
    }
  });
  std::printf("parse (sb::parseGetMeetings alone, %d answers of %zu bytes, %zu meetings): %s\n",
              o.servers, body->size(), parsed, describe(sample).c_str());
}

void run(const Options& o) {
  std::unique_ptr<SimProcess> sim = startSim(o);
  preloadSim(*sim, o);

  const sb::Config config = benchConfig(o);
  sb::Service service(config, sb::ServiceOptions{.runPoller = false});
  if (auto s = service.start(); !s) throw Broken("service: " + s.error().message);
  std::vector<sb::Server> servers = populate(service, *sim, o);

  std::vector<Sample> rounds = pollRounds(service, sim->pid(), o);

  if (o.baselineRounds > 0) {
    auto algorithm = sb::upstreamSigningAlgorithm(config.api);
    std::vector<std::string> urls;
    for (const auto& s : servers) urls.push_back(sb::signedApiUrl(s, "getMeetings", {}, algorithm));
    baselines(urls, sim->pid(), o);
    parseCost(urls.front(), sim->pid(), o);
  }
  service.stop();

  std::vector<double> wall, cpu, simCpu;
  for (const auto& r : rounds) {
    wall.push_back(r.wallMs);
    cpu.push_back(r.cpu.totalMs());
    simCpu.push_back(r.simCpu.totalMs());
  }
  double wallMax = *std::max_element(wall.begin(), wall.end());
  bool pass = wallMax < kTargetMs;
  std::printf(
      "poll round: servers=%d meetings=%d wall_ms_median=%.0f wall_ms_max=%.0f "
      "cpu_ms_median=%.0f sim_cpu_ms_median=%.0f target=%d %s\n",
      o.servers, o.servers * o.meetings, median(wall), wallMax, median(cpu), median(simCpu),
      kTargetMs, pass ? "PASS" : "FAIL");
  if (!pass) {
    std::printf("FAIL: the slowest measured round took %.0f ms, over the %d ms target\n", wallMax,
                kTargetMs);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "poll-round-bench: time Switchboard's poll rounds over bbb-sim servers (target: 1000 "
      "servers x 20 meetings in under 2 s)"};
  Options o;
  app.add_option("--servers", o.servers, "Simulated BBB servers")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--meetings", o.meetings, "Meetings per server")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--participants", o.participants, "Participants per meeting")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--rounds", o.rounds, "Poll rounds; the first is a warm-up when more than one")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--baseline-rounds", o.baselineRounds,
                 "Rounds of the same getMeetings fan-out with curl multi alone (0: none)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--sim-threads", o.simThreads, "Reactor threads of bbb-sim's shared endpoint")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--delay-ms", o.delayMs,
                 "Every simulated server answers this much later (bbb-sim delay_ms), as real "
                 "BBB servers over a network do")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_flag("!--no-store-meetings", o.storeMeetings,
               "Do not record the meetings in Switchboard's store (the sweep then has nothing "
               "to compare)");
  app.add_flag("--smoke", o.smoke, "Tiny run for CI: 20 servers x 2 meetings, 2 rounds");
  app.add_option("--log-level", o.logLevel, "Switchboard's log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.smoke) {
    o.servers = 20;
    o.meetings = 2;
    o.rounds = 2;
    o.baselineRounds = 1;
  }
  spdlog::set_level(spdlog::level::from_str(o.logLevel));
  std::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  try {
    run(o);
  } catch (const Broken& e) {
    std::printf("BROKEN: %s\n", e.what());
    rc = 1;
  }
  std::fflush(stdout);
  curl_global_cleanup();
  return rc;
}

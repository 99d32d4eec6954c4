// The admin API's requests (docs/admin-api.md): the input is a request written as
//   METHOD /subpath[?query]\n
//   body (JSON, the rest of the input)
// e.g. "POST /servers\n{\"url\": \"https://bbb1.example.com/bigbluebutton/api\", ...}". It goes
// through AdminApi::handle (router/admin_api.h), whose JSON body and path reading are private,
// against the memory stores holding two servers and a meeting, and a fake BBB. register and
// deregister calls carry the registration token when the body's length is odd, else the admin
// token. Invariants: an answer always comes, it is a JSON object, never a 500 (an exception or an
// unexpected error), and a secret given in the body is never sent back.
#include <dlfcn.h>
#include <netdb.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/balancing/least_load_strategy.h"
#include "core/checksum.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/meeting_router.h"
#include "core/server_admin.h"
#include "db/memory_store.h"
#include "router/admin_api.h"
#include "router/worker_pool.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_workers.h"
#include "tests/unit/fakes.h"

// The admin API checks where a server URL's host resolves (getaddrinfo). Here numeric hosts only:
// no input waits on DNS, and runs do not depend on the network. (Defined in the executable, this
// takes the place of libc's and the sanitizer's for the whole process.)
extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
  using Real = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "getaddrinfo"));
  addrinfo numeric = hints != nullptr ? *hints : addrinfo{};
  numeric.ai_flags |= AI_NUMERICHOST;
  return real(node, service, &numeric, res);
}

namespace {

using nlohmann::json;

constexpr char kAdminToken[] = "fuzz-admin-token";
constexpr char kRegistrationToken[] = "fuzz-registration-token";

using sbfuzz::settle;
using sbfuzz::workers;

// A fresh pool per input, so every input runs against the same state (and nothing piles up over
// a run of hours).
struct Pool {
  Pool() {
    config.admin.token = kAdminToken;
    config.admin.registrationToken = kRegistrationToken;
    FUZZ_CHECK(servers.addServer(sb::fake::makeServer("s1")).ok());
    FUZZ_CHECK(servers.addServer(sb::fake::makeServer("s2", 1.5, "eu")).ok());
    sb::Meeting m;
    m.id = "m1";
    m.serverId = "s1";
    m.moderatorPw = "mp";
    FUZZ_CHECK(meetings.claimMeeting(m).ok());
  }

  sb::Config config;
  sb::MemoryServerStore servers;
  sb::MemoryMeetingStore meetings;
  sb::fake::FakeBbbClient bbb;
  sb::ManualClock clock;
  sb::LeastLoadStrategy strategy;
  sb::ServerAdmin admin{servers, meetings, bbb, config};
  sb::MeetingRouter router{servers, meetings, bbb, clock, strategy, config};
  sb::AdminApi api{admin, servers, meetings, router, config.admin, workers()};
};

size_t occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string_view::npos;
       pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  // OpenSSL initialises itself on first use, keeping some memory of the thread that did it; done
  // here, that thread is the main one, not the worker (whose copy LeakSanitizer reports at exit).
  (void)sb::computeChecksum(sb::ChecksumAlgorithm::kSha1, "", "", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;

  sb::HttpRequest request;
  request.method = std::string(line.substr(0, space));
  std::string subpath(line.substr(space + 1));
  if (size_t q = subpath.find('?'); q != std::string::npos) {
    request.rawQuery = subpath.substr(q + 1);
    subpath.resize(q);
  }
  request.path = "/switchboard/api/v1" + subpath;
  request.body = newline == std::string_view::npos ? "" : std::string(input.substr(newline + 1));
  request.contentType = "application/json";
  const bool registration = subpath == "/servers/register" || subpath == "/servers/deregister";
  request.authorization =
      std::string("Bearer ") +
      (registration && request.body.size() % 2 == 1 ? kRegistrationToken : kAdminToken);

  Pool pool;
  auto answer = std::make_shared<std::promise<sb::HttpResponse>>();
  auto future = answer->get_future();
  pool.api.handle(request, subpath, [answer](sb::HttpResponse r) { answer->set_value(r); });
  FUZZ_CHECK(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const sb::HttpResponse response = future.get();
  settle();

  // FUZZ_VERBOSE=1 shows each answer (to check what the seeds reach: run on a corpus file).
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose || response.status == 500) {
    std::fprintf(stderr, "%d: %s\n", response.status, response.body.c_str());
  }
  FUZZ_CHECK(response.status != 500);
  FUZZ_CHECK(response.status >= 200 && response.status < 600);
  FUZZ_CHECK(response.contentType == "application/json");
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(body.is_object());

  // Secrets are accepted, never returned.
  const json sent = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  for (const json* fields :
       {&sent, sent.is_object() && sent.contains("server") ? &sent["server"] : nullptr}) {
    if (fields == nullptr || !fields->is_object() || !fields->contains("secret")) continue;
    const json& secret = (*fields)["secret"];
    if (!secret.is_string()) continue;
    const std::string s = secret.get<std::string>();
    if (s.size() >= 8 && occurrences(input, s) == 1 && occurrences(s, "\\") == 0) {
      FUZZ_CHECK(response.body.find(s) == std::string::npos);
    }
  }
  return 0;
}

// AdminApi::handle without sockets: a real WorkerPool, the memory stores, a fake BBB. Replies are
// awaited through a promise. Holds the regression tests of tests/fuzz/admin_api_fuzz.cc's
// findings.
#include "router/admin_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "core/balancing/least_load_strategy.h"
#include "core/clock.h"
#include "core/meeting_router.h"
#include "core/server_admin.h"
#include "db/memory_store.h"
#include "router/worker_pool.h"
#include "tests/unit/fakes.h"

namespace sb {
namespace {

using nlohmann::json;

constexpr char kToken[] = "admin-token";

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.admin.token = kToken;
    ASSERT_TRUE(servers_.addServer(fake::makeServer("s1")).ok());
  }

  HttpResponse handle(const std::string& method, const std::string& subpath,
                      const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.path = "/switchboard/api/v1" + subpath;
    request.body = body;
    request.contentType = "application/json";
    request.authorization = std::string("Bearer ") + kToken;
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    api_.handle(request, subpath, [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    // A guard against a lost reply, not a timing assertion.
    if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "no reply";
      return {};
    }
    return future.get();
  }

  Config config_;
  MemoryServerStore servers_;
  MemoryMeetingStore meetings_;
  fake::FakeBbbClient bbb_;
  ManualClock clock_;
  LeastLoadStrategy strategy_;
  ServerAdmin admin_{servers_, meetings_, bbb_, config_};
  MeetingRouter router_{servers_, meetings_, bbb_, clock_, strategy_, config_};
  WorkerPool workers_{1};
  AdminApi api_{admin_, servers_, meetings_, router_, config_.admin, workers_};
};

// Found by tests/fuzz/admin_api_fuzz.cc: answers echo the path, and a path holding bytes that are
// not UTF-8 made the JSON encoder throw, so the client got a 500 instead of the 404.
TEST_F(AdminApiTest, PathBytesThatAreNotUtf8AreANotFoundNotAnInternalError) {
  for (const std::string subpath : {"/serve\x9Ars/s1", "/servers/%FF", "/servers/\xC3"}) {
    HttpResponse r = handle("GET", subpath);
    EXPECT_EQ(r.status, 404) << subpath;
    json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_TRUE(body.contains("error"));
  }
}

// Found by tests/fuzz/admin_api_fuzz.cc: a meeting id the router refuses (here with NUL bytes) is
// the client's mistake, not an internal error.
TEST_F(AdminApiTest, MeetingIdTheRouterRefusesIsABadRequest) {
  EXPECT_EQ(handle("POST", std::string("/meetings/\0\0Y/end", 17)).status, 400);
  EXPECT_EQ(handle("POST", "/meetings/%00/end").status, 400);
}

// Found by tests/fuzz/admin_api_fuzz.cc (UBSan): integers out of int's range were converted
// anyway (1e20 with undefined behaviour, 4294967297 to 1).
TEST_F(AdminApiTest, IntegerFieldsOutOfRangeAreRefused) {
  for (const char* value : {"1e20", "-1e20", "4294967297", "18446744073709551615", "-2147483649"}) {
    const std::string body =
        std::string(R"({"url": "https://bbb9.example.com/bigbluebutton/api",)") +
        R"( "secret": "s", "max_users": )" + value + "}";
    EXPECT_EQ(handle("POST", "/servers", body).status, 400) << value;
    EXPECT_EQ(
        handle("PATCH", "/servers/s1", std::string(R"({"max_meetings": )") + value + "}").status,
        400)
        << value;
  }
  auto ok = handle("PATCH", "/servers/s1", R"({"max_users": 300, "max_connections": 10000000})");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

}  // namespace
}  // namespace sb

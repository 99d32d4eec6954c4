#include "app/service.h"

#include "bbb/curl_bbb_client.h"
#include "core/balancing/least_load_strategy.h"
#include "core/balancing/strategy_factory.h"
#include "core/meeting_router.h"
#include "db/memory_store.h"
#include "router/admin_api.h"
#include "router/bbb_api.h"
#include "router/http_server.h"
#include "router/worker_pool.h"

namespace sb {

struct Service::Impl {
  Config config;
  ServiceOptions options;
  SystemClock clock;
  MemoryServerStore servers;
  MemoryMeetingStore meetings;
  CurlBbbClient bbb;
  std::unique_ptr<BalancingStrategy> strategy;
  MeetingRouter router{servers, meetings, bbb, clock, *strategy, config};
  ServerAdmin admin{servers, meetings, bbb, config};
  LocalLeaderLease lease;
  Poller poller{servers, meetings, bbb, clock, config, lease};
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<BbbApi> api;
  std::unique_ptr<AdminApi> adminApi;
  std::unique_ptr<HttpServer> http;
  bool pollerRunning = false;

  Impl(Config c, ServiceOptions o)
      : config(std::move(c)), options(o), strategy(makeStrategy(config.balancing.strategy)) {
    if (!strategy) strategy = std::make_unique<LeastLoadStrategy>();  // loadConfig validated it
  }
};

Service::Service(Config config, ServiceOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), options)) {
  Impl& i = *impl_;
  i.workers = std::make_unique<WorkerPool>(i.config.http.workerThreads);
  i.api = std::make_unique<BbbApi>(i.router, i.config.api, *i.workers);
  i.adminApi = std::make_unique<AdminApi>(i.admin, i.servers, i.meetings, i.router, i.config.admin,
                                          *i.workers);
  RouterHandlers handlers;
  handlers.api = i.api.get();
  handlers.admin = i.adminApi.get();
  handlers.ready = [&i]() -> Status {
    auto list = i.servers.listServers();
    if (!list) return list.error();
    return Status::Ok();
  };
  i.http = std::make_unique<HttpServer>(i.config.http, std::move(handlers));
}

Service::~Service() { stop(); }

Status Service::start() {
  if (auto s = impl_->http->start(); !s) return s;
  if (impl_->options.runPoller) {
    impl_->poller.start();
    impl_->pollerRunning = true;
  }
  return Status::Ok();
}

void Service::stop() {
  if (!impl_) return;
  if (impl_->pollerRunning) {
    impl_->poller.stop();
    impl_->pollerRunning = false;
  }
  impl_->http->stop();
}

uint16_t Service::port() const { return impl_->http->port(); }
const Config& Service::config() const { return impl_->config; }
ServerStore& Service::servers() { return impl_->servers; }
MeetingStore& Service::meetings() { return impl_->meetings; }
ServerAdmin& Service::admin() { return impl_->admin; }
Poller& Service::poller() { return impl_->poller; }

}  // namespace sb

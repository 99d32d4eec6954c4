// pistache-302: bare Pistache answering every request with a fixed 302, the floor of the HTTP
// library the router is built on, measured by bench/join.sh beside nginx in the same run.
//
// It is configured like the router's listener (router/http_server.cc): the same reactor thread
// count, ReuseAddr | NoDelay, backlog 1024, and the same fix for Pistache's bogus
// "Connection: Close" on keep-alive requests. It does nothing else, so the router's figure over
// this one is what the router's own work per request costs.
//
// Prints "ready <port>" on stdout once listening; stops on SIGTERM or SIGINT.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

namespace {

using namespace Pistache;

// --router-headers: the headers of the router's join answer too (Content-Type, Cache-Control, a
// Location as long as a signed join URL), to see what they cost Pistache by themselves.
bool routerHeaders = false;
const std::string kLongLocation =
    "https://bbb-1.example.com/bigbluebutton/api/join?fullName=Alice%20Smith&meetingID=room-1234"
    "&password=ap&role=VIEWER&userdata-bbb_auto_join_audio=true&redirect=true&checksum="
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class Fixed302 : public Http::Handler {
 public:
  HTTP_PROTOTYPE(Fixed302)

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    bool keepAlive = request.version() == Http::Version::Http11;
    if (auto c = request.headers().tryGet<Http::Header::Connection>()) {
      keepAlive = c->control() != Http::ConnectionControl::Close;
    }
    auto& headers = writer.headers();
    headers.remove<Http::Header::Connection>();
    headers.add<Http::Header::Connection>(keepAlive ? Http::ConnectionControl::KeepAlive
                                                    : Http::ConnectionControl::Close);
    if (routerHeaders) {
      static const auto html = Http::Mime::MediaType::fromString("text/html;charset=utf-8");
      headers.add<Http::Header::ContentType>(html);
      headers.add<Http::Header::Location>(kLongLocation);
      headers.add<Http::Header::CacheControl>(Http::CacheDirective(Http::CacheDirective::NoCache));
    } else {
      headers.add<Http::Header::Location>("http://example.invalid/");
    }
    writer.send(Http::Code::Found, "");
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bare Pistache answering every request with a fixed 302 (benchmark reference)"};
  int port = 0;
  int threads = 2;
  app.add_option("--port", port, "port on 127.0.0.1 (0: any free one)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", threads, "reactor threads (the router's HTTP_THREADS)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--router-headers", routerHeaders,
               "add the router's join headers (Content-Type, Cache-Control, a long Location)");
  CLI11_PARSE(app, argc, argv);

  // Blocked before any thread starts, so every thread inherits the mask and sigwait gets them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  try {
    Http::Endpoint endpoint(Address("127.0.0.1", Port(static_cast<uint16_t>(port))));
    endpoint.init(Http::Endpoint::options()
                      .threads(threads)
                      .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                      .backlog(1024));
    endpoint.setHandler(Http::make_handler<Fixed302>());
    endpoint.serveThreaded();
    std::cout << "ready " << static_cast<uint16_t>(endpoint.getPort()) << std::endl;
    int signal = 0;
    sigwait(&stop, &signal);
    endpoint.shutdown();
  } catch (const std::exception& e) {
    std::cerr << "pistache-302: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

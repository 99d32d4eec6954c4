#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace sbtest {
namespace {

using Clock = std::chrono::steady_clock;

// Writes all of `data` (blocking): loopback peers of a test read what they are sent.
bool writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int connectTo(const sockaddr_in& address) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

struct TcpProxy::State {
  sockaddr_in upstream{};
  int listener = -1;
  int port = 0;
  int wake[2] = {-1, -1};  // a byte written to wake[1] wakes the forwarding thread
  std::atomic<int> accepted{0};

  std::mutex mu;
  std::condition_variable seen;  // signalled when the thread has seen a change of `frozen`
  bool frozen = false;           // guarded by mu
  bool frozenSeen = false;       // what the thread acts on; guarded by mu
  Clock::time_point thawAt;      // guarded by mu
  bool stopping = false;         // guarded by mu

  struct Pair {
    int client;
    int server;
  };
  std::vector<Pair> pairs;  // the forwarding thread's alone
  std::thread thread;

  void poke() {
    char byte = 0;
    (void)!::write(wake[1], &byte, 1);
  }

  void closePair(size_t i) {
    ::close(pairs[i].client);
    ::close(pairs[i].server);
    pairs.erase(pairs.begin() + static_cast<long>(i));
  }

  void acceptOne() {
    int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    accepted.fetch_add(1);
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int server = connectTo(upstream);
    if (server < 0) {
      ::close(client);  // upstream down: the client sees the connection closed
      return;
    }
    pairs.push_back({client, server});
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      bool isFrozen = false;
      int timeoutMs = -1;
      {
        std::lock_guard lock(mu);
        if (stopping) {
          seen.notify_all();
          return;
        }
        if (frozen && Clock::now() >= thawAt) frozen = false;
        isFrozen = frozen;
        if (frozenSeen != frozen) {
          frozenSeen = frozen;
          seen.notify_all();
        }
        if (frozen) {
          auto left = std::chrono::ceil<std::chrono::milliseconds>(thawAt - Clock::now());
          timeoutMs = static_cast<int>(std::max<long>(1, left.count()));
        }
      }
      fds.clear();
      fds.push_back({wake[0], POLLIN, 0});
      fds.push_back({listener, POLLIN, 0});
      if (!isFrozen) {
        for (const Pair& p : pairs) {
          fds.push_back({p.client, POLLIN, 0});
          fds.push_back({p.server, POLLIN, 0});
        }
      }
      int ready = ::poll(fds.data(), fds.size(), timeoutMs);
      if (ready <= 0) continue;
      if (fds[0].revents != 0) {
        char drain[64];
        (void)!::read(wake[0], drain, sizeof drain);
      }
      if (isFrozen) {
        // A stopped server's kernel still completes handshakes: accept, forward nothing.
        if (fds[1].revents != 0) acceptOne();
        continue;
      }
      // Pairs first (their indexes match fds), newly accepted ones after.
      for (size_t i = pairs.size(); i-- > 0;) {
        for (int side = 0; side < 2; ++side) {
          const pollfd& f = fds[2 + 2 * i + side];
          if (f.revents == 0) continue;
          int from = side == 0 ? pairs[i].client : pairs[i].server;
          int to = side == 0 ? pairs[i].server : pairs[i].client;
          ssize_t n = ::recv(from, buffer.data(), buffer.size(), 0);
          if (n <= 0 || !writeAll(to, buffer.data(), static_cast<size_t>(n))) {
            closePair(i);
            break;
          }
        }
      }
      if (fds[1].revents != 0) acceptOne();
    }
  }
};

TcpProxy::TcpProxy(const std::string& upstreamHost, int upstreamPort)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.upstream.sin_family = AF_INET;
  s.upstream.sin_port = htons(static_cast<uint16_t>(upstreamPort));
  if (::inet_pton(AF_INET, upstreamHost.c_str(), &s.upstream.sin_addr) != 1) return;
  if (::pipe2(s.wake, O_CLOEXEC | O_NONBLOCK) != 0) return;
  s.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.listener < 0) return;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(s.listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(s.listener, 128) != 0 ||
      ::getsockname(s.listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(s.listener);
    s.listener = -1;
    return;
  }
  s.port = ntohs(address.sin_port);
  s.thread = std::thread([&s] { s.run(); });
}

TcpProxy::~TcpProxy() {
  State& s = *state_;
  if (s.thread.joinable()) {
    {
      std::lock_guard lock(s.mu);
      s.stopping = true;
    }
    s.poke();
    s.thread.join();
  }
  for (size_t i = s.pairs.size(); i-- > 0;) s.closePair(i);
  if (s.listener >= 0) ::close(s.listener);
  for (int fd : s.wake) {
    if (fd >= 0) ::close(fd);
  }
}

bool TcpProxy::ok() const { return state_->thread.joinable(); }

int TcpProxy::port() const { return state_->port; }

void TcpProxy::freeze(std::chrono::milliseconds thawAfter) {
  State& s = *state_;
  if (!s.thread.joinable()) return;
  std::unique_lock lock(s.mu);
  s.frozen = true;
  s.thawAt = Clock::now() + thawAfter;
  s.poke();
  // Returns once the thread forwards no more (it may be finishing a chunk).
  s.seen.wait(lock, [&s] { return s.frozenSeen || !s.frozen || s.stopping; });
}

void TcpProxy::thaw() {
  {
    std::lock_guard lock(state_->mu);
    state_->frozen = false;
  }
  state_->poke();
}

bool TcpProxy::frozen() const {
  std::lock_guard lock(state_->mu);
  return state_->frozen;
}

int TcpProxy::accepted() const { return state_->accepted.load(); }

}  // namespace sbtest

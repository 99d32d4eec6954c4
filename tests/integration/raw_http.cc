#include "tests/integration/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace sbtest {

using Clock = std::chrono::steady_clock;

int connectLoopback(uint16_t port, int receiveBuffer) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (receiveBuffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void sendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

namespace {

// The length of the answer at the front of `bytes` (head and body) once its head has arrived with
// a Content-Length, else 0.
size_t announcedLength(const std::string& bytes) {
  size_t headEnd = bytes.find("\r\n\r\n");
  if (headEnd == std::string::npos) return 0;
  size_t cl = bytes.find("Content-Length: ");
  if (cl == std::string::npos || cl > headEnd) return 0;
  return headEnd + 4 + std::stoul(bytes.substr(cl + 16, 20));
}

}  // namespace

std::string readAnswer(int fd, std::chrono::milliseconds timeout) {
  std::string answer;
  size_t total = 0;  // the answer's whole length once its head has arrived
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return answer;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return answer;
    // Peeked first, then only this answer's bytes taken: a pipelined next answer stays.
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_PEEK);
    if (n <= 0) return answer;
    if (total == 0) total = announcedLength(answer + std::string(buf, static_cast<size_t>(n)));
    size_t take = static_cast<size_t>(n);
    if (total > 0) take = std::min(take, total - answer.size());
    n = ::recv(fd, buf, take, 0);
    if (n <= 0) return answer;
    answer.append(buf, static_cast<size_t>(n));
    if (total > 0 && answer.size() >= total) return answer;
  }
}

std::string roundTrip(uint16_t port, const std::string& request,
                      std::chrono::milliseconds timeout) {
  int fd = connectLoopback(port);
  if (fd < 0) return "";
  sendAll(fd, request);
  std::string answer = readAnswer(fd, timeout);
  ::close(fd);
  return answer;
}

int statusOf(const std::string& answer) {
  if (!answer.starts_with("HTTP/1.") || answer.size() < 12) return 0;
  return std::atoi(answer.c_str() + 9);
}

std::string bodyOf(const std::string& answer) {
  size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr(end + 4);
}

}  // namespace sbtest

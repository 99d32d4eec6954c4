// HTTP over a plain loopback socket, byte for byte as the test writes it: for requests no HTTP
// client library would send (odd headers, pipelining, bodies that lie about their length) and for
// reading an answer exactly as the router wrote it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sbtest {

// A connected socket to 127.0.0.1:port, -1 when the connection fails. `receiveBuffer` > 0 sets
// SO_RCVBUF before connecting (a client whose socket takes little at a time).
int connectLoopback(uint16_t port, int receiveBuffer = 0);
// Sends every byte (stops early, without a word, when the router closes: what it answered counts).
void sendAll(int fd, const std::string& bytes);
// Reads until the peer closes, `timeout` passes, or a whole answer (head + Content-Length bytes)
// has arrived. Bytes after that answer (a pipelined next one) stay in the socket.
std::string readAnswer(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// One request on a fresh connection; the whole answer as received ("" when it cannot connect).
std::string roundTrip(uint16_t port, const std::string& request,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
// The status of an answer's status line, 0 when there is none.
int statusOf(const std::string& answer);
// Everything after the head, "" when the head is incomplete.
std::string bodyOf(const std::string& answer);

}  // namespace sbtest

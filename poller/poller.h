// The poller service: every POLL_INTERVAL it polls all servers at once (one curl multi round with
// a deadline, so a dead server never delays the others), then per server:
//   - health with rise/fall hysteresis; a server that goes offline has its meetings orphaned so
//     their next create/join re-creates them elsewhere;
//   - usage and load (Scalelite's formula), replacing the reservations made since the last round;
//   - a cordoned server with no meetings left becomes disabled;
//   - the meeting sweep: meetings the server no longer lists are forgotten, unless younger than
//     the grace period (BBB may not have finished creating them).
// Thread-safety: pollOnce() must not run concurrently with itself; start()/stop() from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/bbb_client.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/meeting.h"
#include "core/meeting_store.h"
#include "core/server_store.h"

namespace sb {

struct PollRoundStats {
  int servers = 0;
  int online = 0;
  int failed = 0;
  int meetingsSwept = 0;
  int64_t wallMs = 0;
};

class Poller {
 public:
  Poller(ServerStore& servers, MeetingStore& meetings, BbbClient& bbb, const Clock& clock,
         const Config& config);
  ~Poller();

  PollRoundStats pollOnce();

  // Runs pollOnce() every interval on a background thread until stop().
  void start();
  void stop();

 private:
  void run();
  int sweepMeetings(const Server& server, const ServerPoll& poll,
                    const std::vector<Meeting>& stored);

  ServerStore& servers_;
  MeetingStore& meetings_;
  BbbClient& bbb_;
  const Clock& clock_;
  const Config& config_;
  ChecksumAlgorithm signing_;

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace sb

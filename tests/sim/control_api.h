// The JSON control API of bbb-sim: inspect the simulated servers, inject faults, add meetings
// and participants, reset. Routes (see README.md for bodies and answers):
//   GET  /servers                      GET  /servers/<i>
//   POST /servers/<i>/fault            POST /servers/<i>/participants
//   POST /servers/<i>/meetings         POST /servers/<i>/crash
//   GET  /history                      POST /reset
// Bad JSON, bad fields and unknown servers or routes answer 400/404/405 with {"error": "..."}.
// Thread-safety: as SimPool's.
#pragma once

#include <string>
#include <string_view>

namespace sb::sim {

class SimPool;

struct ControlReply {
  int status = 200;
  std::string body;  // JSON
};

ControlReply handleControl(SimPool& pool, std::string_view method, std::string_view path,
                           std::string_view body);

}  // namespace sb::sim

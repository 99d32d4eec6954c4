// The access log: one line per answered request on its own spdlog logger ("access"), plain text
// or one JSON object per line (LOG_FORMAT=json). A line has the method, the path (never the
// query: it holds checksums and passwords), the call, meeting id, chosen server, result, HTTP
// status and latency. Lines are buffered and flushed every second (a write per request would
// cost more than the request). Thread-safety: write() may be called from any thread.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "router/http_types.h"

namespace spdlog {
class logger;
}

namespace sb {

// Read during write() only: the method and path are views of the caller's strings.
struct AccessRecord {
  std::string_view method;
  std::string_view path;
  AccessNote note;  // call and result filled in (from the path and status when the handler did not)
  int status = 0;
  double latencyMs = 0;
};

class AccessLog {
 public:
  // `json`: one JSON object per line. The logger writes to stdout, like the other log lines.
  explicit AccessLog(bool json);
  ~AccessLog();
  void write(const AccessRecord& record) const;
  // The line write() logs, for tests.
  std::string format(const AccessRecord& record) const;
  void formatTo(fmt::memory_buffer& out, const AccessRecord& record) const;
  // Its logger (tests add a sink to read the lines).
  spdlog::logger& logger() const { return *logger_; }

 private:
  bool json_;
  std::shared_ptr<spdlog::logger> logger_;
  std::jthread flusher_;  // flushes the buffered lines every second; stopped first on destruction
};

// The call a path stands for when the handler did not say: "admin", "root", "unknown" (under
// /bigbluebutton/) or "other". A small fixed set: the call is a metric label.
std::string callOfPath(std::string_view path);

}  // namespace sb

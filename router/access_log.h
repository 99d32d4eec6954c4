// The access log: one line per answered request on its own spdlog logger ("access"), plain text
// or one JSON object per line (LOG_FORMAT=json). A line has the method, the path (never the
// query: it holds checksums and passwords), the call, meeting id, chosen server, result, HTTP
// status and latency. A request thread only appends its line to a buffer in memory; a thread of
// the log's own writes them out every second (a write per request would cost more than the
// request, and a stdout whose reader lags must not hold up requests). Past 8 MB waiting, lines
// are dropped and counted (a warning says how many). Thread-safety: write() may be called from
// any thread.
#pragma once

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>

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

class AccessLogSink;
class Metrics;

class AccessLog {
 public:
  // `json`: one JSON object per line. The lines go to `fd` (stdout, like the other log lines).
  // `metrics` (optional, outlives the log) counts the lines dropped. The destructor writes what
  // is pending, waiting at most 2 s for a reader that lags.
  explicit AccessLog(bool json, int fd = 1, Metrics* metrics = nullptr);
  ~AccessLog();
  void write(const AccessRecord& record) const;
  // The line write() logs, for tests.
  std::string format(const AccessRecord& record) const;
  void formatTo(fmt::memory_buffer& out, const AccessRecord& record) const;
  // Its logger (tests add a sink to read the lines; flush() waits until the lines are written).
  spdlog::logger& logger() const { return *logger_; }
  // Lines dropped so far because too much waited to be written.
  size_t droppedLines() const;

 private:
  bool json_;
  std::shared_ptr<AccessLogSink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

// The call a path stands for when the handler did not say: "admin", "root", "unknown" (under
// /bigbluebutton/) or "other". A small fixed set: the call is a metric label.
std::string callOfPath(std::string_view path);

}  // namespace sb

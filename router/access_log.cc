#include "router/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string_view>

namespace sb {
namespace {

// stdout through stdio's buffer, flushed by AccessLog's flusher every second (and on exit):
// spdlog's stdout sink flushes every line, a write() per request at tens of thousands a second.
class BufferedStdoutSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stdout);
  }
  void flush_() override { std::fflush(stdout); }
};

std::shared_ptr<spdlog::logger> accessLogger(bool json) {
  // Not registered: each AccessLog keeps its own format (tests run routers with both).
  auto logger = std::make_shared<spdlog::logger>("access", std::make_shared<BufferedStdoutSink>());
  // JSON lines carry their own time and level fields.
  logger->set_pattern(json ? "%v" : "[%Y-%m-%d %H:%M:%S.%e] [access] %v");
  logger->set_level(spdlog::level::info);
  return logger;
}

std::string isoNow() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(now), ms.count());
}

// Appends client-given text quoted and escaped as fmt's {:?} writes it: no forged log lines.
// fmt decodes the text code point by code point to escape it, the better part of a line's cost;
// text of printable ASCII other than '"' and '\\' (nearly every path and meeting id) comes out
// of it unchanged, so it is appended as it is.
void appendQuoted(fmt::memory_buffer& out, std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    fmt::format_to(std::back_inserter(out), "{:?}", text);
    return;
  }
  out.push_back('"');
  out.append(text.data(), text.data() + text.size());
  out.push_back('"');
}

const std::string& orDash(const std::string& s) {
  static const std::string kDash = "-";
  return s.empty() ? kDash : s;
}

}  // namespace

std::string callOfPath(std::string_view path) {
  if (path.starts_with("/switchboard/api/")) return "admin";
  if (path == "/" || path.empty()) return "root";
  if (path.starts_with("/bigbluebutton/")) return "unknown";
  return "other";  // client-chosen paths must not become metric labels
}

AccessLog::AccessLog(bool json)
    : json_(json), logger_(accessLogger(json)), flusher_([this](std::stop_token stop) {
        std::mutex mu;
        std::condition_variable_any wake;
        std::unique_lock lock(mu);
        // wait_for returns early when a stop is requested (the destructor), which ends the loop.
        while (!stop.stop_requested()) {
          wake.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
          logger_->flush();
        }
      }) {}

AccessLog::~AccessLog() = default;

std::string AccessLog::format(const AccessRecord& r) const {
  fmt::memory_buffer line;
  formatTo(line, r);
  return fmt::to_string(line);
}

void AccessLog::formatTo(fmt::memory_buffer& out, const AccessRecord& r) const {
  if (json_) {
    // nlohmann escapes every field; error_handler replace keeps invalid UTF-8 from throwing.
    nlohmann::json line = {{"time", isoNow()},
                           {"type", "access"},
                           {"method", r.method},
                           {"path", r.path},
                           {"call", r.note.call},
                           {"meeting_id", r.note.meetingId},
                           {"server_id", r.note.serverId},
                           {"result", r.note.result},
                           {"status", r.status},
                           {"latency_ms", std::round(r.latencyMs * 1000) / 1000}};
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.append(text.data(), text.data() + text.size());
    return;
  }
  // Client-given text (path, meeting id) is quoted and escaped.
  fmt::format_to(std::back_inserter(out), "{} ", r.method);
  appendQuoted(out, r.path);
  fmt::format_to(std::back_inserter(out), " call={} meeting=", orDash(r.note.call));
  appendQuoted(out, r.note.meetingId);
  fmt::format_to(std::back_inserter(out), " server={} result={} status={} {:.2f}ms",
                 orDash(r.note.serverId), orDash(r.note.result), r.status, r.latencyMs);
}

void AccessLog::write(const AccessRecord& record) const {
  // One buffer per thread, reused: a line costs no allocation once the buffer has grown.
  thread_local fmt::memory_buffer line;
  line.clear();
  formatTo(line, record);
  logger_->info(std::string_view(line.data(), line.size()));
}

}  // namespace sb

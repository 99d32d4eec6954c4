#include "router/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/metrics.h"

namespace sb {

// Lines written to `fd` by a thread of their own. A request thread only appends its line to a
// buffer in memory: the write() to stdout (a pipe to journald or docker, a file) blocks as long
// as its reader lags or the disk throttles dirty pages, and under the sink's lock on a reactor
// thread it held up every request of every reactor. When kMaxPending bytes already wait, a line
// is dropped and counted rather than waited for; a warning says how many once the writer writes
// again. The writer writes what waits every second, or at once past kWriteAt bytes, in whole
// lines, in writes of at most PIPE_BUF bytes where lines allow (atomic on a pipe: other writers
// of the same stdout never land inside a line).
// One lock per line: spdlog's own sink mutex is a null one, and the state's mutex guards the
// formatter (not thread-safe: it caches the time) along with the buffer. The pattern is set once,
// before the first line.
class AccessLogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  static constexpr size_t kWriteAt = 1024 * 1024;
  static constexpr size_t kMaxPending = 8 * 1024 * 1024;

  // `metrics`: counts dropped lines, on the dropping (request) thread: it must outlive the sink,
  // not the writer, which a reader that never reads can keep blocked past the sink's end.
  AccessLogSink(int fd, Metrics* metrics) : state_(std::make_shared<State>()), metrics_(metrics) {
    std::thread([state = state_, fd] { state->run(fd); }).detach();
  }

  // Writes what is pending, waiting at most 2 s for a reader that lags. A writer still blocked
  // then (a reader that never reads) is left to the process's end; it holds its own state.
  ~AccessLogSink() override {
    std::unique_lock lock(state_->mu);
    state_->stopping = true;
    state_->wake.notify_one();
    state_->written.wait_for(lock, std::chrono::seconds(2), [this] { return state_->done; });
  }

  size_t dropped() {
    std::lock_guard lock(state_->mu);
    return state_->droppedTotal;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    State& st = *state_;
    std::unique_lock lock(st.mu);
    formatter_->format(msg, formatted);
    if (st.pending.size() + formatted.size() > kMaxPending) {
      ++st.dropped;
      ++st.droppedTotal;
      lock.unlock();
      if (metrics_) metrics_->countAccessLogDrop();
      return;
    }
    const bool wasBelow = st.pending.size() < kWriteAt;
    st.pending.append(formatted.data(), formatted.size());
    const bool wake = wasBelow && st.pending.size() >= kWriteAt;
    lock.unlock();
    if (wake) st.wake.notify_one();
  }

  // Waits until every line logged before the call is written (at most 1 s).
  void flush_() override {
    State& st = *state_;
    std::unique_lock lock(st.mu);
    const uint64_t target = st.taken + st.pending.size();
    st.flushWanted = true;
    st.wake.notify_one();
    st.written.wait_for(lock, std::chrono::seconds(1),
                        [&] { return st.writtenUpTo >= target || st.done; });
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable wake;     // the writer: a batch is due, a flush or the stop
    std::condition_variable written;  // a batch is written, or the writer is done
    std::string pending;              // guarded by mu, like every field below
    uint64_t taken = 0;               // bytes taken by the writer so far
    uint64_t writtenUpTo = 0;         // bytes written (or given up on) so far
    size_t dropped = 0;               // since the last warning
    size_t droppedTotal = 0;
    bool flushWanted = false;
    bool stopping = false;
    bool done = false;

    void run(int fd) {
      std::string batch;
      std::unique_lock lock(mu);
      while (true) {
        wake.wait_for(lock, std::chrono::seconds(1),
                      [this] { return stopping || flushWanted || pending.size() >= kWriteAt; });
        flushWanted = false;
        const bool last = stopping;
        const size_t droppedNow = std::exchange(dropped, 0);
        batch.clear();
        batch.swap(pending);  // the two trade buffers: both keep their capacity, nothing is copied
        taken += batch.size();
        const uint64_t upTo = taken;
        lock.unlock();
        if (droppedNow > 0) {
          spdlog::warn("access log: {} lines dropped, stdout did not keep up", droppedNow);
        }
        writeLines(fd, batch);
        lock.lock();
        writtenUpTo = upTo;
        if (last) break;
        written.notify_all();
      }
      done = true;
      written.notify_all();
    }
  };

  // Writes `text` (whole lines) to `fd`, in pieces of at most PIPE_BUF bytes cut at line ends (a
  // longer line goes alone). Gives up on an error other than EINTR: nothing reads any more.
  static void writeLines(int fd, std::string_view text) {
    while (!text.empty()) {
      size_t n = text.size();
      if (n > PIPE_BUF) {
        const size_t cut = text.rfind('\n', PIPE_BUF - 1);
        const size_t end = cut == std::string_view::npos ? text.find('\n') : cut;
        n = end == std::string_view::npos ? text.size() : end + 1;
      }
      std::string_view piece = text.substr(0, n);
      while (!piece.empty()) {
        const ssize_t w = ::write(fd, piece.data(), piece.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return;
        piece.remove_prefix(static_cast<size_t>(w));
      }
      text.remove_prefix(n);
    }
  }

  std::shared_ptr<State> state_;
  Metrics* const metrics_;
};

namespace {

std::shared_ptr<spdlog::logger> accessLogger(std::shared_ptr<AccessLogSink> sink, bool json) {
  // Not registered: each AccessLog keeps its own format (tests run routers with both).
  auto logger = std::make_shared<spdlog::logger>("access", std::move(sink));
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

AccessLog::AccessLog(bool json, int fd, Metrics* metrics)
    : json_(json),
      sink_(std::make_shared<AccessLogSink>(fd, metrics)),
      logger_(accessLogger(sink_, json)) {}

AccessLog::~AccessLog() = default;

size_t AccessLog::droppedLines() const { return sink_->dropped(); }

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
                           {"tenant", r.note.tenant},
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
  fmt::format_to(std::back_inserter(out), " call={} tenant={} meeting=", orDash(r.note.call),
                 orDash(r.note.tenant));
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

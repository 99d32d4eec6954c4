// The text access line: client-given text (path, meeting id) comes out exactly as fmt's {:?}
// quotes and escapes it, whether or not it takes the plain-text shortcut.
#include "router/access_log.h"

#include "core/metrics.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace sb {
namespace {

TEST(AccessLogTextTest, ClientTextIsQuotedAndEscapedExactlyAsFmtDoes) {
  AccessLog log(false);
  std::vector<std::string> texts{"/bigbluebutton/api/join",
                                 "room-1_a.b~c",
                                 "",
                                 "say \"hi\"",
                                 "back\\slash",
                                 "two\nlines",
                                 "tab\there",
                                 "Caf\xc3\xa9 \xe2\x9c\x93",
                                 "\xff\xfe not UTF-8",
                                 std::string("nul\0byte", 8)};
  for (int b = 0; b < 256; ++b) texts.push_back(std::string("a") + static_cast<char>(b) + "z");
  for (const auto& text : texts) {
    AccessRecord r;
    r.method = "GET";
    r.path = text;
    r.note.call = "join";
    r.note.meetingId = text;
    r.status = 302;
    r.latencyMs = 1.5;
    EXPECT_EQ(log.format(r),
              fmt::format("GET {:?} call=join tenant=- meeting={:?} server=- result=- status=302 "
                          "1.50ms",
                          std::string_view(text), std::string_view(text)))
        << text;
  }
}

AccessRecord joinRecord(const std::string& meetingId) {
  AccessRecord r;
  r.method = "GET";
  r.path = "/bigbluebutton/api/join";
  r.note.call = "join";
  r.note.meetingId = meetingId;
  r.note.result = "302";
  r.status = 302;
  r.latencyMs = 0.25;
  return r;
}

struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (::pipe(fds) == 0) {
      read = fds[0];
      write = fds[1];
    }
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
};

// Every line written from several threads reaches the fd once and whole, and flush() waits for
// them: more lines than a pipe holds, so the writer waits on the reader meanwhile.
TEST(AccessLogTest, EveryLineReachesItsFdWholeAndOnce) {
  Pipe pipe;
  ASSERT_GE(pipe.read, 0);
  std::string received;
  std::thread reader([&] {
    char buf[8192];
    ssize_t n;
    while ((n = ::read(pipe.read, buf, sizeof buf)) > 0)
      received.append(buf, static_cast<size_t>(n));
  });
  constexpr int kThreads = 4, kLines = 2000;
  {
    AccessLog log(false, pipe.write);
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&log, t] {
        for (int i = 0; i < kLines; ++i) log.write(joinRecord(fmt::format("m-{}-{}", t, i)));
      });
    }
    for (auto& w : writers) w.join();
    log.logger().flush();
    EXPECT_EQ(log.droppedLines(), 0u);
  }
  ::close(pipe.write);
  pipe.write = -1;
  reader.join();
  std::map<std::string, int> seen;
  std::istringstream lines(received);
  std::string line;
  while (std::getline(lines, line)) {
    auto at = line.find("meeting=\"");
    ASSERT_NE(at, std::string::npos) << line;
    auto end = line.find('"', at + 9);
    ASSERT_NE(end, std::string::npos) << line;
    EXPECT_NE(line.find(" status=302 0.25ms"), std::string::npos) << line;
    ++seen[line.substr(at + 9, end - at - 9)];
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kThreads * kLines));
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id;
}

// A reader that stops reading (a stuck journald or docker log pipe) never holds up a request:
// lines past the bound are dropped and counted. Before, the line was written to stdout on the
// request's own thread, which blocked once the pipe was full.
TEST(AccessLogTest, AReaderThatStopsReadingNeverHoldsUpARequest) {
  std::signal(SIGPIPE, SIG_IGN);  // the writer's last write after the reader is closed
  Pipe pipe;
  ASSERT_GE(pipe.read, 0);
  Metrics metrics;
  auto log = std::make_unique<AccessLog>(false, pipe.write, &metrics);
  // ~120 bytes a line: 200,000 lines are ~24 MB, three times the bound plus the pipe.
  auto requests = std::async(std::launch::async, [&] {
    for (int i = 0; i < 200000; ++i) log->write(joinRecord("m-" + std::to_string(i)));
  });
  // A blocked request would wait forever; 60 s leaves room for a slow (ThreadSanitizer) build.
  const bool finished = requests.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  const size_t dropped = log->droppedLines();
  const std::string rendered = metrics.render({});
  // However it went, the writer ends before ~Pipe closes the fd it writes to (closing an fd
  // under a write() in another thread is a race; TSan reported it when the bound above was
  // missed): first the reader goes, so the writer's blocked write() fails and it ends, then the
  // log, which waits for its writer.
  ::close(pipe.read);
  pipe.read = -1;
  requests.wait();
  log.reset();
  EXPECT_TRUE(finished) << "writing an access line blocked on the stuck reader";
  EXPECT_GT(dropped, 0u);
  EXPECT_NE(rendered.find("switchboard_access_log_dropped_lines_total " + std::to_string(dropped)),
            std::string::npos)
      << rendered;
}

}  // namespace
}  // namespace sb

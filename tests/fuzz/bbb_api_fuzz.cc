// The BBB API's requests as the handlers get them: the input is
//   METHOD call\n
//   raw query\n
//   body (the rest of the input)
//   [@@BBB@@\n what the fake BBB answers to every call]
// e.g. "GET create\nname=Demo+Room&meetingID=m1\n". A query without "checksum=" is signed here
// (SHA-256 with the router's secret, appended as frontends do) so the fuzzer gets past the checksum
// to admission's parameter and body reading and the use-cases behind it; a query with one is
// verified as sent. The body's content type is XML when it starts with '<', else a form. Covers
// BbbApi::handle and querySigned (router/bbb_api.h) against the memory stores (one server, one
// meeting, one recording) and a fake BBB. Invariants: an answer always comes, never a 500, and
// every XML answer is a well-formed BBB envelope (unless it is a broken BBB answer passed through).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <pugixml.hpp>

#include "core/balancing/least_load_strategy.h"
#include "core/checksum.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/meeting_router.h"
#include "core/recordings/recording_library.h"
#include "db/memory_recording_store.h"
#include "db/memory_store.h"
#include "router/bbb_api.h"
#include "router/worker_pool.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_workers.h"
#include "tests/unit/fakes.h"

namespace {

constexpr char kSecret[] = "fuzz-secret";
constexpr char kBbbSuccess[] =
    "<response><returncode>SUCCESS</returncode><meetingID>fuzz</meetingID><internalMeetingID>"
    "0123456789abcdef-1700000000000</internalMeetingID><createTime>1700000000000</createTime>"
    "<running>true</running><participantCount>2</participantCount></response>";

using sbfuzz::settle;
using sbfuzz::workers;

// A fresh pool per input, so every input runs against the same state.
struct Pool {
  Pool() {
    FUZZ_CHECK(servers.addServer(sb::fake::makeServer("s1")).ok());
    sb::Meeting m;
    m.id = "m1";
    m.serverId = "s1";
    m.moderatorPw = "mp";
    FUZZ_CHECK(meetings.claimMeeting(m).ok());
    sb::Recording r;
    r.recordId = "rec-1";
    r.meetingId = "m1";
    r.internalMeetingId = "internal-m1";
    r.metadata = {{"course", "math"}};
    r.formats = {{"presentation", "https://bbb/playback/rec-1", 1, 1, 10, {{"u", "a", 1, 1}}}};
    FUZZ_CHECK(recordings.put(r).ok());
  }

  // Set before the API is built: its checksum verifier copies the secrets.
  sb::Config config = [] {
    sb::Config c;
    c.api.secrets = {kSecret};
    return c;
  }();
  sb::MemoryServerStore servers;
  sb::MemoryMeetingStore meetings;
  sb::fake::FakeBbbClient bbb;
  sb::ManualClock clock;
  sb::LeastLoadStrategy strategy;
  sb::MeetingRouter router{servers, meetings, bbb, clock, strategy, config};
  sb::MemoryRecordingStore recordings;
  sb::RecordingLibrary library{recordings};
  sb::TextTracks textTracks{recordings, nullptr};
  sb::BbbApi api{router, config.api, workers(), [this] {
                   sb::RecordingCalls calls;
                   calls.library = &library;
                   calls.textTracks = &textTracks;
                   return calls;
                 }()};
};

std::string_view nextLine(std::string_view& input) {
  const size_t newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  // OpenSSL initialises itself on first use, keeping some memory of the thread that did it; done
  // here, that thread is the main one, not the worker (whose copy LeakSanitizer reports at exit).
  (void)sb::computeChecksum(sb::ChecksumAlgorithm::kSha1, "", "", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view line = nextLine(input);
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  const std::string call(line.substr(space + 1));

  sb::HttpRequest request;
  request.method = std::string(line.substr(0, space));
  request.path = "/bigbluebutton/api/" + call;
  request.rawQuery = std::string(nextLine(input));
  if (request.rawQuery.find("checksum=") == std::string::npos) {
    const std::string checksum =
        sb::computeChecksum(sb::ChecksumAlgorithm::kSha256, call, request.rawQuery, kSecret);
    request.rawQuery += (request.rawQuery.empty() ? "checksum=" : "&checksum=") + checksum;
  }
  // What BBB answers (every call), after a line "@@BBB@@": a hostile or broken server's answers.
  std::string bbbAnswer;
  constexpr std::string_view kBbbMark = "@@BBB@@\n";
  if (size_t mark = input.find(kBbbMark); mark != std::string_view::npos) {
    bbbAnswer = std::string(input.substr(mark + kBbbMark.size()));
    input = input.substr(0, mark);
  }
  request.body = std::string(input);
  if (!request.body.empty()) {
    request.contentType =
        request.body[0] == '<' ? "application/xml" : "application/x-www-form-urlencoded";
  }
  request.acceptEncoding = size % 2 == 0 ? "gzip" : "";

  Pool pool;
  // The fake's own answers echo the meetingID unescaped (BBB escapes it): a fixed one instead.
  const bool bbbAnswerGiven = !bbbAnswer.empty();
  if (!bbbAnswerGiven) bbbAnswer = kBbbSuccess;
  for (const char* c : {"create", "end", "getMeetingInfo", "isMeetingRunning", "insertDocument",
                        "sendChatMessage"}) {
    pool.bbb.replies[c] = bbbAnswer;
  }
  (void)pool.api.querySigned(request, call);
  auto answer = std::make_shared<std::promise<sb::HttpResponse>>();
  auto future = answer->get_future();
  pool.api.handle(request, call, [answer](sb::HttpResponse r) { answer->set_value(r); });
  FUZZ_CHECK(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const sb::HttpResponse response = future.get();
  settle();

  // FUZZ_VERBOSE=1 shows each answer (to check what the seeds reach: run on a corpus file).
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose || response.status == 500) {
    std::fprintf(stderr, "%d: %s\n", response.status, response.payload().c_str());
  }
  FUZZ_CHECK(response.status != 500);
  // Answers of Switchboard's own are well-formed; BBB's (getMeetingInfo...) pass through as sent.
  if (!bbbAnswerGiven && response.status == 200 && response.contentEncoding.empty() &&
      response.contentType.find("xml") != std::string::npos) {
    pugi::xml_document doc;
    FUZZ_CHECK(doc.load_buffer(response.payload().data(), response.payload().size()));
    FUZZ_CHECK(doc.child("response").child("returncode"));
  }
  return 0;
}

// Recordings reaching Switchboard (issue 19): uploaded over HTTP by the BBB servers' hook (or
// `switchboard recordings import`), dropped into the spool folder, kept across a restart of the
// embedded store; every bad input refused or kept in failed/ with its reason; a full disk.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "core/checksum.h"
#include "core/jwt.h"
#include "core/recordings/recording_ready.h"
#include "tests/integration/harness.h"
#include "tests/integration/raw_http.h"
#include "tests/unit/recording_archives.h"

namespace sbtest {
namespace {
namespace fs = std::filesystem;

const std::string kId = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124";
const std::string kId2 = "0123456789abcdef0123456789abcdef01234567-1530718800000";
constexpr const char* kUploadToken = "upload-token";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A temporary folder removed (and unmounted, when a test mounted something there) at the end.
class TempFolder {
 public:
  TempFolder() {
    std::string p = "/tmp/sb-import-test-XXXXXX";
    if (::mkdtemp(p.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = p;
  }
  ~TempFolder() {
    for (const auto& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  // Mounts a tmpfs of `bytes` at `folder` (a small disk to fill).
  void mountSmallDisk(const std::string& folder, size_t bytes) {
    fs::create_directories(folder);
    std::string options = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", folder.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      throw std::runtime_error("cannot mount a tmpfs (the test needs root): " +
                               std::string(std::strerror(errno)));
    }
    mounts_.push_back(folder);
  }

 private:
  std::string path_;
  std::vector<std::string> mounts_;
};

// A frontend on loopback that takes HTTP requests (head and Content-Length body), answers each
// with the next status of `statuses` (the last one repeated), and keeps them.
class FakeFrontend {
 public:
  explicit FakeFrontend(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 8) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeFrontend() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The requests received once there are `n` (waiting at most 5 s).
  std::vector<std::string> received(size_t n) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu_);
        if (received_.size() >= n) return received_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void serve() {
    for (size_t call = 0;; ++call) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char buf[4096];
      for (;;) {
        size_t head = request.find("\r\n\r\n");
        if (head != std::string::npos) {
          size_t cl = request.find("Content-Length: ");
          size_t length = cl == std::string::npos ? 0 : std::stoul(request.substr(cl + 16));
          if (request.size() >= head + 4 + length) break;
        }
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      const int status = statuses_[std::min(call, statuses_.size() - 1)];
      const std::string answer =
          "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
      ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(fd);
      std::lock_guard lock(mu_);
      received_.push_back(request);
    }
  }

  std::vector<int> statuses_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> received_;
};

class RecordingImportTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  // A new router on the same recordings folder; `tweak` changes its configuration further.
  void start(size_t uploadMax = 0, const std::function<void(sb::Config&)>& tweak = {}) {
    router_.reset();
    router_ = std::make_unique<Router>([&](sb::Config& c) {
      c.recordings.root = root_.path() + "/recordings";
      c.recordings.uploadToken = kUploadToken;
      c.recordings.importPollInterval = std::chrono::milliseconds(100);
      if (uploadMax) c.recordings.uploadMaxBytes = uploadMax;
      if (tweak) tweak(c);
    });
  }
  // An archive of `kId` whose metadata (as BBB keeps a create's meta_ parameters) names the
  // recording-ready `url`, and `extraMeta` besides.
  std::string callbackArchive(const std::string& url, const std::string& meeting = "m1",
                              const std::string& extraMeta = "") {
    std::string path = root_.path() + "/cb-" + std::to_string(++made_) + ".tar";
    sb::TarWriter tar(path);
    tar.dir("presentation/" + kId);
    tar.file("presentation/" + kId + "/metadata.xml",
             sb::sampleMetadataXml(kId, meeting, "presentation",
                                   "<switchboard-recording-ready-url>" + url +
                                       "</switchboard-recording-ready-url>" + extraMeta));
    return path;
  }
  std::string recordings(const std::string& sub) const {
    return root_.path() + "/recordings/" + sub;
  }
  // An archive of `id` (presentation) at a new path.
  std::string archive(const std::string& id, const std::string& meeting = "m1") {
    std::string path = root_.path() + "/" + id + "-" + std::to_string(++made_) + ".tar";
    sb::TarWriter(path).recording(id, meeting);
    return path;
  }
  HttpResult upload(const std::string& body, const std::string& token = kUploadToken,
                    const std::string& name = "") {
    return httpRequest("POST",
                       router_->base() + "/switchboard/api/v1/recordings/upload" +
                           (name.empty() ? "" : "?name=" + name),
                       body, "application/x-tar", "Bearer " + token);
  }
  std::vector<std::string> listed(const std::string& query = "state=any") {
    auto r = router_->call("getRecordings", query);
    std::vector<std::string> ids;
    size_t at = 0;
    while ((at = r.body.find("<recordID>", at)) != std::string::npos) {
      at += 10;
      ids.push_back(r.body.substr(at, r.body.find('<', at) - at));
    }
    return ids;
  }
  // A configuration tweak for Redis + PostgreSQL (the test servers of scripts/test.sh), migrated,
  // with no recordings or callbacks; empty when the servers are not there (the test fails).
  std::function<void(sb::Config&)> sharedStores() {
    const char* redis = std::getenv("REDIS_URL");
    const char* database = std::getenv("DATABASE_URL");
    EXPECT_TRUE(redis && database) << "REDIS_URL and DATABASE_URL must point at test servers "
                                      "(scripts/test.sh starts them)";
    if (!redis || !database) return {};
    auto tweak = [redis = std::string(redis), database = std::string(database)](sb::Config& c) {
      c.store.redisUrl = redis;
      c.store.databaseUrl = database;
      c.store.redisNamespace = "sbrecordings" + std::to_string(::getpid());
      c.recordings.importPollInterval = std::chrono::hours(1);  // no retry by itself here
    };
    sb::Config c = *sb::loadConfig([](const std::string&) { return std::nullopt; });
    tweak(c);
    auto migrated = sb::migrateDatabase(c);
    EXPECT_TRUE(migrated.ok()) << migrated.error().message;
    EXPECT_EQ(runCommand("psql '" + c.store.databaseUrl +
                         "' -qc 'TRUNCATE pending_callbacks, recordings'")
                  .exitCode,
              0);
    return tweak;
  }
  // The callback files in the spool folder (the embedded default's queue).
  std::vector<std::string> callbackFiles() const {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e :
         fs::recursive_directory_iterator(root_.path() + "/recordings/spool/callbacks", ec)) {
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    }
    return files;
  }
  bool uploadsEmpty() const {
    std::error_code ec;
    return fs::is_empty(root_.path() + "/recordings/recording/switchboard/uploads", ec);
  }

  TempFolder root_;
  std::unique_ptr<Router> router_;
  int made_ = 0;
};

TEST_F(RecordingImportTest, AnUploadIsImportedBeforeItIsAcknowledgedAndListedAtOnce) {
  auto r = upload(slurp(archive(kId)), kUploadToken, kId + ".tar");
  ASSERT_EQ(r.status, 200) << r.body;
  auto answer = nlohmann::json::parse(r.body);
  EXPECT_EQ(answer["imported"][0]["id"], kId);
  EXPECT_EQ(answer["imported"][0]["meeting_id"], "m1");
  EXPECT_TRUE(fs::exists(recordings("published/presentation/" + kId + "/metadata.xml")));
  EXPECT_TRUE(uploadsEmpty()) << "the upload's file is gone once imported";
  auto got = router_->call("getRecordings", "meetingID=m1");
  EXPECT_EQ(xmlField(got.body, "recordID"), kId);
  EXPECT_EQ(xmlField(got.body, "type"), "presentation");
  // The admin token may upload too (`switchboard recordings import`).
  EXPECT_EQ(upload(slurp(archive(kId2, "m2")), Router::kToken).status, 200);
  EXPECT_EQ(listed().size(), 2u);
}

TEST_F(RecordingImportTest, AnUploadWithoutTheRightTokenIsRefusedBeforeItsBodyIsRead) {
  for (std::string auth : {std::string(), std::string("Authorization: Bearer wrong\r\n"),
                           "Authorization: Bearer " + std::string(kUploadToken) + "x\r\n"}) {
    int fd = connectLoopback(router_->service().port());
    ASSERT_GE(fd, 0);
    // 10 GB announced, not a byte sent: the answer must come anyway.
    sendAll(fd, "POST /switchboard/api/v1/recordings/upload HTTP/1.1\r\nHost: x\r\n" + auth +
                    "Content-Length: 10000000000\r\n\r\n");
    std::string answer = readAnswer(fd, std::chrono::seconds(3));
    ::close(fd);
    EXPECT_EQ(statusOf(answer), 401) << auth << answer;
  }
  EXPECT_TRUE(uploadsEmpty());
  EXPECT_TRUE(listed().empty());
}

TEST_F(RecordingImportTest, AnUploadPastTheLimitIsRefusedAndAnInterruptedOneLeavesNothing) {
  start(2 << 20);
  int fd = connectLoopback(router_->service().port());
  sendAll(fd, std::string("POST /switchboard/api/v1/recordings/upload HTTP/1.1\r\nHost: x\r\n") +
                  "Authorization: Bearer " + kUploadToken + "\r\nContent-Length: 3000000\r\n\r\n");
  EXPECT_EQ(statusOf(readAnswer(fd, std::chrono::seconds(3))), 413);
  ::close(fd);

  fd = connectLoopback(router_->service().port());
  sendAll(fd, std::string("POST /switchboard/api/v1/recordings/upload HTTP/1.1\r\nHost: x\r\n") +
                  "Authorization: Bearer " + kUploadToken + "\r\nContent-Length: 1000000\r\n\r\n" +
                  std::string(400000, 'x'));
  for (int i = 0; i < 100 && uploadsEmpty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(uploadsEmpty()) << "the body goes to a file as it arrives";
  ::close(fd);  // the client goes away mid-body
  for (int i = 0; i < 200 && !uploadsEmpty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(uploadsEmpty()) << "the part of an interrupted upload is removed";
  EXPECT_TRUE(listed().empty());
}

TEST_F(RecordingImportTest, ABadUploadIsKeptInFailedWithItsReasonAndOperatorsRetryOrDropIt) {
  std::string bad = root_.path() + "/bad.tar";
  sb::TarWriter(bad).file("presentation/" + kId + "/metadata.xml", "<recording");
  auto r = upload(slurp(bad), kUploadToken, "bad.tar");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("not XML"), std::string::npos) << r.body;
  EXPECT_TRUE(uploadsEmpty());
  auto failed = router_->admin("GET", "/recordings/failed");
  ASSERT_EQ(failed.status, 200) << failed.body;
  auto list = nlohmann::json::parse(failed.body)["failed"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["archive"], "bad.tar");
  EXPECT_EQ(list[0]["attempts"], 1);
  EXPECT_NE(list[0]["reason"].get<std::string>().find("not XML"), std::string::npos);
  EXPECT_EQ(router_->admin("POST", "/recordings/failed/bad.tar/retry").status, 200);
  EXPECT_EQ(router_->admin("POST", "/recordings/failed/nope.tar/retry").status, 404);
  EXPECT_EQ(router_->admin("DELETE", "/recordings/failed/..%2Fx.tar").status, 404);
  EXPECT_EQ(router_->admin("DELETE", "/recordings/failed/bad.tar").status, 200);
  EXPECT_EQ(
      nlohmann::json::parse(router_->admin("GET", "/recordings/failed").body)["failed"].size(), 0u);
  EXPECT_EQ(upload("").status, 400) << "an empty body is no archive";
}

TEST_F(RecordingImportTest, TheSpoolFolderIsWatchedAsScalelitesTransferScriptsFillIt) {
  // Scalelite's post_publish script rsyncs <record_id>.tar into the spool: a temporary name,
  // then a rename.
  std::string tar = archive(kId);
  fs::copy_file(tar, recordings("spool/." + kId + ".tar.Ab12Cd"));
  fs::rename(recordings("spool/." + kId + ".tar.Ab12Cd"), recordings("spool/" + kId + ".tar"));
  for (int i = 0; i < 100 && listed().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(listed(), std::vector<std::string>{kId});
  EXPECT_FALSE(fs::exists(recordings("spool/" + kId + ".tar")));
}

TEST_F(RecordingImportTest, TheEmbeddedStoreKeepsRecordingsAcrossARestart) {
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);
  ASSERT_EQ(upload(slurp(archive(kId2, "m2"))).status, 200);
  ASSERT_EQ(router_->call("publishRecordings", "recordID=" + kId2 + "&publish=false").status, 200);
  ASSERT_EQ(router_->call("updateRecordings", "recordID=" + kId + "&meta_course=Physics").status,
            200);
  start();  // a new process: its memory is empty, the folder is not
  EXPECT_EQ(listed().size(), 2u);
  auto unpublished = router_->call("getRecordings", "recordID=" + kId2);
  EXPECT_EQ(xmlField(unpublished.body, "state"), "unpublished");
  auto updated = router_->call("getRecordings", "recordID=" + kId);
  EXPECT_EQ(xmlField(updated.body, "course"), "Physics");
}

TEST_F(RecordingImportTest, AFullDiskFailsTheImportKeepsTheArchiveAndTouchesNothingImported) {
  // The recordings on a 3 MiB disk, the spool elsewhere (as with an NFS spool).
  router_.reset();
  root_.mountSmallDisk(root_.path() + "/small", 3 << 20);
  router_ = std::make_unique<Router>([&](sb::Config& c) {
    c.recordings.root = root_.path() + "/small";
    c.recordings.spoolDir = root_.path() + "/spool";
    c.recordings.uploadToken = kUploadToken;
    c.recordings.importPollInterval = std::chrono::milliseconds(100);
  });
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);
  const std::string before =
      slurp(root_.path() + "/small/published/presentation/" + kId + "/metadata.xml");
  std::string big = root_.path() + "/big.tar";
  sb::TarWriter(big).recording(kId2, "m2").bigFile("presentation/" + kId2 + "/video.webm", 5 << 20);
  // Uploaded: the body does not fit the work folder.
  auto r = upload(slurp(big), kUploadToken, "big.tar");
  EXPECT_EQ(r.status, 507) << r.body;
  // Through the spool: unpacking does not fit.
  fs::copy_file(big, root_.path() + "/spool/big.tar");
  std::vector<sb::FailedImport> failed;
  for (int i = 0; i < 100 && failed.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    failed = router_->service().importer().failedImports();
  }
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].reason.find("No space left on device"), std::string::npos)
      << failed[0].reason;
  EXPECT_TRUE(fs::exists(root_.path() + "/spool/failed/big.tar")) << "the archive is kept";
  EXPECT_EQ(slurp(root_.path() + "/small/published/presentation/" + kId + "/metadata.xml"), before);
  EXPECT_EQ(listed(), std::vector<std::string>{kId});
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(root_.path() + "/small/recording/switchboard/uploads", ec));
  for (const auto& e : fs::directory_iterator(root_.path() + "/small/recording/switchboard")) {
    EXPECT_EQ(e.path().filename(), "uploads") << "staging left behind: " << e.path();
  }
}

TEST_F(RecordingImportTest, OperatorsImportAndHandleFailuresFromTheCli) {
  const std::string env =
      "SWITCHBOARD_URL=" + router_->base() + " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken + " ";
  auto run = [&](const std::string& args) {
    CommandResult r = runCommand(env + SB_BIN_DIR "/switchboard " + args);
    return std::make_pair(r.exitCode, r.out);
  };
  auto [code, out] = run("recordings import " + archive(kId));
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Imported " + kId), std::string::npos) << out;
  std::string bad = root_.path() + "/broken.tar.gz";
  std::ofstream(bad) << "not gzip at all";
  std::tie(code, out) = run("recordings import " + bad);
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("kept as failed/broken.tar.gz"), std::string::npos) << out;
  std::tie(code, out) = run("recordings failed");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("broken.tar.gz"), std::string::npos) << out;
  EXPECT_NE(out.find("ATTEMPTS"), std::string::npos) << out;
  std::tie(code, out) = run("recordings retry broken.tar.gz");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = run("recordings drop broken.tar.gz");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = run("recordings failed");
  EXPECT_NE(out.find("No failed imports"), std::string::npos) << out;
  std::tie(code, out) = run("recordings import /nonexistent.tar");
  EXPECT_NE(code, 0) << out;
}

// Playback (the embedded router serves the published files itself): byte ranges for seeking,
// HEAD, BBB's player, downloads for audio formats; never an unpublished or deleted recording's
// files; no way out of the folders.
TEST_F(RecordingImportTest, PublishedFilesArePlayedAndNothingElseIs) {
  std::string big(300000, 'v');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  {
    std::string path = root_.path() + "/play.tar";
    sb::TarWriter tar(path);
    tar.recording(kId, "m1").file("presentation/" + kId + "/video/big.webm", big);
    tar.recording(kId, "m1", "podcast").file("podcast/" + kId + "/audio.ogg", "OggS");
    tar.recording(kId, "m1", "video").file("video/" + kId + "/index.html", "<html>video</html>");
    tar.close();
    ASSERT_EQ(upload(slurp(path)).status, 200);
  }
  // BBB's player, as BBB installs it (RECORDING_PLAYER_DIR defaults to the recordings root).
  fs::create_directories(recordings("playback/presentation/2.3/static"));
  std::ofstream(recordings("playback/presentation/2.3/index.html")) << "<html>player</html>";
  std::ofstream(recordings("playback/presentation/2.3/static/main.js")) << "play()";
  const uint16_t port = router_->service().port();
  auto get = [&](const std::string& path, const std::string& extra = "",
                 const std::string& method = "GET") {
    return roundTrip(port, method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n");
  };
  const std::string file = "/presentation/" + kId + "/video/big.webm";
  std::string whole = get(file);
  EXPECT_EQ(statusOf(whole), 200);
  EXPECT_EQ(bodyOf(whole), big) << "a file larger than one piece arrives whole";
  EXPECT_NE(whole.find("Content-Type: video/webm"), std::string::npos);
  EXPECT_NE(whole.find("Accept-Ranges: bytes"), std::string::npos);
  std::string part = get(file, "Range: bytes=2-5\r\n");
  EXPECT_EQ(statusOf(part), 206) << part.substr(0, 300);
  EXPECT_EQ(bodyOf(part), big.substr(2, 4));
  EXPECT_NE(part.find("Content-Range: bytes 2-5/300000"), std::string::npos);
  EXPECT_EQ(bodyOf(get(file, "Range: bytes=-3\r\n")), big.substr(big.size() - 3));
  EXPECT_EQ(bodyOf(get(file, "Range: bytes=299990-\r\n")), big.substr(299990));
  std::string beyond = get(file, "Range: bytes=400000-\r\n");
  EXPECT_EQ(statusOf(beyond), 416);
  EXPECT_NE(beyond.find("Content-Range: bytes */300000"), std::string::npos);
  // A HEAD answer announces the GET's length and sends no body: read it for a moment only.
  int fd = connectLoopback(port);
  sendAll(fd, "HEAD " + file + " HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = readAnswer(fd, std::chrono::milliseconds(300));
  ::close(fd);
  EXPECT_EQ(statusOf(head), 200);
  EXPECT_NE(head.find("Content-Length: 300000"), std::string::npos);
  EXPECT_EQ(bodyOf(head), "");
  EXPECT_EQ(statusOf(get(file, "", "POST")), 405);
  // The player page for a recording's path, its own files, and a format with its own page.
  std::string page = get("/playback/presentation/2.3/" + kId);
  EXPECT_EQ(statusOf(page), 200);
  EXPECT_EQ(bodyOf(page), "<html>player</html>");
  EXPECT_EQ(bodyOf(get("/playback/presentation/2.3/static/main.js")), "play()");
  EXPECT_EQ(bodyOf(get("/playback/video/" + kId + "/")), "<html>video</html>");
  std::string audio = get("/podcast/" + kId + "/audio.ogg");
  EXPECT_EQ(bodyOf(audio), "OggS");
  EXPECT_NE(audio.find("Content-Disposition: attachment"), std::string::npos);
  // Nothing outside the published folder.
  std::ofstream(root_.path() + "/secret.txt") << "secret";
  const std::vector<std::string> bads = {
      "/presentation/" + kId + "/../../../secret.txt",
      "/presentation/..%2F..%2F..%2Fsecret.txt/x/y",
      "/presentation/%2e%2e/%2e%2e/secret.txt",
      "/presentation/" + kId,
      "/presentation/" + kId + "/nothing.webm",
      "/unknownformat/" + kId + "/x",
      "/playback/presentation/2.3/..%2F..%2F..%2F..%2Fsecret.txt"};
  for (const std::string& bad : bads) {
    std::string answer = get(bad);
    EXPECT_NE(statusOf(answer), 200) << bad;
    EXPECT_EQ(answer.find("secret"), std::string::npos) << bad;
  }
  // A link planted in the published folder does not lead out of it.
  fs::create_symlink(root_.path() + "/secret.txt",
                     recordings("published/presentation/" + kId + "/leak.txt"));
  EXPECT_EQ(statusOf(get("/presentation/" + kId + "/leak.txt")), 404);
  // Unpublished or deleted: not served; published again: served.
  ASSERT_EQ(router_->call("publishRecordings", "recordID=" + kId + "&publish=false").status, 200);
  EXPECT_EQ(statusOf(get(file)), 404);
  EXPECT_EQ(statusOf(get("/podcast/" + kId + "/audio.ogg")), 404);
  ASSERT_EQ(router_->call("publishRecordings", "recordID=" + kId + "&publish=true").status, 200);
  EXPECT_EQ(statusOf(get(file)), 200);
  ASSERT_EQ(router_->call("deleteRecordings", "recordID=" + kId).status, 200);
  EXPECT_EQ(statusOf(get(file)), 404);
}

// Protected recordings (PROTECTED_RECORDINGS_ENABLED): getRecordings hands out a link that
// works once; it sets the recording's cookie and leads to the player; the files need that
// cookie, here and through nginx's auth_request (the same check at /switchboard/playback-access).
TEST_F(RecordingImportTest, AProtectedRecordingPlaysOnceThroughItsLinkAndItsFilesNeedTheCookie) {
  auto protectedRouter = [](sb::Config& c) {
    c.recordings.protection.enabled = true;
    c.recordings.protection.key = "shared-key";
  };
  start(0, protectedRouter);
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);
  ASSERT_EQ(upload(slurp(archive(kId2, "m2"))).status, 200);
  const uint16_t port = router_->service().port();
  auto get = [&](const std::string& path, const std::string& extra = "") {
    return roundTrip(port,
                     "GET " + path + " HTTP/1.1\r\nHost: lb.example.org\r\n" + extra + "\r\n");
  };
  const std::string file = "/presentation/" + kId + "/video/webcams.webm";
  // New recordings are protected: no way to the files without the cookie.
  EXPECT_EQ(statusOf(get(file)), 404);
  auto listing = router_->call("getRecordings", "recordID=" + kId);
  EXPECT_EQ(xmlField(listing.body, "protected"), "true") << listing.body;
  EXPECT_EQ(listing.body.find("<preview>"), std::string::npos) << "no previews of protected ones";
  std::string url = xmlField(listing.body, "url");
  const std::string prefix = "/recording/" + kId + "/presentation?token=";
  ASSERT_NE(url.find(prefix), std::string::npos) << url;
  EXPECT_EQ(url.find("bbb1.example.com"), std::string::npos) << "never the recording server";
  const std::string link = url.substr(url.find(prefix));
  // A forged or foreign token is refused; the real one leads to the player with the cookies.
  EXPECT_EQ(statusOf(get("/recording/" + kId + "/presentation?token=x.y.z")), 404);
  EXPECT_EQ(statusOf(get("/recording/" + kId2 +
                         "/presentation?token=" + link.substr(link.find('=') + 1))),
            404)
      << "a link names its recording";
  std::string visit = get(link);
  ASSERT_EQ(statusOf(visit), 307) << visit.substr(0, 400);
  EXPECT_NE(visit.find("Location: /playback/presentation/2.3/" + kId), std::string::npos);
  EXPECT_NE(visit.find("Path=/presentation/" + kId), std::string::npos) << visit.substr(0, 800);
  EXPECT_NE(visit.find("HttpOnly"), std::string::npos);
  const std::string name = "recording_presentation_" + kId + "=";
  size_t at = visit.find("Set-Cookie: " + name);
  ASSERT_NE(at, std::string::npos);
  at += 12;
  const std::string cookie = visit.substr(at, visit.find(';', at) - at);
  EXPECT_EQ(statusOf(get(file, "Cookie: other=1; " + cookie + "\r\n")), 200);
  EXPECT_EQ(statusOf(get(link)), 404) << "a link works once";
  // The cookie is this recording's only.
  const std::string other = "/presentation/" + kId2 + "/video/webcams.webm";
  std::string foreign = "recording_presentation_" + kId2 + "=" + cookie.substr(name.size());
  EXPECT_EQ(statusOf(get(other, "Cookie: " + foreign + "\r\n")), 404);
  // nginx's question for its own playback locations.
  auto access = [&](const std::string& uri, const std::string& cookies) {
    return statusOf(get("/switchboard/playback-access",
                        "X-Original-URI: " + uri + "\r\n" +
                            (cookies.empty() ? "" : "Cookie: " + cookies + "\r\n")));
  };
  EXPECT_EQ(access(file, cookie), 204);
  EXPECT_EQ(access(file + "?x=1", ""), 403);
  EXPECT_EQ(access("/playback/presentation/2.3/" + kId, ""), 204) << "the player itself is public";
  // Unprotected (Greenlight's protect=false): plain URLs and files for anyone.
  ASSERT_EQ(router_->call("updateRecordings", "recordID=" + kId2 + "&protect=false").status, 200);
  auto open = router_->call("getRecordings", "recordID=" + kId2);
  EXPECT_EQ(xmlField(open.body, "protected"), "false");
  EXPECT_EQ(xmlField(open.body, "url"), router_->base() + "/playback/presentation/2.3/" + kId2)
      << "on the host the frontend called";
  EXPECT_EQ(statusOf(get(other)), 200);
  EXPECT_EQ(access(other, ""), 204);
  // The embedded store keeps the protection across a restart (the folder is its truth).
  start(0, protectedRouter);
  auto again = router_->call("getRecordings", "recordID=" + kId + "," + kId2);
  EXPECT_NE(again.body.find("<protected>true</protected>"), std::string::npos) << again.body;
  EXPECT_NE(again.body.find("<protected>false</protected>"), std::string::npos) << again.body;
  EXPECT_EQ(
      statusOf(roundTrip(router_->service().port(),
                         "GET " + file + " HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n")),
      200)
      << "another router with the same key accepts the cookie";
}

// Without PROTECTED_RECORDINGS_ENABLED nothing is protected and getRecordings shows no
// <protected> (as Scalelite), whatever protect= said.
TEST_F(RecordingImportTest, WithoutProtectionEveryPublishedFileIsServed) {
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);
  ASSERT_EQ(router_->call("updateRecordings", "recordID=" + kId + "&protect=true").status, 200);
  auto listing = router_->call("getRecordings", "recordID=" + kId);
  EXPECT_EQ(listing.body.find("<protected>"), std::string::npos) << listing.body;
  const uint16_t port = router_->service().port();
  EXPECT_EQ(statusOf(roundTrip(port, "GET /presentation/" + kId +
                                         "/video/webcams.webm HTTP/1.1\r\nHost: x\r\n\r\n")),
            200);
}

// Text tracks (BBB 2.5+): putRecordingTextTrack takes a multipart upload signed over its URL,
// both calls answer JSON as BBB does, the track is served at its href while the recording is
// published, and the embedded store finds it again after a restart.
TEST_F(RecordingImportTest, TextTracksAreUploadedListedServedAndKept) {
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);
  auto put = [&](const std::string& query, const std::string& file, bool withFile = true) {
    const std::string boundary = "----sbBoundary7MA4YWxk";
    std::string body;
    if (withFile) {
      body = "--" + boundary +
             "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"track\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" +
             file + "\r\n--" + boundary + "--\r\n";
    }
    return httpRequest("POST", router_->apiUrl("putRecordingTextTrack", query), body,
                       withFile ? "multipart/form-data; boundary=" + boundary
                                : "application/x-www-form-urlencoded");
  };
  auto json = [](const HttpResult& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("response") ? j["response"] : nlohmann::json();
  };
  const std::string srt = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\n";
  auto stored = put("recordID=" + kId + "&kind=subtitles&lang=en_US&label=English", srt);
  EXPECT_EQ(stored.status, 200);
  EXPECT_NE(stored.contentType.find("application/json"), std::string::npos);
  EXPECT_EQ(json(stored), (nlohmann::json{{"messageKey", "upload_text_track_success"},
                                          {"message", "Text track uploaded successfully"},
                                          {"recordId", kId},
                                          {"returncode", "SUCCESS"}}))
      << stored.body;
  auto listed = json(router_->call("getRecordingTextTracks", "recordID=" + kId));
  ASSERT_EQ(listed["returncode"], "SUCCESS") << listed;
  ASSERT_EQ(listed["tracks"].size(), 1u);
  const auto track = listed["tracks"][0];
  EXPECT_EQ(track["kind"], "subtitles");
  EXPECT_EQ(track["lang"], "en-US");
  EXPECT_EQ(track["label"], "English");
  EXPECT_EQ(track["source"], "upload");
  const std::string href = track["href"];
  EXPECT_EQ(href, router_->base() + "/captions/" + kId + "/subtitles_en-US.vtt");
  auto served = httpRequest("GET", href, "", "");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\nHello\n");
  EXPECT_NE(served.contentType.find("text/vtt"), std::string::npos);
  // BBB's keys, in JSON, checksum first.
  auto key = [&](const HttpResult& r) { return std::string(json(r).value("messageKey", "")); };
  EXPECT_EQ(key(httpRequest("POST",
                            router_->base() + "/bigbluebutton/api/putRecordingTextTrack?recordID=" +
                                kId + "&kind=captions&lang=en&checksum=0000",
                            "", "application/x-www-form-urlencoded")),
            "checksumError");
  EXPECT_EQ(key(put("recordID=" + kId + "&kind=chapters&lang=en", srt)), "invalidKind");
  EXPECT_EQ(key(put("recordID=" + kId + "&kind=captions&lang=e%20n", srt)), "invalidLang");
  EXPECT_EQ(key(put("recordID=nope&kind=captions&lang=en", srt)), "noRecordings");
  EXPECT_EQ(key(put("recordID=" + kId + "&kind=captions&lang=en", "")),
            "empty_uploaded_text_track");
  EXPECT_EQ(key(put("recordID=" + kId + "&kind=captions&lang=en", "\x01\x02binary")),
            "upload_text_track_failed");
  EXPECT_EQ(key(router_->call("getRecordingTextTracks", "recordID=nope")), "noRecordings");
  EXPECT_EQ(key(router_->call("getRecordingTextTracks", "")), "missingParamRecordID");
  // Nothing but .vtt files of published recordings.
  EXPECT_EQ(
      httpRequest("GET", router_->base() + "/captions/" + kId + "/captions.json", "", "").status,
      404);
  ASSERT_EQ(router_->call("publishRecordings", "recordID=" + kId + "&publish=false").status, 200);
  EXPECT_EQ(httpRequest("GET", href, "", "").status, 404);
  ASSERT_EQ(router_->call("publishRecordings", "recordID=" + kId + "&publish=true").status, 200);
  // A restart finds the track again (the folder is the embedded store's truth).
  start();
  listed = json(router_->call("getRecordingTextTracks", "recordID=" + kId));
  ASSERT_EQ(listed["tracks"].size(), 1u) << listed;
  EXPECT_EQ(
      httpRequest("GET", router_->base() + "/captions/" + kId + "/subtitles_en-US.vtt", "", "")
          .status,
      200);
  // No file: the track is removed.
  auto removed = put("recordID=" + kId + "&kind=subtitles&lang=en-US", "", false);
  EXPECT_EQ(json(removed)["returncode"], "SUCCESS") << removed.body;
  listed = json(router_->call("getRecordingTextTracks", "recordID=" + kId));
  EXPECT_TRUE(listed["tracks"].empty()) << listed;
  EXPECT_FALSE(fs::exists(recordings("captions/" + kId + "/subtitles_en-US.vtt")));
}

// The recording-ready callback of a recording whose create named one (BBB kept it as
// switchboard-recording-ready-url): delivered once the recording is imported, signed as
// Greenlight verifies it, retried when the frontend fails, listed meanwhile.
TEST_F(RecordingImportTest, TheRecordingReadyCallbackReachesTheFrontendSignedWithItsSecret) {
  FakeFrontend frontend({500, 200});  // fails its first call, then accepts
  ASSERT_EQ(upload(slurp(callbackArchive(frontend.url("/recording_ready?t=1")))).status, 200);
  auto received = frontend.received(2);
  ASSERT_EQ(received.size(), 2u) << "the failed first call is retried";
  const std::string& call = received[1];
  EXPECT_EQ(call.rfind("POST /recording_ready?t=1 HTTP/1.1", 0), 0u) << call;
  auto at = call.find("signed_parameters=");
  ASSERT_NE(at, std::string::npos) << call;
  std::string jwt = call.substr(at + 18);
  EXPECT_EQ(jwt, sb::recordingReadyJwt("m1", kId, Router::kSecret))
      << "HS256 over meeting_id and record_id with the frontend's secret";
  auto pending = nlohmann::json::parse(router_->admin("GET", "/recordings/callbacks").body);
  EXPECT_EQ(pending["callbacks"].size(), 0u) << "nothing left once delivered";
}

// Operators see the callbacks a frontend has not taken yet and send them again at once.
TEST_F(RecordingImportTest, OperatorsSeeAndRetryWaitingCallbacks) {
  start(0, [](sb::Config& c) {
    c.recordings.importPollInterval = std::chrono::hours(1);  // the retry would wait an hour
  });
  FakeFrontend frontend({500, 200});
  ASSERT_EQ(upload(slurp(callbackArchive(frontend.url("/ready?token=hidden")))).status, 200);
  ASSERT_EQ(frontend.received(1).size(), 1u);
  const std::string cli = "SWITCHBOARD_URL=" + router_->base() +
                          " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken +
                          " " SB_BIN_DIR "/switchboard recordings callbacks";
  CommandResult listed;
  for (int i = 0; i < 100; ++i) {  // the failed attempt is written down just after the answer
    listed = runCommand(cli);
    if (listed.out.find("HTTP 500") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(listed.exitCode, 0) << listed.out;
  EXPECT_NE(listed.out.find("recording-ready"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("HTTP 500"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("hidden"), std::string::npos) << "a URL's query is not shown";
  CommandResult retried = runCommand(cli + " --retry");
  EXPECT_EQ(retried.exitCode, 0) << retried.out;
  EXPECT_NE(retried.out.find("OK: 1 callbacks due now"), std::string::npos) << retried.out;
  EXPECT_EQ(frontend.received(2).size(), 2u) << "delivered at once, not in an hour";
  CommandResult after;
  for (int i = 0; i < 100; ++i) {
    after = runCommand(cli);
    if (after.out.find("No callbacks waiting.") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(after.out.find("No callbacks waiting."), std::string::npos) << after.out;
}

// With several secrets (rotation), a meeting's callbacks are signed with the secret that signed
// its create: recording-ready (the secret's ID travels with BBB's recording metadata) and the
// learning-analytics post, which BBB sends to a router (the create's URL was replaced by the
// relay's) and the router passes on with an HS512 Bearer token, as Moodle verifies it.
TEST_F(RecordingImportTest, CallbacksAreSignedWithTheSecretThatSignedTheCreate) {
  const std::string second = "second-secret";
  start(0, [&](sb::Config& c) { c.api.secrets.push_back(second); });
  Sim sim(1);
  router_->addServers(sim);
  FakeFrontend moodle({200});
  const std::string analyticsUrl = moodle.url("/mod/bigbluebuttonbn/bbb_broker.php?a=1");
  const std::string escaped = sb::urlEncode(analyticsUrl);
  auto created = httpRequest(
      "GET",
      router_->apiUrl("create", "meetingID=a1&name=A&meta_analytics-callback-url=" + escaped,
                      sb::ChecksumAlgorithm::kSha256, second),
      "", "");
  ASSERT_EQ(xmlField(created.body, "returncode"), "SUCCESS") << created.body;
  auto info = router_->call("getMeetingInfo", "meetingID=a1");
  const std::string relay = xmlField(info.body, "analytics-callback-url");
  EXPECT_EQ(relay.rfind(router_->base() + "/bigbluebutton/api/analytics_callback?target=", 0), 0u)
      << info.body;
  EXPECT_EQ(xmlField(info.body, "switchboard-secret-id"), sb::secretId(second));
  // BBB posts the meeting's data there; the router passes it on.
  const std::string data = R"({"meeting_id":"a1","data":{"duration":60}})";
  auto posted = httpRequest("POST", relay, data, "application/json", "Bearer from-bbb");
  EXPECT_EQ(posted.status, 204) << posted.body;
  auto calls = moodle.received(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].rfind("POST /mod/bigbluebuttonbn/bbb_broker.php?a=1 HTTP/1.1", 0), 0u)
      << calls[0];
  EXPECT_EQ(calls[0].substr(calls[0].find("\r\n\r\n") + 4), data);
  EXPECT_NE(calls[0].find("Content-Type: application/json"), std::string::npos);
  const size_t bearer = calls[0].find("Authorization: Bearer ");
  ASSERT_NE(bearer, std::string::npos) << calls[0];
  const std::string token =
      calls[0].substr(bearer + 22, calls[0].find("\r\n", bearer) - bearer - 22);
  EXPECT_TRUE(sb::jwtVerify(token, second, sb::JwtAlgorithm::kHs512)) << "HS512, create's secret";
  EXPECT_FALSE(sb::jwtVerify(token, Router::kSecret, sb::JwtAlgorithm::kHs512));
  // A target the router did not sign relays nothing.
  auto forged =
      httpRequest("POST",
                  router_->base() + "/bigbluebutton/api/analytics_callback?target=" +
                      sb::analyticsRelayToken({"http://127.0.0.1:1/x", "", ""}, "guessed-key"),
                  data, "application/json");
  EXPECT_EQ(xmlField(forged.body, "messageKey"), "checksumError");

  // Recording-ready: the recording's metadata carries the secret's ID, as BBB keeps it.
  FakeFrontend greenlight({200});
  ASSERT_EQ(upload(slurp(callbackArchive(greenlight.url("/recording_ready"), "a1",
                                         "<switchboard-secret-id>" + sb::secretId(second) +
                                             "</switchboard-secret-id>")))
                .status,
            200);
  auto ready = greenlight.received(1);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].substr(ready[0].find("signed_parameters=") + 18),
            sb::recordingReadyJwt("a1", kId, second));
}

// With Redis + PostgreSQL, callbacks wait in PostgreSQL: a router that stops after a failed
// attempt leaves its callback to the others (listed, retried and delivered by another router),
// and an analytics post reaching any router is queued there and delivered.
TEST_F(RecordingImportTest, WithTheSharedStoreCallbacksWaitInPostgresForAnyRouter) {
  auto shared = sharedStores();
  ASSERT_TRUE(shared);
  FakeFrontend greenlight({500, 200});
  start(0, shared);
  ASSERT_EQ(upload(slurp(callbackArchive(greenlight.url("/recording_ready")))).status, 200);
  ASSERT_EQ(greenlight.received(1).size(), 1u);
  auto waiting = [&] {
    return nlohmann::json::parse(router_->admin("GET", "/recordings/callbacks").body)["callbacks"];
  };
  nlohmann::json listed;
  for (int i = 0; i < 100; ++i) {  // the failed attempt is written down just after the answer
    listed = waiting();
    if (listed.size() == 1 && listed[0]["attempts"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0]["last_error"], "HTTP 500");
  EXPECT_TRUE(callbackFiles().empty()) << "kept in PostgreSQL, not in the spool folder";

  start(0, shared);  // another router (the first one is gone)
  listed = waiting();
  ASSERT_EQ(listed.size(), 1u) << "it survived its router";
  EXPECT_EQ(listed[0]["record_id"], kId);
  auto retried = router_->admin("POST", "/recordings/callbacks/retry");
  EXPECT_EQ(nlohmann::json::parse(retried.body)["retried"], 1) << retried.body;
  auto calls = greenlight.received(2);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].substr(calls[1].find("signed_parameters=") + 18),
            sb::recordingReadyJwt("m1", kId, Router::kSecret));
  for (int i = 0; i < 100 && !waiting().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(waiting().empty());

  FakeFrontend moodle({200});
  const std::string relay = router_->base() + "/bigbluebutton/api/analytics_callback?target=" +
                            sb::analyticsRelayToken({moodle.url("/analytics"), "", ""},
                                                    sb::analyticsRelayKey(Router::kSecret));
  auto posted = httpRequest("POST", relay, R"({"meeting_id":"m1"})", "application/json");
  EXPECT_EQ(posted.status, 204) << posted.body;
  auto analytics = moodle.received(1);
  ASSERT_EQ(analytics.size(), 1u);
  EXPECT_EQ(analytics[0].substr(analytics[0].find("\r\n\r\n") + 4), R"({"meeting_id":"m1"})");
}

// An operator rebuilds PostgreSQL's recordings from the folder (the truth): after a restore, or
// moving from the embedded default. What cannot be read is skipped and named.
TEST_F(RecordingImportTest, OperatorsReindexTheStoreFromTheRecordingsFolder) {
  ASSERT_EQ(upload(slurp(archive(kId))).status, 200);  // the embedded default keeps it
  fs::create_directories(recordings("published/presentation/" + kId2));
  std::ofstream(recordings("published/presentation/" + kId2 + "/metadata.xml")) << "<recording";
  auto shared = sharedStores();
  ASSERT_TRUE(shared);
  start(0, shared);  // the same folder, now with PostgreSQL: its recordings table is empty
  EXPECT_TRUE(listed().empty());
  CommandResult reindexed = runCommand("SWITCHBOARD_URL=" + router_->base() +
                                       " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken +
                                       " " SB_BIN_DIR "/switchboard recordings reindex 2>&1");
  EXPECT_EQ(reindexed.exitCode, 0) << reindexed.out;
  EXPECT_NE(reindexed.out.find("OK: 1 recordings stored, 0 failed, 1 skipped"), std::string::npos)
      << reindexed.out;
  EXPECT_NE(reindexed.out.find("skipped " + recordings("published/presentation/" + kId2)),
            std::string::npos)
      << reindexed.out;
  EXPECT_EQ(listed(), std::vector<std::string>{kId});
  auto again = router_->admin("POST", "/recordings/reindex");
  EXPECT_EQ(nlohmann::json::parse(again.body)["stored"], 1) << "a second run changes nothing";
  EXPECT_EQ(listed(), std::vector<std::string>{kId});
}

// deploy/bbb-node/switchboard-recording-upload, as the BBB server's post_publish hook and timer
// run it: queued, kept while Switchboard cannot be reached, uploaded (every format) until
// acknowledged, the server's copy deleted only then; a refused archive is not retried.
TEST_F(RecordingImportTest, TheBbbServersHookUploadsUntilSwitchboardAcknowledges) {
  const std::string bbb = root_.path() + "/bbb";
  for (std::string format : {"presentation", "video"}) {
    fs::create_directories(bbb + "/published/" + format + "/" + kId);
    std::ofstream(bbb + "/published/" + format + "/" + kId + "/metadata.xml")
        << sb::sampleMetadataXml(kId, "m1", format);
  }
  fs::create_directories(bbb + "/published/presentation/" + kId2);
  std::ofstream(bbb + "/published/presentation/" + kId2 + "/metadata.xml") << "<recording";
  // A stand-in for BBB's bbb-record that notes what it was asked.
  fs::create_directories(bbb + "/bin");
  std::ofstream(bbb + "/bin/bbb-record") << "#!/bin/sh\necho \"$@\" >> " << bbb << "/deleted\n";
  fs::permissions(bbb + "/bin/bbb-record", fs::perms::owner_all);
  auto hook = [&](const std::string& args, const std::string& url) {
    std::string env = "SWITCHBOARD_RECORDING_NO_DEFAULTS=1 PATH=" + bbb + "/bin:$PATH" +
                      " PUBLISHED_DIR=" + bbb + "/published QUEUE_DIR=" + bbb + "/queue" +
                      " SWITCHBOARD_URL=" + url + " RECORDING_UPLOAD_TOKEN=" + kUploadToken +
                      " DELETE_AFTER_UPLOAD=true ";
    CommandResult r =
        runCommand(env + SB_SOURCE_DIR "/deploy/bbb-node/switchboard-recording-upload " + args);
    return std::make_pair(r.exitCode, r.out);
  };
  // BBB runs the post_publish hook (Ruby) after each format it publishes: it queues the
  // recording and starts the upload service.
  std::ofstream(bbb + "/bin/systemctl") << "#!/bin/sh\necho \"$@\" >> " << bbb << "/systemctl\n";
  fs::permissions(bbb + "/bin/systemctl", fs::perms::owner_all);
  auto postPublish = [&](const std::string& id, const std::string& format) {
    return runCommand("SWITCHBOARD_RECORDING_NO_DEFAULTS=1 PATH=" + bbb + "/bin:$PATH" +
                      " QUEUE_DIR=" + bbb + "/queue" +
                      " SWITCHBOARD_RECORDING_UPLOAD=" SB_SOURCE_DIR
                      "/deploy/bbb-node/switchboard-recording-upload ruby " SB_SOURCE_DIR
                      "/deploy/bbb-node/switchboard_post_publish.rb -m " +
                      id + " -f " + format);
  };
  for (const char* format : {"presentation", "video"}) {
    CommandResult hooked = postPublish(kId, format);
    ASSERT_EQ(hooked.exitCode, 0) << hooked.out;
  }
  ASSERT_EQ(postPublish(kId2, "presentation").exitCode, 0);
  EXPECT_TRUE(fs::exists(bbb + "/queue/queue/" + kId));
  EXPECT_EQ(slurp(bbb + "/systemctl"),
            std::string("start --no-block switchboard-recording-upload.service\n"
                        "start --no-block switchboard-recording-upload.service\n"
                        "start --no-block switchboard-recording-upload.service\n"));
  EXPECT_NE(postPublish("../etc", "presentation").exitCode, 0) << "a record ID is a file name";
  auto [code, out] = hook("enqueue " + kId, "");
  ASSERT_EQ(code, 0) << "queueing again is harmless: " << out;
  EXPECT_NE(hook("enqueue ../etc", "").first, 0) << "a record ID is a file name";

  // Switchboard unreachable: both stay queued, with a wait before the next attempt.
  std::tie(code, out) = hook("run", "http://127.0.0.1:9");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("attempt 1, next in 60s"), std::string::npos) << out;
  EXPECT_EQ(slurp(bbb + "/queue/queue/" + kId).substr(0, 2), "1 ");
  EXPECT_FALSE(fs::exists(bbb + "/deleted")) << "nothing deleted before an acknowledgement";
  std::tie(code, out) = hook("run", router_->base());
  EXPECT_EQ(out.find("imported"), std::string::npos) << "not due yet: " << out;
  EXPECT_TRUE(listed().empty());

  // Due again, Switchboard up: imported with both formats, then the copy is deleted.
  std::ofstream(bbb + "/queue/queue/" + kId) << "1 0\n";
  std::ofstream(bbb + "/queue/queue/" + kId2) << "1 0\n";
  std::tie(code, out) = hook("run", router_->base());
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(listed(), std::vector<std::string>{kId}) << out;
  auto got = router_->admin("GET", "/recordings/" + kId);
  EXPECT_EQ(nlohmann::json::parse(got.body)["formats"].size(), 2u) << got.body;
  EXPECT_FALSE(fs::exists(bbb + "/queue/queue/" + kId));
  EXPECT_EQ(slurp(bbb + "/deleted"), "--delete " + kId + "\n");
  // The broken one: refused for good, kept aside with the reason, not retried.
  EXPECT_FALSE(fs::exists(bbb + "/queue/queue/" + kId2));
  EXPECT_NE(slurp(bbb + "/queue/failed/" + kId2).find("not XML"), std::string::npos);
  std::tie(code, out) = hook("status", "");
  EXPECT_NE(out.find("failed  " + kId2), std::string::npos) << out;
}

}  // namespace
}  // namespace sbtest

#include "importer/callback_folder.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "importer/file_io.h"

namespace sb {
namespace fs = std::filesystem;
namespace {

constexpr uintmax_t kMaxCallbackFileBytes = 16 * 1024 * 1024;  // an analytics body is far less

nlohmann::json toJson(const PendingCallback& c) {
  nlohmann::json j = {{"id", c.id},
                      {"kind", c.kind},
                      {"record_id", c.recordId},
                      {"meeting_id", c.meetingId},
                      {"url", c.url},
                      {"secret_id", c.secretId},
                      {"tenant", c.tenant},
                      {"attempts", c.attempts},
                      {"next_attempt_ms", c.nextAttemptMs},
                      {"last_error", c.lastError}};
  if (!c.body.empty()) j["body"] = c.body;
  return j;
}

// The callback in `path`; nullopt when it is not one of ours. Files of earlier versions have no
// "id": theirs is the file's name.
std::optional<PendingCallback> readCallback(const fs::path& path, bool failed) {
  auto text = readSmallFile(path.string(), kMaxCallbackFileBytes);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PendingCallback c;
  try {
    c.id = j.value("id", path.stem().string());
    c.kind = j.value("kind", "recording-ready");
    c.recordId = j.value("record_id", "");
    c.meetingId = j.value("meeting_id", "");
    c.url = j.value("url", "");
    c.secretId = j.value("secret_id", "");
    c.tenant = j.value("tenant", "");
    c.body = j.value("body", "");
    c.attempts = j.value("attempts", 0);
    c.nextAttemptMs = j.value("next_attempt_ms", int64_t{0});
    c.lastError = j.value("last_error", "");
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a field of another type: not one of ours
  }
  if (c.id.empty() || c.url.empty() || (c.kind == "recording-ready" && c.recordId.empty())) {
    return std::nullopt;
  }
  c.failed = failed;
  return c;
}

// The .json files of `dir`, by name.
std::vector<fs::path> callbackFiles(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A queue ID is a file name here: letters, digits, '.', '-', '_', not starting with '.'.
bool fileSafe(const std::string& id) {
  if (id.empty() || id.size() > 200 || id.front() == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == '_';
  });
}

// Whether the open file `fd` is still the one named `path` (not replaced or removed since it was
// opened).
bool stillNamed(int fd, const fs::path& path) {
  struct stat open {
  }, named{};
  return ::fstat(fd, &open) == 0 && ::stat(path.c_str(), &named) == 0 &&
         open.st_ino == named.st_ino && open.st_dev == named.st_dev;
}

// Calls `fn(file, callback)` for every callback kept in `folder`, then in its failed/ (files that
// are not callbacks of ours are skipped); stops at the first error `fn` returns.
Status forEachKept(const std::string& folder,
                   const std::function<Status(const fs::path&, PendingCallback&)>& fn) {
  for (bool failed : {false, true}) {
    for (const auto& file : callbackFiles(failed ? folder + "/failed" : folder)) {
      auto c = readCallback(file, failed);
      if (!c) continue;
      if (auto s = fn(file, *c); !s) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

FolderCallbackQueue::FolderCallbackQueue(std::string folder) : folder_(std::move(folder)) {}

FolderCallbackQueue::~FolderCallbackQueue() {
  for (const auto& [id, fd] : held_) ::close(fd);
}

std::string FolderCallbackQueue::pathOf(const std::string& id, bool failed) const {
  return folder_ + (failed ? "/failed/" : "/") + id + ".json";
}

bool FolderCallbackQueue::letGo(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = held_.find(id);
  if (it == held_.end()) return false;
  ::close(it->second);
  held_.erase(it);
  return true;
}

Status FolderCallbackQueue::add(const PendingCallback& c) {
  if (!fileSafe(c.id)) {
    return Error::of(ErrorCode::kInvalidArgument, "callback ID '" + c.id + "' is not a file name");
  }
  std::error_code ec;
  fs::create_directories(folder_, ec);
  if (ec) return ioFailure("callbacks folder " + folder_, ec);
  if (c.failed) fs::create_directories(folder_ + "/failed", ec);
  if (auto s = replaceFile(pathOf(c.id, c.failed), toJson(c).dump(2) + "\n"); !s) return s;
  fs::remove(pathOf(c.id, !c.failed), ec);  // one callback of an ID
  return Status::Ok();
}

Result<std::optional<PendingCallback>> FolderCallbackQueue::claimDue(int64_t nowMs, int64_t) {
  for (const auto& file : callbackFiles(folder_)) {
    const std::string id = file.stem().string();
    {
      std::lock_guard lock(mutex_);
      if (held_.count(id)) continue;
    }
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !stillNamed(fd, file)) {
      ::close(fd);
      continue;
    }
    auto c = readCallback(file, false);
    if (!c || c->nextAttemptMs > nowMs) {
      ::close(fd);
      continue;
    }
    c->id = id;  // the file's name is what settle and reschedule find it by
    std::lock_guard lock(mutex_);
    held_[id] = fd;
    return std::optional<PendingCallback>(std::move(*c));
  }
  return std::optional<PendingCallback>();
}

Status FolderCallbackQueue::settle(const PendingCallback& c) {
  std::error_code ec;
  fs::remove(pathOf(c.id, false), ec);
  letGo(c.id);
  if (ec) return ioFailure("callback " + c.id, ec);
  return Status::Ok();
}

Status FolderCallbackQueue::reschedule(const PendingCallback& c) {
  Status written = Status::Ok();
  if (c.failed) {
    std::error_code ec;
    fs::create_directories(folder_ + "/failed", ec);
    written = replaceFile(pathOf(c.id, true), toJson(c).dump(2) + "\n");
    if (written) fs::remove(pathOf(c.id, false), ec);
  } else {
    written = replaceFile(pathOf(c.id, false), toJson(c).dump(2) + "\n");
  }
  letGo(c.id);
  return written;
}

Result<std::vector<PendingCallback>> FolderCallbackQueue::list() {
  std::vector<PendingCallback> out;
  (void)forEachKept(folder_, [&](const fs::path&, PendingCallback& c) {
    out.push_back(std::move(c));
    return Status::Ok();
  });
  std::sort(out.begin(), out.end(), [](const PendingCallback& a, const PendingCallback& b) {
    return std::tie(a.recordId, a.id) < std::tie(b.recordId, b.id);
  });
  return out;
}

Result<int> FolderCallbackQueue::retryAll() {
  int retried = 0;
  Status s = forEachKept(folder_, [&](const fs::path& file, PendingCallback& c) -> Status {
    const bool wasGivenUp = c.failed;
    c.nextAttemptMs = 0;
    if (wasGivenUp) c.attempts = 0;
    c.failed = false;
    if (auto written = replaceFile(pathOf(file.stem().string(), false), toJson(c).dump(2) + "\n");
        !written) {
      return written;
    }
    std::error_code ec;
    if (wasGivenUp) fs::remove(file, ec);
    ++retried;
    return Status::Ok();
  });
  if (!s) return s.error();
  return retried;
}

Result<int> FolderCallbackQueue::moveTo(CallbackQueue& to) {
  int moved = 0;
  Status s = forEachKept(folder_, [&](const fs::path& file, PendingCallback& c) -> Status {
    if (auto added = to.add(c); !added) return added;
    std::error_code ec;
    fs::remove(file, ec);
    ++moved;
    return Status::Ok();
  });
  if (!s) return s.error();
  return moved;
}

}  // namespace sb

#include "app/sim_process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <sstream>

extern char** environ;

namespace sb {

std::string executableDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

SimProcess::~SimProcess() { stop(); }

Status SimProcess::start(const std::string& simPath, const std::vector<std::string>& args,
                         std::chrono::milliseconds wait) {
  int fds[2];
  if (pipe(fds) != 0) return Error::of(ErrorCode::kInternalError, "pipe() failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<std::string> words = {simPath};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int rc = posix_spawn(&pid_, simPath.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    pid_ = -1;
    return Error::of(ErrorCode::kInternalError, "cannot start " + simPath);
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (out.find("\nready") == std::string::npos && out.rfind("ready", 0) != 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fds[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "server") {
      SimServer s;
      fields >> s.index >> s.url >> s.secret;
      servers_.push_back(s);
    } else if (kind == "control") {
      fields >> controlUrl_;
    }
  }
  if (servers_.empty() || controlUrl_.empty()) {
    stop();
    return Error::of(ErrorCode::kInternalError, simPath + " did not report its servers");
  }
  return Status::Ok();
}

void SimProcess::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

}  // namespace sb

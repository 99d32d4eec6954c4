#include "app/sim_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <sstream>
#include <thread>

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
  using Clock = std::chrono::steady_clock;
  int fds[2];
  if (pipe(fds) != 0) return Error::of(ErrorCode::kInternalError, "pipe() failed");
  std::vector<std::string> words = {simPath};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    return Error::of(ErrorCode::kInternalError, "fork() failed");
  }
  if (pid_ == 0) {
    // The simulator must not outlive us (a crashed test or benchmark would leave it running).
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execv(simPath.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  auto deadline = Clock::now() + wait;
  while (out.find("ready\n") == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[65536];
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
  if (out.find("ready\n") != std::string::npos && !controlUrl_.empty()) return Status::Ok();

  // It closed its output or timed out: say whether it exited, and how.
  int status = 0;
  pid_t reaped = 0;
  auto exitDeadline = Clock::now() + std::chrono::seconds(2);
  while ((reaped = waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < exitDeadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reaped == pid_) {
    pid_ = -1;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return Error::of(ErrorCode::kInternalError,
                     simPath + " exited with status " + std::to_string(code) +
                         " before printing ready" +
                         (code == 127 ? " (cannot execute it: is it built?)" : ""));
  }
  stop();
  return Error::of(ErrorCode::kInternalError,
                   simPath + " did not print ready within " + std::to_string(wait.count()) + " ms");
}

void SimProcess::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (waitpid(pid_, nullptr, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);  // it ignored SIGTERM
      waitpid(pid_, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace sb

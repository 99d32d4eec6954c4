#include "importer/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sb {
namespace fs = std::filesystem;

Error ioFailure(const std::string& what, int err) {
  return Error::of(ErrorCode::kInternalError, what + ": " + std::strerror(err));
}

Error ioFailure(const std::string& what, const std::error_code& ec) {
  return Error::of(ErrorCode::kInternalError, what + ": " + ec.message());
}

Result<std::string> readSmallFile(const std::string& path, uintmax_t maxBytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec == std::errc::no_such_file_or_directory) {
    return Error::of(ErrorCode::kNotFound, path + ": no such file");
  }
  if (ec) return ioFailure("cannot read " + path, ec);
  if (size > maxBytes) return Error::of(ErrorCode::kValidationError, path + " is too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return ioFailure("cannot open " + path, errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return ioFailure("cannot read " + path, errno);
  return text.str();
}

Status replaceFile(const std::string& path, const std::string& text, unsigned mode) {
  const std::string temporary = path + ".switchboard-tmp";
  ::unlink(temporary.c_str());  // a leftover keeps its own mode: O_CREAT applies `mode` only anew
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ioFailure("cannot write " + temporary, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      return ioFailure("cannot write " + temporary, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return ioFailure("cannot write " + temporary, err);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return ioFailure("cannot replace " + path, err);
  }
  return Status::Ok();
}

int64_t unixNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::chrono::milliseconds retryWait(std::chrono::milliseconds first, int failures,
                                    std::chrono::milliseconds longest) {
  const int doublings = std::clamp(failures - 1, 0, 20);
  return std::min(first * (int64_t{1} << doublings), longest);
}

}  // namespace sb

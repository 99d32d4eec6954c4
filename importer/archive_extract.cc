#include "importer/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "importer/file_io.h"

namespace sb {
namespace {

Error refused(const std::string& why) {
  return Error::of(ErrorCode::kValidationError, "archive: " + why);
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  // Closes now, reporting a failed close (NFS reports write errors there).
  int close() { return fd_ >= 0 ? ::close(std::exchange(fd_, -1)) : 0; }

 private:
  int fd_;
};

// The components of an entry's path, or a refusal. "./a//b/" is {a, b}.
Result<std::vector<std::string>> componentsOf(std::string_view path, size_t maxDepth) {
  if (path.empty()) return refused("an entry without a name");
  if (path.front() == '/') return refused("entry '" + std::string(path) + "' has an absolute path");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      return refused("entry '" + std::string(path) + "' leaves the archive's folder (..)");
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  for (const auto& p : parts) {
    for (char c : p) {
      if (static_cast<unsigned char>(c) < 0x20) return refused("an entry name with control bytes");
    }
  }
  if (parts.size() > maxDepth)
    return refused("entry '" + std::string(path) + "' is nested too deep");
  return parts;
}

// Opens (creating when missing) the folder `parts[0..count)` under `root`, never following a
// link. Folders made here get mode 0755.
Result<Fd> openFolder(int root, const std::vector<std::string>& parts, size_t count) {
  Fd current(::dup(root));
  if (current.get() < 0) return ioFailure("dup", errno);
  for (size_t i = 0; i < count; ++i) {
    if (::mkdirat(current.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return ioFailure("cannot make folder " + parts[i], errno);
    }
    int next =
        ::openat(current.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      if (errno == ENOTDIR || errno == ELOOP) {
        return refused("'" + parts[i] + "' is both a file and a folder");
      }
      return ioFailure("cannot open folder " + parts[i], errno);
    }
    current = Fd(next);
  }
  return current;
}

// Writes the data of the current entry to `fd` (holes of sparse entries stay holes).
Status writeData(archive* a, int fd, const std::string& name, uint64_t& written,
                 uint64_t maxBytes) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return refused("corrupt data in '" + name + "': " + archive_error_string(a));
    }
    if (size == 0) continue;
    written += size;
    if (written > maxBytes) return refused("unpacks to more than the allowed size");
    const char* p = static_cast<const char*>(block);
    size_t left = size;
    while (left > 0) {
      ssize_t n = ::pwrite(fd, p, left, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ioFailure("cannot write " + name, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      offset += n;
    }
  }
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

Result<ExtractedArchive> extractArchive(const std::string& archivePath, const std::string& into,
                                        const ExtractLimits& limits) {
  Fd root(::open(into.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return ioFailure("cannot open " + into, errno);
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (!a) return Error::of(ErrorCode::kInternalError, "archive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), archivePath.c_str(), 64 * 1024) != ARCHIVE_OK) {
    std::string why = archive_error_string(a.get()) ? archive_error_string(a.get()) : "unreadable";
    if (archive_errno(a.get()) == ENOENT) return ioFailure("cannot open the archive", ENOENT);
    return refused("not a tar archive (" + why + ")");
  }
  ExtractedArchive out;
  size_t entries = 0;
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return refused(std::string("corrupt (") + archive_error_string(a.get()) + ")");
    }
    if (++entries > limits.maxEntries) return refused("too many entries");
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    auto parts = componentsOf(name, limits.maxDepth);
    if (!parts) return parts.error();
    if (archive_entry_hardlink(entry) != nullptr) {
      return refused("entry '" + name + "' is a hard link");
    }
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      if (auto dir = openFolder(root.get(), *parts, parts->size()); !dir) return dir.error();
      continue;
    }
    if (type == AE_IFLNK) return refused("entry '" + name + "' is a symbolic link");
    if (type != AE_IFREG) return refused("entry '" + name + "' is not a file or a folder");
    if (parts->empty()) return refused("a file without a name");
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
        out.bytes + static_cast<uint64_t>(archive_entry_size(entry)) > limits.maxBytes) {
      return refused("unpacks to more than the allowed size");
    }
    auto parent = openFolder(root.get(), *parts, parts->size() - 1);
    if (!parent) return parent.error();
    Fd file(::openat(parent->get(), parts->back().c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (file.get() < 0) {
      if (errno == EEXIST) return refused("entry '" + name + "' appears twice");
      return ioFailure("cannot create " + name, errno);
    }
    if (auto s = writeData(a.get(), file.get(), name, out.bytes, limits.maxBytes); !s) {
      return s.error();
    }
    // A sparse entry ending in a hole: the file still gets its whole size.
    if (archive_entry_size_is_set(entry) &&
        ::ftruncate(file.get(), static_cast<off_t>(archive_entry_size(entry))) != 0) {
      return ioFailure("cannot write " + name, errno);
    }
    if (file.close() != 0) return ioFailure("cannot write " + name, errno);
    ++out.files;
  }
  return out;
}

}  // namespace sb

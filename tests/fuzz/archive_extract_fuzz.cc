// Recording archives as the importer unpacks them (importer/archive_extract.h): the input is the
// archive file (tar, or any of the compressions libarchive reads). Whatever it holds, unpacking
// answers a count or a refusal, writes nothing outside its staging folder, and leaves only
// regular files and folders there (no link, device or FIFO), within the size limit.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "importer/archive_extract.h"
#include "tests/fuzz/fuzz_check.h"

namespace fs = std::filesystem;

namespace {

const fs::path& base() {
  static const fs::path path = [] {
    fs::path p = fs::temp_directory_path() / ("sb-archive-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path archive = base() / "archive";
  const fs::path staging = base() / "staging";
  fs::remove_all(staging);
  fs::create_directories(staging);
  {
    std::ofstream out(archive, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  sb::ExtractLimits limits;
  limits.maxBytes = 1 << 20;
  limits.maxEntries = 2000;
  auto result = sb::extractArchive(archive.string(), staging.string(), limits);
  if (result) FUZZ_CHECK(result->bytes <= limits.maxBytes);
  // Nothing beside the archive and the staging folder; nothing but files and folders inside.
  for (const auto& entry : fs::directory_iterator(base())) {
    FUZZ_CHECK(entry.path() == archive || entry.path() == staging);
  }
  for (const auto& entry : fs::recursive_directory_iterator(staging)) {
    struct stat st {};
    FUZZ_CHECK(::lstat(entry.path().c_str(), &st) == 0);
    FUZZ_CHECK(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
  }
  return 0;
}

// The importer (importer/recording_importer.h) on real files: archives written with libarchive
// into a spool folder under a temporary root, imported into the recordings folder and a memory
// store. Hostile archives are refused with their reason and kept in failed/, nothing is written
// outside the recordings folders, and what was imported before is never touched.
#include "importer/recording_importer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/recordings/recording_library.h"
#include "db/memory_recording_store.h"
#include "importer/archive_extract.h"
#include "tests/unit/recording_archives.h"

namespace sb {
namespace {
namespace fs = std::filesystem;

const std::string kId = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124";
const std::string kId2 = "0123456789abcdef0123456789abcdef01234567-1530718800000";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A store whose writes fail while `down` (PostgreSQL gone during an import).
class FlakyRecordingStore : public RecordingStore {
 public:
  Status put(const Recording& r) override {
    if (down) return Error::of(ErrorCode::kStoreUnavailable, "store down");
    return inner.put(r);
  }
  Result<std::vector<Recording>> findExact(std::span<const std::string> ids,
                                           std::string_view tenant) override {
    return inner.findExact(ids, tenant);
  }
  Result<RecordingPage> query(const RecordingQuery& q) override { return inner.query(q); }
  MemoryRecordingStore inner;
  std::atomic<bool> down{false};
};

class RecordingImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("sb-import-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_);
    config_.root = (base_ / "recordings").string();
    config_.importPollInterval = std::chrono::milliseconds(100);
    makeImporter();
  }
  void TearDown() override { fs::remove_all(base_); }
  void makeImporter() {
    importer_.reset();
    folder_ = std::make_unique<RecordingFolder>(config_);
    ASSERT_TRUE(folder_->prepare().ok());
    importer_ = std::make_unique<RecordingImporter>(*folder_, store_);
  }
  std::string spool(const std::string& name) const { return config_.spool() + "/" + name; }
  std::optional<Recording> stored(const std::string& id) {
    std::vector<std::string> ids{id};
    auto found = store_.findExact(ids, "");
    EXPECT_TRUE(found.ok());
    if (!found.ok() || found->empty()) return std::nullopt;
    return found->front();
  }
  // Imports a well-formed archive of kId (presentation) as the earlier import every hostile
  // archive must leave alone.
  void importGoodRecording() {
    { TarWriter(spool("good.tar")).recording(kId, "m1"); }
    ASSERT_EQ(importer_->importSpool().imported, 1);
  }
  // The reason kept for failed archive `name` (asserting it is there).
  std::string failedReason(const std::string& name) {
    auto failed = importer_->failedImports();
    for (const auto& f : failed) {
      if (f.archive == name) return f.reason;
    }
    ADD_FAILURE() << name << " is not in failed/";
    return "";
  }
  // Nothing left in the work folder but the (empty) uploads folder.
  bool stagingEmpty() const {
    for (const auto& e : fs::directory_iterator(config_.work())) {
      if (e.path().filename() != "uploads" || !fs::is_empty(e.path())) return false;
    }
    return true;
  }
  // Every path under the temporary base outside the recordings root: must stay empty.
  std::vector<std::string> outsideRoot() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(base_)) {
      if (e.path().string().rfind(config_.root, 0) != 0) out.push_back(e.path().string());
    }
    return out;
  }

  fs::path base_;
  RecordingsConfig config_;
  FlakyRecordingStore store_;
  std::unique_ptr<RecordingFolder> folder_;
  std::unique_ptr<RecordingImporter> importer_;
};

TEST_F(RecordingImporterTest, ImportsEveryFormatIntoThePublishedFolderAndTheStore) {
  {
    TarWriter tar(spool(kId + ".tar"));
    tar.recording(kId, "m1", "presentation").recording(kId, "m1", "video");
  }
  std::vector<std::string> told;
  importer_->onImported([&](const Recording& r) { told.push_back(r.recordId); });
  SpoolPass pass = importer_->importSpool();
  EXPECT_EQ(pass.imported, 1);
  EXPECT_EQ(pass.failed, 0);
  EXPECT_FALSE(fs::exists(spool(kId + ".tar"))) << "removed once imported";
  EXPECT_EQ(told, std::vector<std::string>{kId});
  for (std::string format : {"presentation", "video"}) {
    fs::path dir = fs::path(config_.published()) / format / kId;
    EXPECT_TRUE(fs::exists(dir / "metadata.xml")) << dir;
    EXPECT_EQ(slurp(dir / "video/webcams.webm"), "media of " + kId);
  }
  auto r = stored(kId);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->meetingId, "m1");
  EXPECT_EQ(r->state, RecordingState::kPublished);
  EXPECT_EQ(r->formats.size(), 2u);
  EXPECT_EQ(r->participants, 4);
  EXPECT_TRUE(stagingEmpty()) << "staging is cleaned up";
}

TEST_F(RecordingImporterTest, AReimportUpdatesTheRecordingAndAddsFormatsNeverDuplicates) {
  { TarWriter(spool("a.tar")).recording(kId, "m1", "presentation"); }
  ASSERT_EQ(importer_->importSpool().imported, 1);
  {
    TarWriter(spool("b.tar")).recording(kId, "m1", "presentation").recording(kId, "m1", "podcast");
  }
  ASSERT_EQ(importer_->importSpool().imported, 1);
  { TarWriter(spool("c.tar")).recording(kId, "m1", "video"); }
  ASSERT_EQ(importer_->importSpool().imported, 1);
  RecordingQuery any;
  auto page = store_.query(any);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1u);
  std::vector<std::string> types;
  for (const auto& f : page->recordings[0].formats) types.push_back(f.type);
  std::sort(types.begin(), types.end());
  EXPECT_EQ(types, (std::vector<std::string>{"podcast", "presentation", "video"}));
  EXPECT_TRUE(fs::exists(fs::path(config_.published()) / "podcast" / kId / "metadata.xml"));
}

TEST_F(RecordingImporterTest, AnUnpublishedRecordingStaysUnpublishedAndUnservedAfterAReimport) {
  importGoodRecording();
  RecordingLibrary library(store_, folder_.get());
  ASSERT_TRUE(
      library.publish(QueryString::parse("recordID=" + kId + "&publish=false").value()).ok());
  EXPECT_FALSE(fs::exists(fs::path(config_.published()) / "presentation" / kId));
  EXPECT_TRUE(fs::exists(fs::path(config_.unpublished()) / "presentation" / kId / "metadata.xml"));
  { TarWriter(spool("again.tar")).recording(kId, "m1"); }
  ASSERT_EQ(importer_->importSpool().imported, 1);
  EXPECT_EQ(stored(kId)->state, RecordingState::kUnpublished);
  EXPECT_FALSE(fs::exists(fs::path(config_.published()) / "presentation" / kId))
      << "a re-import must not publish what a frontend unpublished";
  EXPECT_TRUE(fs::exists(fs::path(config_.unpublished()) / "presentation" / kId / "metadata.xml"));
}

TEST_F(RecordingImporterTest, ImportUnpublishedKeepsNewRecordingsOutOfThePublishedFolder) {
  config_.importUnpublished = true;
  makeImporter();
  importGoodRecording();
  EXPECT_EQ(stored(kId)->state, RecordingState::kUnpublished);
  EXPECT_TRUE(fs::exists(fs::path(config_.unpublished()) / "presentation" / kId));
}

TEST_F(RecordingImporterTest, CompressedArchivesAreImported) {
  { TarWriter(spool("a.tar.gz"), "gzip").recording(kId, "m1"); }
  { TarWriter(spool("b.tar.xz"), "xz").recording(kId2, "m2"); }
  { TarWriter(spool("c.tar.zst"), "zstd").recording(kId, "m1", "video"); }
  EXPECT_EQ(importer_->importSpool().imported, 3);
  EXPECT_EQ(stored(kId)->formats.size(), 2u);
  EXPECT_TRUE(stored(kId2));
}

TEST_F(RecordingImporterTest, TransfersInProgressAndOtherFilesAreLeftAlone) {
  { TarWriter(spool(".good.tar.XyZ12")).recording(kId, "m1"); }  // rsync's temporary name
  std::ofstream(spool("notes.txt")) << "not an archive";
  EXPECT_EQ(importer_->importSpool().imported, 0);
  EXPECT_TRUE(fs::exists(spool(".good.tar.XyZ12")));
  EXPECT_TRUE(fs::exists(spool("notes.txt")));
  EXPECT_TRUE(importer_->failedImports().empty());
}

struct Hostile {
  const char* name;
  std::function<void(TarWriter&)> write;
  const char* reason;  // part of the reason kept in failed/
};

class HostileArchiveTest : public RecordingImporterTest,
                           public ::testing::WithParamInterface<Hostile> {};

TEST_P(HostileArchiveTest, IsRefusedWithItsReasonAndTouchesNothingElse) {
  importGoodRecording();
  const std::string before =
      slurp(fs::path(config_.published()) / "presentation" / kId / "metadata.xml");
  const std::string name = std::string(GetParam().name) + ".tar";
  {
    TarWriter tar(spool(name));
    GetParam().write(tar);
  }
  SpoolPass pass = importer_->importSpool();
  EXPECT_EQ(pass.imported, 0);
  EXPECT_EQ(pass.failed, 1);
  EXPECT_FALSE(fs::exists(spool(name)));
  EXPECT_TRUE(fs::exists(folder_->failedFolder() + "/" + name)) << "kept, not deleted";
  EXPECT_NE(failedReason(name).find(GetParam().reason), std::string::npos) << failedReason(name);
  EXPECT_EQ(outsideRoot(), std::vector<std::string>{}) << "nothing written outside";
  EXPECT_EQ(slurp(fs::path(config_.published()) / "presentation" / kId / "metadata.xml"), before)
      << "the earlier import is untouched";
  EXPECT_EQ(stored(kId)->formats.size(), 1u);
  EXPECT_TRUE(stagingEmpty()) << "staging is cleaned up";
}

INSTANTIATE_TEST_SUITE_P(
    Importer, HostileArchiveTest,
    ::testing::Values(
        Hostile{"dotdot",
                [](TarWriter& t) {
                  t.recording(kId2, "m2").file("presentation/" + kId2 + "/../../../../escape", "x");
                },
                "leaves the archive's folder"},
        Hostile{"absolute", [](TarWriter& t) { t.file("/tmp/sb-import-absolute", "x"); },
                "absolute path"},
        Hostile{"symlink",
                [](TarWriter& t) {
                  t.recording(kId2, "m2").symlink("presentation/" + kId2 + "/link", "/etc");
                },
                "symbolic link"},
        Hostile{"symlink-then-write",
                [](TarWriter& t) {
                  t.symlink("presentation", "../../..").file("presentation/escape", "x");
                },
                "symbolic link"},
        Hostile{"hardlink",
                [](TarWriter& t) {
                  t.recording(kId2, "m2").hardlink("presentation/" + kId2 + "/h", "/etc/passwd");
                },
                "hard link"},
        Hostile{"device",
                [](TarWriter& t) { t.recording(kId2, "m2").device("presentation/" + kId2 + "/d"); },
                "not a file or a folder"},
        Hostile{"fifo",
                [](TarWriter& t) { t.recording(kId2, "m2").fifo("presentation/" + kId2 + "/f"); },
                "not a file or a folder"},
        Hostile{"no-metadata",
                [](TarWriter& t) { t.file("presentation/" + kId2 + "/slides.pdf", "%PDF"); },
                "has no metadata.xml"},
        Hostile{
            "bad-metadata",
            [](TarWriter& t) { t.file("presentation/" + kId2 + "/metadata.xml", "<recording"); },
            "not XML"},
        Hostile{"other-record-id",
                [](TarWriter& t) {
                  t.file("presentation/" + kId2 + "/metadata.xml", sampleMetadataXml(kId, "m1"));
                },
                "found in the folder of"},
        Hostile{"other-format",
                [](TarWriter& t) {
                  t.file("video/" + kId2 + "/metadata.xml",
                         sampleMetadataXml(kId2, "m2", "presentation"));
                },
                "describes format"},
        Hostile{"top-level-file", [](TarWriter& t) { t.file("metadata.xml", "x"); },
                "not a playback format's folder"},
        Hostile{"empty", [](TarWriter&) {}, "holds no recording"},
        Hostile{"twice",
                [](TarWriter& t) {
                  t.recording(kId2, "m2").file("presentation/" + kId2 + "/metadata.xml", "x");
                },
                "appears twice"},
        Hostile{"same-id-as-earlier-but-broken",
                [](TarWriter& t) { t.file("presentation/" + kId + "/metadata.xml", "<oops/>"); },
                "no <recording> element"}),
    [](const ::testing::TestParamInfo<Hostile>& info) {
      std::string n = info.param.name;
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

TEST_F(RecordingImporterTest, BytesThatAreNoArchiveAndCutArchivesAreRefused) {
  importGoodRecording();
  std::ofstream(spool("garbage.tar")) << std::string(5000, '\x7f');
  { TarWriter(spool("whole.tar")).recording(kId2, "m2").bigFile("video/" + kId2 + "/big", 200000); }
  fs::resize_file(spool("whole.tar"), 100000);
  fs::rename(spool("whole.tar"), spool("cut.tar"));
  SpoolPass pass = importer_->importSpool();
  EXPECT_EQ(pass.failed, 2);
  EXPECT_NE(failedReason("garbage.tar").find("archive"), std::string::npos);
  EXPECT_NE(failedReason("cut.tar").find("archive"), std::string::npos) << failedReason("cut.tar");
  EXPECT_FALSE(stored(kId2));
  EXPECT_TRUE(stagingEmpty());
}

TEST_F(RecordingImporterTest, AnArchiveUnpackingPastTheLimitIsRefusedBeforeItFillsTheDisk) {
  config_.importMaxBytes = 1 << 20;
  makeImporter();
  {
    TarWriter(spool("bomb.tar.gz"), "gzip")
        .recording(kId, "m1")
        .bigFile("video/" + kId + "/x", 8 << 20);
  }
  EXPECT_LT(fs::file_size(spool("bomb.tar.gz")), 200000u) << "compresses well";
  EXPECT_EQ(importer_->importSpool().failed, 1);
  EXPECT_NE(failedReason("bomb.tar.gz").find("more than the allowed size"), std::string::npos);
  EXPECT_TRUE(stagingEmpty());
}

TEST_F(RecordingImporterTest, AFailedImportIsRetriedWithBackoffAndSucceedsOnceTheStoreIsBack) {
  store_.down = true;
  { TarWriter(spool(kId + ".tar")).recording(kId, "m1"); }
  EXPECT_EQ(importer_->importSpool().failed, 1);
  auto failed = importer_->failedImports();
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].attempts, 1);
  EXPECT_NE(failed[0].reason.find("store down"), std::string::npos);
  EXPECT_GT(failed[0].size, 0u);
  // Due after the poll interval (100 ms), then twice as long.
  EXPECT_NEAR(static_cast<double>(failed[0].nextAttemptMs - failed[0].lastFailedMs), 100, 1);
  EXPECT_EQ(importer_->importSpool().failed, 0) << "not due yet";
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(importer_->importSpool().failed, 1);
  failed = importer_->failedImports();
  EXPECT_EQ(failed[0].attempts, 2);
  EXPECT_NEAR(static_cast<double>(failed[0].nextAttemptMs - failed[0].lastFailedMs), 200, 1);
  store_.down = false;
  ASSERT_TRUE(importer_->retryNow(kId + ".tar").ok());
  EXPECT_EQ(importer_->importSpool().imported, 1);
  EXPECT_TRUE(importer_->failedImports().empty());
  EXPECT_TRUE(fs::is_empty(folder_->failedFolder())) << "the archive and its reason are gone";
  EXPECT_TRUE(stored(kId));
  EXPECT_EQ(importer_->retryNow("nothing.tar").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(importer_->retryNow("../x.tar").error().code, ErrorCode::kNotFound);
}

TEST_F(RecordingImporterTest, TwoImportersSharingASpoolImportEachArchiveOnce) {
  constexpr int kArchives = 40;
  for (int i = 0; i < kArchives; ++i) {
    std::string id = std::string(40, 'a' + (i % 6)) + "-" + std::to_string(1000 + i);
    TarWriter(spool(id + ".tar")).recording(id, "m" + std::to_string(i));
  }
  RecordingFolder otherFolder(config_);
  RecordingImporter other(otherFolder, store_);
  std::atomic<int> imports{0};
  importer_->onImported([&](const Recording&) { ++imports; });
  other.onImported([&](const Recording&) { ++imports; });
  SpoolPass a, b;
  std::thread t([&] { b = other.importSpool(); });
  a = importer_->importSpool();
  t.join();
  EXPECT_EQ(a.failed + b.failed, 0);
  EXPECT_EQ(imports.load(), kArchives) << "each archive imported exactly once";
  RecordingQuery any;
  EXPECT_EQ(store_.query(any)->total, static_cast<size_t>(kArchives));
}

TEST_F(RecordingImporterTest, TheLoopImportsWhatArrivesInTheSpool) {
  importer_->start();
  { TarWriter(spool(kId + ".tar")).recording(kId, "m1"); }
  for (int i = 0; i < 100 && !stored(kId); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  importer_->stop();
  EXPECT_TRUE(stored(kId));
}

TEST_F(RecordingImporterTest, TheFolderRebuildsTheIndexWithStatesAndUpdatedMetadata) {
  { TarWriter(spool("a.tar")).recording(kId, "m1").recording(kId, "m1", "video"); }
  { TarWriter(spool("b.tar")).recording(kId2, "m2"); }
  ASSERT_EQ(importer_->importSpool().imported, 2);
  RecordingLibrary library(store_, folder_.get());
  ASSERT_TRUE(
      library.publish(QueryString::parse("recordID=" + kId2 + "&publish=false").value()).ok());
  ASSERT_TRUE(
      library
          .update(QueryString::parse("recordID=" + kId + "&meta_course=Physics&meta_gl-listed=")
                      .value())
          .ok());
  std::vector<std::string> problems;
  auto scanned = folder_->scan(problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(scanned.size(), 2u);
  const Recording& a = scanned[0].recordId == kId ? scanned[0] : scanned[1];
  const Recording& b = scanned[0].recordId == kId ? scanned[1] : scanned[0];
  EXPECT_EQ(a.formats.size(), 2u);
  EXPECT_EQ(a.state, RecordingState::kPublished);
  EXPECT_EQ(a.meta("course"), "Physics");
  EXPECT_FALSE(a.meta("gl-listed")) << "an empty meta_ value deletes the key, in the files too";
  EXPECT_EQ(b.state, RecordingState::kUnpublished);
  ASSERT_TRUE(library.remove(QueryString::parse("recordID=" + kId2).value()).ok());
  EXPECT_TRUE(fs::exists(fs::path(config_.deleted()) / "presentation" / kId2 / "metadata.xml"));
  EXPECT_FALSE(fs::exists(fs::path(config_.unpublished()) / "presentation" / kId2));
}

TEST(ArchiveExtractTest, AMissingArchiveIsAnIoFailureNotARefusal) {
  auto dir = fs::temp_directory_path() / ("sb-extract-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto r = extractArchive("/nonexistent/archive.tar", dir.string(), ExtractLimits{});
  fs::remove_all(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
}

}  // namespace
}  // namespace sb

// The callback queue contract (tests/unit/callback_queue_contract.h) on the spool folder queue
// (importer/callback_folder.h), and what only the folder does.
#include "importer/callback_folder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/callback_queue_contract.h"

namespace sb {
namespace {

namespace fs = std::filesystem;

// A temporary spool folder; its queues keep callbacks in <folder>/callbacks.
class CallbackFolder {
 public:
  CallbackFolder() {
    std::string p = (fs::temp_directory_path() / "sb-callbacks-XXXXXX").string();
    if (::mkdtemp(p.data()) == nullptr) throw std::runtime_error("mkdtemp");
    root_ = p;
  }
  ~CallbackFolder() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::unique_ptr<CallbackQueue> make() { return std::make_unique<FolderCallbackQueue>(folder()); }
  std::string folder() const { return root_ + "/callbacks"; }

 private:
  std::string root_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Folder, CallbackQueueContract, CallbackFolder);

namespace {

// A callback file of the version before the queue (no "id": the file's name is its ID) is
// listed, claimed and settled like any other.
TEST(CallbackFolderTest, FilesOfTheEarlierVersionAreKeptAndDelivered) {
  CallbackFolder storage;
  fs::create_directories(storage.folder());
  std::ofstream(storage.folder() + "/rec-old.json")
      << R"({"kind":"recording-ready","record_id":"rec-old","meeting_id":"m","url":"http://f/x",)"
      << R"("secret_id":"","attempts":2,"next_attempt_ms":0,"last_error":"HTTP 500"})";
  FolderCallbackQueue queue(storage.folder());
  auto c = queue.claimDue(1, 2);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->id, "rec-old");
  EXPECT_EQ((*c)->attempts, 2);
  ASSERT_TRUE(queue.settle(**c).ok());
  EXPECT_FALSE(fs::exists(storage.folder() + "/rec-old.json"));
}

TEST(CallbackFolderTest, AnIdThatIsNotAFileNameIsRefused) {
  CallbackFolder storage;
  FolderCallbackQueue queue(storage.folder());
  PendingCallback c;
  c.id = "../escape";
  c.recordId = "r";
  c.url = "http://f/x";
  EXPECT_FALSE(queue.add(c).ok());
  EXPECT_FALSE(fs::exists(storage.folder() + "/../escape.json"));
}

// What moves to a shared queue leaves the folder, given-up ones staying given up.
TEST(CallbackFolderTest, MoveToHandsEveryCallbackOver) {
  CallbackFolder from, to;
  FolderCallbackQueue source(from.folder()), target(to.folder());
  PendingCallback waiting;
  waiting.id = readyCallbackId("r1");
  waiting.recordId = "r1";
  waiting.url = "http://f/x";
  PendingCallback given = waiting;
  given.id = readyCallbackId("r2");
  given.recordId = "r2";
  given.failed = true;
  given.attempts = 20;
  ASSERT_TRUE(source.add(waiting).ok());
  ASSERT_TRUE(source.add(given).ok());
  auto moved = source.moveTo(target);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 2);
  EXPECT_TRUE(source.list()->empty());
  auto all = target.list();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_FALSE((*all)[0].failed);
  EXPECT_TRUE((*all)[1].failed);
  EXPECT_EQ((*all)[1].attempts, 20);
}

}  // namespace
}  // namespace sb

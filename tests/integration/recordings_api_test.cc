// The BBB recordings API over real HTTP (issue 19): answered by Switchboard from its recording
// store, checksums verified first, BBB's XML and error keys.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <pugixml.hpp>
#include <tuple>

#include "tests/integration/harness.h"
#include "tests/unit/recording_samples.h"

namespace sbtest {
namespace {

using sb::Recording;
using sb::RecordingState;

class RecordingsApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(const std::function<void(sb::Config&)>& tweak) {
    router_ = std::make_unique<Router>(tweak);
    Recording a = sb::sampleRecording("aaa-1", "m1", 1000);
    a.internalMeetingId = "internal-m1";
    a.metadata.emplace_back("x[]", "not an element name");
    put(a);
    put(sb::sampleRecording("aaa-2", "m1", 2000, RecordingState::kUnpublished));
    put(sb::sampleRecording("bbb-1", "m2", 3000, RecordingState::kDeleted));
  }
  void put(const Recording& r) {
    ASSERT_TRUE(router_->service().stores().recordings().put(r).ok());
  }
  // The answer parsed (strictly: every answer must be XML a frontend's parser reads).
  pugi::xml_document call(const std::string& name, const std::string& query) {
    auto r = router_->call(name, query);
    EXPECT_EQ(r.status, 200) << r.body;
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(r.body.c_str())) << r.body;
    return doc;
  }
  static std::vector<std::string> recordIds(const pugi::xml_document& doc) {
    std::vector<std::string> ids;
    for (auto r : doc.child("response").child("recordings").children("recording")) {
      ids.push_back(r.child_value("recordID"));
    }
    return ids;
  }
  static std::string key(const pugi::xml_document& doc) {
    return doc.child("response").child_value("messageKey");
  }

  std::unique_ptr<Router> router_;
};

TEST_F(RecordingsApiTest, GetRecordingsAnswersAsBbbWritesIt) {
  auto doc = call("getRecordings", "meetingID=m1");
  auto response = doc.child("response");
  EXPECT_STREQ(response.child_value("returncode"), "SUCCESS");
  EXPECT_EQ(recordIds(doc), (std::vector<std::string>{"aaa-2", "aaa-1"}));
  auto r = response.child("recordings").last_child();
  EXPECT_STREQ(r.child_value("meetingID"), "m1");
  EXPECT_STREQ(r.child_value("internalMeetingID"), "internal-m1");
  EXPECT_STREQ(r.child_value("published"), "true");
  EXPECT_STREQ(r.child_value("state"), "published");
  EXPECT_STREQ(r.child_value("startTime"), "1000");
  EXPECT_STREQ(r.child_value("participants"), "3");
  EXPECT_STREQ(r.child("metadata").child_value("gl-listed"), "true");
  EXPECT_EQ(std::distance(r.child("metadata").begin(), r.child("metadata").end()), 2)
      << "a key that is no element name is left out";
  auto format = r.child("playback").child("format");
  EXPECT_STREQ(format.child_value("type"), "presentation");
  // On the host the frontend called (Scalelite's rule without URL_HOST), never the recording
  // server's.
  EXPECT_EQ(format.child_value("url"), router_->base() + "/playback/presentation/2.3/aaa-1");
  EXPECT_STREQ(format.child("preview").child("images").child("image").attribute("width").value(),
               "176");
}

// Moodle looks recordings up by the internal meeting ID and sends duplicates and state=any.
TEST_F(RecordingsApiTest, MoodlesLookupsWork) {
  EXPECT_EQ(recordIds(call("getRecordings", "meetingID=internal-m1")),
            std::vector<std::string>{"aaa-1"});
  EXPECT_EQ(recordIds(call("getRecordings", "recordID=aaa-1,bbb-1,bbb-1,aaa-1&state=any")),
            (std::vector<std::string>{"bbb-1", "aaa-1"}));
}

TEST_F(RecordingsApiTest, EmptyListsAndPagesAnswerAsBbb) {
  auto none = call("getRecordings", "meetingID=nobody");
  EXPECT_STREQ(none.child("response").child_value("returncode"), "SUCCESS");
  EXPECT_EQ(key(none), "noRecordings");
  auto page = call("getRecordings", "state=any&offset=1&limit=1");
  EXPECT_EQ(recordIds(page), std::vector<std::string>{"aaa-2"});
  EXPECT_STREQ(page.child("response").child_value("totalElements"), "3");
}

TEST_F(RecordingsApiTest, ChecksumsAreVerifiedFirst) {
  auto r = httpGet(router_->base() + "/bigbluebutton/api/getRecordings?meetingID=m1&checksum=0");
  EXPECT_EQ(xmlField(r.body, "messageKey"), "checksumError");
  r = httpGet(router_->base() + "/bigbluebutton/api/deleteRecordings?recordID=aaa-1&checksum=0");
  EXPECT_EQ(xmlField(r.body, "messageKey"), "checksumError");
  EXPECT_EQ(recordIds(call("getRecordings", "recordID=aaa-1")), std::vector<std::string>{"aaa-1"});
}

TEST_F(RecordingsApiTest, PublishUpdateAndDeleteChangeWhatIsListed) {
  auto published = call("publishRecordings", "recordID=aaa-2&publish=true");
  EXPECT_STREQ(published.child("response").child_value("published"), "true");
  EXPECT_EQ(recordIds(call("getRecordings", "state=published")),
            (std::vector<std::string>{"aaa-2", "aaa-1"}));

  auto updated = call("updateRecordings", "recordID=aaa-1&meta_course=math");
  EXPECT_STREQ(updated.child("response").child_value("updated"), "true");
  EXPECT_EQ(recordIds(call("getRecordings", "meta_course=math")),
            std::vector<std::string>{"aaa-1"});

  auto deleted = call("deleteRecordings", "recordID=aaa-1");
  EXPECT_STREQ(deleted.child("response").child_value("deleted"), "true");
  EXPECT_EQ(recordIds(call("getRecordings", "")), std::vector<std::string>{"aaa-2"});
  EXPECT_EQ(recordIds(call("getRecordings", "state=deleted")),
            (std::vector<std::string>{"bbb-1", "aaa-1"}));
}

TEST_F(RecordingsApiTest, UnknownIdsAndMissingParametersAnswerBbbsKeys) {
  EXPECT_EQ(key(call("publishRecordings", "recordID=nope&publish=true")), "notFound");
  EXPECT_EQ(key(call("publishRecordings", "recordID=aaa-1")), "missingParamPublish");
  EXPECT_EQ(key(call("deleteRecordings", "")), "missingParamRecordID");
  EXPECT_EQ(key(call("updateRecordings", "recordID=nope&meta_x=1")), "notFound");
  // BBB's methods: getRecordings, publishRecordings and deleteRecordings are GET only.
  auto post = httpPost(router_->apiUrl("getRecordings", "meetingID=m1"), "", "");
  EXPECT_EQ(xmlField(post.body, "messageKey"), "unsupportedRequest");
}

TEST_F(RecordingsApiTest, SettingsOfScalelite) {
  start([](sb::Config& c) {
    c.api.urlHost = "recordings.example.org";
    c.api.recordingsApiFiltered = true;
  });
  EXPECT_EQ(key(call("getRecordings", "")), "missingParameters");
  auto doc = call("getRecordings", "recordID=aaa-1");
  auto format = doc.child("response")
                    .child("recordings")
                    .child("recording")
                    .child("playback")
                    .child("format");
  EXPECT_STREQ(format.child_value("url"),
               "https://recordings.example.org/playback/presentation/2.3/aaa-1");
  EXPECT_STREQ(format.child("preview").child("images").child_value("image"),
               "https://recordings.example.org/presentation/aaa-1/thumb-1.png");

  start([](sb::Config& c) { c.api.recordingDisabled = true; });
  // Scalelite's RECORDING_DISABLED: noRecordings without a checksum; the rest notFound.
  auto r = httpGet(router_->base() + "/bigbluebutton/api/getRecordings?meetingID=m1");
  EXPECT_EQ(xmlField(r.body, "messageKey"), "noRecordings");
  EXPECT_EQ(key(call("publishRecordings", "recordID=aaa-1&publish=false")), "notFound");
}

// Operators: the admin API and the CLI over the same recordings.
TEST_F(RecordingsApiTest, OperatorsListShowPublishAndDelete) {
  auto list = router_->admin("GET", "/recordings?state=any");
  ASSERT_EQ(list.status, 200) << list.body;
  auto listed = nlohmann::json::parse(list.body);
  EXPECT_EQ(listed["total"], 3);
  EXPECT_EQ(listed["recordings"][0]["id"], "bbb-1");
  EXPECT_EQ(listed["recordings"][2]["metadata"]["gl-listed"], "true");

  auto shown = router_->admin("GET", "/recordings/aaa-2");
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(nlohmann::json::parse(shown.body)["state"], "unpublished");
  EXPECT_EQ(router_->admin("GET", "/recordings/aaa").status, 404);  // IDs are whole here

  auto published = router_->admin("POST", "/recordings/aaa-2/publish");
  ASSERT_EQ(published.status, 200) << published.body;
  EXPECT_EQ(nlohmann::json::parse(router_->admin("GET", "/recordings/aaa-2").body)["state"],
            "published");
  EXPECT_EQ(router_->admin("POST", "/recordings/nope/unpublish").status, 404);
  EXPECT_EQ(router_->admin("DELETE", "/recordings/aaa-2").status, 200);
  EXPECT_EQ(recordIds(call("getRecordings", "")), std::vector<std::string>{"aaa-1"});
  // Without the token, nothing.
  EXPECT_EQ(httpGet(router_->base() + "/switchboard/api/v1/recordings").status, 401);

  const std::string env =
      "SWITCHBOARD_URL=" + router_->base() + " SWITCHBOARD_ADMIN_TOKEN=" + Router::kToken + " ";
  auto run = [&](const std::string& args) {
    CommandResult r = runCommand(env + SB_BIN_DIR "/switchboard " + args);
    return std::make_pair(r.exitCode, r.out);
  };
  auto [code, out] = run("recordings list --state any");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("RECORD ID"), std::string::npos) << out;
  EXPECT_NE(out.find("aaa-2"), std::string::npos) << out;
  EXPECT_NE(out.find("deleted"), std::string::npos) << out;
  std::tie(code, out) = run("recordings unpublish aaa-1");
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = run("recordings show aaa-1");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"unpublished\""), std::string::npos) << out;
  std::tie(code, out) = run("recordings delete nope");
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("We could not find recordings"), std::string::npos) << out;
}

}  // namespace
}  // namespace sbtest

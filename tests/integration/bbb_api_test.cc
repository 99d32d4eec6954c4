// The BBB API through a real Switchboard HTTP front against bbb-sim servers over real sockets.
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "core/query_string.h"
#include "harness.h"

namespace sbtest {
namespace {

using sb::ChecksumAlgorithm;

class BbbApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sim_ = new Sim(3); }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }
  void SetUp() override {
    sim_->reset();
    router_ = std::make_unique<Router>();
    ids_ = router_->addServers(*sim_);
  }

  // Index (1-based) of the sim server that holds `meetingId`, 0 when none.
  int serverOf(const std::string& meetingId) {
    for (const auto& s : sim_->servers()) {
      if (meetingOn(s.index, meetingId).is_object()) return s.index;
    }
    return 0;
  }
  // The sim's record of a meeting on server `index` (null when absent).
  static nlohmann::json meetingOn(int index, const std::string& meetingId) {
    nlohmann::json server = sim_->server(index);
    for (const auto& m : server["meetings_detail"]) {
      if (m["meeting_id"] == meetingId) return m;
    }
    return nullptr;
  }
  HttpResult create(const std::string& id, const std::string& extra = "") {
    return router_->call("create", "name=Room+" + id + "&meetingID=" + id + extra);
  }

  static Sim* sim_;
  std::unique_ptr<Router> router_;
  std::vector<std::string> ids_;
};
Sim* BbbApiTest::sim_ = nullptr;

TEST_F(BbbApiTest, ApiRootAnswersVersionWithoutChecksum) {
  for (const char* path : {"/bigbluebutton/api", "/bigbluebutton/api/"}) {
    auto r = httpGet(router_->base() + path);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS");
    EXPECT_EQ(xmlField(r.body, "version"), "2.0");
    EXPECT_EQ(xmlField(r.body, "apiVersion"), "2.0");
  }
  auto post = httpPost(router_->base() + "/bigbluebutton/api", "", "");
  EXPECT_EQ(xmlField(post.body, "version"), "2.0");
}

TEST_F(BbbApiTest, HeadIsAnsweredAsGetWithoutABody) {
  ASSERT_EQ(xmlField(create("head-1").body, "returncode"), "SUCCESS");
  auto join = httpRequest(
      "HEAD", router_->apiUrl("join", "fullName=A&meetingID=head-1&password=mp"), "", "");
  EXPECT_EQ(join.status, 302);
  EXPECT_NE(join.location.find("/bigbluebutton/api/join?"), std::string::npos) << join.location;
  EXPECT_TRUE(join.body.empty());
  auto running =
      httpRequest("HEAD", router_->apiUrl("isMeetingRunning", "meetingID=head-1"), "", "");
  EXPECT_EQ(running.status, 200);
  EXPECT_EQ(running.contentType.rfind("text/xml", 0), 0u) << running.contentType;
  EXPECT_TRUE(running.body.empty());
  // A HEAD with a bad checksum is refused as the GET is (no body either way).
  auto bad =
      httpRequest("HEAD", router_->base() + "/bigbluebutton/api/getMeetings?checksum=0", "", "");
  EXPECT_EQ(bad.status, 200);
}

TEST_F(BbbApiTest, RepeatedSlashesInThePathAreCollapsed) {
  // A frontend whose base URL ends in '/' (Scalelite answers these).
  ASSERT_EQ(xmlField(create("slash-1").body, "returncode"), "SUCCESS");
  std::string url = router_->apiUrl("getMeetings", "");
  url.replace(url.find("/api/getMeetings"), 16, "/api//getMeetings");
  auto r = httpGet(url);
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  EXPECT_NE(r.body.find("<meetingID>slash-1</meetingID>"), std::string::npos);
  std::string join = router_->apiUrl("join", "fullName=A&meetingID=slash-1&password=mp");
  join.replace(join.find("/bigbluebutton/api/"), 19, "//bigbluebutton//api///");
  EXPECT_EQ(httpGet(join).status, 302);
}

TEST_F(BbbApiTest, CreatePlacesMeetingsOnLeastLoadedServersAndIsIdempotent) {
  std::set<int> used;
  for (int i = 0; i < 3; ++i) {
    auto r = create("spread-" + std::to_string(i));
    ASSERT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
    used.insert(serverOf("spread-" + std::to_string(i)));
  }
  // Each create reserves load at once, so three creates land on three servers.
  EXPECT_EQ(used.size(), 3u);
  int first = serverOf("spread-0");
  auto again = create("spread-0");
  EXPECT_EQ(xmlField(again.body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(again.body, "messageKey"), "duplicateWarning");
  EXPECT_EQ(serverOf("spread-0"), first);
  EXPECT_EQ(sim_->requests(first, "create"), 2);
}

TEST_F(BbbApiTest, CreateAvoidsTheBusiestServerAfterAPoll) {
  ASSERT_EQ(xmlField(create("busy").body, "returncode"), "SUCCESS");
  int busy = serverOf("busy");
  sim_->addParticipants(busy, "busy", 40);
  router_->service().poller().pollOnce();
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(xmlField(create("other-" + std::to_string(i)).body, "returncode"), "SUCCESS");
    EXPECT_NE(serverOf("other-" + std::to_string(i)), busy);
  }
}

TEST_F(BbbApiTest, CreateByPostFormAndWithXmlSlidesBody) {
  std::string form = "name=Form+Room&meetingID=form-1";
  auto r = httpPost(router_->apiUrl("create", ""), form + "", "application/x-www-form-urlencoded");
  // The checksum over the empty query string, carried in the URL.
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  EXPECT_NE(serverOf("form-1"), 0);

  std::string slides =
      "<modules><module name=\"presentation\"><document url=\"https://example.com/a.pdf\"/>"
      "</module></modules>";
  auto x =
      httpPost(router_->apiUrl("create", "name=Slides&meetingID=slides-1"), slides, "text/xml");
  EXPECT_EQ(xmlField(x.body, "returncode"), "SUCCESS") << x.body;
  int where = serverOf("slides-1");
  ASSERT_NE(where, 0);
  EXPECT_EQ(meetingOn(where, "slides-1")["create_body"], slides);
}

TEST_F(BbbApiTest, CreateWithChecksumInFormBody) {
  std::string cs = sb::computeChecksum(ChecksumAlgorithm::kSha256, "create", "", Router::kSecret);
  auto r =
      httpPost(router_->base() + "/bigbluebutton/api/create",
               "name=Body&meetingID=body-cs&checksum=" + cs, "application/x-www-form-urlencoded");
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
}

TEST_F(BbbApiTest, JoinRedirectsToTheMeetingsServerSignedWithItsSecret) {
  ASSERT_EQ(xmlField(create("join-1", "&moderatorPW=mp&attendeePW=ap").body, "returncode"),
            "SUCCESS");
  int where = serverOf("join-1");
  auto r = router_->call("join", "fullName=Ada+L&meetingID=join-1&password=mp");
  ASSERT_EQ(r.status, 302) << r.body;
  const auto& server = sim_->servers()[where - 1];
  ASSERT_EQ(r.location.rfind(server.url + "join?", 0), 0u) << r.location;
  // Following the redirect reaches the sim, which verifies the checksum with its own secret.
  auto follow = httpGet(r.location);
  EXPECT_EQ(follow.status, 302) << follow.body;
  EXPECT_NE(follow.location.find("sessionToken="), std::string::npos);
  auto info = router_->call("getMeetingInfo", "meetingID=join-1");
  EXPECT_EQ(xmlField(info.body, "participantCount"), "1");
  auto running = router_->call("isMeetingRunning", "meetingID=join-1");
  EXPECT_EQ(xmlField(running.body, "running"), "true");
  // Joins stick to the server: a second join goes to the same one.
  auto again = router_->call("join", "fullName=Bob&meetingID=join-1&role=VIEWER");
  EXPECT_EQ(again.location.rfind(server.url, 0), 0u);
}

TEST_F(BbbApiTest, JoinErrors) {
  auto unknown = router_->call("join", "fullName=A&meetingID=nope&role=VIEWER");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(xmlField(unknown.body, "messageKey"), "notFound");
  auto missing = router_->call("join", "fullName=A&role=VIEWER");
  EXPECT_EQ(xmlField(missing.body, "messageKey"), "missingParamMeetingID");
  ASSERT_EQ(xmlField(create("join-post").body, "returncode"), "SUCCESS");
  auto post =
      httpPost(router_->apiUrl("join", "fullName=A&meetingID=join-post&role=VIEWER"), "", "");
  EXPECT_EQ(xmlField(post.body, "messageKey"), "unsupportedRequest");
}

TEST_F(BbbApiTest, IsMeetingRunningAndGetMeetingInfo) {
  auto unknown = router_->call("isMeetingRunning", "meetingID=ghost");
  EXPECT_EQ(xmlField(unknown.body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(unknown.body, "running"), "false");
  auto info = router_->call("getMeetingInfo", "meetingID=ghost");
  EXPECT_EQ(xmlField(info.body, "messageKey"), "notFound");
  EXPECT_EQ(xmlField(router_->call("getMeetingInfo", "").body, "messageKey"),
            "missingParamMeetingID");
  ASSERT_EQ(xmlField(create("info-1").body, "returncode"), "SUCCESS");
  auto known = router_->call("getMeetingInfo", "meetingID=info-1");
  EXPECT_EQ(xmlField(known.body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(known.body, "meetingID"), "info-1");
  EXPECT_EQ(xmlField(known.body, "meetingName"), "Room info-1");
}

TEST_F(BbbApiTest, GetMeetingsMergesAllServersAndSurvivesADeadOne) {
  auto empty = router_->call("getMeetings", "");
  EXPECT_EQ(xmlField(empty.body, "messageKey"), "noMeetings");
  EXPECT_NE(empty.body.find("<meetings/>"), std::string::npos) << empty.body;
  for (int i = 0; i < 3; ++i) create("list-" + std::to_string(i));
  auto all = router_->call("getMeetings", "");
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(all.body.find("<meetingID>list-" + std::to_string(i) + "</meetingID>"),
              std::string::npos);
  }
  int dead = serverOf("list-0");
  sim_->fault(dead, {{"down", true}});
  auto partial = router_->call("getMeetings", "");
  EXPECT_EQ(xmlField(partial.body, "returncode"), "SUCCESS");
  EXPECT_EQ(partial.body.find("<meetingID>list-0</meetingID>"), std::string::npos);
  EXPECT_NE(partial.body.find("<meetingID>list-1</meetingID>"), std::string::npos);
  sim_->fault(dead, {{"down", false}});
}

// Over a socket: a client that offers gzip gets the same listing, gzipped (curl decodes it).
TEST_F(BbbApiTest, GetMeetingsGoesOutGzippedToClientsThatOfferIt) {
  for (int i = 0; i < 20; ++i) create("gz-" + std::to_string(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  router_->service().poller().pollOnce();
  auto plain = router_->call("getMeetings", "");
  ASSERT_EQ(xmlField(plain.body, "returncode"), "SUCCESS");
  ASSERT_GT(plain.body.size(), 1024u);
  auto packed = httpGetAccepting(router_->apiUrl("getMeetings", ""), "gzip");
  ASSERT_EQ(packed.status, 200) << packed.error;
  EXPECT_EQ(packed.contentEncoding, "gzip");
  EXPECT_EQ(packed.vary, "Accept-Encoding");
  EXPECT_EQ(packed.body, plain.body);
}

TEST_F(BbbApiTest, GetMeetingsComesFromPollSnapshotsAndSeesRoutedChangesAtOnce) {
  auto liveCalls = [] {
    int n = 0;
    for (const auto& s : sim_->servers()) n += sim_->requests(s.index, "getMeetings");
    return n;
  };
  for (int i = 0; i < 3; ++i) create("snap-" + std::to_string(i), "&moderatorPW=mp");
  // A poll in the same millisecond as a create is taken as not covering it (the snapshot is not
  // used): step past it so the test sees the snapshot path.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  router_->service().poller().pollOnce();
  int before = liveCalls();
  auto all = router_->call("getMeetings", "");
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(all.body.find("<meetingID>snap-" + std::to_string(i) + "</meetingID>"),
              std::string::npos)
        << all.body;
  }
  EXPECT_EQ(liveCalls(), before) << "answered from the poll's snapshots";

  // Created through Switchboard: listed at once (its server is asked live until the next poll).
  create("snap-new");
  auto withNew = router_->call("getMeetings", "");
  EXPECT_NE(withNew.body.find("<meetingID>snap-new</meetingID>"), std::string::npos);
  EXPECT_EQ(liveCalls(), before + 1);
  // Ended through Switchboard: gone at once.
  auto ended = router_->call("end", "meetingID=snap-0&password=mp");
  ASSERT_EQ(xmlField(ended.body, "returncode"), "SUCCESS") << ended.body;
  auto withoutEnded = router_->call("getMeetings", "");
  EXPECT_EQ(withoutEnded.body.find("<meetingID>snap-0</meetingID>"), std::string::npos);
  EXPECT_NE(withoutEnded.body.find("<meetingID>snap-1</meetingID>"), std::string::npos);
  // After the next poll everything comes from snapshots again.
  // A poll in the same millisecond as a create is taken as not covering it (the snapshot is not
  // used): step past it so the test sees the snapshot path.
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  router_->service().poller().pollOnce();
  int settled = liveCalls();
  auto again = router_->call("getMeetings", "");
  EXPECT_NE(again.body.find("<meetingID>snap-new</meetingID>"), std::string::npos);
  EXPECT_EQ(liveCalls(), settled);
}

TEST_F(BbbApiTest, EndForwardsAndForgetsTheMeeting) {
  ASSERT_EQ(xmlField(create("end-1").body, "returncode"), "SUCCESS");
  auto r = router_->call("end", "meetingID=end-1");
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(r.body, "messageKey"), "sentEndMeetingRequest");
  EXPECT_EQ(xmlField(router_->call("getMeetingInfo", "meetingID=end-1").body, "messageKey"),
            "notFound");
  EXPECT_EQ(xmlField(router_->call("end", "meetingID=end-1").body, "messageKey"), "notFound");
  EXPECT_EQ(serverOf("end-1"), 0);
}

TEST_F(BbbApiTest, InsertDocumentAndSendChatMessage) {
  ASSERT_EQ(xmlField(create("doc-1").body, "returncode"), "SUCCESS");
  std::string doc =
      "<modules><module name=\"presentation\"><document url=\"u\"/></module></modules>";
  auto r = httpPost(router_->apiUrl("insertDocument", "meetingID=doc-1"), doc, "application/xml");
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  auto wrongType =
      httpPost(router_->apiUrl("insertDocument", "meetingID=doc-1"), doc, "text/plain");
  EXPECT_EQ(xmlField(wrongType.body, "messageKey"), "unsupportedContentType");
  auto get = router_->call("insertDocument", "meetingID=doc-1");
  EXPECT_EQ(xmlField(get.body, "messageKey"), "unsupportedRequest");
  auto chat = router_->call("sendChatMessage", "meetingID=doc-1&message=Hello+all");
  EXPECT_EQ(xmlField(chat.body, "returncode"), "SUCCESS") << chat.body;
  auto chatUnknown = router_->call("sendChatMessage", "meetingID=none&message=x");
  EXPECT_EQ(xmlField(chatUnknown.body, "messageKey"), "notFound");
}

TEST_F(BbbApiTest, AllFourChecksumAlgorithmsAndBadChecksums) {
  for (auto a : {ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha384,
                 ChecksumAlgorithm::kSha512}) {
    auto r = router_->call("getMeetings", "", a);
    EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << sb::algorithmName(a);
  }
  auto wrong = httpGet(router_->apiUrl("getMeetings", "", ChecksumAlgorithm::kSha1, "other"));
  EXPECT_EQ(xmlField(wrong.body, "messageKey"), "checksumError");
  auto missing = httpGet(router_->base() + "/bigbluebutton/api/getMeetingInfo?meetingID=a");
  EXPECT_EQ(xmlField(missing.body, "messageKey"), "checksumError");
  auto tampered = router_->apiUrl("getMeetingInfo", "meetingID=a");
  tampered.replace(tampered.find("meetingID=a"), 11, "meetingID=b");
  EXPECT_EQ(xmlField(httpGet(tampered).body, "messageKey"), "checksumError");
}

TEST_F(BbbApiTest, UnknownCallsAndMethods) {
  EXPECT_EQ(xmlField(router_->call("getRecordingz", "").body, "messageKey"), "unsupportedRequest");
  EXPECT_EQ(xmlField(httpGet(router_->base() + "/bigbluebutton/api/hooks/list").body, "messageKey"),
            "unsupportedRequest");
  auto del = httpRequest("DELETE", router_->apiUrl("getMeetings", ""), "", "");
  EXPECT_EQ(xmlField(del.body, "messageKey"), "unsupportedRequest");
  EXPECT_EQ(httpGet(router_->base() + "/no/such/path").status, 404);
}

TEST_F(BbbApiTest, BadInputGetsBbbErrors) {
  // Valid checksum over a query whose percent-encoding is broken.
  auto bad = router_->call("getMeetingInfo", "meetingID=%zz");
  EXPECT_EQ(xmlField(bad.body, "messageKey"), "validationError");
  auto latin1 = router_->call("getMeetingInfo", "meetingID=caf%E9");
  EXPECT_EQ(xmlField(latin1.body, "messageKey"), "validationError");
  auto nul = router_->call("create", "name=x&meetingID=a%00b");
  EXPECT_EQ(xmlField(nul.body, "messageKey"), "validationError");
  auto form = httpPost(router_->apiUrl("getMeetingInfo", ""), "meetingID=x", "application/json");
  EXPECT_EQ(xmlField(form.body, "messageKey"), "unsupportedContentType");
  // Oversized requests are refused by the HTTP layer, and the router keeps serving.
  std::string huge(200 * 1024, 'a');
  auto big = router_->call("getMeetingInfo", "meetingID=" + huge);
  EXPECT_NE(big.status, 200);
  EXPECT_EQ(xmlField(router_->call("getMeetings", "").body, "returncode"), "SUCCESS");
  // A failed create leaves no mapping behind (the sim rejects a create without a name).
  auto noName = router_->call("create", "meetingID=nameless");
  EXPECT_EQ(xmlField(noName.body, "returncode"), "FAILED");
  auto list = nlohmann::json::parse(router_->admin("GET", "/meetings").body);
  for (const auto& m : list["meetings"]) EXPECT_NE(m["id"], "nameless");
}

TEST_F(BbbApiTest, TransportFailureOnCreateTriesTheNextServer) {
  // Make every server but one refuse connections; the create must still succeed.
  sim_->fault(1, {{"down", true}});
  sim_->fault(2, {{"down", true}});
  auto r = create("failover-create");
  EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  EXPECT_EQ(serverOf("failover-create"), 3);
  // A meeting whose server stops answering: calls report internalError with Scalelite's text.
  sim_->fault(2, {{"down", false}});
  sim_->fault(1, {{"down", false}});
  sim_->fault(3, {{"down", true}});
  auto info = router_->call("getMeetingInfo", "meetingID=failover-create");
  EXPECT_EQ(xmlField(info.body, "messageKey"), "internalError");
  EXPECT_EQ(xmlField(info.body, "message"), "Unable to access meeting on server.");
  sim_->fault(3, {{"down", false}});
}

TEST_F(BbbApiTest, ConcurrentCreatesOfOneMeetingLandOnOneServer) {
  std::vector<std::future<HttpResult>> results;
  for (int i = 0; i < 40; ++i) {
    results.push_back(std::async(std::launch::async, [this] { return create("race-1"); }));
  }
  for (auto& f : results) EXPECT_EQ(xmlField(f.get().body, "returncode"), "SUCCESS");
  int holders = 0;
  for (const auto& s : sim_->servers()) holders += sim_->requests(s.index, "create") > 0 ? 1 : 0;
  EXPECT_EQ(holders, 1);
}

TEST_F(BbbApiTest, RawQueryBytesAreVerifiedAsSent) {
  // Odd orders, duplicates, '+' and %20, UTF-8: the checksum covers exactly these bytes.
  for (std::string q :
       {"meetingID=q-1&name=a+b", "name=a%20b&meetingID=q-2",
        "meetingID=q-3&name=first&name=second", "name=Caf%C3%A9+%E2%9C%93&meetingID=q-4",
        "name=x&meetingID=q-5&meta_a=%2B%26%3D"}) {
    auto r = router_->call("create", q);
    EXPECT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << q << "\n" << r.body;
  }
  auto info = router_->call("getMeetingInfo", "meetingID=q-4");
  EXPECT_EQ(xmlField(info.body, "meetingName"), "Café ✓");
  auto dup = router_->call("getMeetingInfo", "meetingID=q-3");
  EXPECT_EQ(xmlField(dup.body, "meetingName"), "first");
  // A leading '&' before the checksum (npm bbb-api sends it) is valid.
  std::string cs =
      sb::computeChecksum(ChecksumAlgorithm::kSha1, "getMeetings", "", Router::kSecret);
  auto lead = httpGet(router_->base() + "/bigbluebutton/api/getMeetings?&checksum=" + cs);
  EXPECT_EQ(xmlField(lead.body, "returncode"), "SUCCESS") << lead.body;
}

TEST_F(BbbApiTest, ServerTagsSteerPlacement) {
  auto tagged = nlohmann::json{{"tag", "gpu"}}.dump();
  ASSERT_EQ(router_->admin("PATCH", "/servers/" + ids_[1], tagged).status, 200);
  router_->service().poller().pollOnce();
  ASSERT_EQ(xmlField(create("tag-1", "&meta_server-tag=gpu").body, "returncode"), "SUCCESS");
  EXPECT_EQ(serverOf("tag-1"), 2);
  EXPECT_EQ(meetingOn(2, "tag-1")["create_params"]["meta_server-tag"], "gpu");
  auto required = create("tag-2", "&meta_server-tag=nope!");
  EXPECT_EQ(xmlField(required.body, "messageKey"), "serverTagUnavailable");
  EXPECT_EQ(xmlField(required.body, "message"),
            "There is no available server with the required tag=nope.");
  ASSERT_EQ(xmlField(create("tag-3").body, "returncode"), "SUCCESS");
  EXPECT_NE(serverOf("tag-3"), 2);  // untagged meetings never go to tagged servers
}

TEST_F(BbbApiTest, NoAvailableServer) {
  for (const auto& id : ids_) router_->admin("POST", "/servers/" + id + "/cordon");
  auto r = create("nowhere");
  EXPECT_EQ(xmlField(r.body, "messageKey"), "internalError");
  EXPECT_EQ(xmlField(r.body, "message"), "Could not find any available servers.");
}

TEST(BbbApiConfigTest, ParameterPoliciesAndSecretRotation) {
  Sim sim(1);
  Router router([](sb::Config& c) {
    c.api.secrets.push_back("next-secret");
    c.api.maxMeetingDuration = 60;
    c.api.createExcludeParams = {"dropme"};
    c.api.defaultCreateParams.append("record", "true");
    c.api.overrideCreateParams.append("muteOnStart", "true");
    c.api.checksumAlgorithms = {ChecksumAlgorithm::kSha256, ChecksumAlgorithm::kSha512};
  });
  router.addServers(sim);
  auto sha1 = router.call("create", "name=P&meetingID=p-1");
  EXPECT_EQ(xmlField(sha1.body, "messageKey"), "checksumError");  // sha1 not allowed
  auto r = httpGet(router.apiUrl("create",
                                 "name=P&meetingID=p-1&duration=500&dropme=1&muteOnStart=false",
                                 ChecksumAlgorithm::kSha256, "next-secret"));
  ASSERT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  nlohmann::json server = sim.server(1);
  nlohmann::json params = server["meetings_detail"][0]["create_params"];
  EXPECT_EQ(params["duration"], "60");
  EXPECT_FALSE(params.contains("dropme"));
  EXPECT_EQ(params["record"], "true");
  EXPECT_EQ(params["muteOnStart"], "true");
  EXPECT_TRUE(params.contains("moderatorPW"));  // generated so Switchboard can end it later
}

// A create's recording-ready URL is not BBB's to call (BBB would call it before Switchboard has
// the files, signed with its own secret): it travels as Switchboard's own metadata key, which
// BBB keeps with the recording and does not call.
TEST(BbbApiParamsTest, TheRecordingReadyUrlIsKeptForSwitchboardNotBbb) {
  Sim sim(1);
  Router router;
  router.addServers(sim);
  auto r = router.call("create",
                       "name=P&meetingID=rr-1&meta_bbb-recording-ready-url=https%3A%2F%2Fgl%2Fa"
                       "&meta_bn-recording-ready-url=https%3A%2F%2Fbn%2Fb"
                       "&meta_switchboard-recording-ready-url=https%3A%2F%2Fevil");
  ASSERT_EQ(xmlField(r.body, "returncode"), "SUCCESS") << r.body;
  nlohmann::json params = sim.server(1)["meetings_detail"][0]["create_params"];
  EXPECT_FALSE(params.contains("meta_bbb-recording-ready-url"));
  EXPECT_FALSE(params.contains("meta_bn-recording-ready-url"));
  EXPECT_EQ(params["meta_switchboard-recording-ready-url"], "https://bn/b") << "bn- comes first";
}

// One server answers 3 s late: more calls wait on it than the router has worker threads at start
// (the harness starts 8), yet a create on another server answers at once (the pool grows), and
// once the slow server has kept SERVER_CALL_LIMIT calls unanswered for a second, more calls to
// it fail at once instead of taking threads.
TEST(SlowServerTest, ASlowServerHoldsUpNoCallToTheOthers) {
  Sim sim(2);
  Router router([](sb::Config& c) { c.bbb.serverCallLimit = 10; });
  router.addServers(sim);
  // Meetings on both servers (least load alternates between two empty servers).
  std::vector<std::string> onSlow, onFast;
  for (int i = 0; i < 12; ++i) {
    std::string id = "slow-" + std::to_string(i);
    ASSERT_EQ(xmlField(router.call("create", "name=R&meetingID=" + id).body, "returncode"),
              "SUCCESS");
    bool first = false;
    const nlohmann::json server = sim.server(1);  // held: never iterate a temporary's member
    for (const auto& m : server["meetings_detail"]) first = first || m["meeting_id"] == id;
    (first ? onSlow : onFast).push_back(id);
  }
  ASSERT_GE(onSlow.size(), 5u);
  ASSERT_FALSE(onFast.empty());
  sim.fault(1, {{"delay_ms", 3000}});
  std::vector<std::future<HttpResult>> slow;
  for (int i = 0; i < 12; ++i) {
    const std::string& id = onSlow[static_cast<size_t>(i) % onSlow.size()];
    slow.push_back(std::async(std::launch::async, [&router, id] {
      return router.call("getMeetingInfo", "meetingID=" + id);
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all 12 wait on server 1
  auto t0 = std::chrono::steady_clock::now();
  auto fast = router.call("getMeetingInfo", "meetingID=" + onFast[0]);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(xmlField(fast.body, "returncode"), "SUCCESS");
  EXPECT_LT(took, std::chrono::milliseconds(1500)) << "held up behind the slow server";
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // server 1: stalled for > 1 s
  t0 = std::chrono::steady_clock::now();
  auto refused = router.call("getMeetingInfo", "meetingID=" + onSlow[0]);
  EXPECT_EQ(xmlField(refused.body, "messageKey"), "internalError") << refused.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  int answered = 0;
  for (auto& f : slow) answered += xmlField(f.get().body, "returncode") == "SUCCESS" ? 1 : 0;
  EXPECT_EQ(answered, 12);  // the 12 started before the stall were all waited for
  sim.fault(1, {{"delay_ms", 0}});
}

// Every worker busy and WORKER_QUEUE_MAX calls waiting: the next BBB call that needs a worker
// is answered internalError at once over HTTP, and the calls taken before it are still answered.
TEST(BusyRouterTest, ACallPastTheWorkerQueueBoundIsRefusedAtOnce) {
  Sim sim(1);
  Router router([](sb::Config& c) {
    c.http.workerThreads = 1;
    c.http.workerThreadsMax = 1;
    c.http.workerQueueMax = 1;
  });
  router.addServers(sim);
  ASSERT_EQ(xmlField(router.call("create", "name=R&meetingID=busy").body, "returncode"), "SUCCESS");
  sim.fault(1, {{"delay_ms", 1500}});
  auto call = [&router] { return router.call("getMeetingInfo", "meetingID=busy"); };
  auto working = std::async(std::launch::async, call);  // takes the one worker
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto waiting = std::async(std::launch::async, call);  // the one call allowed to wait
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t0 = std::chrono::steady_clock::now();
  auto refused = call();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(700));
  EXPECT_EQ(refused.status, 200);
  EXPECT_EQ(xmlField(refused.body, "returncode"), "FAILED") << refused.body;
  EXPECT_EQ(xmlField(refused.body, "messageKey"), "internalError");
  EXPECT_NE(refused.body.find("busy"), std::string::npos) << refused.body;
  EXPECT_EQ(xmlField(working.get().body, "returncode"), "SUCCESS");
  EXPECT_EQ(xmlField(waiting.get().body, "returncode"), "SUCCESS");
  sim.fault(1, {{"delay_ms", 0}});
  EXPECT_EQ(xmlField(call().body, "returncode"), "SUCCESS") << "not busy any more";
}

}  // namespace
}  // namespace sbtest

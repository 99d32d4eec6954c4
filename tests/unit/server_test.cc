#include "core/server.h"

#include <gtest/gtest.h>

namespace sb {
namespace {

TEST(NormalizeServerUrlTest, AddsApiPathToABareHost) {
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com"),
            "https://bbb1.example.com/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/"),
            "https://bbb1.example.com/bigbluebutton/api/");
}

TEST(NormalizeServerUrlTest, KeepsAnExistingApiPath) {
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/bigbluebutton/api"),
            "https://bbb1.example.com/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/bigbluebutton/api/"),
            "https://bbb1.example.com/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/bigbluebutton/api//"),
            "https://bbb1.example.com/bigbluebutton/api/");
}

TEST(SignallingUrlTest, SchemeHostAndPortAreChecked) {
  EXPECT_TRUE(isSignallingUrl("ws://sfu1.example.com:8188", false));
  EXPECT_TRUE(isSignallingUrl("wss://sfu1.example.com:8989/janus", true));
  EXPECT_TRUE(isSignallingUrl("ws://[::1]:8188", false));
  EXPECT_FALSE(isSignallingUrl("wss://sfu1.example.com", false)) << "wrong scheme for ws";
  EXPECT_FALSE(isSignallingUrl("ws://sfu1.example.com", true)) << "wrong scheme for wss";
  EXPECT_FALSE(isSignallingUrl("http://sfu1.example.com:80", false));
  EXPECT_FALSE(isSignallingUrl("ws://", false));
  EXPECT_FALSE(isSignallingUrl("ws://:80", false));
  EXPECT_FALSE(isSignallingUrl("ws://h:99999", false));
  EXPECT_FALSE(isSignallingUrl("ws://h:abc", false));
  EXPECT_FALSE(isSignallingUrl("ws://h a:1", false));
  EXPECT_FALSE(isSignallingUrl("ws://user:pw@h:1", false)) << "handed to every client";
}

TEST(NormalizeServerUrlTest, TakesTheUrlBbbConfPrints) {
  // `bbb-conf --secret` prints "URL: https://host/bigbluebutton/".
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/bigbluebutton/"),
            "https://bbb1.example.com/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://bbb1.example.com/bigbluebutton"),
            "https://bbb1.example.com/bigbluebutton/api/");
}

TEST(NormalizeServerUrlTest, HttpPortsPrefixesAndCase) {
  EXPECT_EQ(normalizeServerUrl("http://10.0.0.5:8090"), "http://10.0.0.5:8090/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("HTTPS://bbb.example.com"),
            "https://bbb.example.com/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://example.com/bbb1/"),
            "https://example.com/bbb1/bigbluebutton/api/");
  EXPECT_EQ(normalizeServerUrl("https://bbb.example.com/bigbluebutton/api/ \n"),
            "https://bbb.example.com/bigbluebutton/api/");
}

TEST(NormalizeServerUrlTest, RejectsBadSchemes) {
  EXPECT_EQ(normalizeServerUrl("ftp://bbb.example.com"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl("bbb.example.com"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl("bbb.example.com/bigbluebutton/api"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl(""), std::nullopt);
}

TEST(NormalizeServerUrlTest, RejectsMissingHost) {
  EXPECT_EQ(normalizeServerUrl("https://"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl("https:///bigbluebutton/api"), std::nullopt);
}

TEST(NormalizeServerUrlTest, RejectsQueryFragmentAndSpaces) {
  EXPECT_EQ(normalizeServerUrl("https://bbb.example.com/?x=1"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl("https://bbb.example.com/#top"), std::nullopt);
  EXPECT_EQ(normalizeServerUrl("https://bbb example.com"), std::nullopt);
}

TEST(ServerHostTest, ExtractsTheHost) {
  EXPECT_EQ(serverHost("https://bbb1.example.com:8443/bigbluebutton/api/"),
            "bbb1.example.com:8443");
  EXPECT_EQ(serverHost("https://bbb1.example.com/bigbluebutton/api/"), "bbb1.example.com");
  EXPECT_EQ(serverHost("http://10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(serverHost("bbb1.example.com/x"), "bbb1.example.com");
  // Issue 18 item 4: a server URL with credentials showed the password on /stat and /metrics.
  EXPECT_EQ(serverHost("https://user:s3cret@bbb1.example.com:8443/bigbluebutton/api/"),
            "bbb1.example.com:8443");
  EXPECT_EQ(serverHost("https://u:p@ss@bbb1.example.com/bigbluebutton/api/"), "bbb1.example.com");
}

TEST(AdminStateTest, ParsesNamesAndVerbs) {
  EXPECT_EQ(parseAdminState("enabled"), AdminState::kEnabled);
  EXPECT_EQ(parseAdminState("enable"), AdminState::kEnabled);
  EXPECT_EQ(parseAdminState("cordoned"), AdminState::kCordoned);
  EXPECT_EQ(parseAdminState("cordon"), AdminState::kCordoned);
  EXPECT_EQ(parseAdminState("disabled"), AdminState::kDisabled);
  EXPECT_EQ(parseAdminState("disable"), AdminState::kDisabled);
  EXPECT_EQ(parseAdminState("online"), std::nullopt);
  EXPECT_EQ(parseAdminState(""), std::nullopt);
}

TEST(AdminStateTest, NamesRoundTrip) {
  for (auto s : {AdminState::kEnabled, AdminState::kCordoned, AdminState::kDisabled}) {
    EXPECT_EQ(parseAdminState(adminStateName(s)), s);
  }
}

TEST(ServerTest, AvailabilityCombinesAdminStateAndHealth) {
  Server s;
  s.state = AdminState::kEnabled;
  s.live.online = true;
  EXPECT_TRUE(s.availableForNewMeetings());
  EXPECT_TRUE(s.servesExistingMeetings());

  s.state = AdminState::kCordoned;
  EXPECT_FALSE(s.availableForNewMeetings());
  EXPECT_TRUE(s.servesExistingMeetings());

  s.state = AdminState::kDisabled;
  EXPECT_FALSE(s.availableForNewMeetings());
  EXPECT_FALSE(s.servesExistingMeetings());

  s.state = AdminState::kEnabled;
  s.live.online = false;
  EXPECT_FALSE(s.availableForNewMeetings());
  EXPECT_FALSE(s.servesExistingMeetings());
}

TEST(ServerTest, NewServersStartDisabledAndOffline) {
  Server s;
  EXPECT_EQ(s.state, AdminState::kDisabled);
  EXPECT_FALSE(s.live.online);
  EXPECT_EQ(s.loadMultiplier, 1.0);
}

TEST(ServerTest, DisplayUrlHidesThePassword) {
  EXPECT_EQ(displayUrl("https://op:pw@bbb1.example.com:8443/bigbluebutton/api/"),
            "https://op:***@bbb1.example.com:8443/bigbluebutton/api/");
  EXPECT_EQ(displayUrl("https://op@bbb1.example.com/x"), "https://op@bbb1.example.com/x");
  EXPECT_EQ(displayUrl("https://bbb1.example.com/x?a=b@c"), "https://bbb1.example.com/x?a=b@c");
  EXPECT_EQ(displayUrl("http://a:b:c@h"), "http://a:***@h");
}

}  // namespace
}  // namespace sb

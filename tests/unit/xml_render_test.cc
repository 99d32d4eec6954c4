#include "router/xml_render.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <string>

namespace sb {
namespace {

// Parses `xml`; fails the test when it is not well-formed.
pugi::xml_node responseOf(pugi::xml_document& doc, const std::string& xml) {
  auto parsed = doc.load_string(xml.c_str());
  EXPECT_TRUE(parsed) << parsed.description() << "\n" << xml;
  return doc.child("response");
}

TEST(RenderErrorTest, FailedEnvelope) {
  std::string xml = renderError(Error::of(ErrorCode::kChecksumError));
  pugi::xml_document doc;
  auto r = responseOf(doc, xml);
  EXPECT_STREQ(r.child_value("returncode"), "FAILED");
  EXPECT_STREQ(r.child_value("messageKey"), "checksumError");
  EXPECT_STREQ(r.child_value("message"), "You did not pass the checksum security check");
  EXPECT_EQ(xml.find("<?xml"), std::string::npos) << "no declaration, as bbb-web";
}

TEST(RenderErrorTest, EscapesMessage) {
  std::string xml = renderError(Error::of(ErrorCode::kValidationError, "a <b> & \"c\" </message>"));
  EXPECT_NE(xml.find("a &lt;b&gt; &amp;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<b>"), std::string::npos) << xml;
  pugi::xml_document doc;
  auto r = responseOf(doc, xml);
  EXPECT_STREQ(r.child_value("message"), "a <b> & \"c\" </message>");
  EXPECT_STREQ(r.child_value("messageKey"), "validationError");
}

TEST(RenderErrorTest, MessageKeysOfRouterErrors) {
  pugi::xml_document doc;
  auto r = responseOf(doc, renderError(Error::of(ErrorCode::kNoServerAvailable)));
  EXPECT_STREQ(r.child_value("messageKey"), "internalError");
  EXPECT_STREQ(r.child_value("message"), "Could not find any available servers.");
  pugi::xml_document doc2;
  auto r2 = responseOf(doc2, renderError(Error::of(ErrorCode::kUnsupportedRequest)));
  EXPECT_STREQ(r2.child_value("messageKey"), "unsupportedRequest");
  EXPECT_STREQ(r2.child_value("message"), "This request is not supported.");
}

TEST(RenderVersionTest, WithoutBuild) {
  std::string xml = renderVersion("");
  pugi::xml_document doc;
  auto r = responseOf(doc, xml);
  EXPECT_STREQ(r.child_value("returncode"), "SUCCESS");
  EXPECT_STREQ(r.child_value("version"), "2.0");
  EXPECT_STREQ(r.child_value("apiVersion"), "2.0");
  EXPECT_FALSE(r.child("build"));
}

TEST(RenderVersionTest, WithBuild) {
  pugi::xml_document doc;
  auto r = responseOf(doc, renderVersion("v1.2-<3>"));
  EXPECT_STREQ(r.child_value("build"), "v1.2-<3>");
  EXPECT_STREQ(r.child_value("version"), "2.0");
}

TEST(RenderNotRunningTest, SuccessRunningFalse) {
  pugi::xml_document doc;
  auto r = responseOf(doc, renderNotRunning());
  EXPECT_STREQ(r.child_value("returncode"), "SUCCESS");
  EXPECT_STREQ(r.child_value("running"), "false");
}

TEST(RenderMeetingsTest, NoMeetingsShape) {
  std::string xml = renderMeetings("");
  EXPECT_NE(xml.find("<meetings/>"), std::string::npos) << xml;
  pugi::xml_document doc;
  auto r = responseOf(doc, xml);
  EXPECT_STREQ(r.child_value("returncode"), "SUCCESS");
  EXPECT_STREQ(r.child_value("messageKey"), "noMeetings");
  EXPECT_STREQ(r.child_value("message"), "no meetings were found on this server");
  ASSERT_TRUE(r.child("meetings"));
  EXPECT_FALSE(r.child("meetings").first_child());
}

TEST(RenderMeetingsTest, MergesFragmentsInOrder) {
  std::string xml = renderMeetings(
      "<meeting><meetingID>a</meetingID><participantCount>3</participantCount></meeting>"
      "<meeting><meetingID>b &amp; c</meetingID></meeting>"
      "<meeting><meetingID>d</meetingID><metadata><x>1</x></metadata></meeting>");
  pugi::xml_document doc;
  auto r = responseOf(doc, xml);
  EXPECT_STREQ(r.child_value("returncode"), "SUCCESS");
  EXPECT_FALSE(r.child("messageKey"));
  std::vector<std::string> ids;
  for (auto m : r.child("meetings").children("meeting")) ids.push_back(m.child_value("meetingID"));
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b & c", "d"}));
  EXPECT_STREQ(r.child("meetings").first_child().child_value("participantCount"), "3");
  EXPECT_STREQ(r.child("meetings").last_child().child("metadata").child_value("x"), "1");
}

}  // namespace
}  // namespace sb

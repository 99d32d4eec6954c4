#include "router/xml_render.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <string>

#include "bbb/bbb_xml.h"
#include "tests/unit/strict_xml.h"

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

// Issue 18 item 8: control characters and bytes that are not UTF-8 (in a meeting ID or name a
// client chose, or in what a BBB server answered) never make an answer unreadable: every kind
// of answer Switchboard writes parses strictly.
TEST(RenderStrictXmlTest, EveryAnswerKindParsesWhateverTheTextHolds) {
  const std::string bad = std::string("id\x01\x1f\0", 6) + "\xff\xc3(&#1;";
  EXPECT_EQ(sbtest::strictXmlProblem(renderError(Error::of(ErrorCode::kNotFound, bad))), "");
  EXPECT_EQ(sbtest::strictXmlProblem(renderVersion(bad)), "");
  EXPECT_EQ(sbtest::strictXmlProblem(renderNotRunning()), "");
  EXPECT_EQ(sbtest::strictXmlProblem(renderMeetings("")), "");
  // getMeetings: meeting elements as the poller keeps them, from an answer that held a control
  // character as a reference (which pugixml prints back as one) and as a raw byte.
  const std::string answer =
      "<response><returncode>SUCCESS</returncode><meetings>"
      "<meeting><meetingID>m&#1;1</meetingID><meetingName>n&#x2;</meetingName></meeting>"
      "<meeting><meetingID>m2</meetingID><meetingName>raw\x03\xff</meetingName></meeting>"
      "</meetings></response>";
  auto meetings = parseGetMeetings(answer);
  ASSERT_TRUE(meetings.ok()) << meetings.error().message;
  std::string elements;
  for (const auto& m : *meetings) elements += m.xml;
  const std::string listing = renderMeetings(elements);
  EXPECT_EQ(sbtest::strictXmlProblem(listing), "") << listing;
  // Even elements that were never made safe are, in the envelope.
  const std::string unsafe = "<meeting><meetingID>x&#1;\x02\xfe</meetingID></meeting>";
  EXPECT_EQ(sbtest::strictXmlProblem(renderMeetings(unsafe)), "");
}

}  // namespace
}  // namespace sb

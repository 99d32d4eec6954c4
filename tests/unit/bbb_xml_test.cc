#include "bbb/bbb_xml.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/strict_xml.h"

namespace sb {
namespace {

constexpr char kTwoMeetings[] = R"(<response>
<returncode>SUCCESS</returncode>
<meetings>
<meeting>
<meetingName>Demo Meeting</meetingName>
<meetingID>demo-1</meetingID>
<internalMeetingID>183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036</internalMeetingID>
<createTime>1531241258036</createTime>
<running>true</running>
<participantCount>1,204</participantCount>
<listenerCount>1,000</listenerCount>
<voiceParticipantCount>12</voiceParticipantCount>
<videoCount>7</videoCount>
<moderatorCount>3</moderatorCount>
<attendees>
</attendees>
<metadata>
</metadata>
<isBreakout>false</isBreakout>
</meeting>
<meeting>
<meetingName>Room 1</meetingName>
<meetingID>demo-1-breakout</meetingID>
<internalMeetingID>abc-1531241300000</internalMeetingID>
<createTime>1531241300000</createTime>
<running>false</running>
<participantCount>4</participantCount>
<listenerCount>0</listenerCount>
<voiceParticipantCount>2</voiceParticipantCount>
<videoCount>0</videoCount>
<moderatorCount>1</moderatorCount>
<isBreakout>true</isBreakout>
</meeting>
</meetings>
</response>)";

TEST(ReadReplyHeaderTest, Success) {
  BbbReply reply;
  reply.body = "<response><returncode>SUCCESS</returncode><running>true</running></response>";
  ASSERT_TRUE(readReplyHeader(reply).ok());
  EXPECT_EQ(reply.returnCode, "SUCCESS");
  EXPECT_EQ(reply.messageKey, "");
  EXPECT_TRUE(reply.success());
}

TEST(ReadReplyHeaderTest, SuccessWithMessageKey) {
  BbbReply reply;
  reply.body =
      "<response><returncode>SUCCESS</returncode><messageKey>duplicateWarning</messageKey>"
      "</response>";
  ASSERT_TRUE(readReplyHeader(reply).ok());
  EXPECT_TRUE(reply.success());
  EXPECT_EQ(reply.messageKey, "duplicateWarning");
}

TEST(ReadReplyHeaderTest, Failed) {
  BbbReply reply;
  reply.body =
      "<response>\n<returncode>FAILED</returncode>\n<messageKey>checksumError</messageKey>\n"
      "<message>Checksums do not match</message>\n</response>";
  ASSERT_TRUE(readReplyHeader(reply).ok());
  EXPECT_EQ(reply.returnCode, "FAILED");
  EXPECT_EQ(reply.messageKey, "checksumError");
  EXPECT_FALSE(reply.success());
}

TEST(ReadReplyHeaderTest, Garbage) {
  for (const char* body : {"", "not xml at all", "<html><body>502 Bad Gateway</body></html>",
                           "<response><returncode>SUCCESS</returncode>",
                           "<response><running>true</running></response>"}) {
    BbbReply reply;
    reply.body = body;
    Status s = readReplyHeader(reply);
    ASSERT_FALSE(s.ok()) << body;
    EXPECT_EQ(s.error().code, ErrorCode::kInternalError) << body;
    EXPECT_FALSE(reply.success()) << body;
  }
}

// Issue 17 item 3: the poller reads every answer's header first; a getMeetings answer with one
// element BBB echoed unescaped must still read as SUCCESS (the meetings are read one by one).
TEST(ReadReplyHeaderTest, AnElementThatIsNotXmlAfterTheReturncodeStillReads) {
  BbbReply reply;
  reply.body =
      "<response><returncode>SUCCESS</returncode><meetings><meeting><meetingID>a</meetingID>"
      "<metadata><x[]>1</x[]></metadata></meeting></meetings></response>";
  ASSERT_TRUE(readReplyHeader(reply).ok());
  EXPECT_TRUE(reply.success());
}

TEST(ParseGetMeetingsTest, TwoMeetings) {
  auto r = parseGetMeetings(kTwoMeetings);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const PolledMeeting& a = (*r)[0];
  EXPECT_EQ(a.meetingId, "demo-1");
  EXPECT_EQ(a.meetingName, "Demo Meeting");
  EXPECT_EQ(a.internalMeetingId, "183f0bf3a0982a127bdb8161e0c44eb696b3e75c-1531241258036");
  EXPECT_EQ(a.createTimeMs, 1531241258036);
  EXPECT_TRUE(a.running);
  EXPECT_FALSE(a.isBreakout);
  EXPECT_EQ(a.voiceParticipantCount, 12);
  EXPECT_EQ(a.videoCount, 7);
  EXPECT_EQ(a.moderatorCount, 3);

  const PolledMeeting& b = (*r)[1];
  EXPECT_EQ(b.meetingId, "demo-1-breakout");
  EXPECT_TRUE(b.isBreakout);
  EXPECT_FALSE(b.running);
  EXPECT_EQ(b.participantCount, 4);
  EXPECT_EQ(b.moderatorCount, 1);
  EXPECT_EQ(b.createTimeMs, 1531241300000);
}

TEST(ParseGetMeetingsTest, CountersWithThousandsSeparators) {
  auto r = parseGetMeetings(kTwoMeetings);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].participantCount, 1204);
  EXPECT_EQ((*r)[0].listenerCount, 1000);
}

TEST(ParseGetMeetingsTest, KeepsEachMeetingElementForMerging) {
  auto r = parseGetMeetings(kTwoMeetings);
  ASSERT_TRUE(r.ok());
  const std::string& xml = (*r)[0].xml;
  EXPECT_EQ(xml.rfind("<meeting>", 0), 0u) << xml;
  EXPECT_NE(xml.find("<meetingID>demo-1</meetingID>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("demo-1-breakout"), std::string::npos) << xml;
  EXPECT_NE((*r)[1].xml.find("<isBreakout>true</isBreakout>"), std::string::npos);
}

TEST(ParseGetMeetingsTest, NoMeetings) {
  auto r = parseGetMeetings(
      "<response><returncode>SUCCESS</returncode><meetings/><messageKey>noMeetings</messageKey>"
      "<message>no meetings were found on this server</message></response>");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ParseGetMeetingsTest, Failed) {
  auto r = parseGetMeetings(
      "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>"
      "<message>Checksums do not match</message></response>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
  EXPECT_NE(r.error().message.find("checksumError"), std::string::npos);
}

TEST(ParseGetMeetingsTest, Garbage) {
  auto r = parseGetMeetings("<html>oops");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInternalError);
}

// Issue 17 item 3: a create with meta_x[]=1, echoed by a server as <x[]>, made the whole answer
// unreadable and the server offline. Every other meeting is read; the bad one without metadata.
TEST(ParseGetMeetingsTest, OneMalformedElementKeepsEveryMeetingReadable) {
  const std::string body =
      "<response><returncode>SUCCESS</returncode><meetings>"
      "<meeting><meetingName>A</meetingName><meetingID>a</meetingID><moderatorPW>mpa</moderatorPW>"
      "<participantCount>3</participantCount><metadata><ok>1</ok></metadata></meeting>"
      "<meeting><meetingName>B</meetingName><meetingID>b</meetingID>"
      "<participantCount>5</participantCount><metadata><x[]>1</x[]></metadata></meeting>"
      "<meeting><meetingName>C</meetingName><meetingID>c</meetingID><metadata><meeting>nested"
      "</meeting></metadata><participantCount>7</participantCount></meeting>"
      "</meetings></response>";
  int unreadable = -1;
  auto r = parseGetMeetings(body, &unreadable);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(unreadable, 0);
  EXPECT_EQ((*r)[0].meetingId, "a");
  EXPECT_EQ((*r)[0].moderatorPw, "mpa");
  EXPECT_NE((*r)[0].xml.find("<ok>1</ok>"), std::string::npos);
  EXPECT_EQ((*r)[1].meetingId, "b");
  EXPECT_EQ((*r)[1].participantCount, 5);
  EXPECT_EQ((*r)[1].xml.find("x[]"), std::string::npos) << (*r)[1].xml;
  EXPECT_EQ((*r)[2].meetingId, "c");
  EXPECT_EQ((*r)[2].participantCount, 7);
}

TEST(ParseGetMeetingsTest, AnElementThatCannotBeReadIsCountedNotFatal) {
  const std::string body =
      "<response><returncode>SUCCESS</returncode><meetings>"
      "<meeting><meetingID>a</meetingID></meeting>"
      "<meeting><meetingID>b<</meetingID></meeting>"
      "<meeting><meetingID>c</meetingID></meeting>"
      "<meeting><meetingID>cut-off</meetingID>";
  int unreadable = 0;
  auto r = parseGetMeetings(body, &unreadable);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].meetingId, "a");
  EXPECT_EQ((*r)[1].meetingId, "c");
  EXPECT_EQ(unreadable, 2);
}

TEST(ParseGetMeetingsTest, BytesThatAreNotXmlTextNeverReachTheListing) {
  const std::string body =
      "<response><returncode>SUCCESS</returncode><meetings>"
      "<meeting><meetingID>a</meetingID><metadata><k>\xff\x01</k></metadata></meeting>"
      "<meeting><meetingID>b\xc3\xa9</meetingID></meeting>"
      "</meetings></response>";
  int unreadable = -1;
  auto r = parseGetMeetings(body, &unreadable);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(unreadable, 0);
  EXPECT_EQ((*r)[0].xml.find('\xff'), std::string::npos) << "metadata with bad bytes is dropped";
  EXPECT_EQ((*r)[1].meetingId, "b\xc3\xa9");  // valid UTF-8 is kept
}

TEST(ParseGetMeetingsTest, AnAnswerWithoutReturncodeIsStillAnError) {
  for (const char* body : {"<response><meetings><meeting><meetingID>a</meetingID></meeting>",
                           "<response><returncode>FAILED</returncode><x[]>"}) {
    auto r = parseGetMeetings(body);
    EXPECT_FALSE(r.ok()) << body;
  }
}

TEST(ParseBbbVersionTest, ReadsTheVersion) {
  auto v = parseBbbVersion(
      "<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0"
      "</apiVersion><bbbVersion>2.7.12</bbbVersion></response>");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "2.7.12");
}

TEST(ParseBbbVersionTest, AbsentIsEmpty) {
  auto v = parseBbbVersion(
      "<response><returncode>SUCCESS</returncode><version>2.0</version></response>");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "");
}

TEST(ParseBbbVersionTest, GarbageIsAnError) {
  EXPECT_FALSE(parseBbbVersion("502 Bad Gateway").ok());
}

// Issue 18 item 7: pugixml has no bound on nesting; an answer nested past kMaxXmlDepth is refused
// before a document is built.
TEST(BbbXmlDepthTest, AnAnswerNestedTooDeepIsRefused) {
  std::string deep = "<response><returncode>SUCCESS</returncode><meetings><meeting>";
  deep += "<meetingID>m</meetingID><metadata>";
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  deep += "</metadata></meeting></meetings></response>";
  auto meetings = parseGetMeetings(deep);
  ASSERT_FALSE(meetings.ok());
  EXPECT_NE(meetings.error().message.find("deeper"), std::string::npos) << meetings.error().message;
  BbbReply reply;
  reply.body = deep;
  EXPECT_FALSE(readReplyHeader(reply).ok());
  EXPECT_FALSE(parseBbbVersion(deep).ok());
}

TEST(BbbXmlDepthTest, BbbsOwnDepthReads) {
  const std::string answer =
      "<response><returncode>SUCCESS</returncode><meetings><meeting><meetingID>m</meetingID>"
      "<attendees><attendee><customdata><x>1</x></customdata></attendee></attendees>"
      "</meeting></meetings></response>";
  auto meetings = parseGetMeetings(answer);
  ASSERT_TRUE(meetings.ok()) << meetings.error().message;
  EXPECT_EQ(meetings->size(), 1u);
}

// Issue 18 item 8: a control character BBB sent as a reference is not printed back as one.
TEST(ParseGetMeetingsTest, ElementsKeptForTheListingAreStrictXml) {
  const std::string answer =
      "<response><returncode>SUCCESS</returncode><meetings>"
      "<meeting><meetingID>m&#1;</meetingID><meetingName>a&#x1b;b</meetingName></meeting>"
      "</meetings></response>";
  auto meetings = parseGetMeetings(answer);
  ASSERT_TRUE(meetings.ok()) << meetings.error().message;
  ASSERT_EQ(meetings->size(), 1u);
  EXPECT_EQ(sbtest::strictXmlProblem((*meetings)[0].xml), "") << (*meetings)[0].xml;
}

}  // namespace
}  // namespace sb

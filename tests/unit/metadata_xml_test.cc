// A recording read from BBB's metadata.xml (importer/metadata_xml.h).
#include "importer/metadata_xml.h"

#include <gtest/gtest.h>

#include <string>

namespace sb {
namespace {

// As BBB 2.7/3.0 writes presentation/<id>/metadata.xml.
const std::string kPresentation = R"(<?xml version="1.0" encoding="UTF-8"?>
<recording>
  <id>ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124</id>
  <state>published</state>
  <published>true</published>
  <start_time>1530718721124</start_time>
  <end_time>1530718810456</end_time>
  <participants>3</participants>
  <rawSize>951067</rawSize>
  <raw_size>951067</raw_size>
  <meeting id="ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124" externalId="c637ba21" name="Fred's Room" breakout="false"/>
  <meta>
    <isBreakout>false</isBreakout>
    <meetingName>Fred's Room</meetingName>
    <gl-listed>false</gl-listed>
    <meetingId>c637ba21</meetingId>
    <bbb-recording-ready-url>https://greenlight.example.com/recording_ready</bbb-recording-ready-url>
  </meta>
  <breakoutRooms>
    <breakoutRoom>aaaa-1530718721200</breakoutRoom>
  </breakoutRooms>
  <playback>
    <format>presentation</format>
    <link>https://bbb1.example.com/playback/presentation/2.3/ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124</link>
    <processing_time>7177</processing_time>
    <duration>88165</duration>
    <size>1104836</size>
    <extensions>
      <preview>
        <images>
          <image width="176" height="136" alt="Welcome to">https://bbb1.example.com/presentation/x/thumbnails/thumb-1.png</image>
          <image width="176" height="136" alt="">https://bbb1.example.com/presentation/x/thumbnails/thumb-2.png</image>
        </images>
      </preview>
    </extensions>
  </playback>
</recording>
)";

const std::string kId = "ffbfc4cc24428694e8b53a4e144f414052431693-1530718721124";

TEST(MetadataXmlTest, ReadsWhatBbbWrites) {
  auto r = recordingFromMetadataXml(kPresentation, kId);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->recordId, kId);
  EXPECT_EQ(r->meetingId, "c637ba21");
  EXPECT_EQ(r->internalMeetingId, kId);
  EXPECT_EQ(r->name, "Fred's Room");
  EXPECT_EQ(r->state, RecordingState::kPublished);
  EXPECT_FALSE(r->isBreakout);
  EXPECT_EQ(r->breakoutRooms, std::vector<std::string>{"aaaa-1530718721200"});
  EXPECT_EQ(r->startTimeMs, 1530718721124);
  EXPECT_EQ(r->endTimeMs, 1530718810456);
  EXPECT_EQ(r->participants, 3);
  EXPECT_EQ(r->rawSize, 951067);
  ASSERT_EQ(r->metadata.size(), 5u);  // every <meta> child, in order
  EXPECT_EQ(r->metadata[0].first, "isBreakout");
  EXPECT_EQ(r->meta("gl-listed"), "false");
  ASSERT_EQ(r->formats.size(), 1u);
  const PlaybackFormat& f = r->formats[0];
  EXPECT_EQ(f.type, "presentation");
  EXPECT_EQ(f.processingTimeMs, 7177);
  EXPECT_EQ(f.lengthMinutes, 1);  // 88 s, rounded
  EXPECT_EQ(f.size, 1104836);
  ASSERT_EQ(f.previews.size(), 2u);
  EXPECT_EQ(f.previews[0].alt, "Welcome to");
  EXPECT_EQ(f.previews[0].width, 176);
  EXPECT_EQ(f.previews[1].url, "https://bbb1.example.com/presentation/x/thumbnails/thumb-2.png");
}

// An element's text is all of its text, whatever comments or CDATA sections split it: read the
// same before and after the metadata is written back (found by metadata_xml_fuzz).
TEST(MetadataXmlTest, TextSplitByACommentIsReadWhole) {
  std::string split = kPresentation;
  const std::string whole = "<id>" + std::string(kId) + "</id>";
  ASSERT_NE(split.find(whole), std::string::npos);
  split.replace(split.find(whole), whole.size(),
                "<id>" + std::string(kId).substr(0, 10) + "<!-- x --><![CDATA[" +
                    std::string(kId).substr(10) + "]]></id>");
  auto r = recordingFromMetadataXml(split, kId);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->recordId, kId);
  auto written = metadataXmlOf(split, *r);
  ASSERT_TRUE(written.ok());
  auto again = recordingFromMetadataXml(*written, kId);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->recordId, kId);
}

TEST(MetadataXmlTest, AvailableFollowsPublished) {
  std::string unpublished = kPresentation;
  unpublished.replace(unpublished.find("<state>published</state>"), 24, "<state>available</state>");
  unpublished.replace(unpublished.find("<published>true</published>"), 27,
                      "<published>false</published>");
  auto r = recordingFromMetadataXml(unpublished, kId);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->state, RecordingState::kUnpublished);
}

TEST(MetadataXmlTest, WhatIsNotAMetadataXmlIsRefusedWithItsReason) {
  auto expectRefused = [](const std::string& xml, const std::string& why,
                          const std::string& folder = kId) {
    auto r = recordingFromMetadataXml(xml, folder);
    ASSERT_FALSE(r.ok()) << xml;
    EXPECT_EQ(r.error().code, ErrorCode::kValidationError);
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  };
  expectRefused("", "not XML");
  expectRefused("<recording><id>", "not XML");
  expectRefused("<other/>", "no <recording>");
  expectRefused("<recording><state>published</state></recording>", "not a record ID");
  expectRefused(kPresentation, "found in the folder of other-1", "other-1");
  std::string traversal = kPresentation;
  traversal.replace(traversal.find(kId), kId.size(), "../../etc");
  expectRefused(traversal, "not a record ID", "");
  std::string badNumber = kPresentation;
  badNumber.replace(badNumber.find("1530718810456"), 13, "soon");
  expectRefused(badNumber, "<end_time> is not a number");
  std::string badState = kPresentation;
  badState.replace(badState.find("<state>published"), 16, "<state>exploded");
  expectRefused(badState, "unknown <state>");
  std::string noPlayback =
      kPresentation.substr(0, kPresentation.find("<playback>")) + "</recording>";
  expectRefused(noPlayback, "no <playback>");
  std::string deep = "<recording>";
  for (int i = 0; i < 40; ++i) deep += "<a>";
  expectRefused(deep, "nested too deeply");
}

}  // namespace
}  // namespace sb

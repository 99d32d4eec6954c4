// The text-track calls' rules (core/recordings/text_tracks.h) and multipart bodies
// (router/multipart.h).
#include "core/recordings/text_tracks.h"

#include <gtest/gtest.h>

#include "db/memory_recording_store.h"
#include "router/multipart.h"

namespace sb {
namespace {

// Files kept in memory, so the rule "files first, list beside them" can be seen.
class MemoryFiles : public RecordingFiles {
 public:
  Status moveTo(const Recording&, RecordingState) override { return Status::Ok(); }
  Status saveMetadata(const Recording&) override { return Status::Ok(); }
  Status saveTextTrack(const Recording& r, const TextTrack& t, std::string_view vtt) override {
    if (fail) return Error::of(ErrorCode::kInternalError, "disk full");
    files[r.recordId + "/" + t.fileName()] = std::string(vtt);
    lists[r.recordId] = r.textTracks.size();
    return Status::Ok();
  }
  Status removeTextTrack(const Recording& r, const TextTrack& t) override {
    files.erase(r.recordId + "/" + t.fileName());
    lists[r.recordId] = r.textTracks.size();
    return Status::Ok();
  }
  std::vector<Recording> scan(std::vector<std::string>&) const override { return {}; }
  std::map<std::string, std::string> files;
  std::map<std::string, size_t> lists;
  bool fail = false;
};

class TextTracksTest : public ::testing::Test {
 protected:
  TextTracksTest() {
    Recording r;
    r.recordId = "r1";
    EXPECT_TRUE(store_.put(r).ok());
  }
  static QueryString q(const std::string& text) { return *QueryString::parse(text); }

  MemoryRecordingStore store_;
  MemoryFiles files_;
  TextTracks tracks_{store_, &files_};
};

const std::string kVtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello\n";

TEST_F(TextTracksTest, ATrackIsKeptListedReplacedAndRemoved) {
  auto id = tracks_.put(q("recordID=r1&kind=subtitles&lang=en_US&label=English"), kVtt);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "r1");
  EXPECT_EQ(files_.files["r1/subtitles_en-US.vtt"], kVtt);
  auto listed = tracks_.list(q("recordID=r1"));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].lang, "en-US");
  EXPECT_EQ((*listed)[0].label, "English");
  EXPECT_EQ((*listed)[0].source, "upload");
  // The same kind and language again replaces it; another language adds one; the label
  // defaults to the language.
  ASSERT_TRUE(tracks_.put(q("recordID=r1&kind=subtitles&lang=en-US"), kVtt + "More\n"));
  ASSERT_TRUE(tracks_.put(q("recordID=r1&kind=captions&lang=de"), kVtt));
  listed = tracks_.list(q("recordID=r1"));
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].label, "en-US");
  EXPECT_EQ(files_.files["r1/subtitles_en-US.vtt"], kVtt + "More\n");
  // No file: removed.
  ASSERT_TRUE(tracks_.put(q("recordID=r1&kind=subtitles&lang=en-US"), std::nullopt));
  EXPECT_EQ(tracks_.list(q("recordID=r1"))->size(), 1u);
  EXPECT_EQ(files_.files.count("r1/subtitles_en-US.vtt"), 0u);
  EXPECT_EQ(files_.lists["r1"], 1u);
}

TEST_F(TextTracksTest, BadParametersAnswerBbbsKeys) {
  auto key = [&](const std::string& query, std::optional<std::string_view> file = kVtt) {
    auto r = tracks_.put(q(query), file);
    return r ? std::string("SUCCESS") : std::string(messageKey(r.error().code));
  };
  EXPECT_EQ(key("kind=subtitles&lang=en"), "missingParamRecordID");
  EXPECT_EQ(key("recordID=r1&kind=chapters&lang=en"), "invalidKind");
  EXPECT_EQ(key("recordID=r1&lang=en"), "invalidKind");
  for (std::string lang : {"", "e", "en--US", "en US", "1a", "en-", "toolongsubtag123"}) {
    EXPECT_EQ(key("recordID=r1&kind=captions&lang=" + lang), "invalidLang") << lang;
  }
  EXPECT_EQ(key("recordID=r9&kind=captions&lang=en"), "noRecordings");
  EXPECT_EQ(key("recordID=r1&kind=captions&lang=en", ""), "empty_uploaded_text_track");
  EXPECT_EQ(key("recordID=r1&kind=captions&lang=en", "[Script Info]\nTitle: ass\n"),
            "upload_text_track_failed");
  EXPECT_EQ(
      key("recordID=r1&kind=captions&lang=en", std::string(TextTracks::kMaxFileBytes + 1, 'x')),
      "upload_text_track_failed");
  files_.fail = true;
  EXPECT_EQ(key("recordID=r1&kind=captions&lang=en"), "upload_text_track_failed");
  EXPECT_TRUE(tracks_.list(q("recordID=r1"))->empty()) << "the list follows the files";
  EXPECT_EQ(messageKey(tracks_.list(q("recordID=nope")).error().code), "noRecordings");
  EXPECT_EQ(messageKey(tracks_.list(q("")).error().code), "missingParamRecordID");
}

TEST_F(TextTracksTest, SubRipBecomesWebVtt) {
  const std::string srt =
      "\xEF\xBB\xBF"
      "1\r\n00:00:01,500 --> 00:00:02,000\r\nHello, world\r\n\r\n"
      "2\r\n00:01:00,000 --> 00:01:02,250 X1:10\r\nBye\r\n";
  EXPECT_EQ(TextTracks::webVttOf(srt),
            "WEBVTT\n\n1\n00:00:01.500 --> 00:00:02.000\nHello, world\n\n"
            "2\n00:01:00.000 --> 00:01:02.250 X1:10\nBye\n");
  EXPECT_EQ(TextTracks::webVttOf(kVtt), kVtt);
  EXPECT_EQ(TextTracks::webVttOf("WEBVTTX"), std::nullopt);
  EXPECT_EQ(TextTracks::webVttOf("1\n00:00:01 --> 00:00:02\nx"), std::nullopt);
  EXPECT_EQ(TextTracks::webVttOf("1"), std::nullopt);
  EXPECT_EQ(TextTracks::webVttOf(""), std::nullopt);
}

// SSA/ASS (which BBB converts with ffmpeg): dialogues become cues in order of their start,
// styling and override tags left out, line breaks kept, '<' and '&' escaped.
TEST_F(TextTracksTest, SubStationAlphaBecomesWebVtt) {
  const std::string ass =
      "\xEF\xBB\xBF[Script Info]\r\nTitle: Lecture\r\nScriptType: v4.00+\r\n\r\n"
      "[V4+ Styles]\r\nFormat: Name, Fontname, Fontsize\r\nStyle: Default,Arial,20\r\n\r\n"
      "[Events]\r\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\n"
      "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,not shown\r\n"
      "Dialogue: 0,0:01:02.50,0:01:04.00,Default,,0,0,0,,Second, {\\i1}later{\\i0}\r\n"
      "Dialogue: 0,0:00:01.00,0:00:02.25,Default,,0,0,0,,First\\Nline two\\h<b> & co\r\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\pos(1,2)}\r\n"
      "Dialogue: 0,bad,0:00:04.00,Default,,0,0,0,,bad time\r\n";
  EXPECT_EQ(TextTracks::webVttOf(ass),
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.250\nFirst\nline two &lt;b> &amp; co\n\n"
            "00:01:02.500 --> 00:01:04.000\nSecond, later\n");
  // SSA v4 (no "+"), with fewer fields, and hours past 9.
  EXPECT_EQ(TextTracks::webVttOf("[Script Info]\n[Events]\nFormat: Marked, Start, End, Text\n"
                                 "Dialogue: Marked=0,10:00:00.5,10:00:01.00,Late\n"),
            "WEBVTT\n\n10:00:00.500 --> 10:00:01.000\nLate\n");
  EXPECT_EQ(TextTracks::webVttOf("[Script Info]\nTitle: no events\n"), std::nullopt);
}

TEST(MultipartTest, PartsAreReadAsBrowsersAndCurlSendThem) {
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=----abc"), "----abc");
  EXPECT_EQ(multipartBoundary("Multipart/Form-Data;boundary=\"a b\""), "a b");
  EXPECT_EQ(multipartBoundary("multipart/mixed; boundary=x"), std::nullopt);
  EXPECT_EQ(multipartBoundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')),
            std::nullopt);
  const std::string body =
      "preamble\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"en.vtt\"\r\n"
      "Content-Type: text/vtt\r\n\r\n"
      "WEBVTT\r\n\r\n--not the end\r\n"
      "\r\n--XyZ  \r\n"
      "Content-Disposition: form-data; name=label\r\n\r\n"
      "English\r\n--XyZ\r\n\r\nno headers\r\n--XyZ--\r\nepilogue";
  auto parts = parseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].fileName, "en.vtt");
  EXPECT_EQ((*parts)[0].contentType, "text/vtt");
  EXPECT_EQ((*parts)[0].data, "WEBVTT\r\n\r\n--not the end\r\n");
  EXPECT_EQ((*parts)[1].name, "label");
  EXPECT_EQ((*parts)[1].data, "English");
  EXPECT_EQ((*parts)[2].name, "");
  EXPECT_EQ((*parts)[2].data, "no headers");
  EXPECT_EQ(parseMultipart("--b\r\n\r\nx\r\n--b--", "b")->size(), 1u);
  EXPECT_EQ(parseMultipart("--b--", "b")->size(), 0u);
}

TEST(MultipartTest, CutOrMalformedBodiesAreRefused) {
  for (std::string bad : {"", "--b", "--b\r\nContent-Type: x\r\n\r\ndata", "--bX\r\n\r\nx\r\n--b--",
                          "--b\r\nname: x\r\nno blank line\r\n--b--", "no delimiter at all"}) {
    EXPECT_EQ(parseMultipart(bad, "b"), std::nullopt) << bad;
  }
  std::string many;
  for (int i = 0; i < 40; ++i) many += "--b\r\n\r\nx\r\n";
  many += "--b--";
  EXPECT_EQ(parseMultipart(many, "b"), std::nullopt);
  EXPECT_EQ(parseMultipart(many, "b", 64)->size(), 40u);
}

}  // namespace
}  // namespace sb

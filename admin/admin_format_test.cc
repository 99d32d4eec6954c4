// Tests of the pure half of the admin CLI: table rendering and turning admin API answers into the
// rows and lines the commands print.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin/format.h"
#include "admin/table.h"

namespace sb::admin {
namespace {

using nlohmann::json;

json server(const std::string& id, const std::string& host, bool online, double load) {
  return {{"id", id},
          {"url", "https://" + host + "/bigbluebutton/api/"},
          {"host", host},
          {"tag", ""},
          {"state", "enabled"},
          {"online", online},
          {"load", load},
          {"load_multiplier", 1.0},
          {"meetings", 3},
          {"users", 40},
          {"largest_meeting", 20},
          {"videos", 5},
          {"voices", 2},
          {"bbb_version", "2.7.3"},
          {"poll_latency_ms", 12},
          {"last_error", ""},
          {"last_poll_ms", 1714566896000}};
}

TEST(TableTest, PadsColumnsAndAlignsNumbersRight) {
  Table table({{"NAME"}, {"COUNT", Align::kRight}, {"TAG"}});
  table.addRow({"a", "7", "x"});
  table.addRow({"longer", "1234567", ""});
  EXPECT_EQ(table.render(),
            "NAME      COUNT  TAG\n"
            "a             7  x\n"
            "longer  1234567\n");
  EXPECT_EQ(table.rowCount(), 2u);
}

TEST(TableTest, HeaderOnlyWhenEmpty) {
  Table table({{"A"}, {"B"}});
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.render(), "A  B\n");
}

TEST(TableTest, CountsUtf8CodePointsForWidth) {
  Table table({{"ID"}, {"X"}});
  table.addRow({"\xce\xb1\xce\xb2", "1"});  // "αβ": 4 bytes, 2 columns
  EXPECT_EQ(table.render(),
            "ID  X\n"
            "\xce\xb1\xce\xb2  1\n");
  EXPECT_EQ(displayWidth("\xce\xb1\xce\xb2"), 2u);
  EXPECT_EQ(displayWidth("abc"), 3u);
}

TEST(TableTest, ReplacesControlCharacters) {
  Table table({{"ID"}});
  table.addRow({"evil\x1b[31m\nred\t"});
  EXPECT_EQ(table.render(), "ID\nevil?[31m?red?\n");
}

TEST(TableTest, RowOfTheWrongSizeIsAProgrammingError) {
  Table table({{"A"}, {"B"}});
  EXPECT_THROW(table.addRow({"only one"}), std::logic_error);
}

TEST(FieldTest, ToleratesMissingAndMistypedFields) {
  json object = {{"s", "text"}, {"i", 7}, {"f", 3.0}, {"b", true}, {"wrong", json::array()}};
  EXPECT_EQ(stringField(object, "s"), "text");
  EXPECT_EQ(stringField(object, "i"), "");
  EXPECT_EQ(stringField(object, "missing"), "");
  EXPECT_EQ(integerField(object, "i"), 7);
  EXPECT_EQ(integerField(object, "f"), 3);
  EXPECT_EQ(integerField(object, "s"), 0);
  EXPECT_DOUBLE_EQ(numberField(object, "i"), 7.0);
  EXPECT_DOUBLE_EQ(numberField(object, "wrong"), 0.0);
  EXPECT_TRUE(boolField(object, "b"));
  EXPECT_FALSE(boolField(object, "i"));
  EXPECT_EQ(stringField(json::array(), "s"), "");
  EXPECT_EQ(integerField(json(), "i"), 0);
}

TEST(FormatTest, CountOf) {
  EXPECT_EQ(countOf(0, "meeting"), "0 meetings");
  EXPECT_EQ(countOf(1, "meeting"), "1 meeting");
  EXPECT_EQ(countOf(2, "server"), "2 servers");
}

TEST(FormatTest, Decimal) {
  EXPECT_EQ(formatDecimal(15), "15.0");
  EXPECT_EQ(formatDecimal(0), "0.0");
  EXPECT_EQ(formatDecimal(3.5), "3.5");
  EXPECT_EQ(formatDecimal(3.25), "3.25");
  EXPECT_EQ(formatDecimal(1.0 / 3.0), "0.33");
  EXPECT_EQ(formatDecimal(-0.0001), "0.0");
}

TEST(FormatTest, IsoUtc) {
  EXPECT_EQ(formatIsoUtc(1714566896123), "2024-05-01T12:34:56Z");
  EXPECT_EQ(formatIsoUtc(1000), "1970-01-01T00:00:01Z");
  EXPECT_EQ(formatIsoUtc(0), "-");
  EXPECT_EQ(formatIsoUtc(-5), "-");
}

TEST(FormatTest, HostnameFallsBackToTheUrl) {
  EXPECT_EQ(serverHostname({{"host", "a.example.com"}}), "a.example.com");
  EXPECT_EQ(serverHostname({{"url", "https://b.example.com:8443/bigbluebutton/api/"}}),
            "b.example.com:8443");
  EXPECT_EQ(serverHostname(json::object()), "-");
}

TEST(ServersTableTest, OneRowPerServerInTheRoutersOrder) {
  json b = server("b2", "bbb2.example.com", true, 48);
  b["tag"] = "big";
  b["load_multiplier"] = 0.5;
  json c = server("c3", "bbb0.example.com", false, 0);
  c["state"] = "cordoned";
  EXPECT_EQ(
      serversTable(json::array({b, c})).render(),
      "ID  HOSTNAME          STATE     STATUS   MEETINGS  USERS         LOAD  MULTIPLIER  TAG\n"
      "b2  bbb2.example.com  enabled   online          3     40         48.0         0.5  big\n"
      "c3  bbb0.example.com  cordoned  offline         3     40  unavailable         1.0\n");
}

TEST(StatusTableTest, SortedByHostnameWithScalelitesColumns) {
  json z = server("id1", "z.example.com", true, 12.5);
  json a = server("id2", "a.example.com", false, 99);
  a["bbb_version"] = "";
  a["tag"] = "t";
  EXPECT_EQ(statusTable(json::array({z, a})).render(),
            "HOSTNAME       STATE    STATUS   MEETINGS  USERS  LARGEST MEETING  VIDEOS         LOAD"
            "  BBB VERSION  TAG\n"
            "a.example.com  enabled  offline         3     40               20       5  unavailable"
            "  -            t\n"
            "z.example.com  enabled  online          3     40               20       5         12.5"
            "  2.7.3\n");
}

TEST(StatusTableTest, TiesOnHostnameAreBrokenById) {
  Table table = statusTable(json::array(
      {server("b", "same.example.com", true, 2), server("a", "same.example.com", true, 1)}));
  std::string rendered = table.render();
  EXPECT_LT(rendered.find("1.0"), rendered.find("2.0"));
}

TEST(StatusTableTest, SkipsNothingWhenFieldsAreMissing) {
  Table table = statusTable(json::array({json::object(), 42}));
  EXPECT_EQ(table.rowCount(), 2u);
}

TEST(StatusTotalsTest, FromTheTotalsObject) {
  json answer = {{"servers", json::array()},
                 {"totals",
                  {{"servers", 3},
                   {"online", 2},
                   {"meetings", 6},
                   {"users", 80},
                   {"videos", 1},
                   {"load", 60.5}}}};
  EXPECT_EQ(statusTotalsLine(answer),
            "Total: 3 servers (2 online), 6 meetings, 80 users, 1 video, load 60.5");
}

TEST(StatusTotalsTest, SummedFromServersWhenTheRouterSendsNoTotals) {
  json answer = {
      {"servers", json::array({server("a", "a", true, 10), server("b", "b", false, 7)})}};
  EXPECT_EQ(statusTotalsLine(answer),
            "Total: 2 servers (1 online), 6 meetings, 80 users, 10 videos, load 10.0");
}

TEST(MeetingsTableTest, Rows) {
  json meetings = json::array({{{"id", "room 1"},
                                {"server_id", "a1"},
                                {"server_host", "bbb1.example.com"},
                                {"created_at_ms", 1714566896123},
                                {"orphaned", false}},
                               {{"id", "lost"},
                                {"server_id", ""},
                                {"server_host", ""},
                                {"created_at_ms", 1714566000000},
                                {"orphaned", true}}});
  EXPECT_EQ(meetingsTable(meetings).render(),
            "MEETING ID  SERVER  HOSTNAME          CREATED               ORPHANED\n"
            "room 1      a1      bbb1.example.com  2024-05-01T12:34:56Z  no\n"
            "lost        -       -                 2024-05-01T12:20:00Z  yes\n");
}

TEST(RecordingsTableTest, OneRowPerRecordingWithItsFormats) {
  json recordings =
      json::array({{{"id", "rec-1"},
                    {"meeting_id", "m1"},
                    {"name", "Lecture"},
                    {"state", "published"},
                    {"start_time_ms", 1714566896000},
                    {"formats", json::array({{{"type", "presentation"}}, {{"type", "video"}}})}},
                   {{"id", "rec-2"}, {"state", "deleted"}},
                   "not an object"});
  std::string table = recordingsTable(recordings).render();
  EXPECT_NE(table.find("rec-1      m1          Lecture  published  2024-05-01T12:34:56Z  "
                       "presentation,video"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("rec-2"), std::string::npos) << table;
}

TEST(PanicSummaryTest, EndedOrFailedOver) {
  json answer = {{"server", json::object()}, {"meetings_ended", 3}, {"meetings_failed_over", 0}};
  EXPECT_EQ(panicSummary(answer, false), "OK: ended 3 meetings");
  answer["meetings_ended"] = 1;
  EXPECT_EQ(panicSummary(answer, false), "OK: ended 1 meeting");
  answer["meetings_failed_over"] = 2;
  EXPECT_EQ(panicSummary(answer, true), "OK: failed over 2 meetings, ended 1");
  answer["meetings_ended"] = 0;
  EXPECT_EQ(panicSummary(answer, true), "OK: failed over 2 meetings");
}

TEST(HttpErrorMessageTest, TakesTheErrorField) {
  EXPECT_EQ(httpErrorMessage(404, R"({"error":"Couldn't find server with id=x"})"),
            "Couldn't find server with id=x");
}

TEST(HttpErrorMessageTest, FallsBackToTheStatusAndAShortPlainBody) {
  EXPECT_EQ(httpErrorMessage(502, "Bad Gateway\r\nmore"),
            "Switchboard answered HTTP 502: Bad Gateway");
  EXPECT_EQ(httpErrorMessage(404, "<html><body>nope</body></html>"),
            "Switchboard answered HTTP 404");
  EXPECT_EQ(httpErrorMessage(500, ""), "Switchboard answered HTTP 500");
  EXPECT_EQ(httpErrorMessage(400, R"({"message":"x"})"), "Switchboard answered HTTP 400");
  EXPECT_EQ(httpErrorMessage(400, std::string(300, 'x')), "Switchboard answered HTTP 400");
}

TEST(HttpErrorMessageTest, ReplacesControlCharacters) {
  EXPECT_EQ(httpErrorMessage(400, R"({"error":"bad\u001b[2Jthing"})"), "bad?[2Jthing");
}

TEST(UrlForDisplayTest, HidesCredentials) {
  EXPECT_EQ(urlForDisplay("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(urlForDisplay("https://admin:pw@lb.example.com/x@y"), "https://***@lb.example.com/x@y");
  EXPECT_EQ(urlForDisplay("user@host:80"), "***@host:80");
  EXPECT_EQ(urlForDisplay("http://host/path?q=a@b"), "http://host/path?q=a@b");
}

TEST(RedactSecretsTest, RemovesSecretsAtAnyDepth) {
  json document = {{"secret", "s"},
                   {"servers", json::array({{{"id", "a"}, {"secret", "t"}}})},
                   {"server", {{"id", "b"}, {"secret", "u"}}}};
  redactSecrets(document);
  EXPECT_EQ(document, json({{"servers", json::array({{{"id", "a"}}})}, {"server", {{"id", "b"}}}}));
}

}  // namespace
}  // namespace sb::admin

#include "core/xml_text.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/strict_xml.h"

namespace sb {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(XmlSafeTextTest, KeepsValidTextAsIs) {
  const std::string text = "Raum 1 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 <&> \t\r\n";
  EXPECT_EQ(xmlSafeText(text), text);
}

TEST(XmlSafeTextTest, ReplacesControlCharactersAndBytesThatAreNotUtf8) {
  EXPECT_EQ(xmlSafeText("a\001b"), "a" + kFffd + "b");
  EXPECT_EQ(xmlSafeText(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(xmlSafeText("a\x7f"), "a\x7f");  // DEL is allowed in XML 1.0
  EXPECT_EQ(xmlSafeText("\377x"), kFffd + "x");
  EXPECT_EQ(xmlSafeText("\xC3"), kFffd);                          // cut off
  EXPECT_EQ(xmlSafeText("\xC0\xAF"), kFffd + kFffd);              // overlong
  EXPECT_EQ(xmlSafeText("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a UTF-16 surrogate
  EXPECT_EQ(xmlSafeText("\xEF\xBF\xBF"), kFffd);                  // U+FFFF
  EXPECT_EQ(xmlSafeText("&#1;"), "&#1;") << "text, not markup: the serialiser escapes '&'";
}

TEST(MakeXmlDocumentSafeTest, ReplacesForbiddenCharacterReferences) {
  std::string xml = "<a>&#1;&#x1F;&#0;&#xFFFE;&#xD800;&#1114112;&#9;&#65;&#x20AC;&amp;&#;</a>";
  EXPECT_TRUE(makeXmlDocumentSafe(xml));
  EXPECT_EQ(xml,
            "<a>&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;&#9;&#65;&#x20AC;&amp;&#;</a>");
  std::string clean = "<response><a x=\"&#65;\">\xC3\xA9</a></response>";
  EXPECT_FALSE(makeXmlDocumentSafe(clean));
}

TEST(MakeXmlDocumentSafeTest, EveryDocumentWithBadTextBecomesStrictlyValid) {
  std::string xml =
      std::string("<response><returncode>SUCCESS</returncode><meetingName>a\x01\x02") +
      "\xff\xfe&#2;&#x7;\xEF\xBF\xBE" + std::string("\0", 1) + "</meetingName></response>";
  EXPECT_NE(sbtest::strictXmlProblem(xml), "");
  makeXmlDocumentSafe(xml);
  EXPECT_EQ(sbtest::strictXmlProblem(xml), "") << xml;
}

TEST(XmlNestingDepthTest, CountsElementsNotOtherMarkup) {
  EXPECT_EQ(xmlNestingDepth("", 10), 0u);
  EXPECT_EQ(xmlNestingDepth("<a/>", 10), 0u);
  EXPECT_EQ(xmlNestingDepth("<?xml version=\"1.0\"?><a><b x='>'><c/></b><b></b></a>", 10), 2u);
  EXPECT_EQ(xmlNestingDepth("<a><!-- <b><c><d> --><![CDATA[<e><f>]]></a>", 10), 1u);
}

TEST(XmlNestingDepthTest, StopsPastTheLimit) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  EXPECT_EQ(xmlNestingDepth(deep, 64), 65u);
}

}  // namespace
}  // namespace sb

namespace sb {
namespace {

TEST(XmlElementNameTest, OnlyNamesBbbWebWouldPrint) {
  for (const char* ok : {"gl-listed", "bbb-origin", "_x", "a.b", "meetingName", "x1"}) {
    EXPECT_TRUE(isXmlElementName(ok)) << ok;
  }
  for (const char* bad : {"", "x[]", "1x", "-x", ".x", "a b", "a<b", "\xc3\xa9t\xc3\xa9"}) {
    EXPECT_FALSE(isXmlElementName(bad)) << bad;
  }
}

}  // namespace
}  // namespace sb

// What makes XML text safe to hand to a frontend: UTF-8 throughout, and only the characters
// XML 1.0 allows (a frontend's parser rejects the whole document over one control character,
// "reference to invalid character number"). Pure functions, linear in their input; no I/O.
// Used where Switchboard writes XML (router/xml_render) and where it passes on what a BBB server
// wrote (bbb/curl_bbb_client), so neither a client's nor a server's bytes make an answer
// unreadable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sb {

// `text` with every byte that is not part of valid UTF-8, and every character XML 1.0 does not
// allow (C0 controls but tab, LF and CR; U+FFFE, U+FFFF), replaced with U+FFFD. For text that
// becomes an element's content or an attribute value (escaping is the serialiser's job).
std::string xmlSafeText(std::string_view text);

// An XML document (a BBB answer) with its bytes made safe the same way as xmlSafeText, and its
// character references to characters XML 1.0 does not allow (`&#1;`, `&#xFFFF;`, `&#xD800;`)
// replaced with `&#xFFFD;` (pugixml writes a control character as such a reference, and a
// frontend's parser rejects it). Markup is left as it is. Returns whether anything changed.
bool makeXmlDocumentSafe(std::string& xml);

// Whether `name` can be an element name as bbb-web writes metadata: ASCII letters, digits, '_',
// '-' and '.', starting with a letter or '_'. A metadata key that is not (BBB echoes `meta_x[]`
// as `<x[]>`) must be left out of a document Switchboard writes.
bool isXmlElementName(std::string_view name);

// The deepest element nesting of an XML document, counted from its markup without building it
// (comments, CDATA, processing instructions and declarations are skipped); stops counting once
// past `limit` and returns limit + 1. Linear; for refusing a document before a parser builds it.
size_t xmlNestingDepth(std::string_view xml, size_t limit);

}  // namespace sb

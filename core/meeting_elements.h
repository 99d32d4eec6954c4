// The <meeting> elements of a getMeetings listing, found by their tags without an XML parser:
// what BBB sends inside <meetings>, and what the poller's snapshots and the router's listings hold
// (elements concatenated). Nesting is counted, since metadata may hold a <meeting> of its own
// (a create with meta_meeting=…). Pure functions on text; no I/O.
#pragma once

#include <functional>
#include <string_view>

namespace sb {

// Calls `each(element)` for every whole <meeting>…</meeting> element of `xml`, in order.
// Returns how many elements are cut off (an opening tag whose end never comes).
int forEachMeetingElement(std::string_view xml,
                          const std::function<void(std::string_view element)>& each);

// The text of an element's first <meetingID> (BBB writes it before any metadata); "" when none.
std::string_view meetingIdOf(std::string_view element);

}  // namespace sb

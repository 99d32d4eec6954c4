// The pure half of the admin CLI: turning admin API answers (JSON documents, see
// docs of the admin API and admin/README.md) into the tables and lines the commands print.
//
// Every function here is tolerant of what it reads: a missing field or a field of the wrong type
// reads as empty/zero and shows as "-" rather than failing, because a newer or older router may
// add or drop fields and the operator still wants to see the rest. No I/O, no exceptions except
// from the allocator. Thread-safety: free functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "admin/table.h"

namespace sb::admin {

// Field access on a JSON object: the value, or ""/0/false when `object` is not an object, the key
// is missing or the value has another type. Integers accept whole floats (3.0 reads as 3).
std::string stringField(const nlohmann::json& object, std::string_view key);
std::int64_t integerField(const nlohmann::json& object, std::string_view key);
double numberField(const nlohmann::json& object, std::string_view key);
bool boolField(const nlohmann::json& object, std::string_view key);

// "1 meeting", "0 meetings", "2 servers": English plural by appending "s".
std::string countOf(std::int64_t count, std::string_view noun);

// Loads and load multipliers: at most two decimals, at least one ("15.0", "3.25", "1.33").
std::string formatDecimal(double value);

// "2024-05-01T12:34:56Z" (UTC, whole seconds) from epoch milliseconds; "-" for 0 or less.
std::string formatIsoUtc(std::int64_t epochMs);

// The host shown for a server object: its "host" field, else the host of its "url", else "-".
std::string serverHostname(const nlohmann::json& server);

// `servers list`: ID, HOSTNAME, STATE, STATUS, MEETINGS, USERS, LOAD, MULTIPLIER, TAG, one row per
// element of the `servers` array, in the router's order.
Table serversTable(const nlohmann::json& servers);

// `status` (Scalelite's `rake status`): HOSTNAME, STATE, STATUS, MEETINGS, USERS,
// LARGEST MEETING, VIDEOS, LOAD, BBB VERSION, TAG, sorted by hostname (then id).
// An offline server's load shows as "unavailable", as Scalelite shows it.
Table statusTable(const nlohmann::json& servers);

// The line under the status table, from the answer's "totals" object (or, when a router sends
// none, summed from its "servers"): "Total: 3 servers (2 online), 12 meetings, 340 users,
// 25 videos, load 48.0".
std::string statusTotalsLine(const nlohmann::json& statusAnswer);
// The N+M line from the answer's "headroom" object ("" when the router sent none):
// "Headroom: can lose 1 server (the largest): yes, 2 servers left hold 1000 users; load 420".
std::string headroomLine(const nlohmann::json& statusAnswer);

// `meetings list`: MEETING ID, SERVER, HOSTNAME, CREATED, ORPHANED, one row per element of the
// `meetings` array.
Table meetingsTable(const nlohmann::json& meetings);
// `switchboard recordings list`: one row per recording of the admin API's list.
Table recordingsTable(const nlohmann::json& recordings);
// The failed imports of GET /recordings/failed: archive, attempts, last failure, next attempt,
// size, reason.
Table failedImportsTable(const nlohmann::json& failed);
// `recordings callbacks`: the callbacks waiting for delivery or given up.
Table callbacksTable(const nlohmann::json& callbacks);

// What `servers panic` prints for the answer {"server", "meetings_ended", "meetings_failed_over"}:
// "OK: ended 3 meetings", or with failover "OK: failed over 3 meetings" (plus ", ended N" when
// some could not be moved and were ended instead).
std::string panicSummary(const nlohmann::json& panicAnswer, bool failover);

// The message for a non-2xx answer: the "error" field of a JSON body, else
// "Switchboard answered HTTP <status>" with the first line of a short plain-text body.
// Control characters are replaced, so the message is safe to print on a terminal.
std::string httpErrorMessage(long httpStatus, std::string_view body);

// `url` with any user:password part replaced by "***" ("http://***@host:8080"), for messages.
std::string urlForDisplay(std::string_view url);

// Removes every "secret" member, at any depth. The admin API never returns secrets; this makes
// sure `--json` cannot print one even if a router did.
void redactSecrets(nlohmann::json& document);

}  // namespace sb::admin

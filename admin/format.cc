#include "admin/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/server.h"

namespace sb::admin {

namespace {

using nlohmann::json;

constexpr std::string_view kNone = "-";

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string orNone(std::string text) { return text.empty() ? std::string(kNone) : text; }

std::string onlineName(const json& server) {
  return boolField(server, "online") ? "online" : "offline";
}

// Scalelite shows no load for a server that is not polled healthy.
std::string loadCell(const json& server) {
  if (!boolField(server, "online")) return "unavailable";
  return formatDecimal(numberField(server, "load"));
}

std::string integerCell(const json& object, std::string_view key) {
  return std::to_string(integerField(object, key));
}

// Replaces control characters, so text from the network cannot drive the terminal.
std::string printable(std::string text) {
  for (char& c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return text;
}

const json& emptyArray() {
  static const json kEmpty = json::array();
  return kEmpty;
}

const json& arrayOrEmpty(const json& value) { return value.is_array() ? value : emptyArray(); }

}  // namespace

std::string stringField(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::int64_t integerField(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr) return 0;
  if (value->is_number_integer()) return value->get<std::int64_t>();
  if (value->is_number_float()) return std::llround(value->get<double>());
  return 0;
}

double numberField(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_number() ? value->get<double>() : 0.0;
}

bool boolField(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

std::string countOf(std::int64_t count, std::string_view noun) {
  std::string text = std::to_string(count) + " " + std::string(noun);
  if (count != 1) text += 's';
  return text;
}

std::string formatDecimal(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  std::string text = buffer;
  // Trim a trailing zero of the two decimals, keeping one: "15.00" -> "15.0", "3.50" -> "3.5".
  if (text.size() >= 2 && text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  if (text == "-0.0") text = "0.0";
  return text;
}

std::string formatIsoUtc(std::int64_t epochMs) {
  if (epochMs <= 0) return std::string(kNone);
  std::time_t seconds = static_cast<std::time_t>(epochMs / 1000);
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return std::string(kNone);
  char buffer[32];
  if (std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) {
    return std::string(kNone);
  }
  return buffer;
}

std::string serverHostname(const json& server) {
  std::string host = stringField(server, "host");
  if (host.empty()) {
    std::string url = stringField(server, "url");
    if (!url.empty()) host = serverHost(url);
  }
  return orNone(std::move(host));
}

Table serversTable(const json& servers) {
  Table table({{"ID"},
               {"HOSTNAME"},
               {"STATE"},
               {"STATUS"},
               {"MEETINGS", Align::kRight},
               {"USERS", Align::kRight},
               {"LOAD", Align::kRight},
               {"MULTIPLIER", Align::kRight},
               {"TAG"}});
  for (const json& server : arrayOrEmpty(servers)) {
    table.addRow({orNone(stringField(server, "id")), serverHostname(server),
                  orNone(stringField(server, "state")), onlineName(server),
                  integerCell(server, "meetings"), integerCell(server, "users"), loadCell(server),
                  formatDecimal(numberField(server, "load_multiplier")),
                  stringField(server, "tag")});
  }
  return table;
}

Table statusTable(const json& servers) {
  struct Row {
    std::string hostname;
    std::string id;
    const json* server;
  };
  std::vector<Row> rows;
  for (const json& server : arrayOrEmpty(servers)) {
    rows.push_back({serverHostname(server), stringField(server, "id"), &server});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.hostname, a.id) < std::tie(b.hostname, b.id);
  });

  Table table({{"HOSTNAME"},
               {"STATE"},
               {"STATUS"},
               {"MEETINGS", Align::kRight},
               {"USERS", Align::kRight},
               {"LARGEST MEETING", Align::kRight},
               {"VIDEOS", Align::kRight},
               {"LOAD", Align::kRight},
               {"BBB VERSION"},
               {"TAG"}});
  for (const Row& row : rows) {
    const json& server = *row.server;
    table.addRow({row.hostname, orNone(stringField(server, "state")), onlineName(server),
                  integerCell(server, "meetings"), integerCell(server, "users"),
                  integerCell(server, "largest_meeting"), integerCell(server, "videos"),
                  loadCell(server), orNone(stringField(server, "bbb_version")),
                  stringField(server, "tag")});
  }
  return table;
}

std::string statusTotalsLine(const json& statusAnswer) {
  std::int64_t servers = 0, online = 0, meetings = 0, users = 0, videos = 0;
  double load = 0;
  if (const json* totals = member(statusAnswer, "totals"); totals && totals->is_object()) {
    servers = integerField(*totals, "servers");
    online = integerField(*totals, "online");
    meetings = integerField(*totals, "meetings");
    users = integerField(*totals, "users");
    videos = integerField(*totals, "videos");
    load = numberField(*totals, "load");
  } else if (const json* list = member(statusAnswer, "servers")) {
    for (const json& server : arrayOrEmpty(*list)) {
      ++servers;
      meetings += integerField(server, "meetings");
      users += integerField(server, "users");
      videos += integerField(server, "videos");
      if (boolField(server, "online")) {
        ++online;
        load += numberField(server, "load");
      }
    }
  }
  return "Total: " + countOf(servers, "server") + " (" + std::to_string(online) + " online), " +
         countOf(meetings, "meeting") + ", " + countOf(users, "user") + ", " +
         countOf(videos, "video") + ", load " + formatDecimal(load);
}

std::string headroomLine(const json& statusAnswer) {
  const json* h = member(statusAnswer, "headroom");
  if (h == nullptr || !h->is_object()) return "";
  std::int64_t survive = integerField(*h, "survive");
  std::int64_t left = integerField(*h, "servers_left");
  std::int64_t capacityLeft = integerField(*h, "capacity_left");
  std::int64_t load = integerField(*h, "load");
  std::string lose = "Headroom: can lose " + countOf(survive, "server") + " (the largest): ";
  if (left == 0) {
    return lose + "NO, no server would be left (" + countOf(integerField(*h, "servers"), "server") +
           " serving)";
  }
  std::string verdict = boolField(*h, "holds") ? "yes" : "NO";
  std::string percent =
      capacityLeft > 0 ? " (" + std::to_string(load * 100 / capacityLeft) + "% of it)" : "";
  return lose + verdict + ", " + countOf(left, "server") + " left hold " +
         countOf(capacityLeft, "user") + "; current load " + countOf(load, "user") + percent;
}

Table meetingsTable(const json& meetings) {
  Table table({{"MEETING ID"}, {"SERVER"}, {"HOSTNAME"}, {"CREATED"}, {"ORPHANED"}});
  for (const json& meeting : arrayOrEmpty(meetings)) {
    table.addRow({orNone(stringField(meeting, "id")), orNone(stringField(meeting, "server_id")),
                  orNone(stringField(meeting, "server_host")),
                  formatIsoUtc(integerField(meeting, "created_at_ms")),
                  boolField(meeting, "orphaned") ? "yes" : "no"});
  }
  return table;
}

Table recordingsTable(const json& recordings) {
  Table table({{"RECORD ID"}, {"MEETING ID"}, {"NAME"}, {"STATE"}, {"STARTED"}, {"FORMATS"}});
  for (const json& r : arrayOrEmpty(recordings)) {
    std::string formats;
    const json types = r.is_object() ? r.value("formats", json::array()) : json::array();
    for (const json& f : arrayOrEmpty(types)) {
      formats += (formats.empty() ? "" : ",") + stringField(f, "type");
    }
    table.addRow({orNone(stringField(r, "id")), orNone(stringField(r, "meeting_id")),
                  orNone(stringField(r, "name")), orNone(stringField(r, "state")),
                  formatIsoUtc(integerField(r, "start_time_ms")), orNone(formats)});
  }
  return table;
}

Table failedImportsTable(const json& failed) {
  Table table({{"ARCHIVE"},
               {"ATTEMPTS", Align::kRight},
               {"LAST FAILED"},
               {"NEXT ATTEMPT"},
               {"SIZE", Align::kRight},
               {"REASON"}});
  for (const json& f : arrayOrEmpty(failed)) {
    table.addRow({orNone(stringField(f, "archive")), std::to_string(integerField(f, "attempts")),
                  formatIsoUtc(integerField(f, "last_failed_ms")),
                  formatIsoUtc(integerField(f, "next_attempt_ms")),
                  std::to_string(integerField(f, "size")), orNone(stringField(f, "reason"))});
  }
  return table;
}

Table callbacksTable(const json& callbacks) {
  Table table({{"KIND"},
               {"MEETING"},
               {"RECORDING"},
               {"URL"},
               {"ATTEMPTS", Align::kRight},
               {"NEXT ATTEMPT"},
               {"LAST ERROR"}});
  for (const json& c : arrayOrEmpty(callbacks)) {
    const bool givenUp = c.is_object() && c.value("given_up", false);
    table.addRow({orNone(stringField(c, "kind")), orNone(stringField(c, "meeting_id")),
                  orNone(stringField(c, "record_id")), orNone(stringField(c, "url")),
                  std::to_string(integerField(c, "attempts")),
                  givenUp ? "given up" : formatIsoUtc(integerField(c, "next_attempt_ms")),
                  orNone(stringField(c, "last_error"))});
  }
  return table;
}

std::string panicSummary(const json& panicAnswer, bool failover) {
  std::int64_t ended = integerField(panicAnswer, "meetings_ended");
  if (!failover) return "OK: ended " + countOf(ended, "meeting");
  std::string line =
      "OK: failed over " + countOf(integerField(panicAnswer, "meetings_failed_over"), "meeting");
  if (ended > 0) line += ", ended " + std::to_string(ended);
  return line;
}

std::string httpErrorMessage(long httpStatus, std::string_view body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (std::string message = stringField(parsed, "error"); !message.empty()) {
    return printable(std::move(message));
  }
  std::string message = "Switchboard answered HTTP " + std::to_string(httpStatus);
  // A short plain-text body usually says why (a proxy's "Bad Gateway"); an HTML page does not.
  std::string_view firstLine = body.substr(0, body.find('\n'));
  while (!firstLine.empty() && (firstLine.back() == '\r' || firstLine.back() == ' ')) {
    firstLine.remove_suffix(1);
  }
  constexpr std::size_t kMaxQuoted = 200;
  if (!firstLine.empty() && firstLine.size() <= kMaxQuoted &&
      firstLine.find('<') == std::string_view::npos && parsed.is_discarded()) {
    message += ": " + printable(std::string(firstLine));
  }
  return message;
}

std::string urlForDisplay(std::string_view url) {
  std::size_t authority = url.find("://");
  authority = authority == std::string_view::npos ? 0 : authority + 3;
  std::size_t authorityEnd = url.find_first_of("/?#", authority);
  std::size_t at = url.substr(0, authorityEnd).rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  return std::string(url.substr(0, authority)) + "***" + std::string(url.substr(at));
}

void redactSecrets(json& document) {
  if (document.is_object()) {
    document.erase("secret");
  }
  if (document.is_structured()) {
    for (json& element : document) redactSecrets(element);  // an object's values, or elements
  }
}

}  // namespace sb::admin

#include "db/pg_recording_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <pqxx/result>

namespace sb {
namespace {

using nlohmann::json;

json textTracksOf(const Recording& r) {
  json tracks = json::array();
  for (const auto& t : r.textTracks) {
    tracks.push_back(
        {{"kind", t.kind}, {"lang", t.lang}, {"label", t.label}, {"source", t.source}});
  }
  return tracks;
}

// The document of a recording as stored in `doc` (its own format: field names are ours).
json documentOf(const Recording& r) {
  json formats = json::array();
  for (const auto& f : r.formats) {
    json previews = json::array();
    for (const auto& i : f.previews) {
      previews.push_back(
          {{"url", i.url}, {"alt", i.alt}, {"width", i.width}, {"height", i.height}});
    }
    formats.push_back({{"type", f.type},
                       {"url", f.url},
                       {"processing_time_ms", f.processingTimeMs},
                       {"length_minutes", f.lengthMinutes},
                       {"size", f.size},
                       {"previews", previews}});
  }
  json metadata = json::array();
  for (const auto& [k, v] : r.metadata) metadata.push_back(json::array({k, v}));
  json doc = {{"record_id", r.recordId},
              {"meeting_id", r.meetingId},
              {"internal_meeting_id", r.internalMeetingId},
              {"name", r.name},
              {"state", recordingStateName(r.state)},
              {"is_breakout", r.isBreakout},
              {"parent_meeting_id", r.parentMeetingId},
              {"breakout_rooms", r.breakoutRooms},
              {"start_time_ms", r.startTimeMs},
              {"end_time_ms", r.endTimeMs},
              {"raw_size", r.rawSize},
              {"metadata", metadata},
              {"formats", formats},
              {"tenant", r.tenant},
              {"protected", r.isProtected},
              {"text_tracks", textTracksOf(r)}};
  if (r.participants) doc["participants"] = *r.participants;
  return doc;
}

Recording recordingOf(const json& doc) {
  Recording r;
  r.recordId = doc.value("record_id", "");
  r.meetingId = doc.value("meeting_id", "");
  r.internalMeetingId = doc.value("internal_meeting_id", "");
  r.name = doc.value("name", "");
  r.state =
      parseRecordingState(doc.value("state", "published")).value_or(RecordingState::kPublished);
  r.isBreakout = doc.value("is_breakout", false);
  r.parentMeetingId = doc.value("parent_meeting_id", "");
  r.breakoutRooms = doc.value("breakout_rooms", std::vector<std::string>{});
  r.startTimeMs = doc.value("start_time_ms", int64_t{0});
  r.endTimeMs = doc.value("end_time_ms", int64_t{0});
  r.rawSize = doc.value("raw_size", int64_t{0});
  if (doc.contains("participants")) r.participants = doc["participants"].get<int>();
  for (const auto& kv : doc.value("metadata", json::array())) {
    r.metadata.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
  }
  for (const auto& f : doc.value("formats", json::array())) {
    PlaybackFormat format;
    format.type = f.value("type", "");
    format.url = f.value("url", "");
    format.processingTimeMs = f.value("processing_time_ms", int64_t{0});
    format.lengthMinutes = f.value("length_minutes", int64_t{0});
    format.size = f.value("size", int64_t{0});
    for (const auto& i : f.value("previews", json::array())) {
      format.previews.push_back(
          {i.value("url", ""), i.value("alt", ""), i.value("width", 0), i.value("height", 0)});
    }
    r.formats.push_back(std::move(format));
  }
  r.tenant = doc.value("tenant", "");
  r.isProtected = doc.value("protected", false);
  for (const auto& t : doc.value("text_tracks", json::array())) {
    r.textTracks.push_back(TextTrack{t.value("kind", ""), t.value("lang", ""), t.value("label", ""),
                                     t.value("source", "upload")});
  }
  return r;
}

// The metadata as an object, for meta_ filters (keys are unique).
json metaObjectOf(const Recording& r) {
  json meta = json::object();
  for (const auto& [k, v] : r.metadata) meta[k] = v;
  return meta;
}

// getRecordings' filter as the JSON object SB_PG_RECORDING_FILTER reads.
json filterOf(const RecordingQuery& q) {
  json states = json::array();
  for (RecordingState s : q.states) states.push_back(recordingStateName(s));
  json all = json::object(), any = json::object();
  for (const auto& [key, values] : q.meta) {
    if (values.size() == 1) {
      all[key] = values.front();
    } else {
      any[key] = values;
    }
  }
  return {{"states", states},
          {"prefixes", q.recordIdPrefixes},
          {"meetings", q.meetingIds},
          {"meta_all", all},
          {"meta_any", any}};
}

// Text the JSON encoder can write: invalid UTF-8 is replaced (a client's bytes must not make a
// put fail on the encoder).
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

Status PgRecordingStore::put(const Recording& r) {
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Status {
    pg_.exec(txn, pgsql::kPutRecording, r.recordId, r.tenant, r.meetingId, r.internalMeetingId,
             std::string(recordingStateName(r.state)), r.startTimeMs, dump(metaObjectOf(r)),
             dump(documentOf(r)));
    return Status::Ok();
  });
}

Result<std::vector<Recording>> PgRecordingStore::findExact(std::span<const std::string> recordIds,
                                                           std::string_view tenant) {
  json ids = json::array();
  for (const auto& id : recordIds) ids.push_back(id);
  return pg_.autocommit([&](pqxx::nontransaction& txn) -> Result<std::vector<Recording>> {
    std::vector<Recording> found;
    for (const auto& row : pg_.exec(txn, pgsql::kFindRecordings, std::string(tenant), dump(ids))) {
      found.push_back(recordingOf(json::parse(row[0].c_str())));
    }
    return found;
  });
}

Result<RecordingPage> PgRecordingStore::query(const RecordingQuery& q) {
  if (q.nothing) return RecordingPage{};
  const std::string filter = dump(filterOf(q));
  // OFFSET and LIMIT are bigint: a client's offset past its range (any digits are accepted) is
  // clamped, not wrapped to a negative number PostgreSQL refuses.
  constexpr size_t kMax = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  const int64_t offset = static_cast<int64_t>(std::min(q.offset, kMax));
  const int64_t limit = static_cast<int64_t>(std::min(q.limit.value_or(kMax), kMax));
  // One transaction: the total and the page see the same rows.
  return pg_.transact([&](pqxx::work& txn) -> Result<RecordingPage> {
    RecordingPage page;
    const bool byMeeting = !q.meetingIds.empty();
    const auto& count = byMeeting ? pgsql::kCountRecordingsOfMeetings : pgsql::kCountRecordings;
    const auto& select = byMeeting ? pgsql::kQueryRecordingsOfMeetings : pgsql::kQueryRecordings;
    auto rows = pg_.exec(txn, select, q.tenant, filter, offset, limit);
    for (const auto& row : rows) {
      page.recordings.push_back(recordingOf(json::parse(row[0].c_str())));
    }
    page.total = rows.empty() ? pg_.exec(txn, count, q.tenant, filter)[0][0].as<size_t>()
                              : rows[0][1].as<size_t>();
    return page;
  });
}

}  // namespace sb

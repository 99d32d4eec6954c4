// Every SQL statement the PostgreSQL adapters run, in one place (the schema is in migrations/).
// Values are always bound parameters ($1, $2, ...), never spliced into the text.
// The SELECTs of servers and meetings return the columns in the order of SB_PG_SERVER_COLUMNS /
// SB_PG_MEETING_COLUMNS below; db/pg_store.cc reads rows by those positions.
#pragma once

#include <cstdint>

namespace sb::pgsql {

// A statement of the stores: run as a prepared statement of each connection under `name` (parsed
// and planned once per connection), or by its text when prepared statements are off (a
// transaction-pooling PgBouncer before 1.21). See PgConnection::exec.
struct Statement {
  const char* name;
  const char* sql;
};

// ---- servers ------------------------------------------------------------------------------------

#define SB_PG_SERVER_COLUMNS                                                              \
  "id, url, secret, tag, state, load_multiplier, max_users, max_meetings, online, load, " \
  "meetings, users, largest_meeting, videos, voices, bbb_version, healthy_count, "        \
  "unhealthy_count, last_poll_ms, poll_latency_ms, last_error, ws_url, wss_url, "         \
  "max_connections, remove_when_drained, added_by_operator"

inline constexpr Statement kListServers{"list_servers",
                                        "SELECT " SB_PG_SERVER_COLUMNS " FROM servers ORDER BY id"};

inline constexpr Statement kGetServer{"get_server",
                                      "SELECT " SB_PG_SERVER_COLUMNS " FROM servers WHERE id = $1"};

// Conflicts on the id or the url insert nothing (no row returned).
inline constexpr Statement kInsertServer{
    "insert_server",
    "INSERT INTO servers (" SB_PG_SERVER_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20, $21, $22, $23, $24, $25, $26) ON CONFLICT DO NOTHING RETURNING id"};

// Why an insert conflicted: the rows holding the id or the url.
inline constexpr Statement kServersWithIdOrUrl{
    "servers_with_id_or_url", "SELECT id, url FROM servers WHERE id = $1 OR url = $2"};

// Locks the row for the rest of the transaction (updateServer checks, then writes).
inline constexpr Statement kLockServer{"lock_server",
                                       "SELECT 1 FROM servers WHERE id = $1 FOR UPDATE"};

inline constexpr Statement kOtherServerWithUrl{
    "other_server_with_url", "SELECT id FROM servers WHERE url = $2 AND id <> $1 LIMIT 1"};

inline constexpr Statement kUpdateServerInventory{
    "update_server_inventory",
    "UPDATE servers SET url = $2, secret = $3, tag = $4, state = $5, load_multiplier = $6, "
    "max_users = $7, max_meetings = $8, ws_url = $9, wss_url = $10, max_connections = $11, "
    "remove_when_drained = $12, added_by_operator = $13, updated_at = now() WHERE id = $1"};

inline constexpr Statement kDeleteServer{"delete_server", "DELETE FROM servers WHERE id = $1"};

inline constexpr Statement kServerExists{"server_exists", "SELECT 1 FROM servers WHERE id = $1"};

// One statement: the row lock makes concurrent calls serialise, and the WHERE is re-checked on
// the latest row version, so exactly one of several racing identical swaps reports a change.
inline constexpr Statement kCompareAndSetState{
    "compare_and_set_state",
    "UPDATE servers SET state = $3, updated_at = now() WHERE id = $1 AND state = $2"};

inline constexpr Statement kUpdateLiveState{
    "update_live_state",
    "UPDATE servers SET online = $2, load = $3, meetings = $4, users = $5, largest_meeting = $6, "
    "videos = $7, voices = $8, bbb_version = $9, healthy_count = $10, unhealthy_count = $11, "
    "last_poll_ms = $12, poll_latency_ms = $13, last_error = $14, live_updated_at = now() "
    "WHERE id = $1"};

// One statement: read-modify-write under the row lock, so concurrent reservations add up.
inline constexpr Statement kReserve{
    "reserve",
    "UPDATE servers SET load = GREATEST(0, load + $2::double precision), "
    "meetings = GREATEST(0, meetings + $3::integer), live_updated_at = now() WHERE id = $1"};

// ---- meetings -----------------------------------------------------------------------------------

#define SB_PG_MEETING_COLUMNS                                                        \
  "id, server_id, moderator_pw, tenant, created_at_ms, create_params, create_body, " \
  "server_tag_request, size_hint, orphaned"

inline constexpr Statement kFindMeeting{
    "find_meeting", "SELECT " SB_PG_MEETING_COLUMNS " FROM meetings WHERE id = $1"};

// A claim's conflict: an orphaned holder of the id is replaced, a live one is left alone; the
// row is returned exactly when the claim won.
#define SB_PG_MEETING_CLAIM_CONFLICT                                                       \
  "ON CONFLICT (id) DO UPDATE SET server_id = EXCLUDED.server_id, "                        \
  "moderator_pw = EXCLUDED.moderator_pw, tenant = EXCLUDED.tenant, "                       \
  "created_at_ms = EXCLUDED.created_at_ms, create_params = EXCLUDED.create_params, "       \
  "create_body = EXCLUDED.create_body, server_tag_request = EXCLUDED.server_tag_request, " \
  "size_hint = EXCLUDED.size_hint, orphaned = EXCLUDED.orphaned, updated_at = now() "      \
  "WHERE meetings.orphaned RETURNING id"

// The claim, one atomic statement: inserts the meeting, or replaces an orphaned holder of the id;
// a live holder is left alone. Returns a row exactly when this claim won.
inline constexpr Statement kClaimMeeting{
    "claim_meeting",
    "INSERT INTO meetings (" SB_PG_MEETING_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10) " SB_PG_MEETING_CLAIM_CONFLICT};

// The claims of several meetings (distinct ids) in one statement, each row as by kClaimMeeting.
// $1 is a JSON array of objects with the meeting columns as keys, create_params a JSON array and
// create_body base64. Returns the ids whose claim won. Rows conflict (and lock) in the order of
// the array: callers sort it by id, so concurrent batches cannot deadlock on each other's rows.
inline constexpr Statement kClaimMeetings{
    "claim_meetings",
    "INSERT INTO meetings (" SB_PG_MEETING_COLUMNS
    ") SELECT m.id, m.server_id, m.moderator_pw, m.tenant, m.created_at_ms, m.create_params, "
    "decode(m.create_body, 'base64'), m.server_tag_request, m.size_hint, m.orphaned "
    "FROM jsonb_to_recordset($1::jsonb) AS m(id text, server_id text, moderator_pw text, "
    "tenant text, created_at_ms bigint, create_params jsonb, create_body text, "
    "server_tag_request text, size_hint integer, orphaned boolean) " SB_PG_MEETING_CLAIM_CONFLICT};

// $2 = '' removes whatever server the meeting is on.
inline constexpr Statement kRemoveMeeting{
    "remove_meeting",
    "DELETE FROM meetings WHERE id = $1 AND ($2::text = '' OR server_id = $2::text)"};

// Locks the rows in id order first, as claim batches do (kClaimMeetings), so the two never
// deadlock on each other's rows.
inline constexpr Statement kOrphanMeetingsOf{
    "orphan_meetings_of",
    "UPDATE meetings SET orphaned = true, updated_at = now() "
    "WHERE id IN (SELECT id FROM meetings WHERE server_id = $1 AND NOT orphaned "
    "ORDER BY id FOR UPDATE) AND server_id = $1 AND NOT orphaned"};

inline constexpr Statement kListMeetings{
    "list_meetings", "SELECT " SB_PG_MEETING_COLUMNS " FROM meetings ORDER BY id"};

inline constexpr Statement kListMeetingsOf{"list_meetings_of",
                                           "SELECT " SB_PG_MEETING_COLUMNS
                                           " FROM meetings WHERE server_id = $1 ORDER BY id"};

// Column positions: db/pg_store.cc placedMeetingFromRow.
inline constexpr Statement kListPlacedMeetings{
    "list_placed_meetings",
    "SELECT id, server_id, created_at_ms, size_hint, orphaned FROM meetings ORDER BY id"};

// Every Statement above: prepared on each new connection (lazily: libpqxx sends the definition
// with its first use). A statement missing here fails its first call with prepared statements
// on; the PostgreSQL store tests run every statement that way. Names must be unique (unit test).
// ---- leases ---------------------------------------------------------------------------------

// Takes the lease $1 for holder $2 for $3 ms when it is free, expired or already $2's; returns a
// row only then.
inline constexpr Statement kAcquireLease{
    "acquire_lease",
    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 ms') "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
    "WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now() RETURNING holder"};

inline constexpr Statement kReleaseLease{"release_lease",
                                         "DELETE FROM leases WHERE name = $1 AND holder = $2"};

// ---- recordings ---------------------------------------------------------------------------------

inline constexpr Statement kPutRecording{
    "put_recording",
    "INSERT INTO recordings (record_id, tenant, meeting_id, internal_meeting_id, state, "
    "start_time_ms, meta, doc) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb) "
    "ON CONFLICT (record_id) DO UPDATE SET tenant = EXCLUDED.tenant, "
    "meeting_id = EXCLUDED.meeting_id, internal_meeting_id = EXCLUDED.internal_meeting_id, "
    "state = EXCLUDED.state, start_time_ms = EXCLUDED.start_time_ms, meta = EXCLUDED.meta, "
    "doc = EXCLUDED.doc, updated_at = now()"};

// $1: the tenant ('*': any, RecordingStore::kAnyTenant); $2: a JSON array of record IDs.
inline constexpr Statement kFindRecordings{
    "find_recordings",
    "SELECT doc FROM recordings WHERE ($1 = '*' OR tenant = $1) AND record_id IN "
    "(SELECT jsonb_array_elements_text($2::jsonb))"};

// getRecordings' filter (core's RecordingQuery::matches, in SQL): $1 the tenant, $2 a JSON
// object {"states": [...], "prefixes": [...], "meetings": [...], "meta_all": {key: value},
// "meta_any": {key: [values]}}; an empty list does not filter; a meta_ key with one value is in
// meta_all (one containment test, which the GIN index answers), one with several in meta_any.
// Asked for meetings, the rows come from the two meeting indexes (= ANY of an array computed once,
// so the planner can use them; an OR with "no meetings asked" could not), else from the tenant's
// newest-first index.
#define SB_PG_RECORDING_FILTER_REST                                                               \
  " AND (jsonb_array_length($2::jsonb->'states') = 0 OR state IN "                                \
  "(SELECT jsonb_array_elements_text($2::jsonb->'states')))"                                      \
  " AND (jsonb_array_length($2::jsonb->'prefixes') = 0 OR EXISTS (SELECT 1 FROM "                 \
  "jsonb_array_elements_text($2::jsonb->'prefixes') p WHERE starts_with(record_id, p)))"          \
  " AND meta @> ($2::jsonb->'meta_all')"                                                          \
  " AND NOT EXISTS (SELECT 1 FROM jsonb_each($2::jsonb->'meta_any') f WHERE (meta ->> f.key) IS " \
  "NULL OR NOT (f.value ? (meta ->> f.key)))"
#define SB_PG_RECORDING_FILTER " FROM recordings WHERE tenant = $1" SB_PG_RECORDING_FILTER_REST
#define SB_PG_RECORDING_FILTER_BY_MEETING                                                  \
  " FROM recordings WHERE tenant = $1 AND (meeting_id = ANY(ARRAY(SELECT "                 \
  "jsonb_array_elements_text($2::jsonb->'meetings'))) OR internal_meeting_id = ANY(ARRAY(" \
  "SELECT jsonb_array_elements_text($2::jsonb->'meetings'))))" SB_PG_RECORDING_FILTER_REST

inline constexpr Statement kCountRecordings{"count_recordings",
                                            "SELECT count(*)" SB_PG_RECORDING_FILTER};

// Newest first, then by record ID (core's newerRecordingFirst). $3 offset, $4 limit (NULL: all).
// Each row carries the count of every match (one scan for the page and its total; a page past
// the end has no row, and kCountRecordings tells the total then).
inline constexpr Statement kQueryRecordings{
    "query_recordings", "SELECT doc, count(*) OVER ()" SB_PG_RECORDING_FILTER
                        " ORDER BY start_time_ms DESC, record_id OFFSET $3 LIMIT $4"};

inline constexpr Statement kCountRecordingsOfMeetings{
    "count_recordings_of_meetings", "SELECT count(*)" SB_PG_RECORDING_FILTER_BY_MEETING};

inline constexpr Statement kQueryRecordingsOfMeetings{
    "query_recordings_of_meetings", "SELECT doc, count(*) OVER ()" SB_PG_RECORDING_FILTER_BY_MEETING
                                    " ORDER BY start_time_ms DESC, record_id OFFSET $3 LIMIT $4"};

#undef SB_PG_RECORDING_FILTER_REST
#undef SB_PG_RECORDING_FILTER_BY_MEETING
#undef SB_PG_RECORDING_FILTER

// ---- pending callbacks
// ----------------------------------------------------------------------------

#define SB_PG_CALLBACK_COLUMNS                                                                 \
  "id, kind, tenant, record_id, meeting_id, url, secret_id, body, attempts, next_attempt_ms, " \
  "last_error, given_up"

inline constexpr Statement kAddCallback{
    "add_callback",
    "INSERT INTO pending_callbacks (" SB_PG_CALLBACK_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
    "ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, tenant = EXCLUDED.tenant, "
    "record_id = EXCLUDED.record_id, meeting_id = EXCLUDED.meeting_id, url = EXCLUDED.url, "
    "secret_id = EXCLUDED.secret_id, body = EXCLUDED.body, attempts = EXCLUDED.attempts, "
    "next_attempt_ms = EXCLUDED.next_attempt_ms, last_error = EXCLUDED.last_error, "
    "given_up = EXCLUDED.given_up, held_until_ms = 0"};

// $1 now, $2 held until (Unix ms). SKIP LOCKED: relays racing for the same row take different
// ones instead of waiting for each other.
inline constexpr Statement kClaimCallback{
    "claim_callback",
    "UPDATE pending_callbacks SET held_until_ms = $2 WHERE id = (SELECT id FROM pending_callbacks "
    "WHERE NOT given_up AND next_attempt_ms <= $1 AND held_until_ms <= $1 "
    "ORDER BY next_attempt_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING " SB_PG_CALLBACK_COLUMNS};

inline constexpr Statement kSettleCallback{"settle_callback",
                                           "DELETE FROM pending_callbacks WHERE id = $1"};

inline constexpr Statement kRescheduleCallback{
    "reschedule_callback",
    "UPDATE pending_callbacks SET attempts = $2, next_attempt_ms = $3, last_error = $4, "
    "given_up = $5, held_until_ms = 0 WHERE id = $1"};

inline constexpr Statement kListCallbacks{"list_callbacks",
                                          "SELECT " SB_PG_CALLBACK_COLUMNS
                                          " FROM pending_callbacks "
                                          "ORDER BY record_id COLLATE \"C\", id COLLATE \"C\""};

inline constexpr Statement kRetryCallbacks{
    "retry_callbacks",
    "WITH retried AS (UPDATE pending_callbacks SET next_attempt_ms = 0, held_until_ms = 0, "
    "attempts = CASE WHEN given_up THEN 0 ELSE attempts END, given_up = false RETURNING 1) "
    "SELECT count(*) FROM retried"};

// ---- tenants (migrations/0007_tenants.sql): each row's JSON form -------------------------------

inline constexpr Statement kListTenants{
    "list_tenants", "SELECT tenant::text FROM tenants ORDER BY name COLLATE \"C\""};
inline constexpr Statement kFindTenant{"find_tenant",
                                       "SELECT tenant::text FROM tenants WHERE name = $1"};
inline constexpr Statement kAddTenant{
    "add_tenant",
    "INSERT INTO tenants (name, tenant) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING "
    "RETURNING name"};
inline constexpr Statement kUpdateTenant{
    "update_tenant",
    "UPDATE tenants SET tenant = $2::jsonb, updated_at = now() WHERE name = $1 RETURNING name"};
inline constexpr Statement kRemoveTenant{"remove_tenant",
                                         "DELETE FROM tenants WHERE name = $1 RETURNING name"};

#undef SB_PG_CALLBACK_COLUMNS

inline constexpr const Statement* kStoreStatements[] = {&kListServers,
                                                        &kGetServer,
                                                        &kInsertServer,
                                                        &kServersWithIdOrUrl,
                                                        &kLockServer,
                                                        &kOtherServerWithUrl,
                                                        &kUpdateServerInventory,
                                                        &kDeleteServer,
                                                        &kServerExists,
                                                        &kCompareAndSetState,
                                                        &kUpdateLiveState,
                                                        &kReserve,
                                                        &kFindMeeting,
                                                        &kClaimMeeting,
                                                        &kClaimMeetings,
                                                        &kRemoveMeeting,
                                                        &kOrphanMeetingsOf,
                                                        &kListMeetings,
                                                        &kListMeetingsOf,
                                                        &kListPlacedMeetings,
                                                        &kAcquireLease,
                                                        &kReleaseLease,
                                                        &kPutRecording,
                                                        &kFindRecordings,
                                                        &kCountRecordings,
                                                        &kQueryRecordings,
                                                        &kCountRecordingsOfMeetings,
                                                        &kQueryRecordingsOfMeetings,
                                                        &kAddCallback,
                                                        &kClaimCallback,
                                                        &kSettleCallback,
                                                        &kRescheduleCallback,
                                                        &kListCallbacks,
                                                        &kRetryCallbacks,
                                                        &kListTenants,
                                                        &kFindTenant,
                                                        &kAddTenant,
                                                        &kUpdateTenant,
                                                        &kRemoveTenant};

#undef SB_PG_SERVER_COLUMNS
#undef SB_PG_MEETING_COLUMNS
#undef SB_PG_MEETING_CLAIM_CONFLICT

// ---- connection and health ----------------------------------------------------------------------

// Applied on every new connection (pqxx's set_variable, which it also restores if it reconnects).
inline constexpr char kStatementTimeoutVariable[] = "statement_timeout";

inline constexpr char kPing[] = "SELECT 1";

// ---- migrations ---------------------------------------------------------------------------------

// The key of the advisory lock that serialises `switchboard migrate` runs ("SwBoMigr").
inline constexpr int64_t kMigrationLockKey = 0x5377426f4d696772;

// Migrations may run longer than the adapters' statement timeout; LOCAL ends with the transaction.
inline constexpr char kNoStatementTimeoutInTransaction[] = "SET LOCAL statement_timeout = 0";

// Held until the transaction ends: one migration step at a time across all processes.
inline constexpr char kLockMigrations[] = "SELECT pg_advisory_xact_lock($1)";

inline constexpr char kCreateSchemaMigrations[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())";

// Whether schema_migrations exists, without creating it (status() only reads).
inline constexpr char kSchemaMigrationsExists[] =
    "SELECT to_regclass('schema_migrations') IS NOT NULL";

inline constexpr char kAppliedMigrations[] = "SELECT version FROM schema_migrations";

inline constexpr char kRecordMigration[] = "INSERT INTO schema_migrations (version) VALUES ($1)";

}  // namespace sb::pgsql

-- 0005: recordings (issue 19). One row per recording: the columns getRecordings filters and
-- orders by, `meta` (the metadata as an object, for meta_ filters) and `doc`, the whole recording
-- as db/pg_recording_store.cc writes it (formats, preview images, metadata in BBB's order,
-- breakout rooms). A re-import of a record ID replaces its row.

CREATE TABLE recordings (
  record_id           text PRIMARY KEY,
  tenant              text NOT NULL DEFAULT '',
  meeting_id          text NOT NULL,
  internal_meeting_id text NOT NULL,
  state               text NOT NULL,
  start_time_ms       bigint NOT NULL,
  meta                jsonb NOT NULL DEFAULT '{}'::jsonb,
  doc                 jsonb NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recordings_by_meeting ON recordings (tenant, meeting_id);
CREATE INDEX recordings_by_internal_meeting ON recordings (tenant, internal_meeting_id);
CREATE INDEX recordings_newest_first ON recordings (tenant, start_time_ms DESC, record_id);
CREATE INDEX recordings_by_record_prefix ON recordings (record_id text_pattern_ops);
CREATE INDEX recordings_by_meta ON recordings USING gin (meta);

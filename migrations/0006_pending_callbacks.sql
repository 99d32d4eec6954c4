-- 0006: callbacks to frontends waiting for delivery (issue 19): recording-ready after an import,
-- analytics posts relayed from BBB servers. Any router or importer delivers them
-- (importer/callback_relay.h); a relay holds a row while it tries it (held_until_ms, Unix ms, so a
-- relay that dies mid-attempt lets go), and a given-up row waits for an operator's retry.

CREATE TABLE pending_callbacks (
  id              text PRIMARY KEY,
  kind            text NOT NULL,
  tenant          text NOT NULL DEFAULT '',
  record_id       text NOT NULL DEFAULT '',
  meeting_id      text NOT NULL DEFAULT '',
  url             text NOT NULL,
  secret_id       text NOT NULL DEFAULT '',
  body            text NOT NULL DEFAULT '',
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_ms bigint NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  given_up        boolean NOT NULL DEFAULT false,
  held_until_ms   bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX pending_callbacks_due ON pending_callbacks (next_attempt_ms) WHERE NOT given_up;

-- 0001: server inventory (with a snapshot of the poller's live state) and the meeting -> server
-- map with everything needed to re-create a meeting elsewhere.
--
-- Forward-only: never edit a migration that has shipped; add the next numbered file instead.
-- `switchboard migrate` runs each file in its own transaction (no BEGIN/COMMIT here) and records
-- it in schema_migrations.
--
-- Ids are COLLATE "C" so that ORDER BY id is byte order, exactly the order of the memory store's
-- std::map (and independent of the database's locale).

CREATE TABLE servers (
  id              text COLLATE "C" PRIMARY KEY,
  url             text COLLATE "C" NOT NULL,
  secret          text NOT NULL,
  tag             text NOT NULL DEFAULT '',
  state           text NOT NULL DEFAULT 'disabled'
                    CHECK (state IN ('enabled', 'cordoned', 'disabled')),
  load_multiplier double precision NOT NULL DEFAULT 1.0,
  max_users       integer NOT NULL DEFAULT 0,
  max_meetings    integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),

  -- Live state: Redis holds the current one (the poller writes it there); these columns are a
  -- periodic snapshot, and the live state itself while Redis is unavailable.
  online          boolean NOT NULL DEFAULT false,
  load            double precision NOT NULL DEFAULT 0,
  meetings        integer NOT NULL DEFAULT 0,
  users           integer NOT NULL DEFAULT 0,
  largest_meeting integer NOT NULL DEFAULT 0,
  videos          integer NOT NULL DEFAULT 0,
  voices          integer NOT NULL DEFAULT 0,
  bbb_version     text NOT NULL DEFAULT '',
  healthy_count   integer NOT NULL DEFAULT 0,
  unhealthy_count integer NOT NULL DEFAULT 0,
  last_poll_ms    bigint NOT NULL DEFAULT 0,
  poll_latency_ms integer NOT NULL DEFAULT 0,
  last_error      text NOT NULL DEFAULT '',
  live_updated_at timestamptz,

  CONSTRAINT servers_url_key UNIQUE (url)
);

-- No foreign key to servers: a meeting outlives the removal of its server (it is orphaned and
-- re-created elsewhere on the next join), as in the memory store.
CREATE TABLE meetings (
  id                 text COLLATE "C" PRIMARY KEY,  -- the external meetingID
  server_id          text COLLATE "C" NOT NULL,
  moderator_pw       text NOT NULL DEFAULT '',
  tenant             text NOT NULL DEFAULT '',
  created_at_ms      bigint NOT NULL DEFAULT 0,
  -- [[name, value], ...] in the order forwarded to BBB; repeated names are kept.
  create_params      jsonb NOT NULL DEFAULT '[]'::jsonb
                       CHECK (jsonb_typeof(create_params) = 'array'),
  -- The XML body of a POST create, byte for byte (bytea: any encoding the client used).
  create_body        bytea NOT NULL DEFAULT ''::bytea,
  server_tag_request text NOT NULL DEFAULT '',
  size_hint          integer NOT NULL DEFAULT 0,
  orphaned           boolean NOT NULL DEFAULT false,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- listMeetings(serverId) ordered by id, and orphanMeetingsOf(serverId).
CREATE INDEX meetings_server_id_idx ON meetings (server_id, id);

-- 0002: WebRTC signalling endpoints and connection capacity for /rtcloadbalance, and the
-- drain-then-remove mark of self-deregistered servers.

ALTER TABLE servers
  ADD COLUMN ws_url              text COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN wss_url             text COLLATE "C" NOT NULL DEFAULT '',
  ADD COLUMN max_connections     integer NOT NULL DEFAULT 500 CHECK (max_connections > 0),
  ADD COLUMN remove_when_drained boolean NOT NULL DEFAULT false;

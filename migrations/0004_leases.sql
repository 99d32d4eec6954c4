-- 0004: leader leases in PostgreSQL. The poller's lease lives in Redis and, so that polling and
-- failover go on while Redis is down, here too (db/durable_store.h, DurableLeaderLease): a lease
-- is held until `expires_at` (PostgreSQL's clock) unless its holder renews it.

CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);

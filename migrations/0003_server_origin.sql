-- 0003: whether an operator added the server (admin API or CLI) rather than self-registration,
-- which the registration token may then not change or deregister. Rows from before read false:
-- as before, registration may update them.

ALTER TABLE servers
  ADD COLUMN added_by_operator boolean NOT NULL DEFAULT false;

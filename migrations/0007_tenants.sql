-- 0007: tenants (issue 20): one frontend each, with its secrets, host names, settings and limits.
-- A tenant is kept whole as its JSON form (core/tenants/tenant_json.h), so a new setting needs no
-- migration; routers read every tenant every few seconds (core/tenants/tenant_directory.h).

CREATE TABLE tenants (
  name       text PRIMARY KEY,
  tenant     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

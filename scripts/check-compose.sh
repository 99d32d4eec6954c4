#!/usr/bin/env bash
# Validates compose.yml (schema, interpolation, anchors, depends_on conditions) with Debian's
# docker-compose 1.29 (`scripts/install-deps.sh --test`), which needs no Docker engine for it.
# Uses deploy/env.example as the .env, with stand-in values for the two required secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "check-compose: docker-compose is missing; run scripts/install-deps.sh --test" >&2
  exit 1
fi
# The shell environment wins over --env-file in compose's interpolation; clear what could
# leak in from the caller's shell, then set the stand-ins.
unset COMPOSE_FILE COMPOSE_PROFILES DOCKER_HOST
export LOADBALANCER_SECRET=check-compose-secret SWITCHBOARD_ADMIN_TOKEN=check-compose-token
export SWITCHBOARD_ENV_FILE=deploy/env.example
docker-compose --env-file deploy/env.example -f compose.yml config -q
echo "compose.yml: valid"

#!/usr/bin/env bash
# The fault suite (see README.md): tests/chaos/run.sh [--short|--long] BIN_DIR
# BIN_DIR holds `switchboard` and `bbb-sim`. Needs root (PostgreSQL runs as the `postgres` user),
# redis-server and PostgreSQL 15. Exits 0 only when every check passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/chaos.py" "$@"

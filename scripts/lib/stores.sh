# Starts throw-away Redis and PostgreSQL servers on loopback for the tests, and stops them on
# exit. Source it, then call start_stores; it exports REDIS_URL and DATABASE_URL.
# PostgreSQL runs as the unprivileged `postgres` user from a temporary data directory.

stores_dir=""
redis_port=${TEST_REDIS_PORT:-16379}
pg_port=${TEST_PG_PORT:-15432}

stop_stores() {
  if [[ -n "$stores_dir" && -d "$stores_dir" ]]; then
    if [[ -f "$stores_dir/redis.pid" ]]; then kill "$(cat "$stores_dir/redis.pid")" 2>/dev/null || true; fi
    if [[ -d "$stores_dir/pg" ]]; then
      su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D '$stores_dir/pg' -m immediate stop" >/dev/null 2>&1 || true
    fi
    rm -rf "$stores_dir"
  fi
}

start_stores() {
  stores_dir=$(mktemp -d /tmp/switchboard-stores.XXXXXX)
  chmod 755 "$stores_dir"
  trap stop_stores EXIT

  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
    --daemonize yes --pidfile "$stores_dir/redis.pid" --logfile "$stores_dir/redis.log" \
    --dir "$stores_dir"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$redis_port" ping >/dev/null

  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  mkdir -p "$stores_dir/pg"
  chown postgres "$stores_dir/pg"
  su postgres -s /bin/sh -c "$pg_bin/initdb -D '$stores_dir/pg' -A trust -U postgres --no-sync" >/dev/null
  cat >> "$stores_dir/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$stores_dir/pg'
fsync = off
CONF
  su postgres -s /bin/sh -c "$pg_bin/pg_ctl -D '$stores_dir/pg' -l '$stores_dir/pg/log' -w start" >/dev/null
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc 'CREATE DATABASE switchboard_test' >/dev/null

  # Fault tests stop and start the servers with these.
  export TEST_PG_STOP_CMD="su postgres -s /bin/sh -c \"$pg_bin/pg_ctl -D '$stores_dir/pg' -m immediate -w stop\""
  export TEST_PG_START_CMD="su postgres -s /bin/sh -c \"$pg_bin/pg_ctl -D '$stores_dir/pg' -l '$stores_dir/pg/log' -w start\""
  export TEST_REDIS_RESTART_CMD="redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1; redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no --daemonize yes --pidfile '$stores_dir/redis.pid' --logfile '$stores_dir/redis.log' --dir '$stores_dir'; sleep 0.3"
  export REDIS_URL="redis://127.0.0.1:$redis_port/0"
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/switchboard_test"
  echo "test stores: $REDIS_URL $DATABASE_URL"
}

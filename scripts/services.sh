#!/usr/bin/env bash
# Starts and stops the real services the tests use, on loopback only.
#   redis-server on 127.0.0.1:$PATROL_TEST_REDIS_PORT (6399)
#   PostgreSQL on 127.0.0.1:$PATROL_TEST_PG_PORT (55432), a throwaway cluster owned by `postgres`
# `start` prints the URLs as shell exports; the Makefile's test target evaluates them.
set -euo pipefail
cd "$(dirname "$0")/.."
redis_port=${PATROL_TEST_REDIS_PORT:-6399}
pg_port=${PATROL_TEST_PG_PORT:-55432}
state=${PATROL_TEST_SERVICES_DIR:-/tmp/patrol-test-services}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_redis() {
  mkdir -p "$state/redis"
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state/redis" --save '' --appendonly no \
      --daemonize yes --pidfile "$state/redis/redis.pid" --logfile "$state/redis/redis.log"
    for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  redis-cli -p "$redis_port" ping >/dev/null
  echo "export PATROL_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
}

start_postgres() {
  local data="$state/pg"
  mkdir -p "$state"
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$data" "$state"
    as_postgres "$pg_bin/initdb" -D "$data" -A trust -U patrol --no-sync >/dev/null
  fi
  if ! as_postgres "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-h 127.0.0.1 -p $pg_port -k $data -c fsync=off -c synchronous_commit=off" start >/dev/null
  fi
  as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U patrol -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='patrol_test'" | grep -q 1 \
    || as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U patrol patrol_test
  echo "export PATROL_TEST_DATABASE_URL=postgresql://patrol@127.0.0.1:$pg_port/patrol_test"
}

case "${1:-}" in
  start)
    start_redis
    start_postgres
    ;;
  stop)
    if [ -f "$state/redis/redis.pid" ]; then
      kill "$(cat "$state/redis/redis.pid")" 2>/dev/null || true
      rm -f "$state/redis/redis.pid"
    fi
    if [ -f "$state/pg/PG_VERSION" ]; then
      as_postgres "$pg_bin/pg_ctl" -D "$state/pg" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

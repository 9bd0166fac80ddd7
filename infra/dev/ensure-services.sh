#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer; start them if they
# are installed but stopped; otherwise fail with a clear message. Never skip silently.
set -euo pipefail

wait_for() { # name, check command
  local name=$1; shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "ensure-services: $name did not become ready within 30 s" >&2
  return 1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }

if ! command -v pg_isready >/dev/null; then
  echo "ensure-services: PostgreSQL client tools are not installed (need pg_isready); install postgresql" >&2
  exit 1
fi
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for PostgreSQL pg_up
  else
    echo "ensure-services: PostgreSQL is not reachable on 127.0.0.1:5432 and no local cluster is installed" >&2
    exit 1
  fi
fi

if ! command -v redis-cli >/dev/null; then
  echo "ensure-services: redis-cli is not installed; install redis-server" >&2
  exit 1
fi
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "ensure-services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    wait_for Redis redis_up
  else
    echo "ensure-services: Redis is not reachable on 127.0.0.1:6379 and redis-server is not installed" >&2
    exit 1
  fi
fi
echo "ensure-services: PostgreSQL and Redis are up"

#!/usr/bin/env bash
# The project's own Redis, which holds the rate-limit counters that every worker and
# process shares (development, tests, and `make run`).
#
#   scripts/redis.sh start   install what is missing, start it (idempotent)
#   scripts/redis.sh stop    stop it cleanly
#   scripts/redis.sh status
#
# Listens on 127.0.0.1:$PEACEMAP_REDIS_PORT (default 56379 + PEACEMAP_PORT_OFFSET), runs as
# the unprivileged "redis" user when started as root, keeps nothing on disk (counters are
# worth nothing after a restart) and writes its pid and log to .redis/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/unprivileged.sh
port=${PEACEMAP_REDIS_PORT:-$((56379 + ${PEACEMAP_PORT_OFFSET:-0}))}
user=redis

running() {
  redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG
}

start() {
  command -v redis-server >/dev/null || scripts/apt.sh redis-server
  ensure_user "$user"
  local data
  data=$(data_dir .redis "$user")
  running && return 0
  as_user "$user" redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --daemonize yes --dir "$data" --pidfile "$data/redis.pid" --logfile "$data/redis.log" \
    --save "" --appendonly no
  for _ in $(seq 50); do
    running && { echo "Redis is running on 127.0.0.1:$port (stop it with: make stop)"; return 0; }
    sleep 0.1
  done
  echo "Redis did not start; see .redis/redis.log" >&2
  exit 1
}

stop() {
  if running; then
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    echo "Redis stopped."
  else
    echo "Redis is not running."
  fi
}

status() {
  if running; then echo "Redis is running on 127.0.0.1:$port."; else echo "Redis is not running."; exit 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

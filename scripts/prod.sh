#!/usr/bin/env bash
# The production-shaped stack on this machine: nginx (buffering reverse proxy) in front of
# gunicorn (gthread workers), on the project's database.
#
#   scripts/prod.sh start    install what is missing, migrate, start gunicorn, the queue's
#                            worker (webhooks, digests), then nginx
#   scripts/prod.sh stop     stop all cleanly (gunicorn finishes the requests it has, the
#                            worker the deliveries it has started)
#   scripts/prod.sh status
#
# Ports: nginx on 127.0.0.1:$PEACEMAP_HTTP_PORT (58080 + PEACEMAP_PORT_OFFSET), gunicorn on
# 127.0.0.1:$PEACEMAP_GUNICORN_PORT (58000 + offset). PEACEMAP_APP_INSTANCES=N (default 1,
# at most 6) starts N gunicorn instances on consecutive ports, nginx balancing between them
# (scripts/topology.sh); the first keeps the names gunicorn.pid/.log, the others gunicorn-I.*. Run state, logs and nginx's buffers
# live in $PEACEMAP_PROD_DIR (.prod/, git-ignored). Started as root, nginx runs as the
# unprivileged user "peacemap", and so does gunicorn when that user can run the
# virtualenv's Python (not when it comes from a root-only folder, e.g. a pyenv in /root:
# then gunicorn runs as the caller, with a warning). Without PEACEMAP_SECRET_KEY a random
# one is kept in .prod-secret-key; without PEACEMAP_DATA_KEY(_FILE) the development data key
# (instance/data.keys, which `make run` sealed the local database with) is used. Both reach
# gunicorn through its environment, never its command line. DATABASE_URL as for `make run`
# (default: the local cluster's peacemap); the local Redis unless PEACEMAP_RATELIMIT_STORAGE,
# the local SMTP server unless PEACEMAP_SMTP_HOST.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
offset=${PEACEMAP_PORT_OFFSET:-0}
http_port=${PEACEMAP_HTTP_PORT:-$((58080 + offset))}
gunicorn_port=${PEACEMAP_GUNICORN_PORT:-$((58000 + offset))}
run=${PEACEMAP_PROD_DIR:-$root/.prod}
instances=${PEACEMAP_APP_INSTANCES:-1}
if ! [[ $instances =~ ^[1-6]$ ]]; then  # the gunicorn ports are 58000-58005 (+ offset)
  echo "PEACEMAP_APP_INSTANCES must be 1 to 6, not '$instances'." >&2
  exit 2
fi
service_user=peacemap

as_service() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$service_user" -- "$@")
  else
    "$@"
  fi
}

prepare() {
  scripts/apt.sh nginx
  mkdir -p "$run"/tmp
  run=$(readlink -f "$run")
  if [ "$(id -u)" -eq 0 ]; then
    id "$service_user" >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$service_user"
    chown -R "$service_user": "$run"
    if ! runuser -u "$service_user" -- test -r "$root/deploy/problems/502.json" -a -w "$run"; then
      echo "The user $service_user cannot read $root or write $run: move the checkout" >&2
      echo "to a folder it can read, or set PEACEMAP_PROD_DIR." >&2
      exit 1
    fi
  fi
}

as_app() {  # gunicorn: unprivileged when that user can run the virtualenv's Python
  if [ "$(id -u)" -eq 0 ] && (cd / && runuser -u "$service_user" -- "$root/.venv/bin/python" -c '' 2>/dev/null); then
    as_service "$@"
  else
    [ "$(id -u)" -eq 0 ] && echo "Warning: gunicorn runs as root: $service_user cannot run $root/.venv/bin/python." >&2
    "$@"
  fi
}

secret_key() {
  if [ -n "${PEACEMAP_SECRET_KEY:-}" ]; then
    printf '%s' "$PEACEMAP_SECRET_KEY"
    return
  fi
  local file=$root/.prod-secret-key
  if [ ! -s "$file" ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' >"$file")
  fi
  cat "$file"
}

data_key_file() {  # the development key make run sealed the local database with
  local file=$root/instance/data.keys
  if [ ! -s "$file" ]; then
    mkdir -p "$root/instance"
    (umask 077 && .venv/bin/python -c 'from api.crypto import generate_key; print(generate_key("dev"))' >"$file")
  fi
  echo "$file"
}

wait_ready() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until .venv/bin/python - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=3).status == 200 else 1)
PY
  do
    if [ $SECONDS -ge $deadline ]; then
      echo "Not ready after $2 s: $1 (logs in $run)" >&2
      return 1
    fi
    sleep 0.5
  done
}

running() {  # pidfile
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

instance() {  # the name of instance I's files: gunicorn, gunicorn-1, ...
  if [ "$1" -eq 0 ]; then echo gunicorn; else echo "gunicorn-$1"; fi
}

start() {
  prepare
  if [ -z "${DATABASE_URL:-}" ]; then
    scripts/db.sh start
  fi
  if [ -z "${PEACEMAP_RATELIMIT_STORAGE:-}" ]; then
    scripts/redis.sh start  # rate-limit counters shared by every worker
  fi
  if [ -z "${PEACEMAP_SMTP_HOST:-}" ]; then
    scripts/smtp.sh start  # verification and reset mails
  fi
  .venv/bin/flask --app wsgi db upgrade
  PEACEMAP_SECRET_KEY=$(secret_key)
  export PEACEMAP_SECRET_KEY
  if [ -z "${PEACEMAP_DATA_KEY:-}${PEACEMAP_DATA_KEY_FILE:-}" ]; then
    PEACEMAP_DATA_KEY=$(grep -v '^#' "$(data_key_file)" | paste -sd, -)
    export PEACEMAP_DATA_KEY
  fi
  export PEACEMAP_ENV=production PEACEMAP_TRUSTED_PROXIES=1
  local i name upstreams=""
  for ((i = 0; i < instances; i++)); do
    name=$(instance $i)
    upstreams+="server 127.0.0.1:$((gunicorn_port + i)); "
    running "$run/$name.pid" && continue
    rm -f "$run/$name.pid"
    # The workers' metrics files (prometheus_client multiprocess mode; emptied at start).
    PEACEMAP_BIND="127.0.0.1:$((gunicorn_port + i))" PROMETHEUS_MULTIPROC_DIR="$run/metrics${name#gunicorn}" \
      as_app "$root/.venv/bin/gunicorn" -c "$root/deploy/gunicorn.conf.py" --chdir "$root" \
      --pid "$run/$name.pid" --daemon --access-logfile "$run/$name-access.log" \
      --error-logfile "$run/$name.log" wsgi:app
  done
  for ((i = 0; i < instances; i++)); do
    wait_ready "http://127.0.0.1:$((gunicorn_port + i))/healthz" 60
  done
  if ! running "$run/worker.pid"; then  # the queue's worker: webhook deliveries, digests
    rm -f "$run/worker.pid"
    as_app setsid "$root/.venv/bin/flask" --app "$root/wsgi.py" worker --pidfile "$run/worker.pid" \
      >>"$run/worker.log" 2>&1 </dev/null &
    for _ in $(seq 1 600); do running "$run/worker.pid" && break; sleep 0.1; done
    running "$run/worker.pid" || { echo "The worker did not start (see $run/worker.log)" >&2; exit 1; }
  fi
  sed -e "s|@@RUN@@|$run|g" -e "s|@@DEPLOY@@|$root/deploy|g" \
    -e "s|@@HTTP_PORT@@|$http_port|g" -e "s|@@UPSTREAMS@@|$upstreams|g" \
    -e "s|@@MAX_UPLOAD_BYTES@@|${PEACEMAP_MAX_UPLOAD_BYTES:-50000000}|g" \
    deploy/nginx.conf.template >"$run/nginx.conf"
  if running "$run/nginx.pid"; then
    as_service nginx -c "$run/nginx.conf" -e "$run/nginx-error.log" -s reload
  else
    as_service nginx -c "$run/nginx.conf" -e "$run/nginx-error.log"
  fi
  wait_ready "http://127.0.0.1:$http_port/readyz" 30
  echo "Peacemap (production shape) on http://127.0.0.1:$http_port  (nginx -> gunicorn :$gunicorn_port, $instances instance(s))"
  echo "  logs: $run/*.log   stop: scripts/prod.sh stop"
}

stop_one() {  # name pidfile signal
  local pid
  if ! running "$2"; then
    echo "$1 is not running."
    return 0
  fi
  pid=$(cat "$2")
  kill "-$3" "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { echo "$1 stopped."; return 0; }
    sleep 0.1
  done
  echo "$1 did not stop in 30 s; killing it." >&2
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  run=$(readlink -f "$run" 2>/dev/null || echo "$run")
  # nginx first (QUIT: finish open requests), then gunicorn (TERM: graceful).
  stop_one nginx "$run/nginx.pid" QUIT
  local pidfile
  for pidfile in "$run"/gunicorn.pid "$run"/gunicorn-*.pid; do
    [ -e "$pidfile" ] && stop_one "$(basename "$pidfile" .pid)" "$pidfile" TERM
  done
  stop_one worker "$run/worker.pid" TERM  # finishes the deliveries it has started
  return 0
}

status() {
  run=$(readlink -f "$run" 2>/dev/null || echo "$run")
  local code=0
  local names="nginx worker" i
  for ((i = 0; i < instances; i++)); do names+=" $(instance $i)"; done
  for name in $names; do
    if running "$run/$name.pid"; then echo "$name: running (pid $(cat "$run/$name.pid"))"
    else echo "$name: stopped"; code=3; fi
  done
  return $code
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

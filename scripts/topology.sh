#!/usr/bin/env bash
# Peacemap scaled out on one machine, from one command: the primary PostgreSQL cluster
# (scripts/db.sh), a streaming replica of it, two gunicorn instances that read from the
# replica (api/replicas.py) and nginx balancing between them (scripts/prod.sh).
#
#   scripts/topology.sh start    install what is missing, copy the primary, start it all
#   scripts/topology.sh stop     stop nginx, the instances and the replica, and drop its
#                                replication slot (the next start copies the primary anew);
#                                the primary, Redis and SMTP stay up for `make stop`
#   scripts/topology.sh status
#
# Ports: the replica on 127.0.0.1:$PEACEMAP_REPLICA_PG_PORT (54429 + PEACEMAP_PORT_OFFSET),
# the instances on 58000 + offset and 58001 + offset, nginx on 58080 + offset (as prod.sh).
# The replica lives in .pgreplica/ (git-ignored), its run state in .topology/.
# DATABASE_URL names the primary's database as for `make run`; PEACEMAP_REPLICA_URLS the
# replica's (default: the same database and role on the replica's port).
# PEACEMAP_APP_INSTANCES (default 2) and PEACEMAP_REPLICA_MAX_LAG_SECONDS pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
offset=${PEACEMAP_PORT_OFFSET:-0}
primary_port=${PEACEMAP_PG_PORT:-$((54329 + offset))}
replica_port=${PEACEMAP_REPLICA_PG_PORT:-$((54429 + offset))}
export PEACEMAP_PROD_DIR=${PEACEMAP_PROD_DIR:-$root/.topology}
export PEACEMAP_APP_INSTANCES=${PEACEMAP_APP_INSTANCES:-2}

replica_db() {  # scripts/db.sh on the replica's folder and port
  PEACEMAP_PG_DATA=$root/.pgreplica PEACEMAP_PG_PORT=$replica_port \
    PEACEMAP_PG_PRIMARY_PORT=$primary_port PEACEMAP_PG_ARCHIVE= scripts/db.sh "$@"
}

replica_url() {  # DATABASE_URL (or the local default) with the replica's host and port
  .venv/bin/python - "$replica_port" <<'PY'
import sys
from sqlalchemy.engine import make_url
from api.config import from_environment

url = make_url(from_environment()["DATABASE_URL"]).set(host="127.0.0.1", port=int(sys.argv[1]))
print(url.render_as_string(hide_password=False))
PY
}

start() {
  scripts/venv.sh
  [ -n "${DATABASE_URL:-}" ] || scripts/db.sh start
  replica_db start
  PEACEMAP_REPLICA_URLS=${PEACEMAP_REPLICA_URLS:-$(replica_url)}
  export PEACEMAP_REPLICA_URLS
  scripts/prod.sh start
  echo "  primary :$primary_port -> replica :$replica_port (streaming); stop: scripts/topology.sh stop"
}

stop() {
  scripts/prod.sh stop
  replica_db stop
  # No WAL kept for a stopped replica: the next start copies the primary anew.
  replica_db drop-slot 2>/dev/null || true
}

status() {
  local code=0
  scripts/prod.sh status || code=$?
  replica_db status || code=$?
  return $code
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

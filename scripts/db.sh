#!/usr/bin/env bash
# The project's own PostgreSQL + PostGIS cluster, for development and tests.
#
#   scripts/db.sh start   install what is missing, create the cluster, start it (idempotent)
#   scripts/db.sh stop    stop it cleanly (stop immediate: as in a crash; tests use it)
#   scripts/db.sh status
#
# A streaming replica (scripts/topology.sh): with PEACEMAP_PG_PRIMARY_PORT set, a new
# cluster is a copy of the primary on that port (pg_basebackup -R) that follows it through
# a replication slot (the primary keeps the WAL the replica has not received, at most
# max_slot_wal_keep_size = 1GB). A copy whose primary was re-created, or whose slot is gone
# (`scripts/db.sh drop-slot`, which topology.sh stop runs), is copied anew.
#
# WAL archiving (scripts/backup.sh): the main cluster copies each finished WAL segment into
# $PEACEMAP_PG_ARCHIVE (default .pgbackup/wal, git-ignored) once `make backup` has created
# that folder, and at least every $PEACEMAP_PG_ARCHIVE_TIMEOUT seconds (default 60) while
# anything is written. Other clusters (PEACEMAP_PG_DATA) archive only where
# PEACEMAP_PG_ARCHIVE says.
#
# The cluster lives in .pgdata/ (git-ignored), listens on 127.0.0.1:$PEACEMAP_PG_PORT
# (default 54329) and runs as an unprivileged user: PostgreSQL refuses to run as root,
# so under root it runs as "postgres". When that user cannot reach the project folder
# (a clone under a root-only home), .pgdata is a link to a folder under /var/tmp it can.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/unprivileged.sh
root=$(pwd)
port=${PEACEMAP_PG_PORT:-$((54329 + ${PEACEMAP_PORT_OFFSET:-0}))}
# PEACEMAP_PG_DATA: another cluster (the tests' throw-away "fault" cluster, .pgfault).
data=${PEACEMAP_PG_DATA:-$root/.pgdata}
slot=peacemap_replica_$port  # a replica's replication slot on its primary
if [ -z "${PEACEMAP_PG_DATA:-}" ]; then
  archive=${PEACEMAP_PG_ARCHIVE:-$root/.pgbackup/wal}
else
  archive=${PEACEMAP_PG_ARCHIVE:-}
fi

find_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    local version
    version=$(basename "$(dirname "$dir")")
    if [ -x "$dir/initdb" ] && [ -f "/usr/share/postgresql/$version/extension/postgis.control" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    # Our cluster is the only one needed: keep the package from creating and starting its own.
    scripts/apt.sh postgresql-common
    mkdir -p /etc/postgresql-common/createcluster.d 2>/dev/null &&
      echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/peacemap.conf 2>/dev/null || true
    scripts/apt.sh postgresql
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  scripts/apt.sh "postgresql-$version-postgis-3"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # From /: postgres may not be allowed into the project folder itself.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

prepare_data_dir() {
  [ -e "$data" ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    mkdir -p "$data"
    chown postgres: "$data"
    chmod 700 "$data"
    if ! runuser -u postgres -- test -w "$data"; then
      # A parent folder is closed to postgres: keep the cluster where it can reach it.
      rmdir "$data"
      local outside
      outside=/var/tmp/peacemap-pg-$(printf '%s' "$root" | md5sum | cut -c1-12)
      [ "$(basename "$data")" = .pgdata ] || outside+="-$(basename "$data" | tr -d .)"
      mkdir -p "$outside"
      chown postgres: "$outside"
      chmod 700 "$outside"
      ln -s "$outside" "$data"
    fi
  else
    mkdir -p "$data"
    chmod 700 "$data"
  fi
}

primary_sql() {  # bindir query
  as_owner "$1/psql" -h 127.0.0.1 -p "$PEACEMAP_PG_PRIMARY_PORT" -U postgres -d postgres -XAtc "$2"
}

copy_of_primary() {  # bindir: a copy of this primary (same system identifier), its slot alive?
  local ours theirs
  ours=$(as_owner "$1/pg_controldata" -D "$data/" | sed -n 's/^Database system identifier: *//p')
  theirs=$(primary_sql "$1" "SELECT system_identifier FROM pg_control_system()")
  [ "$ours" = "$theirs" ] && [ -n "$(primary_sql "$1" "SELECT 1 FROM pg_replication_slots
    WHERE slot_name = '$slot' AND wal_status IS DISTINCT FROM 'lost'")" ]
}

drop_slot() {  # bindir: the replica's slot on the primary, so it keeps no WAL for it
  primary_sql "$1" "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
    WHERE slot_name = '$slot' AND NOT active" >/dev/null
}

configure_archiving() {
  # Rewritten at every start, so a copy of this cluster (a replica, a restored backup)
  # never archives into the folder of the cluster it was copied from.
  local conf=$data/peacemap.conf
  grep -q "^include_if_exists = 'peacemap.conf'" "$data/postgresql.conf" ||
    echo "include_if_exists = 'peacemap.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
  if [ -z "$archive" ]; then
    printf '%s\n' "# Written by scripts/db.sh at each start: no WAL archiving for this cluster." \
      "max_slot_wal_keep_size = 1GB" | as_owner tee "$conf" >/dev/null
    return
  fi
  local dir
  # The backups' folder, the postgres user's (under /var/tmp behind a link when needed).
  dir=$(data_dir "$(dirname "$archive")" postgres)/$(basename "$archive")
  # Archives only while the folder exists (`make backup` creates it): WAL without a base
  # backup restores nothing. A segment already archived whole is not copied again.
  as_owner tee "$conf" >/dev/null <<CONF
# Written by scripts/db.sh at each start (README, "Backups", "Scaling out").
# A replica's slot holds back at most this much WAL (then the replica is copied anew).
max_slot_wal_keep_size = 1GB
archive_mode = on
archive_timeout = ${PEACEMAP_PG_ARCHIVE_TIMEOUT:-60}
archive_command = 'test ! -d "$dir" || cmp -s "%p" "$dir/%f" || { test ! -f "$dir/%f" && cp "%p" "$dir/%f.part" && mv "$dir/%f.part" "$dir/%f"; }'
CONF
}

start() {
  local bindir
  bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir); }
  prepare_data_dir
  data=$(readlink -f "$data")  # postgres can follow no link through a closed folder
  if [ -f "$data/PG_VERSION" ] && [ -n "${PEACEMAP_PG_PRIMARY_PORT:-}" ] && ! copy_of_primary "$bindir"; then
    echo "$data is not a copy of the primary on port $PEACEMAP_PG_PRIMARY_PORT (made anew since?): copying it again."
    stop fast >/dev/null
    find "$data/" -mindepth 1 -delete
  fi
  if [ ! -f "$data/PG_VERSION" ] && [ -n "${PEACEMAP_PG_PRIMARY_PORT:-}" ]; then
    echo "Copying the primary on port $PEACEMAP_PG_PRIMARY_PORT into $data (a streaming replica) ..."
    drop_slot "$bindir"
    # -R: standby.signal and primary_conninfo, so the copy starts as the primary's replica;
    # -C -S: through a slot of its own.
    as_owner "$bindir/pg_basebackup" -h 127.0.0.1 -p "$PEACEMAP_PG_PRIMARY_PORT" -U postgres \
      -D "$data/" -R -X stream -c fast -C -S "$slot"
  elif [ ! -f "$data/PG_VERSION" ]; then
    echo "Creating the PostgreSQL cluster in $data ..."
    # trust on loopback only: this is a private development cluster, never exposed.
    as_owner "$bindir/initdb" -D "$data/" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >/dev/null
  fi
  configure_archiving
  # The server log keeps no statement text: a refused INSERT would otherwise write its values
  # (an address, a contact, a place) into it. Errors are still logged, without their SQL.
  local quiet_log="-c log_min_error_statement=panic"
  if ! as_owner "$bindir/pg_ctl" -D "$data/" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data/" -l "$data/server.log" -w -t 60 start \
      -o "-p $port -k $data/ -c listen_addresses=127.0.0.1 -c fsync=${PEACEMAP_PG_FSYNC:-on} $quiet_log" >/dev/null
    echo "PostgreSQL is running on 127.0.0.1:$port (stop it with: make db-stop)"
  fi
}

stop() {
  [ -f "$data/PG_VERSION" ] || { echo "No local cluster."; return 0; }
  data=$(readlink -f "$data")
  local bindir
  bindir=$(find_bindir)
  if as_owner "$bindir/pg_ctl" -D "$data/" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data/" -m "${1:-fast}" -w stop >/dev/null
    echo "PostgreSQL stopped."
  else
    echo "PostgreSQL is not running."
  fi
}

status() {
  data=$(readlink -f "$data")
  local bindir
  bindir=$(find_bindir) && as_owner "$bindir/pg_ctl" -D "$data/" status
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-fast}" ;;
  status) status ;;
  drop-slot) drop_slot "$(find_bindir)" ;;
  *) echo "usage: $0 start|stop|status|drop-slot" >&2; exit 2 ;;
esac

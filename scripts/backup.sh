#!/usr/bin/env bash
# Backups of the project's PostgreSQL cluster, and restores to a point in time.
#
#   scripts/backup.sh backup            a base backup (pg_basebackup); WAL archiving, which
#                                       scripts/db.sh configures, runs from the first one on
#   scripts/backup.sh restore [TIME]    the newest base backup finished before TIME, and the
#                                       archived WAL replayed up to TIME (any PostgreSQL
#                                       timestamp, e.g. '2026-11-23 18:30:00+00'; without
#                                       TIME: as far as the archive goes), into a throw-away
#                                       cluster; the running cluster is never touched
#   scripts/backup.sh list
#   scripts/backup.sh stop              stop the restored cluster (`make stop` does too)
#
# Where (all git-ignored, owned by the postgres user when run as root):
#   PEACEMAP_BACKUP_DIR     backups: base/<UTC time>/base.tar.gz, and wal/ (the archive);
#                           default .pgbackup/
#   PEACEMAP_BACKUP_KEEP    base backups kept (default 7); WAL older than the oldest is removed
#   PEACEMAP_PG_DATA/PORT   the cluster backed up (default: scripts/db.sh's, .pgdata)
#   PEACEMAP_RESTORE_DATA   where a restore goes (default .pgrestore/), on
#   PEACEMAP_RESTORE_PORT   (default 54629 + PEACEMAP_PORT_OFFSET)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/unprivileged.sh
root=$(pwd)
offset=${PEACEMAP_PORT_OFFSET:-0}
port=${PEACEMAP_PG_PORT:-$((54329 + offset))}
backups=${PEACEMAP_BACKUP_DIR:-$root/.pgbackup}
keep=${PEACEMAP_BACKUP_KEEP:-7}
restore_data=${PEACEMAP_RESTORE_DATA:-$root/.pgrestore}
restore_port=${PEACEMAP_RESTORE_PORT:-$((54629 + offset))}

bindir() {
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

as_postgres() {
  as_user postgres "$@"
}

sql() {  # port query: one value, as the superuser
  as_postgres "$(bindir)/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtc "$2"
}

backup() {
  local dir
  dir=$(data_dir "$backups" postgres)
  as_postgres mkdir -p "$dir/wal" "$dir/base"
  if [ "$(sql "$port" 'SHOW archive_mode')" != on ]; then
    echo "The cluster on port $port does not archive its WAL yet: restart it (make db-stop db)" >&2
    echo "so that scripts/db.sh configures archiving, then back up again." >&2
    exit 1
  fi
  local stamp target
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  target=$dir/base/$stamp
  echo "Base backup of the cluster on port $port into $target ..."
  # Tar, compressed, with the WAL needed to make it consistent (-X fetch): one file per
  # backup. The end of the backup is archived (pg_switch_wal) before this returns.
  as_postgres "$(bindir)/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$target.part" \
    -Ft -z -X fetch -c fast --label "peacemap $stamp"
  sql "$port" 'SELECT pg_switch_wal()' >/dev/null
  # The moment from which this backup can be restored: when it finished.
  date -u +%Y-%m-%dT%H:%M:%S.%6NZ | as_postgres tee "$target.part/finished_at" >/dev/null
  as_postgres mv "$target.part" "$target"
  prune "$dir"
  echo "Backed up: $target (restore with: make restore TARGET_TIME='...')"
}

prune() {  # keep the newest $keep base backups and the WAL they need
  local dir=$1 old
  while read -r old; do
    echo "Removing the old backup $old"
    rm -rf "$old"
  done < <(ls -d "$dir"/base/*/ 2>/dev/null | sort | head -n -"$keep")
  local oldest
  oldest=$(ls -d "$dir"/base/*/ 2>/dev/null | sort | head -1)
  [ -n "$oldest" ] || return 0
  # The first WAL segment the oldest backup needs, from its backup label.
  local first
  first=$(tar -xzOf "$oldest/base.tar.gz" backup_label | sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]*\))$/\1/p')
  [ -n "$first" ] && as_postgres "$(bindir)/pg_archivecleanup" "$dir/wal" "$first"
}

list() {
  local dir
  dir=$(readlink -f "$backups")
  for base in "$dir"/base/*/; do
    [ -f "$base/finished_at" ] && echo "$(basename "$base")  restorable from $(cat "$base/finished_at")"
  done
  echo "WAL archive: $(ls "$dir/wal" 2>/dev/null | wc -l) segments in $dir/wal"
}

restore() {
  local target_time=${1:-} dir base="" candidate target_epoch
  dir=$(readlink -f "$backups")
  target_epoch=$(date -u -d "${target_time:-now}" +%s.%N) ||
    { echo "Not a time: $target_time (e.g. '2026-11-23 18:30:00+00')" >&2; exit 2; }
  # The newest base backup that finished before the target time.
  for candidate in $(ls -d "$dir"/base/*/ 2>/dev/null | sort -r); do
    [ -f "$candidate/finished_at" ] || continue
    if awk -v a="$(date -u -d "$(cat "$candidate/finished_at")" +%s.%N)" -v b="$target_epoch" \
      'BEGIN { exit !(a <= b) }'; then
      base=$candidate
      break
    fi
  done
  [ -n "$base" ] || { echo "No base backup finished before ${target_time:-now} in $dir/base." >&2; exit 1; }
  echo "Restoring $(basename "$base") into $restore_data (port $restore_port), up to ${target_time:-the end of the archive} ..."
  PEACEMAP_PG_DATA=$restore_data PEACEMAP_PG_PORT=$restore_port scripts/db.sh stop immediate >/dev/null 2>&1 || true
  rm -rf "$restore_data"
  local data
  data=$(data_dir "$restore_data" postgres)
  as_postgres tar -xzf "$base/base.tar.gz" -C "$data"
  # The clusters keep their sockets in their data folder, so a base backup also carries the
  # socket's lock file: stale in a copy, and fatal if its PID happens to be alive now.
  rm -f "$data/postmaster.pid" "$data/server.log" "$data"/.s.PGSQL.*.lock
  {
    echo "# Written by scripts/backup.sh restore"
    echo "restore_command = 'cp \"$dir/wal/%f\" \"%p\"'"
    [ -n "$target_time" ] && echo "recovery_target_time = '$target_time'"
    echo "recovery_target_action = 'promote'"
  } | as_postgres tee -a "$data/postgresql.auto.conf" >/dev/null
  as_postgres touch "$data/recovery.signal"
  # Started by db.sh like every cluster (no archiving of its own: PEACEMAP_PG_ARCHIVE empty).
  if ! PEACEMAP_PG_DATA=$restore_data PEACEMAP_PG_PORT=$restore_port PEACEMAP_PG_ARCHIVE= \
    scripts/db.sh start; then
    tail -20 "$data/server.log" >&2
    exit 1
  fi
  # Recovery is over once the cluster has been promoted.
  local deadline=$((SECONDS + 600))
  until [ "$(sql "$restore_port" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
    if [ $SECONDS -ge $deadline ] ||
      ! PEACEMAP_PG_DATA=$restore_data PEACEMAP_PG_PORT=$restore_port scripts/db.sh status >/dev/null 2>&1; then
      echo "Recovery did not finish; see $data/server.log" >&2
      tail -20 "$data/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "Restored: PostgreSQL on 127.0.0.1:$restore_port ($restore_data), as of ${target_time:-the end of the archive}."
  echo "Check it (psql -h 127.0.0.1 -p $restore_port -U postgres peacemap), stop it with"
  echo "scripts/backup.sh stop; to make it the main cluster: make stop, move .pgdata aside,"
  echo "move $restore_data to .pgdata, make run."
}

stop() {
  PEACEMAP_PG_DATA=$restore_data PEACEMAP_PG_PORT=$restore_port PEACEMAP_PG_ARCHIVE= scripts/db.sh stop
}

case "${1:-}" in
  backup) backup ;;
  restore) restore "${2:-}" ;;
  list) list ;;
  stop) stop ;;
  *) echo "usage: $0 backup|restore [TIME]|list|stop" >&2; exit 2 ;;
esac

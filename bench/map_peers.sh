#!/usr/bin/env bash
# Peacemap against the peer servers (pygeoapi, tipg) in the same run, on the same
# 1,000,000 generated actors, with the shared harness (../shared/peers-bench).
#
#   bash bench/map_peers.sh            # about 25 minutes on the 2-core reference machine
#   bash bench/map_peers.sh --api-only # Peacemap's scenarios and their SQL ceiling alone
#
# Steps: copy the read-only harness into bench/.work/ (git-ignored); its venv and its
# PostGIS cluster (127.0.0.1:55432) with the generated CSV; load the same CSV into
# Peacemap's database `peacemap_bench` through Peacemap's own loader; serve Peacemap as
# the README tells production users (gunicorn with deploy/gunicorn.conf.py: 2 workers of 4
# threads, JSON access log); then, one server at a time,
# each scenario: a 5 s warm-up and a 20 s wrk run (c=8, loopback). Prints requests/s,
# p50/p99, errors, bytes per response, ratios to each peer and Peacemap's peak memory.
# Beyond the peers' scenarios, Peacemap's own (bench/api_workload.py): the /api/v1/actors
# list with its common filters, the changes feed, live tiles at z10 and z12 (plain and
# filtered); and a raw-SQL ceiling: the statements the app sends for each scenario,
# recorded from the app itself, replayed straight at PostgreSQL by pgbench in the same run
# with the same concurrency, so each figure is also a fraction of what the database alone
# does. No cache in front: gunicorn is called directly, never through nginx.
# Rate limiting is switched off for the run: from one IP it would throttle wrk by design.
set -euo pipefail
API_ONLY=false
[ "${1:-}" = --api-only ] && API_ONLY=true

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HARNESS="${PEERS_BENCH:-$ROOT/../shared/peers-bench}"
WORK="$ROOT/bench/.work"
PEERS="$WORK/peers-bench"
OUT="$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
PORT=$((58004 + ${PEACEMAP_PORT_OFFSET:-0}))  # a gunicorn port of the project, per checkout
DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-5s}"
PG_PORT="${PEACEMAP_PG_PORT:-54329}"
mkdir -p "$OUT" "$WORK/paths"

"$ROOT/scripts/apt.sh" wrk rsync curl
(cd "$ROOT" && make -s venv db)  # the project's own cluster, before DATABASE_URL points into it
# As in production: the service with least privilege, migrations as the tables' owner.
export DATABASE_URL="postgresql+psycopg2://peacemap_app@127.0.0.1:$PG_PORT/peacemap_bench"
export PEACEMAP_MIGRATION_DATABASE_URL="postgresql+psycopg2://peacemap_owner@127.0.0.1:$PG_PORT/peacemap_bench"
export PEACEMAP_ADMIN_DATABASE_URL="postgresql+psycopg2://postgres@127.0.0.1:$PG_PORT/peacemap_bench"
# The data key exact locations are sealed with, kept with the bench's database.
export PEACEMAP_DATA_KEY_FILE="$WORK/data.keys"
export PEACEMAP_RATELIMIT_ENABLED=false
[ -s "$PEACEMAP_DATA_KEY_FILE" ] || (umask 077 && cd "$ROOT" && .venv/bin/python -c 'from api.crypto import generate_key; print(generate_key("bench"))' >"$PEACEMAP_DATA_KEY_FILE")

# 1. the harness, writable, and the peers' own database
rsync -a --exclude results --exclude .venv --exclude data --exclude run "$HARNESS/" "$PEERS/"
if ! $API_ONLY && [ ! -x "$PEERS/.venv/bin/tipg" ] 2>/dev/null && [ ! -x "$PEERS/.venv/bin/uvicorn" ]; then
  python3 -m venv "$PEERS/.venv"
  "$PEERS/.venv/bin/pip" install -q -r "$PEERS/requirements.txt"
fi
if $API_ONLY; then  # the same CSV, without the peers' cluster
  mkdir -p "$PEERS/data"
  CSV="$PEERS/data/actors_1000000_20240601.csv"
  [ -s "$CSV" ] || python3 "$PEERS/gen_actors.py" --rows 1000000 --seed 20240601 --out "$CSV"
else
  PYTHON="$PEERS/.venv/bin/python" bash "$PEERS/setup_db.sh" | tail -3
  CSV=$(ls "$PEERS"/data/actors_1000000_*.csv | head -1)
fi

# 2. the same actors in Peacemap, through Peacemap's loader
"$ROOT/.venv/bin/flask" --app wsgi db upgrade >/dev/null
$API_ONLY || (cd "$PEERS" && .venv/bin/python make_workload.py >/dev/null)
PROBE_ID=$(head -1 "$PEERS/workload/ids.txt")
FOUND=$(psql -X -qtA -h 127.0.0.1 -p "$PG_PORT" -U postgres -d peacemap_bench -c "SELECT count(*) FROM actors WHERE id = '$PROBE_ID'")
if [ "$FOUND" != "1" ]; then
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d peacemap_bench -c "TRUNCATE actors CASCADE"
  (cd "$ROOT" && .venv/bin/flask --app wsgi seeds import-csv "$CSV")
  psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d peacemap_bench -c "VACUUM ANALYZE"
fi

# 3. Peacemap's paths for the harness's workload
awk '{print "/api/v1/ogc/collections/actors/items?bbox=" $0 "&limit=500"}' "$PEERS/workload/bboxes.txt" >"$WORK/paths/peacemap_bbox.txt"
awk '{print "/api/v1/ogc/collections/actors/items/" $0}' "$PEERS/workload/ids.txt" >"$WORK/paths/peacemap_item.txt"
echo "/api/v1/ogc/collections/actors/items?bbox=-180,-90,180,90&limit=1000" >"$WORK/paths/peacemap_world.txt"
for z in 4 5 6 7 8; do
  awk '{print "/api/v1/tiles/" $0 ".mvt"}' "$PEERS/workload/tiles_z$z.txt" >"$WORK/paths/peacemap_tiles_z$z.txt"
done
cp "$PEERS"/workload/paths/*.txt "$WORK/paths/"
(cd "$ROOT" && .venv/bin/python bench/api_workload.py paths "$PEERS/cities.csv" "$PEERS/workload/bboxes.txt" "$WORK/paths")
$API_ONLY && rm -f "$WORK"/paths/{pygeoapi,tipg}_*.txt
# the ceiling's scripts: the SQL the app sends for each scenario, with the server's settings
rm -rf "$WORK/sql"
(cd "$ROOT" && PEACEMAP_ENV=production PEACEMAP_SECRET_KEY="bench-$(openssl rand -hex 24)" \
  PEACEMAP_RATELIMIT_ENABLED=false .venv/bin/python bench/api_workload.py sql "$WORK/sql" "$WORK"/paths/peacemap_*.txt)

# 4. load, one server at a time
declare -A BASE=([peacemap]=http://127.0.0.1:$PORT [pygeoapi]=http://127.0.0.1:5001 [tipg]=http://127.0.0.1:5002)
start() {
  if [ "$1" = peacemap ]; then
    # exec: the recorded PID is gunicorn's master, whose children are the workers.
    (cd "$ROOT" && exec env PEACEMAP_ENV=production PEACEMAP_SECRET_KEY="bench-$(openssl rand -hex 24)" \
      PEACEMAP_RATELIMIT_ENABLED=false .venv/bin/gunicorn -c deploy/gunicorn.conf.py --workers 2 \
      --bind 127.0.0.1:$PORT wsgi:app) >"$OUT/peacemap.log" 2>&1 &
    echo $! >"$WORK/peacemap.pid"
    for _ in $(seq 1 60); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/ogc" && return 0; sleep 0.5; done
    echo "Peacemap did not start"; tail "$OUT/peacemap.log"; exit 1
  else
    bash "$PEERS/peers/serve.sh" start "$1" >/dev/null
  fi
}
stop() {
  if [ "$1" = peacemap ]; then kill "$(cat "$WORK/peacemap.pid")"; sleep 1; else bash "$PEERS/peers/serve.sh" stop "$1" >/dev/null; fi
}
trap 'stop peacemap 2>/dev/null || true; bash "$PEERS/peers/serve.sh" stop all >/dev/null 2>&1 || true' EXIT

peak_rss_mb() {  # sum of the RSS of a process and its children, in MB
  local pid=$1
  ps -o rss= --pid "$pid" --ppid "$pid" | awk '{s+=$1} END {printf "%.0f", s/1024}'
}

SERVERS="peacemap pygeoapi tipg"
$API_ONLY && SERVERS=peacemap
for server in $SERVERS; do
  start "$server"
  for paths in "$WORK"/paths/"$server"_*.txt; do
    scenario=$(basename "$paths" .txt); scenario=${scenario#"${server}_"}
    PATHS_FILE="$paths" wrk -t2 -c8 -d"$WARMUP" --timeout 30s -s "$PEERS/cycle_paths.lua" "${BASE[$server]}" >/dev/null 2>&1
    PATHS_FILE="$paths" wrk -t2 -c8 -d"$DURATION" --timeout 30s -s "$PEERS/cycle_paths.lua" "${BASE[$server]}" \
      >"$OUT/${server}_${scenario}.txt" 2>&1 &
    wrk_pid=$!
    peak=0
    if [ "$server" = peacemap ]; then
      while kill -0 $wrk_pid 2>/dev/null; do
        now=$(peak_rss_mb "$(cat "$WORK/peacemap.pid")"); [ "$now" -gt "$peak" ] && peak=$now; sleep 1
      done
    fi
    wait $wrk_pid
    bytes=$(head -20 "$paths" | while read -r p; do curl -s -o /dev/null -w '%{size_download}\n' "${BASE[$server]}$p"; done | awk '{s+=$1} END {printf "%.0f", s/NR}')
    echo "{\"server\":\"$server\",\"scenario\":\"$scenario\",\"bytes_per_response\":$bytes,\"peak_rss_mb\":$peak,\"wrk\":$(grep '^JSON ' "$OUT/${server}_${scenario}.txt" | sed 's/^JSON //')}" >>"$OUT/results.jsonl"
    echo "$server $scenario done"
  done
  stop "$server"
done

# 5. the raw-SQL ceiling: each scenario's recorded statements straight at PostgreSQL, as the
# app's role over TCP, with wrk's concurrency (8 clients, 2 threads) and duration.
PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)
for folder in "$WORK"/sql/*/; do
  scenario=$(basename "$folder")
  scripts=(); for f in "$folder"*.sql; do scripts+=(-f "$f"); done
  mkdir -p "$OUT/pgbench_$scenario"
  (cd "$OUT/pgbench_$scenario" && PGOPTIONS="-c timezone=UTC" "$PGBENCH" -n -c 8 -j 2 -T "${DURATION%s}" -l \
    -h 127.0.0.1 -p "$PG_PORT" -U peacemap_app "${scripts[@]}" peacemap_bench >pgbench.txt 2>&1)
  "$ROOT/.venv/bin/python" "$ROOT/bench/summarize_map.py" --pgbench "$scenario" "$OUT/pgbench_$scenario" >>"$OUT/results.jsonl"
  echo "sql $scenario done"
done

"$ROOT/.venv/bin/python" "$ROOT/bench/summarize_map.py" "$OUT/results.jsonl" | tee "$OUT/summary.md"

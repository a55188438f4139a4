#!/usr/bin/env bash
# The project's own SMTP server for development and tests: aiosmtpd, which accepts every
# mail and keeps it in a maildir that tests read. Production uses a real relay
# (PEACEMAP_SMTP_HOST and friends), never this.
#
#   scripts/smtp.sh start   install what is missing, start it (idempotent)
#   scripts/smtp.sh stop    stop it cleanly
#   scripts/smtp.sh status
#
# Listens on 127.0.0.1:$PEACEMAP_SMTP_PORT (default 52525 + PEACEMAP_PORT_OFFSET), runs as
# the unprivileged "nobody" when started as root, and keeps what it receives in
# .smtp/maildir/ (git-ignored; PEACEMAP_MAILDIR points the tests there), its pid and
# log in .smtp/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/unprivileged.sh
port=${PEACEMAP_SMTP_PORT:-$((52525 + ${PEACEMAP_PORT_OFFSET:-0}))}
user=nobody
python=/usr/bin/python3

listening() {
  "$python" - "$port" <<'PY' 2>/dev/null
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=2) as smtp:
    smtp.noop()
PY
}

install() {
  local data=$1
  [ -x "$python" ] || scripts/apt.sh python3
  "$python" -m venv --help >/dev/null 2>&1 || scripts/apt.sh python3-venv
  local venv=$data/venv stamp=$data/venv/.installed
  if [ ! -f "$stamp" ] || [ scripts/smtp-requirements.txt -nt "$stamp" ]; then
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet -r scripts/smtp-requirements.txt
    touch "$stamp"
  fi
}

start() {
  local data
  data=$(data_dir .smtp "$user")
  install "$data"
  if [ "$(id -u)" -eq 0 ]; then
    chmod 755 "$data"  # the venv inside is root's; nobody reads and runs it
  fi
  listening && return 0
  # The server writes its own pid (exec keeps it), so that stop ends exactly that process.
  as_user "$user" setsid sh -c 'echo $$ >"$1/smtp.pid"; exec "$1/venv/bin/python" -m aiosmtpd \
    -n -l "$2" -c aiosmtpd.handlers.Mailbox "$1/maildir"' sh "$data" "127.0.0.1:$port" \
    >"$data/smtp.log" 2>&1 &
  for _ in $(seq 100); do
    listening && { echo "SMTP (aiosmtpd) is running on 127.0.0.1:$port, mails in .smtp/maildir (stop it with: make stop)"; return 0; }
    sleep 0.1
  done
  echo "The SMTP server did not start; see .smtp/smtp.log" >&2
  exit 1
}

stop() {
  [ -e .smtp ] || { echo "SMTP server is not running."; return 0; }
  local pidfile
  pidfile=$(readlink -f .smtp)/smtp.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 50); do listening || break; sleep 0.1; done
    echo "SMTP server stopped."
  else
    echo "SMTP server is not running."
  fi
}

status() {
  if listening; then echo "SMTP is running on 127.0.0.1:$port."; else echo "SMTP is not running."; exit 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

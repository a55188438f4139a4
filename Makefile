# The two commands of the README: `make run` and `make test`. Each installs what is
# missing (Debian packages, the virtualenv, a local PostgreSQL + PostGIS cluster).
SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
# Every server the project starts listens on its base port + PEACEMAP_PORT_OFFSET, so that
# several checkouts (and CI) can run side by side on one machine.
export PEACEMAP_PORT_OFFSET ?= 0
export PEACEMAP_PG_PORT ?= $(shell echo $$((54329 + $(PEACEMAP_PORT_OFFSET))))
FLASK := .venv/bin/flask --app wsgi

.PHONY: run test test-tools db db-stop redis smtp stop venv lint format bench prod prod-stop \
	topology topology-stop test-topology backup restore

venv:
	@scripts/venv.sh

db:
	@if [ -n "$$DATABASE_URL" ]; then echo "Using DATABASE_URL; no local cluster started."; \
	else scripts/db.sh start; fi

# Rate-limit counters shared by every worker and process (README, "Rate limits").
redis:
	@if [ -n "$$PEACEMAP_RATELIMIT_STORAGE" ]; then echo "Using PEACEMAP_RATELIMIT_STORAGE; no local Redis started."; \
	else scripts/redis.sh start; fi

# A local SMTP server whose mails land in .smtp/maildir (README, "Mail").
smtp:
	@if [ -n "$$PEACEMAP_SMTP_HOST" ]; then echo "Using PEACEMAP_SMTP_HOST; no local SMTP server started."; \
	else scripts/smtp.sh start; fi

run: venv db redis smtp
	@$(FLASK) db upgrade
	@$(FLASK) seeds demo
	@echo "Peacemap on http://$(HOST):$(PORT)  (the map page)"
	@echo "  API docs:      http://$(HOST):$(PORT)/api/v1/docs"
	@echo "  OpenAPI:       http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "  Mails sent:    .smtp/maildir (the local SMTP server)"
	@echo "  Sample query:  http://$(HOST):$(PORT)/api/v1/actors?country=CO&theme=gender&f=geojson"
	@echo "  Worker:        webhook deliveries and digests (flask --app wsgi worker)"
	@# The queue's worker runs beside gunicorn and stops with it (Ctrl-C stops both).
	@$(FLASK) worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	.venv/bin/gunicorn -c deploy/gunicorn.conf.py --workers $(WORKERS) \
		--bind $(HOST):$(PORT) wsgi:app

# Real clients the tests drive: GDAL's OGC API driver; a headless browser with its driver
# and axe-core (scripts/browser-tools.sh); the contract tools (Redocly, openapi-typescript,
# tsc) from npm.
test-tools:
	@scripts/apt.sh gdal-bin
	@scripts/browser-tools.sh
	@scripts/contract-tools.sh

test: venv db redis smtp test-tools
	@.venv/bin/pytest $(PYTEST_ARGS)

# The production shape: nginx (buffering proxy) in front of gunicorn; see README.
prod: venv
	@scripts/prod.sh start

prod-stop:
	@scripts/prod.sh stop

# Scaled out on one machine: primary + streaming replica + two app instances behind nginx
# (README, "Scaling out").
topology: venv db redis smtp
	@scripts/topology.sh start

topology-stop:
	@scripts/topology.sh stop

# The slow tests: the replicated topology under load and lag, and the restore drill.
test-topology: venv db redis smtp
	@.venv/bin/pytest -m topology tests/test_topology.py tests/test_backup.py $(PYTEST_ARGS)

# A base backup of the local cluster; WAL archiving runs from then on (README, "Backups").
backup: venv db
	@scripts/backup.sh backup

# The backup restored to TARGET_TIME (default: as late as the archive goes) into the
# throw-away cluster on port 54629 + offset; the running cluster is left alone.
restore: venv
	@scripts/backup.sh restore "$(TARGET_TIME)"

db-stop:
	@scripts/db.sh stop

# Stop every server the project started.
stop:
	@scripts/topology.sh stop >/dev/null 2>&1 || true
	@scripts/backup.sh stop >/dev/null 2>&1 || true
	@scripts/db.sh stop
	@scripts/redis.sh stop
	@scripts/smtp.sh stop

lint: venv
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: venv
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

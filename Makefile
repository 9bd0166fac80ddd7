# Tether: `make up` runs the product, `make test` tests it. Both set up what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
ONLY ?=

PY_STAMP := $(VENV)/.installed
NODE_STAMP := frontend/node_modules/.installed
DIST_INDEX := frontend/dist/index.html
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	$(wildcard frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json frontend/package.json)

TEST_ENV := DJANGO_SETTINGS_MODULE=controlplane.settings.test
EMBEDDED_TEST_ENV := DJANGO_SETTINGS_MODULE=controlplane.settings.embedded TETHER_VAR_DIR=$(CURDIR)/var/test-embedded

.PHONY: help up test bench race load compare setup services lint typecheck frontend-check api-types-check migrations-check pytest smoke clean

help:
	@echo "make up      run Tether (embedded: SQLite, in-process services) at http://$(HOST):$(PORT)"
	@echo "make test    run every check and test (starts PostgreSQL/Redis if needed)"
	@echo "make bench   run the benchmarks in tests/bench (ONLY=<group> for one group)"

$(PY_STAMP): requirements/base.txt requirements/dev.txt requirements/prod.txt agent/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -e agent
	@touch $@

$(NODE_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(DIST_INDEX): $(NODE_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent
	@touch $@

setup: $(PY_STAMP) $(DIST_INDEX)

up: setup
	DJANGO_SETTINGS_MODULE=controlplane.settings.embedded $(PY) manage.py up --host $(HOST) --port $(PORT)

services:
	@infra/dev/ensure-services.sh

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy

frontend-check: $(NODE_STAMP)
	cd frontend && npm run typecheck --silent && npm run test --silent

# The SPA's API types come from the OpenAPI schema; a stale copy fails the build.
api-types-check: $(PY_STAMP) $(NODE_STAMP)
	$(EMBEDDED_TEST_ENV) $(PY) manage.py spectacular --format openapi-json --file var/openapi.json
	diff -q var/openapi.json frontend/openapi.json || { echo "frontend/openapi.json is stale: run make api-types"; exit 1; }
	cd frontend && npm run gen:api --silent && git diff --exit-code -- src/api/schema.d.ts

api-types: $(PY_STAMP) $(NODE_STAMP)
	$(EMBEDDED_TEST_ENV) $(PY) manage.py spectacular --format openapi-json --file frontend/openapi.json
	cd frontend && npm run gen:api --silent

migrations-check: $(PY_STAMP)
	$(EMBEDDED_TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

pytest: setup services
	@infra/dev/ensure-chromium.sh
	$(TEST_ENV) $(BIN)/pytest tests --ignore=tests/embedded -n 2 --dist loadfile --durations=30

# Issue 6's full race (10 agents, 2,000 runs): ~6 min of an idle 2-core machine, so not in `make test`.
race: setup services
	TETHER_RACE_RUNS=2000 $(TEST_ENV) $(BIN)/pytest tests/e2e/test_dispatch_race.py -q

# RELIABILITY 40 in full: 200 simulated agents and 20 UI users for 10 minutes (tests/load; `make test` runs 30 s of it).
load: setup services
	$(TEST_ENV) $(PY) -m tests.load.run --minutes 10

# Tether beside Prefect 3.8.8 on this machine (tests/bench/compare_prefect.py; docs/bench.md). Installs Prefect into var/.
compare: setup services
	$(TEST_ENV) $(PY) -m tests.bench.compare_prefect

smoke: setup
	rm -rf var/test-embedded
	$(EMBEDDED_TEST_ENV) $(BIN)/pytest tests/embedded --ds=controlplane.settings.embedded

test: setup services lint typecheck frontend-check api-types-check migrations-check pytest smoke
	@echo "make test: all checks passed"

# wrk (Debian) generates the HTTP load, so the client does not take the server's cores.
bench: setup services
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null || echo "wrk not installed: HTTP load comes from httpx (slower figures)"
	$(TEST_ENV) $(PY) -m tests.bench.run $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var

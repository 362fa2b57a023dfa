# Tracker — `make run` serves the app, `make test` runs every test. Both work on a fresh clone.
# `make serve` serves it in production (gunicorn); `make load` is the load test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
FLASK  := $(BIN)/flask --app wsgi
PYTEST_ARGS ?=
# The suite runs in parallel (pytest-xdist), a worker per core: on the 2-core CI box
# that took ~55-75 s against ~90 s serially; 3 workers were no faster. 0 runs serially.
PYTEST_WORKERS ?= auto

# What `make run` means by a development server (TRACKER_* given to make still win).
export TRACKER_ENV ?= development
RUN_ENV := TRACKER_DEMO_USER=$${TRACKER_DEMO_USER:-true} TRACKER_INPROCESS_WORKER=$${TRACKER_INPROCESS_WORKER:-true}

.PHONY: run serve worker test test-postgres fuzz bench load lint assets install clean help

help:
	@echo "make run    set up and serve on http://$(HOST):$(PORT) (demo / demo1234)"
	@echo "make serve  production: migrate, then gunicorn (gunicorn.conf.py); needs the secrets"
	@echo "make worker production: the sync worker as its own process"
	@echo "make test   set up and run the whole suite (SQLite; PostgreSQL via .ci/run)"
	@echo "make fuzz   a longer schemathesis run against the OpenAPI document"
	@echo "make bench  run the benchmarks under bench/"
	@echo "make load   gunicorn + workers on SQLite, then PostgreSQL + Redis, under load"
	@echo "make lint   ruff"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The load tool (locust) only for `make load`: `make run` and `make test` never need it.
$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# Front-end packages come from the npm registry at the versions in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.installed
	mkdir -p static/vendor/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css static/vendor/swagger-ui/
	touch $@

assets: static/vendor/.installed

# `tracker dev` is the development server: it makes the demo user (TRACKER_DEMO_USER)
# and runs the worker in a thread (TRACKER_INPROCESS_WORKER); creating the app does neither.
run: install assets
	$(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) tracker dev --host $(HOST) --port $(PORT)

# Production: the secrets come from the environment (never made up here); the worker is
# its own process (`make worker`), not a thread of each web process.
SERVE_ENV := TRACKER_ENV=production

serve: install assets
	@$(SERVE_ENV) $(BIN)/python -m tracker.preflight
	$(SERVE_ENV) $(FLASK) db upgrade
	$(SERVE_ENV) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

worker: install
	@$(SERVE_ENV) $(BIN)/python -m tracker.preflight
	$(SERVE_ENV) $(FLASK) tracker worker

test: install assets
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The bounded run is part of `make test`; this one asks schemathesis for many more cases.
FUZZ_MAX_EXAMPLES ?= 500
fuzz: install assets
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_TIMEOUT=3600 $(BIN)/python -m pytest -s tests/test_openapi_fuzz.py $(PYTEST_ARGS)

bench: install assets
	$(BIN)/python -m bench

load: $(VENV)/.bench-installed assets
	$(BIN)/python -m bench.load

lint: install
	$(BIN)/ruff check tracker tests bench
	$(BIN)/ruff format --check tracker tests bench

clean:
	rm -rf $(VENV) node_modules static/vendor instance .pytest_cache

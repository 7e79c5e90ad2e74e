# Stockyard: `make run` serves the app with demo data, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine (virtual environment,
# pinned packages, the embedded PostgreSQL server, Chromium for browser tests).
# `make run` serves through gunicorn (gunicorn.conf.py) with DEBUG off, as
# production does; `make dev` is the autoreloading development server.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-$(shell sha256sum requirements.lock | cut -c1-16)
HOST ?= 127.0.0.1
PORT ?= 8000
# Settings of `make run`: production's, minus TLS and the external database.
RUN_SETTINGS := config.settings.local
# The suite runs in two pytest-xdist workers (two cores), each with its own test
# database and live server; `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n 2

.PHONY: run dev test lint format deps chromium lock prepare serve clean-db

run: deps prepare ## Serve the app with demo data on http://127.0.0.1:8000 (gunicorn, DEBUG off)
	@DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py collectstatic --noinput -v 0
	@DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS) $(BIN)/python manage.py seed_demo
	@echo "Stockyard is starting on http://$(HOST):$(PORT)/ with its job worker (Ctrl-C stops both)"
	@export DJANGO_SETTINGS_MODULE=$(RUN_SETTINGS); \
		$(BIN)/python manage.py procrastinate worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
		$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT)

dev: deps prepare ## The autoreloading development server (DEBUG on) with demo data and the worker
	@$(BIN)/python manage.py seed_demo
	@echo "Stockyard (development server) is starting on http://$(HOST):$(PORT)/ with its job worker"
	@$(BIN)/python manage.py procrastinate worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: deps chromium ## Run the whole test suite (lint, migrations check, tests)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(BIN)/python manage.py provision_db
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

prepare: deps
	@$(BIN)/python manage.py provision_db
	@$(BIN)/python manage.py migrate --noinput

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

deps: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), f"Python 3.12+ is needed, found {sys.version.split()[0]}"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check --require-hashes -r requirements.lock
	@rm -f $(VENV)/.requirements-*
	@touch $@

chromium: ## Debian's Chromium for the browser tests (never a downloaded browser build)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium package for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lock: ## Re-pin every dependency (after editing pyproject.toml)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe -o requirements.lock pyproject.toml

clean-db: ## Stop the embedded PostgreSQL server and delete its data and passwords
	-@$(BIN)/python -m config.pgserver destroy
	rm -rf .pgdata

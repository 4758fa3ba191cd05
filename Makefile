# The newcomer's commands: `make run` (the portal with demo data on http://127.0.0.1:8000) and
# `make test`. Both create .venv with python3.11 on first use and reinstall requirements.txt only
# when it changed (the stamp file below is older than it).

PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.requirements-installed
# pytest takes its settings from pyproject.toml and the server from MANAGE below, whatever the
# shell exports.
unexport DJANGO_SETTINGS_MODULE
MANAGE := DJANGO_SETTINGS_MODULE=portal.settings.local $(VENV)/bin/python manage.py
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/portal

.DEFAULT_GOAL := help
.PHONY: help install run test test-postgres lint format ci scale-out

help:
	@echo "make run            the portal with demo data on http://127.0.0.1:8000 (SQLite)"
	@echo "make test           the test suite on SQLite (browser tests skip without chromium)"
	@echo "make test-postgres  the test suite on PostgreSQL ($(POSTGRES_URL))"
	@echo "make lint           ruff check and ruff format --check"
	@echo "make format         ruff format and ruff check --fix"
	@echo "make ci             everything CI runs (.ci/run)"
	@echo "make scale-out      two gunicorns, a Celery worker and beat under load for 60 s, then checked"
	@echo "                    (needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1; SCALE_OUT_ARGS=...)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# axe-core for the browser tour, as package-lock.json pins it (npm ci rewrites the hidden lockfile).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP)
	$(MANAGE) migrate --no-input
	$(MANAGE) demo
	$(MANAGE) runserver 127.0.0.1:8000

test: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/pytest -q

test-postgres: $(STAMP) $(NODE_STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ci:
	bash .ci/run

# benchmarks/scale_out.py: a scratch database portal_scaleout_run on the local PostgreSQL server,
# Redis database 11 and a queue of its own on RabbitMQ; exits 1 when a check fails.
scale-out: $(STAMP)
	$(VENV)/bin/python benchmarks/scale_out.py $(SCALE_OUT_ARGS)

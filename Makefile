# 家访通 — two commands: `make run` (install, migrate, demo data, serve) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app app

.PHONY: run test test-sqlite test-postgres system-deps install install-test translations migrate seed serve bench clean-instance screenshots

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

translations: | $(BIN)/python
	@$(BIN)/pybabel compile -q -d app/translations 2>/dev/null || $(BIN)/pybabel compile -d app/translations

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

run: seed
	@$(FLASK) banner --host $(HOST) --port $(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT) --no-reload

# Production-style serving: stateless gthread workers that a slow 2G upload cannot get killed (app/gunicorn_conf.py;
# WORKERS and THREADS from the environment; see README, Deployment).
serve: migrate
	$(BIN)/gunicorn --config app/gunicorn_conf.py --bind $(HOST):$(PORT) 'app:create_app()'

# System packages the browser tests need: Debian's Chromium and CJK fonts.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The whole suite twice: on SQLite, then on a throwaway PostgreSQL server (Debian's, installed when missing, started
# on 127.0.0.1 and stopped again by .ci/with-postgres; a TEST_DATABASE_URL you set is used instead). Both passes
# always run; the target fails when either does.
PYTEST_SQLITE := TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)
PYTEST_POSTGRES := bash .ci/with-postgres $(BIN)/pytest $(PYTEST_ARGS)

test: install-test system-deps
	@echo "== pass 1/2: SQLite"; rc=0; $(PYTEST_SQLITE) || rc=$$?; \
	echo "== pass 2/2: PostgreSQL"; $(PYTEST_POSTGRES) || rc=$$?; \
	[ $$rc = 0 ] || echo "== make test: a pass failed (exit $$rc)"; exit $$rc

test-sqlite: install-test system-deps
	$(PYTEST_SQLITE)

test-postgres: install-test system-deps
	$(PYTEST_POSTGRES)

bench: install-test
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# 360 px PNGs of every main screen of every demo role under instance/screenshots/ (git-ignored), from a temporary
# database loaded with the demo: look at the product without a phone.
screenshots: install-test system-deps
	$(BIN)/python bench/screenshots.py

# GeriQC — `make run` starts the platform, `make test` runs the test suite (see README.md).
# Both work on a fresh Debian 12 machine: missing Debian packages are installed through apt when
# running as root, Python packages come hash-checked from requirements/*.lock into .venv.
# Configuration: environment variables, listed in docs/configuration.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
UV ?= uv

HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_UNITS ?= 53
PYTEST_ARGS ?=
GERIQC_VAR_DIR ?= $(CURDIR)/var
export GERIQC_VAR_DIR HOST PORT

# Debian packages: PACKAGE or PACKAGE:COMMAND (present when COMMAND is on PATH).
APT_ASSET_PACKAGES := nodejs:node npm:npm
# Browser tests drive Debian's Chromium; Chinese text needs CJK fonts; gettext for the
# translation checks.
APT_TEST_PACKAGES := $(APT_ASSET_PACKAGES) chromium:chromium chromium-driver:chromedriver \
	fonts-noto-cjk gettext:msgfmt

VENV_STAMP := $(VENV)/.created
BASE_STAMP := $(VENV)/.base-lock.installed
DEV_STAMP := $(VENV)/.dev-lock.installed
# Some machines configure pip with local mirror folders that do not exist; drop that noise only.
PIP_FILTER := 2>&1 | { grep -v "^WARNING: Location 'file://" || true; }

# mypy (django-stubs) covers the service layer and the API code (STYLE.md).
MYPY_TARGETS = config/env.py $(shell find config qc_core ops_portal monitors backup loadtests -type f \
	\( -name services.py -o -name api.py -o -path '*/services/*.py' -o -path '*/api/*.py' \) \
	-not -path '*/migrations/*' 2>/dev/null | sort)

.PHONY: help banner run test lint check-migrations lock install install-dev assets migrate seed ci

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------------------------

$(VENV_STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
		echo "GeriQC needs Python 3.11 (found: $$($(PYTHON) --version 2>&1)); set PYTHON=python3.11" >&2; exit 1; }
	@if [ -x "$(PY)" ] && "$(PY)" -m pip --version >/dev/null 2>&1; then \
		echo "==> using the existing $(VENV)"; \
	else \
		echo "==> creating $(VENV)"; \
		$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { \
			APT_ENSURE_STRICT=1 bash scripts/apt_ensure.sh python3-venv && $(PYTHON) -m venv $(VENV); }; \
	fi
	@touch $@

$(BASE_STAMP): requirements/base.lock $(VENV_STAMP)
	@echo "==> installing requirements/base.lock into $(VENV)"
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/base.lock $(PIP_FILTER)
	@touch $@

$(DEV_STAMP): requirements/dev.lock $(VENV_STAMP)
	@echo "==> installing requirements/dev.lock into $(VENV)"
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/dev.lock $(PIP_FILTER)
	@touch $@


install: $(BASE_STAMP)  ## create .venv and install the locked runtime packages

install-dev: $(DEV_STAMP)  ## create .venv and install the locked runtime + test/lint packages

# The script itself skips `npm ci` while node_modules matches the lock, so running it every time
# costs a fraction of a second and never leaves static/vendor stale.
assets:  ## npm ci (when the lock changed) and copy Bootstrap, HTMX, ECharts into static/vendor
	@bash scripts/apt_ensure.sh $(APT_ASSET_PACKAGES)
	@bash scripts/build_assets.sh

# --- run ---------------------------------------------------------------------------------------

migrate: $(BASE_STAMP)
	$(MANAGE) migrate --noinput

seed: migrate  ## create or repair the demo data (DEMO_UNITS=53) and the indicator library
	$(MANAGE) seed_demo --units $(DEMO_UNITS)
	$(MANAGE) load_indicators
	$(MANAGE) seed_demo_reporting
	$(MANAGE) seed_demo_ops

run: $(BASE_STAMP) assets  ## migrate, seed the demo, start web + Celery worker + beat (Ctrl-C stops)
	@mkdir -p "$(GERIQC_VAR_DIR)"
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) migrate --noinput
	@if [ -f "$(GERIQC_VAR_DIR)/.demo-seeded" ]; then \
		$(MANAGE) seed_demo --units $(DEMO_UNITS) --quiet-table; \
	else \
		$(MANAGE) seed_demo --units $(DEMO_UNITS) && touch "$(GERIQC_VAR_DIR)/.demo-seeded"; \
	fi
	$(MANAGE) load_indicators
	@case "$$(echo "$${GERIQC_PRODUCTION:-}" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')" in \
		1|true|yes|on) echo "==> GERIQC_PRODUCTION is set: no demo reporting data, tickets or roster";; \
		*) $(MANAGE) seed_demo_reporting && $(MANAGE) seed_demo_ops;; \
	esac
	@rm -rf "$(GERIQC_VAR_DIR)/prometheus" && mkdir -p "$(GERIQC_VAR_DIR)/prometheus"
	@$(MAKE) banner
	PROMETHEUS_MULTIPROC_DIR="$(GERIQC_VAR_DIR)/prometheus" exec $(VENV)/bin/honcho --procfile Procfile start --port $(PORT)

banner:
	@echo
	@echo "  GeriQC is starting at  http://$(HOST):$(PORT)/   (login: http://$(HOST):$(PORT)/accounts/login/)"
	@w=2; [ $(DEMO_UNITS) -gt 99 ] && w=3; \
	echo "  Demo logins: center_admin, subcenter_admin, reporter$$(printf "%0$${w}d" 1) … reporter$$(printf "%0$${w}d" $(DEMO_UNITS)), leader01,"
	@echo "               official, expert01, expert02, engineer01, engineer02, ops_manager, tester01"
	@if [ -n "$${DEMO_PASSWORD:-}" ]; then \
		echo "  Password:    the value of DEMO_PASSWORD"; \
	else \
		echo "  Password:    cat $(GERIQC_VAR_DIR)/demo_password"; \
	fi
	@echo "  Stop with Ctrl-C."
	@echo

# --- quality -----------------------------------------------------------------------------------

test: $(DEV_STAMP) assets  ## install what the tests need, then pytest --durations=25 $(PYTEST_ARGS)
	@bash scripts/apt_ensure.sh $(APT_TEST_PACKAGES)
	@echo "$(PY) -m pytest --durations=25 $(PYTEST_ARGS)"
	@$(PY) -m pytest --durations=25 $(PYTEST_ARGS) || { rc=$$?; \
		[ $$rc -eq 5 ] && echo "make test: pytest collected no tests (exit 5)" >&2; exit $$rc; }

lint: $(DEV_STAMP)  ## ruff check, ruff format --check, mypy on services and API code
	@status=0; \
	echo "==> ruff check"; $(VENV)/bin/ruff check . || status=1; \
	echo "==> ruff format --check"; $(VENV)/bin/ruff format --check . || status=1; \
	echo "==> mypy ($(words $(MYPY_TARGETS)) files)"; $(VENV)/bin/mypy $(MYPY_TARGETS) || status=1; \
	exit $$status

check-migrations: $(DEV_STAMP)  ## fail when a model change has no migration
	$(MANAGE) makemigrations --check --dry-run

lock:  ## regenerate requirements/*.lock from pyproject.toml (needs uv: pip install uv)
	@command -v $(UV) >/dev/null || { echo "make lock needs uv (pip install --user uv)" >&2; exit 1; }
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements/base.lock
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.lock

ci:  ## what CI runs: lint, migrations check, the suite on PostgreSQL and on SQLite
	bash .ci/run

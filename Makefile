# make run  — install, migrate, load catalog and demo data, serve web + worker + beat
# make test — the whole test suite, one pytest process per core (non-zero exit on any failure,
#             "no tests ran" included); prints the 20 slowest tests
# make test-fast — rules and services only (no browser, no Celery worker, no live server, no
#             migration walk): the developer's lane, well under a minute
# make lint — ruff: lint rules and format check (pyproject.toml); make test runs it first
# make bench — performance budgets of the issues
# make java — the Java licence verifier, verifier-java/build/license-verifier.jar (javac + jar only)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
# pytest-xdist processes: auto = one per CPU core (PYTEST_XDIST_AUTO_NUM_WORKERS overrides it);
# TEST_WORKERS=0 runs everything in one process. PYTEST_ARGS is passed on (e.g. -x, -k name).
TEST_WORKERS ?= auto
PYTEST_ARGS ?=
# loadgroup: the browser tests share one worker; no reorder: each worker keeps pytest-django's
# order (transactional tests last). See docs/ci.md and conftest.py.
XDIST := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
FAST_TESTS := $(sort $(wildcard */tests/test_rules*.py */tests/test_services*.py)) \
	vendorportal/tests/test_money.py vendorportal/tests/test_periods.py

# Python may keep compiled modules (__pycache__, git-ignored) even where the shell says
# PYTHONDONTWRITEBYTECODE: every test process, xdist worker and Celery worker a test starts
# imports Django and the project, ≈ 6 s of CPU each when compiled from source every time.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-fast lint format bench deps system-deps setup java messages

system-deps:
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

deps: system-deps $(STAMP) messages

# The English catalogue (issue 21): locale/en/LC_MESSAGES/django.mo is built from the .po
# (gettext's msgfmt), never committed; rebuilt when the .po changes.
MO := locale/en/LC_MESSAGES/django.mo
messages: $(MO)
$(MO): locale/en/LC_MESSAGES/django.po
	@command -v msgfmt >/dev/null || { echo "msgfmt fehlt: 'make system-deps' als root installiert gettext" >&2; exit 1; }
	msgfmt --check-format -o $@ $<

setup: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo

# Links in e-mails (invitations, tickets, password resets) point where the portal is served:
# honcho gives each process its own PORT, so the workers learn the web port from PORTAL_BASE_URL.
run: setup
	@echo
	@echo "Partnerportal:  http://127.0.0.1:$(PORT)/portal/"
	@echo "Verwaltung:     http://127.0.0.1:$(PORT)/admin/"
	@echo "Gesendete Mails liegen in var/mail/ (EMAIL_URL für SMTP setzen)."
	@echo "Stoppen mit Strg-C."
	@echo
	PORT=$(PORT) PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)} $(VENV)/bin/honcho start -f Procfile

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Lint first: CI fails on a lint error as on a failing test. pytest exits 5 when no test ran,
# which make counts as a failure like any other non-zero exit.
test: lint messages
	$(PY) -m pytest $(XDIST) --durations=20 $(PYTEST_ARGS)

# --reuse-db: the lane keeps its migrated test databases between runs (none of its tests empties
# the tables); after changing or switching migrations: make test-fast PYTEST_ARGS=--create-db
test-fast: deps
	$(PY) -m pytest $(XDIST) --reuse-db -m "not browser and not worker and not migration" $(PYTEST_ARGS) $(FAST_TESTS)

bench: deps
	$(PY) bench/run_all.py

# The Java verifier (issue 21): Debian's JDK only, no Maven or Gradle, nothing downloaded.
# Compiled into a fresh temporary directory and moved into place, so two builds at once
# (e.g. two test processes) never leave a half-written jar.
JAVA_SOURCES := $(shell find verifier-java/src -name '*.java' 2>/dev/null)
JAVA_JAR := verifier-java/build/license-verifier.jar

java: $(JAVA_JAR)

$(JAVA_JAR): $(JAVA_SOURCES)
	@command -v javac >/dev/null && command -v jar >/dev/null || { \
	  echo "javac/jar fehlen: 'make system-deps' als root installiert das JDK (Debian: default-jdk-headless)" >&2; exit 1; }
	@mkdir -p verifier-java/build
	@tmp=$$(mktemp -d verifier-java/build/.tmp.XXXXXX) && trap 'rm -rf "$$tmp"' EXIT && \
	  javac --release 17 -encoding UTF-8 -Xlint:all -Werror -d "$$tmp/classes" $(JAVA_SOURCES) && \
	  jar --create --file "$$tmp/license-verifier.jar" --main-class vendorportal.licensing.LicenseVerifier \
	    -C "$$tmp/classes" . && \
	  mv "$$tmp/license-verifier.jar" $@
	@echo "$@"

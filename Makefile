# make run  — install, migrate, load catalog and demo data, serve web + worker + beat
# make test — the whole test suite (non-zero exit on any failure)
# make lint — ruff: lint rules and format check (pyproject.toml); make test runs it first
# make bench — performance budgets of the issues
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test lint format bench deps system-deps setup

system-deps:
	@PYTHON=$(PYTHON) bash scripts/system-deps.sh

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

deps: system-deps $(STAMP)

setup: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo

run: setup
	@echo
	@echo "Partnerportal:  http://127.0.0.1:$(PORT)/portal/"
	@echo "Verwaltung:     http://127.0.0.1:$(PORT)/admin/"
	@echo "Gesendete Mails liegen in var/mail/ (EMAIL_URL für SMTP setzen)."
	@echo "Stoppen mit Strg-C."
	@echo
	PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Lint first: CI fails on a lint error as on a failing test.
test: lint
	$(PY) -m pytest

bench: deps
	$(PY) bench/run_all.py

# Two commands for a fresh machine (Python 3.11, make and git):
#   make run    create the venv, install, migrate, seed demo content, serve on 127.0.0.1:5000
#   make test   install what the tests need and run lint plus the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The address readers use: Checkout's return URLs, the webhook endpoint and the embed follow it,
# so `make run PORT=5111` keeps payments working. Set SITE_URL yourself behind a proxy.
SITE_URL ?= http://$(HOST):$(PORT)
# Synthetic members so the tracker has something to show ("12,431 of 20,000 members").
DEMO_MEMBERS ?= 12431

.PHONY: run test quick lint format install install-dev browser clean mutants

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# A new .env says where this site is served (`make run PORT=5111` writes :5111), so the flask
# commands you type later agree with the server and `make run` has nothing to warn about.
.env:
	sed 's|^SITE_URL=.*|SITE_URL=$(SITE_URL)|' .env.example > .env

# The Stripe account (here the emulator) is set up exactly as in production: `stripe setup`.
# `--local`: this machine. With the emulator, its endpoint here; with a real test key, none
# (Stripe refuses localhost): the command says to run `stripe listen --forward-to …`, whose
# secret STRIPE_WEBHOOK_SECRET must hold. No delivery proof yet: the server starts below.
# Webhooks go through the queue as in production (WEBHOOK_QUEUE=1), so the worker runs beside
# the server and stops with it.
run: install .env
	@env_site=$$(sed -n 's/^SITE_URL=//p' .env | tail -n 1); \
	if [ "$${env_site:-http://127.0.0.1:5000}" != "$(SITE_URL)" ]; then \
	  echo "make run: serving at $(SITE_URL), but .env says SITE_URL=$${env_site:-(unset)}." >&2; \
	  echo "  flask commands you type read .env: put SITE_URL=$(SITE_URL) there (or start them" >&2; \
	  echo "  with SITE_URL=$(SITE_URL)), else stripe replay and sync take this site's payments" >&2; \
	  echo "  for another installation's (the tag comes from SITE_URL and SECRET_KEY)." >&2; \
	fi
	SITE_URL=$(SITE_URL) $(FLASK) db upgrade
	SITE_URL=$(SITE_URL) $(FLASK) seed-demo --members $(DEMO_MEMBERS)
	SITE_URL=$(SITE_URL) $(FLASK) stripe setup --local
	SITE_URL=$(SITE_URL) $(FLASK) stripe check --local --no-delivery
	SITE_URL=$(SITE_URL) WEBHOOK_QUEUE=1 $(FLASK) webhooks work & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) WEBHOOK_QUEUE=1 $(FLASK) run --host $(HOST) --port $(PORT)

# Browser tests need Debian's Chromium; install it when we may (root with apt), else they skip.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium missing; browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One pytest worker per CPU (pytest-xdist): each has its own databases, emulator and Chromium.
# Work-stealing keeps every worker busy to the end, when the slow browser tests would queue.
PYTEST := $(BIN)/python -m pytest -n auto --dist worksteal

# SQLite always, where the PostgreSQL-only tests start a cluster of their own (tests/pgserver.py);
# PostgreSQL too when TEST_DATABASE_URL is set (without the wheel test, which uses no database
# of the suite's: once is enough). Then the production-shaped rig (tests/rig:
# its own PostgreSQL, gunicorn, queue workers), once and alone: it measures time and memory.
test: install-dev browser lint
	TEST_DATABASE_URL= $(PYTEST) -m "not rig"
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on $$TEST_DATABASE_URL =="; \
	  $(PYTEST) -m "not packaging and not rig"; \
	fi
	@echo "== the production-shaped rig =="
	TEST_DATABASE_URL= $(BIN)/python -m pytest -m rig

# The inner loop: SQLite only, without the browser, packaging, rig and PostgreSQL-only tests
# (about 2 minutes here with the machine busy, 1 idle; `make test` runs everything).
quick: install-dev
	TEST_DATABASE_URL= $(PYTEST) -q --hypothesis-profile=quick \
	  -m "not browser and not packaging and not rig and not postgres_only"

# Each bug in tests/mutants.py, put back alone, must fail a test (on SQLite; Redis for one).
mutants: install-dev
	TEST_DATABASE_URL= $(BIN)/python tests/mutants.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

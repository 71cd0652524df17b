# Everything creates what it needs: a virtual environment in .venv with the package and its
# development extras, reinstalled whenever pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

CELERY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/babysea_celery
# Ports of the demo: the example site, and the sandbox (0: any free port); more demo.py options
# in DEMO_ARGS (e.g. DEMO_ARGS=--once for the scripted run that stops, or DEMO_ARGS=--no-worker).
PORT ?= 8000
SANDBOX_PORT ?= 0
DEMO_ARGS ?=
# What the demo leaves behind: its SQLite database (with WAL files) and the copied outputs.
DEMO_FILES := example_project/db.sqlite3 example_project/db.sqlite3-wal \
	example_project/db.sqlite3-shm example_project/media

.PHONY: demo test test-browser test-postgres test-celery test-latest lint docs check clean
.PHONY: reliability reliability-quick
.PHONY: bench
.PHONY: test-wagtail demo-wagtail

# Django 6 needs Python 3.12+: the newest Django release is tried on Python 3.13 in its own venv.
# The first candidate that runs (a pyenv shim for a version that is not active does not).
PYTHON_LATEST ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python; do \
	$$p -c "" 2>/dev/null && { command -v $$p; break; }; done)
VENV_LATEST ?= .venv-latest

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

## Run the example site with the embedded sandbox (no BabySea account needed) and, when Redis
## answers, a Celery worker, until Ctrl-C; it prints the URLs and the demo login. Each run starts
## from an empty database. `make demo PORT=8010` when port 8000 is taken.
demo: $(INSTALLED)
	$(PY) example_project/demo.py --port $(PORT) --sandbox-port $(SANDBOX_PORT) $(DEMO_ARGS)

## Run the whole test suite (SQLite).
test: $(INSTALLED)
	$(PY) -m pytest

## Only the browser tests of the admin (headless Chromium, part of `make test` too), refreshing
## the screenshots in docs/screenshots/.
test-browser: $(INSTALLED)
	BABYSEA_SCREENSHOTS=1 $(PY) -m pytest -m browser tests/browser

$(VENV_LATEST)/.installed: pyproject.toml
	@test -n "$(PYTHON_LATEST)" || { echo "make test-latest needs Python 3.13 (python3.13 on PATH, or pyenv)"; exit 1; }
	$(PYTHON_LATEST) -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade -e ".[dev]" Django
	touch $@

## The suite on Python 3.13 with the newest Django release.
test-latest: $(VENV_LATEST)/.installed
	$(VENV_LATEST)/bin/python -c "import django, sys; print('Django', django.get_version(), 'on Python', sys.version.split()[0])"
	$(VENV_LATEST)/bin/python -m pytest

## The Wagtail suite (tests/wagtail, browser test included) on the Wagtail LTS (7.4, Python
## 3.11, Django 5.2; SQLite, then PostgreSQL) and on the newest Wagtail (Python 3.13), each in
## its own venv.
VENV_WAGTAIL ?= .venv-wagtail
VENV_WAGTAIL_LATEST ?= .venv-wagtail-latest
WAGTAIL_LTS ?= wagtail>=7.4,<7.5
WAGTAIL_TEST = BABYSEA_TEST_WAGTAIL=1 $(1)/bin/python -m pytest tests/wagtail --ds tests.wagtail.settings

$(VENV_WAGTAIL)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_WAGTAIL)
	$(VENV_WAGTAIL)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_WAGTAIL)/bin/python -m pip install --quiet -e ".[dev,wagtail-media]" "$(WAGTAIL_LTS)"
	touch $@

$(VENV_WAGTAIL_LATEST)/.installed: pyproject.toml
	@test -n "$(PYTHON_LATEST)" || { echo "make test-wagtail needs Python 3.13 (python3.13 on PATH, or pyenv)"; exit 1; }
	$(PYTHON_LATEST) -m venv $(VENV_WAGTAIL_LATEST)
	$(VENV_WAGTAIL_LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_WAGTAIL_LATEST)/bin/python -m pip install --quiet --upgrade -e ".[dev,wagtail-media]" wagtail
	touch $@

test-wagtail: $(VENV_WAGTAIL)/.installed $(VENV_WAGTAIL_LATEST)/.installed
	$(VENV_WAGTAIL)/bin/python -c "import wagtail, django; print('Wagtail', wagtail.__version__, 'Django', django.get_version())"
	$(call WAGTAIL_TEST,$(VENV_WAGTAIL))
	BABYSEA_TEST_DATABASE_URL=$(POSTGRES_URL) $(call WAGTAIL_TEST,$(VENV_WAGTAIL))
	$(VENV_WAGTAIL_LATEST)/bin/python -c "import wagtail, django; print('Wagtail', wagtail.__version__, 'Django', django.get_version())"
	$(call WAGTAIL_TEST,$(VENV_WAGTAIL_LATEST))

## The Wagtail example site (example_site.settings_wagtail) the same way, in the Wagtail venv:
## pages with an article, the Wagtail admin at /cms/ and the editor login printed.
demo-wagtail: $(VENV_WAGTAIL)/.installed
	$(VENV_WAGTAIL)/bin/python example_project/demo.py --wagtail --port $(PORT) --sandbox-port $(SANDBOX_PORT) $(DEMO_ARGS)

## The same suite on PostgreSQL.
test-postgres: $(INSTALLED)
	BABYSEA_TEST_DATABASE_URL=$(POSTGRES_URL) $(PY) -m pytest

## The Celery suite: a real worker process on Redis, sharing a PostgreSQL test database.
test-celery: $(INSTALLED)
	BABYSEA_TEST_CELERY=1 BABYSEA_TEST_DATABASE_URL=$(CELERY_DATABASE_URL) $(PY) -m pytest tests/celery
	BABYSEA_TEST_CELERY=1 BABYSEA_TEST_DATABASE_URL=$(CELERY_DATABASE_URL) $(PY) -m pytest tests/reliability -m celery

## Three runs that try to lose or double data on PostgreSQL with gunicorn, the sandbox and a
## Celery worker (Redis db 13): 10,000 webhook deliveries, 1,000 submissions with faults, a
## worker killed mid-task. Each prints what it tried and what was lost (docs/reliability.md).
RELIABILITY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/babysea_rel
reliability: $(INSTALLED)
	BABYSEA_RELIABILITY_DATABASE_URL=$(RELIABILITY_DATABASE_URL) $(PY) -m benchmarks.reliability all

## The same runs at the reduced sizes of CI (under a minute each).
reliability-quick: $(INSTALLED)
	BABYSEA_RELIABILITY_DATABASE_URL=$(RELIABILITY_DATABASE_URL) $(PY) -m benchmarks.reliability all --quick

## Every benchmark, one table of ratios against baselines measured in the same run
## (docs/performance.md); databases babysea_bench_* on the PostgreSQL server of
## BENCH_DATABASE_URL. `make bench BENCH_ARGS=--quick` for CI's sizes.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/babysea_bench
BENCH_ARGS ?=
bench: $(INSTALLED)
	BABYSEA_BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m benchmarks $(BENCH_ARGS)

lint: $(INSTALLED) $(VENV_WAGTAIL)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy django_babysea tests/core tests/celery
	$(VENV_WAGTAIL)/bin/mypy --config-file tests/wagtail/mypy.ini django_babysea/contrib/wagtail

docs: $(INSTALLED)
	$(VENV)/bin/mkdocs build --strict --site-dir site

## Django checks of the example site, in development and with production-like settings.
check: $(INSTALLED)
	$(PY) example_project/manage.py check --fail-level WARNING
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=ci-only-$$(date +%s%N)-a-long-random-looking-secret-key-for-deploy-checks \
	BABYSEA_API_KEY=bye_deploy_check_key BABYSEA_WEBHOOK_SECRET=whsec_deploy_check_secret \
	$(PY) example_project/manage.py check --deploy --fail-level WARNING
	$(PY) example_project/manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) $(VENV_LATEST) $(VENV_WAGTAIL) $(VENV_WAGTAIL_LATEST) .tox site .pytest_cache .mypy_cache .ruff_cache $(DEMO_FILES)

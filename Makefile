# Everything creates what it needs: a virtual environment in .venv with the package and its
# development extras, reinstalled whenever pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

CELERY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/babysea_celery

.PHONY: demo test test-postgres test-celery lint docs check clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

## Run the demo against the embedded sandbox (no BabySea account needed).
demo: $(INSTALLED)
	$(PY) example_project/demo.py

## Run the whole test suite (SQLite).
test: $(INSTALLED)
	$(PY) -m pytest

## The same suite on PostgreSQL.
test-postgres: $(INSTALLED)
	BABYSEA_TEST_DATABASE_URL=$(POSTGRES_URL) $(PY) -m pytest

## The Celery suite: a real worker process on Redis, sharing a PostgreSQL test database.
test-celery: $(INSTALLED)
	BABYSEA_TEST_CELERY=1 BABYSEA_TEST_DATABASE_URL=$(CELERY_DATABASE_URL) $(PY) -m pytest tests/celery

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy django_babysea tests/core tests/celery

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
	rm -rf $(VENV) .tox site .pytest_cache .mypy_cache .ruff_cache

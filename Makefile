# Two commands on a fresh machine: `make run` and `make test`. Both idempotent.
SHELL := /bin/bash
VENV ?= .venv
KINGA := $(VENV)/bin/kinga
PYTHON ?= python3

.PHONY: run test setup venv db lint bench clean-db frontend

run: setup  ## set everything up, load the bundled real data, serve on 127.0.0.1:$KINGA_PORT (8000)
	$(KINGA) seed
	$(KINGA) serve --workers $${KINGA_WORKERS:-2}

test: setup lint  ## set everything up, lint (ruff, mypy, import layers), then the whole test suite
	bash scripts/install-chromium.sh
	$(VENV)/bin/pytest

setup: venv db

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

db: venv  ## a local PostGIS (installed from the OS packages if absent) unless KINGA_DATABASE_URL is set
	@if [ -z "$${KINGA_DATABASE_URL:-}" ]; then bash scripts/install-postgis.sh && $(KINGA) db up; fi
	$(KINGA) db migrate

lint: venv  ## ruff, mypy and the import-layer contracts of docs/architecture.md (pyproject.toml)
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/mypy app
	$(VENV)/bin/lint-imports

bench: setup  ## benchmarks (not part of the test run)
	$(VENV)/bin/python -m bench.bench_import

clean-db:
	-$(KINGA) db down
	rm -rf .data

frontend:  ## rebuild the /map page's assets (app/static/map, committed) from frontend/ with npm
	cd frontend && npm ci --no-audit --no-fund && npm run build

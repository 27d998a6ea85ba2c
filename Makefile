# Two commands on a fresh machine: `make run` and `make test`. Both idempotent.
SHELL := /bin/bash
VENV ?= .venv
KINGA := $(VENV)/bin/kinga
PYTHON ?= python3

.PHONY: run test setup venv db lint bench clean-db frontend run-ha test-ha

run: setup  ## set everything up, load the bundled real data, serve on 127.0.0.1:$KINGA_PORT (8000)
	bash scripts/install-products.sh
	$(KINGA) seed
	$(KINGA) serve --workers $${KINGA_WORKERS:-2}

test: setup lint  ## set everything up, lint (ruff, mypy, import layers), then the whole test suite
	bash scripts/install-chromium.sh
	bash scripts/install-products.sh
	$(VENV)/bin/pytest

setup: venv db

# A replicated cluster on this machine (docs/scale-out.md): pg_auto_failover monitor on 54340,
# primary and synchronous standby on 54341/54342 (KINGA_HA_MONITOR_PORT, KINGA_HA_NODE_PORTS).
run-ha: venv  ## replicated cluster, bundled data, serve with writes to the primary and reads from the standby
	bash scripts/install-ha.sh
	$(KINGA) db up --ha
	export KINGA_DATABASE_URL="$$($(KINGA) db url --ha)" KINGA_DATABASE_READ_URL="$$($(KINGA) db url --ha --read)"; \
	  $(KINGA) db migrate && $(KINGA) seed && $(KINGA) serve --workers $${KINGA_WORKERS:-2}

test-ha: venv  ## HA tests (read routing, synchronous commit, failover, fencing) on a throwaway replicated cluster
	bash scripts/install-ha.sh
	KINGA_HA_TESTS=1 $(VENV)/bin/pytest tests/ha

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

BENCHES ?= bench_import bench_hotspots bench_alerts fault_alerts bench_patrols

bench: setup  ## every benchmark, one after the other (not part of the test run); BENCHES=… picks some
	@for b in $(BENCHES); do echo "== $$b"; $(VENV)/bin/python -m bench.$$b || exit 1; done

clean-db:
	-$(KINGA) db down
	rm -rf .data

frontend:  ## rebuild the /map page's assets (app/static/map, committed) from frontend/ with npm
	cd frontend && npm ci --no-audit --no-fund && npm run build

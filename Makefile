# Two commands for a newcomer: `make run` and `make test`. Each installs what it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FE     := frontend
FE_DEPS  := $(FE)/node_modules/.installed
FE_DIST  := src/entrypoints/http/page
FE_BUILD := $(FE_DIST)/index.html
FE_SRC   := $(shell find $(FE)/src $(FE)/index.html $(FE)/vite.config.ts $(FE)/tsconfig.json -type f 2>/dev/null)

.PHONY: run test install lint fix unit test-python test-frontend screenshots chromium redis wrk bench clean images
PY_SRC := src tests bench devtools

# The product with its dev extras, and devtools/ (the local Supabase and Tavus stand-ins), which never ships in
# it; then the official Tavus SDK (tavus-cli) without its CLI/MCP dependencies, for the fake Tavus tests.
$(STAMP): pyproject.toml requirements.lock devtools/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]' -e ./devtools
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps tavus-cli==0.11.0
	@touch $(STAMP)

$(FE_DEPS): $(FE)/package.json $(FE)/package-lock.json
	npm --prefix $(FE) ci --no-audit --no-fund --loglevel=error
	@touch $(FE_DEPS)

$(FE_BUILD): $(FE_DEPS) $(FE_SRC)
	npm --prefix $(FE) run build --silent

install: $(STAMP) $(FE_BUILD)

## Start everything: embedded Postgres (unless DATABASE_URL), migrations, sample demo, page, HTTP + WebSocket.
run: install
	$(BIN)/demo-relay serve

## Every check: lint, format, types, layer contracts, all Python tests, the page's lint/unit/browser tests.
test: install lint test-python test-frontend

## The static checks: ruff (lint + format), mypy --strict (product, devtools, test support), layer contracts.
lint: $(STAMP)
	$(BIN)/ruff check $(PY_SRC)
	$(BIN)/ruff format --check $(PY_SRC)
	@mkdir -p build/mypy && ln -sfn ../../src build/mypy/demo_relay  # mypy can't follow the editable src→demo_relay map
	$(BIN)/mypy -p demo_relay -p fake_supabase -p fake_tavus -p tests.support
	$(BIN)/lint-imports

## The fast loop: rewrite what ruff can (imports, format), then the unit tests (no Postgres, no browser).
fix: $(STAMP)
	$(BIN)/ruff check --fix --exit-zero $(PY_SRC)  # what it cannot fix, `make lint` reports
	$(BIN)/ruff format $(PY_SRC)

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# A Docker engine for testcontainers and the container tests: started here when none answers and this is
# root (scripts/docker-engine says what it did; without one the tests use the embedded Postgres).
test-python: $(STAMP) $(FE_BUILD) redis wrk
	@scripts/docker-engine
	$(BIN)/pytest

test-frontend: $(FE_BUILD) chromium
	npm --prefix $(FE) run lint --silent
	npm --prefix $(FE) test --silent
	DEMO_RELAY_BIN=$(CURDIR)/$(BIN)/demo-relay FRONTEND_DIST=$(CURDIR)/$(FE_DIST) npm --prefix $(FE) run e2e --silent

## Re-take the committed screenshots (frontend/e2e/__screenshots__) by running the browser tests.
screenshots: $(FE_BUILD) chromium $(STAMP)
	SCREENSHOTS_DIR=e2e/__screenshots__ DEMO_RELAY_BIN=$(CURDIR)/$(BIN)/demo-relay FRONTEND_DIST=$(CURDIR)/$(FE_DIST) npm --prefix $(FE) run e2e --silent

## Debian's redis-server for the HUB_BACKEND=redis tests (each test starts its own, on a free port).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

## Debian's Chromium for the browser tests (playwright-core drives it; nothing is downloaded by npm).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

## The container images (Dockerfile, deploy/): built locally where no registry answers (scripts/local-images).
images: install
	@scripts/docker-engine
	scripts/local-images env

## The benchmarks (bench/README.md): each prints a table against a baseline of the same run and writes its
## section of bench/results/latest.json. BENCH_PROFILE=<name> also draws the throughput run's flame graphs.
bench: $(STAMP) wrk
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.hot_path_db
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.sockets
	$(BIN)/python -m bench.cross_instance
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.supabase_paths
	$(BIN)/python -m bench.upload_rss

## Debian's wrk, the throughput benchmark's load generator.
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache build $(FE)/node_modules $(FE_DIST)

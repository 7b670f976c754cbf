# Two commands for a newcomer: `make run` and `make test`. Each installs what it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint unit bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start everything: embedded Postgres (unless DATABASE_URL), migrations, sample demo, HTTP + WebSocket.
run: install
	$(BIN)/demo-relay serve

## Every check: lint, format, types, layer contracts, then all tests (unit, integration, e2e).
test: install lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	@mkdir -p build/mypy && ln -sfn ../../src build/mypy/demo_relay  # mypy can't follow the editable src→demo_relay map
	$(BIN)/mypy -p demo_relay
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench.webhook_throughput

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# connshift — the two commands a new user runs are `make demo` and `make test`.
# Both install what is missing first (scripts/setup.sh) and are idempotent.

VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test test-faults test-unit test-integration lint format sandbox-up sandbox-down clean bench compatibility faults

setup:
	@bash scripts/setup.sh

## Start and seed the sandbox, then run every migration step that exists so far.
demo: setup
	$(BIN)/connshift demo

## The whole suite: unit tier, then integration tier against the real sandbox (the fault
## tests, which stop and restart brokers, run in `make test-faults`; .ci/run runs both).
test: setup
	$(BIN)/pytest -m "not faults" $(PYTEST_ARGS)

## The fault tests run on the replicated profile (3 destination brokers) in a sandbox of its
## own (home `<sandbox home>-replicated`, every port +300), started and stopped by the tests.
test-faults: setup
	CONNSHIFT_TEST_REPLICATED=1 $(BIN)/pytest -m faults $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

test-integration: setup
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

sandbox-up: setup
	$(BIN)/connshift sandbox up --with-tansu

sandbox-down:
	$(BIN)/connshift sandbox down

## connshift sync vs MirrorMaker 2 vs the destination's produce limit and the raw fetch/produce
## ceiling, the estate case (2,000 partitions; one and two sync members vs MM2), the cutover
## pause, and inventory of 500 topics / 5,000 partitions / 100 connectors (needs the sandbox up).
bench: setup
	$(BIN)/python bench/run.py

## docs/compatibility.md from `connshift probe` runs on the sandbox's three clusters.
compatibility: setup
	$(BIN)/python scripts/compatibility.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## docs/faults.md from the fault tests' own runs (they stop and restart sandbox brokers).
faults: test-faults
	$(BIN)/python scripts/faults.py

# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all test-slow test-bench pytest lint typecheck unit integration bench bench-quick dist prereqs clean

demo: $(STAMP)
	$(BIN)/stream-scorer demo

# The lint and type checks run beside the tests (two jobs). The crash and restart tests that
# start several scorer, broker or cluster processes (marker `slow`) and the benchmark
# baselines' own correctness tests (marker `bench`) run in `make test-all` and CI.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 lint pytest

pytest: $(STAMP)
	$(BIN)/pytest -q -m "not bench and not slow" --durations=25

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow --durations=10

test-bench: $(STAMP)
	$(BIN)/pytest -q -m bench

test-all: test test-slow test-bench

lint: $(STAMP) typecheck
	$(BIN)/ruff check stream_scorer tests bench
	$(BIN)/ruff format --check stream_scorer tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q -m integration

bench: $(STAMP) test-bench
	$(BIN)/python -m bench.suite

bench-quick: $(STAMP)
	$(BIN)/python -m bench.suite --quick

dist: $(STAMP)
	$(BIN)/python scripts/build_dist.py

prereqs:
	@scripts/check_prereqs.sh $(PYTHON)

$(STAMP): pyproject.toml | prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info state out .pytest_cache .ruff_cache .mypy_cache

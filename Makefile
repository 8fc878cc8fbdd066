# The two commands of the README's Quick start are `make run` and `make test`.
# Everything else here is what a developer uses day to day.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint format typing bench serve corpus clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Set up, then run the main job on the embedded defaults (SQLite under ./var).
run: $(STAMP)
	$(BIN)/eudigest demo

# The test suite's worker processes (pytest-xdist; each has its own PostgreSQL database,
# tests/conftest.py): `make test WORKERS=0` runs it in one process.
WORKERS ?= 2

## Set up, then pass the whole test suite (PostgreSQL half on 127.0.0.1:5432 when there).
test: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typing: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'  # the peers of the ingest benchmark
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/desk_bench.py
	$(BIN)/python bench/desk_loop_bench.py
	$(BIN)/python bench/subscribers_bench.py
	$(BIN)/python bench/deliver_bench.py
	$(BIN)/python bench/dossiers_bench.py
	$(BIN)/python bench/learning_bench.py

## Load the shared corpus (real EU feeds) into ./var from a loopback server: no network needed.
corpus: $(STAMP)
	$(BIN)/python -m tests.support.load_corpus

## The web desk on http://127.0.0.1:8000/desk/ (development server).
serve: $(STAMP)
	$(BIN)/eudigest serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# civic lakehouse: `make demo` sets everything up and runs the annual refresh on the
# embedded default; `make test` sets everything up and runs the test suite.
SHELL := /bin/bash
UV := $(shell ./scripts/ensure-uv.sh)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup browser demo test lint bench

# --compile-bytecode: installed packages ship their bytecode, so an environment where
# Python may not write __pycache__ (PYTHONDONTWRITEBYTECODE, a read-only venv) does not
# recompile Dagster, dbt and dlt from source in every process (a third of a refresh's
# start-up). Set here, not in pyproject.toml: there every `uv run` would re-check 10,000
# files (about a second) and say so on stderr.
setup:
	$(UV) sync --frozen --compile-bytecode

# Debian's Chromium for the browser test of the Dagster UI (Playwright drives it; it does
# not download a browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: setup
	$(UV) run civic demo

test: setup browser
	UV=$(UV) ./scripts/run-tests.sh

# The checks CI runs before the tests (and pre-commit on every commit): lint and format
# (ruff), types of the contracts, the lake and the load flow (mypy), the dbt SQL (sqlfluff).
lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run sqlfluff lint dbt_project

# Benchmarks (bench/README.md): 1 % of the national workload, all measurements, against
# floors measured in the same run; `uv run python -m bench --national` for the full scale.
bench: setup
	$(UV) run python -m bench --size 0.01 --publish bench/RESULTS.md

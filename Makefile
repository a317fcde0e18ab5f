# civic lakehouse: `make demo` sets everything up and runs the annual refresh on the
# embedded default; `make test` sets everything up and runs the test suite.
SHELL := /bin/bash
UV := $(shell ./scripts/ensure-uv.sh)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup demo test

setup:
	$(UV) sync --frozen

demo: setup
	$(UV) run civic demo

test: setup
	$(UV) run pytest

#!/usr/bin/env bash
# The test suite on every core (scripts/run_tests.py: one lane a core, test files from a
# shared queue, longest first; the files sharing the demo lake in one session first).
# Extra arguments go to every pytest session. Usage: scripts/run-tests.sh [pytest args]
# (UV: the uv to use)
set -uo pipefail
cd "$(dirname "$0")/.."
exec "${UV:-uv}" run python scripts/run_tests.py "$@"

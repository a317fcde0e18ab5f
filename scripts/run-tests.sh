#!/usr/bin/env bash
# The test suite as two pytest sessions side by side, one a core (most of a test's time is
# one single-threaded process: Dagster, dbt): the files that share the session's demo lake
# (the `demo_build` fixture of tests/conftest.py) in one session, in name order, as that
# fixture needs (the files that change the lake sort after those that only read it); every
# other file in the other. Extra arguments go to the second session. Exit 0 only when both
# pass. Usage: scripts/run-tests.sh [pytest args]   (UV: the uv to use)
set -uo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-uv}
mapfile -t demo < <(grep -l "demo_build" tests/test_*.py)
ignore=()
for f in "${demo[@]}"; do ignore+=("--ignore=$f"); done
base=$(mktemp -d "${TMPDIR:-/tmp}/civic-tests.XXXXXX")
log="$base/demo-lake-session.log"
"$uv" run pytest --basetemp="$base/demo" "${demo[@]}" >"$log" 2>&1 &
demo_session=$!
"$uv" run pytest --basetemp="$base/rest" "${ignore[@]}" "$@"
rest=$?
wait "$demo_session"
demo_rc=$?
echo
echo "==== the session of the files that share the demo lake (${#demo[@]} files) ===="
cat "$log"
echo "==== sessions: others exit $rest, demo lake exit $demo_rc ===="
[ "$rest" -eq 0 ] && [ "$demo_rc" -eq 0 ]

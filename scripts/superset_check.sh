#!/usr/bin/env bash
# Apache Superset against the serving database (issue 13, item 4): install Superset in an
# environment of its own (never the project's lock) if needed, then register the database,
# create a dataset on marts.scorecard and run a chart's query through Superset's API.
#
#   scripts/superset_check.sh postgresql://civic_bi:PASSWORD@127.0.0.1:5432/civic_marts [--year 2025]
#
# SUPERSET_VENV (default /work/superset-venv, else ./.superset-venv) is where it lives.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 SQLALCHEMY_URL [--year YEAR]" >&2; exit 2; }
uv="$("$here/ensure-uv.sh")"
venv="${SUPERSET_VENV:-$( [ -d /work ] && echo /work/superset-venv || echo "$here/../.superset-venv" )}"
if [ ! -x "$venv/bin/superset" ]; then
  echo "installing Apache Superset into $venv (a few minutes)" >&2
  "$uv" venv -q -p 3.11 "$venv"
fi
# rich, cachetools: Superset 6.1.0 imports them without declaring them; flask-caching 2.4+ passes an argument
# Superset 6.1.0's metastore cache does not take; psycopg2: its PostgreSQL driver
VIRTUAL_ENV="$venv" "$uv" pip install -q apache-superset "flask-caching<2.4" cachetools psycopg2-binary rich requests
exec "$venv/bin/python" "$here/superset_check.py" "$@"

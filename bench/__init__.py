"""Benchmarks of the civic lakehouse at a fraction of national scale (bench/README.md).

Not timed tests: `uv run python -m bench --size 0.01` (see bench/README.md) generates the
workload once, measures each figure against a floor measured in the same run, and writes
`results.json` and `results.md` (and with `--publish`, bench/RESULTS.md).

Modules, one per measurement: ingest (1), marts (2, floor query in floor_sql), e2e (3),
incremental (4), queries (5), peer_spark (6); workload, env, stats, results, context and
__main__ (the runner) hold what they share.
"""

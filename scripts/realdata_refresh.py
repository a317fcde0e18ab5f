"""Every family of ../shared/realdata/ through feeds.yml and one `civic refresh` over every
year they cover; prints, per feed, the fiscal years its rows reached in the raw tables
and the mart rows they feed, and the refresh's runtime.

    uv run python scripts/realdata_refresh.py [--home DIR] [--years 2012:2028]

The XML snapshot feeds (ca_dmv_xml, ma_rmv_xml) carry no time of their own: feeds.yml
states one (`observed_at`). Their real fetch times are not recorded (PROVENANCE.md), so
the times below are the operator's statement: in the week of the CA DMV CSV series, and
the time the tests use for the RMV stub.

Every feed names its services in its own namespace (`service_id_prefix: "<name>:"`): the
files reuse ids across publishers (San Francisco's Open311 code "172" is also a Government
of Canada service id), and the marts key services by id alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
FEEDS = [
    ("bloomington", "open311", "open311_bloomington"),
    ("sanfrancisco", "open311", "open311_sanfrancisco"),
    ("nyc311", "nyc311", "nyc_311"),
    ("gc", "gc_service_inventory", "canada_gc_service_inventory"),
    ("au-budget", "fiscal_data_package", "fdp_au-budget"),
    ("madrid", "fiscal_data_package", "fdp_madrid-municipal-gastos"),
    ("ca-dmv", "ca_dmv_csv", "ca_dmv_queue_feed"),
    ("us-dap", "us_dap", "us_dap_analytics"),
    ("au-dta", "au_dta", "au_dta_performance_dashboard"),
    ("uk-opg", "uk_opg", "uk_opg_service_kpis"),
    ("nyc-mmr", "nyc_mmr", "nyc_mmr_indicators"),
    ("boston", "boston_cityscore", "boston_cityscore"),
    ("sandiego", "sandiego_survey", "sandiego_resident_survey"),
    ("ca-dmv-xml", "ca_dmv_xml", "ca_dmv_queue_feed/ca_dmv_waittimes_feed_response.xml"),
    ("ma-rmv", "ma_rmv_xml", "ma_rmv_queue_feed/rmv_waittime.xml"),
]
OBSERVED_AT = {"ca-dmv-xml": "2018-12-11T10:00", "ma-rmv": "2017-03-01T10:15"}
# marts with a feed column, and the marts every feed's services reach by fiscal year
MARTS_BY_SOURCE = [
    "service_requests_summary",
    "web_traffic_summary",
    "funds_by_phase",
    "published_kpis",
    "service_standard_performance",
    "wait_times_observed",
    "time_to_complete",
    "request_workload",
]
MARTS_BY_YEAR = [
    "service_channel_kpis",
    "unit_costs",
    "scorecard",
    "cost_per_outcome",
    "perceived_vs_measured",
    "survey_question_scores",
    "budget_plan",
    "online_funnel",
    "plan_vs_actual",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--years", default="2012:2028")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="civic-realdata-")) / "civic"
    home.mkdir(parents=True, exist_ok=True)
    feeds = {
        "sources": [
            {"name": n, "kind": k, "location": str(REALDATA / f), "service_id_prefix": f"{n}:"}
            | ({"observed_at": OBSERVED_AT[n]} if n in OBSERVED_AT else {})
            for n, k, f in FEEDS
        ]
    }
    (home / "feeds.yml").write_text(yaml.safe_dump(feeds, sort_keys=False))
    env = {**os.environ, "CIVIC_HOME": str(home)}
    civic = [sys.executable, "-m", "orchestration.cli"]
    started = time.monotonic()
    done = subprocess.run([*civic, "refresh", "--years", args.years], env=env, cwd=REPO)
    runtime = time.monotonic() - started
    print(f"\nrefresh --years {args.years}: exit {done.returncode}, {runtime:.0f} s, CIVIC_HOME={home}")
    marts = home / "lakehouse.duckdb"
    if not marts.exists():
        return 1
    con = duckdb.connect(str(marts), read_only=True)
    print("\nraw rows per feed and fiscal year (raw.loads):")
    loads = subprocess.run([*civic, "loads", "--format", "csv"], env=env, cwd=REPO, capture_output=True, text=True)
    per_feed: dict[str, dict[int, int]] = {}
    import csv
    import io

    for row in csv.DictReader(io.StringIO(loads.stdout)):
        loaded = int(row.get("loaded") or 0)
        if loaded:
            feed = row.get("source") or row.get("feed") or "?"
            per_feed.setdefault(feed, {})
            year = int(row["fiscal_year"])
            per_feed[feed][year] = per_feed[feed].get(year, 0) + loaded
    for feed, years in sorted(per_feed.items()):
        print(f"  {feed}: FY{min(years)}..FY{max(years)} ({len(years)} years, {sum(years.values()):,} rows)")
    print("\nmart rows per feed (marts with a `source` column):")
    for mart in MARTS_BY_SOURCE:
        rows = con.execute(
            f"select source, min(fiscal_year), max(fiscal_year), count(*) from marts.{mart} group by 1 order by 1"
        ).fetchall()
        print(f"  {mart}: " + "; ".join(f"{s} FY{a}..FY{b} {n:,}" for s, a, b, n in rows))
    print("\nmart rows per fiscal year:")
    for mart in MARTS_BY_YEAR:
        key = "plan_year" if mart == "budget_plan" else "fiscal_year"
        rows = con.execute(f"select {key}, count(*) from marts.{mart} group by 1 order by 1").fetchall()
        print(f"  {mart}: " + ", ".join(f"{y}:{n:,}" for y, n in rows))
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())

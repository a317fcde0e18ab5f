"""The demo generator is deterministic and honest: counting its files (minus the planted
bad rows) gives back the truths it reports."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest

from ingestion.demo import generate_demo
from ingestion.demo.parameters import build_plan
from ingestion.demo.pipeline import write_entity_year
from ingestion.demo.queue_events import SPEC as QUEUE_SPEC

SIZE = 0.2
YEARS = range(2021, 2026)
TS_FMT = "%Y-%m-%dT%H:%M:%S"
IDS = {
    "queue_events": "ticket_id",
    "web_sessions": "session_id",
    "survey_responses": "response_id",
    "service_requests": "request_id",
    "ledger_entries": "entry_id",
    "services": "service_id",
}
KINDS = {
    "queue_events": {"negative_wait", "unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"},
    "web_sessions": {"unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"},
    "service_requests": {"unknown_service", "missing_id", "duplicate_id", "outside_fiscal_year"},
    "survey_responses": {
        "unknown_service",
        "missing_id",
        "duplicate_id",
        "outside_fiscal_year",
        "satisfaction_out_of_range",
    },
    "ledger_entries": {"missing_id"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    landing = tmp_path_factory.mktemp("landing")
    truths = generate_demo(landing, years=YEARS, size=SIZE)
    return landing, truths


def _ts(col: str) -> pl.Expr:
    return pl.col(col).str.to_datetime(TS_FMT, time_unit="us")


def read(landing: Path, entity: str, year: int) -> pl.DataFrame:
    """Read one entity-year as delivered, times typed, in file order."""
    folder = landing / entity / f"fy={year}"
    if entity == "queue_events":
        return pl.concat([pl.read_parquet(p) for p in sorted(folder.glob("part-*.parquet"))])
    if entity == "web_sessions":
        return pl.read_ndjson(folder / "sessions.jsonl").with_columns(_ts("started_at"), _ts("ended_at"))
    if entity == "service_requests":
        return pl.read_ndjson(folder / "requests.jsonl").with_columns(
            _ts("requested_at"), _ts("closed_at"), _ts("expected_at")
        )
    if entity == "survey_responses":
        return pl.read_csv(folder / "responses.csv", infer_schema=False).with_columns(
            _ts("responded_at"),
            pl.col("satisfaction").cast(pl.Int32),
            pl.col("nps").cast(pl.Int32),
            pl.col("perceived_wait_minutes").cast(pl.Float64),
        )
    if entity == "ledger_entries":
        return pl.read_csv(folder / "ledger.csv", infer_schema=False).with_columns(
            pl.col("amount").cast(pl.Float64), pl.col("fiscal_year").cast(pl.Int32)
        )
    return pl.read_csv(folder / "services.csv", infer_schema=False)


def split(df: pl.DataFrame, truths: dict, entity: str, year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good, bad) using only the planted ids: null id, a listed bad id, or a later copy of an id."""
    id_col = IDS[entity]
    listed = {
        b["id"]
        for b in truths["bad_rows"]
        if b["entity"] == entity and b["fiscal_year"] == year and b["id"] is not None and b["kind"] != "duplicate_id"
    }
    df = df.with_row_index("_row")
    good_mask = (
        pl.col(id_col).is_not_null()
        & ~pl.col(id_col).is_in(pl.Series(sorted(listed), dtype=pl.String).implode())
        & pl.col(id_col).is_first_distinct()
    )
    return df.filter(good_mask), df.filter(~good_mask)


def test_truths_file_matches_return_value(demo):
    landing, truths = demo
    assert json.loads((landing / "demo_truths.json").read_text()) == truths
    assert truths["generator"]["years"] == list(YEARS)
    assert set(truths["measures"]) == {str(y) for y in YEARS}
    assert len(truths["services"]) == 12


def test_files_exist_in_each_format(demo):
    landing, truths = demo
    for entity, per_year in truths["files"].items():
        for year, names in per_year.items():
            assert names, (entity, year)
            for name in names:
                assert (landing / name).stat().st_size > 0
    assert (landing / "queue_events/fy=2021/part-0000.parquet").exists()
    assert (landing / "web_sessions/fy=2021/sessions.jsonl").exists()
    assert (landing / "service_requests/fy=2021/requests.jsonl").exists()
    assert (landing / "survey_responses/fy=2021/responses.csv").exists()
    assert (landing / "ledger_entries/fy=2021/ledger.csv").exists()
    assert (landing / "services/fy=2021/services.csv").exists()
    head = (landing / "web_sessions/fy=2021/sessions.jsonl").read_text().splitlines()[0]
    assert json.loads(head)["started_at"][10] == "T"


def test_deterministic_bytes(demo, tmp_path):
    landing, truths = demo
    again = generate_demo(tmp_path, years=YEARS, size=SIZE)
    assert again == truths
    first = sorted(p.relative_to(landing) for p in landing.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (landing / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_other_seed_differs(demo, tmp_path):
    landing, _ = demo
    generate_demo(tmp_path, years=[2021], size=SIZE, seed=7)
    rel = "web_sessions/fy=2021/sessions.jsonl"
    assert (landing / rel).read_bytes() != (tmp_path / rel).read_bytes()


def test_row_accounting_and_bad_rows(demo):
    landing, truths = demo
    for entity, kinds in KINDS.items():
        for year in YEARS:
            df = read(landing, entity, year)
            written = truths["rows_written"][entity][str(year)]
            assert df.height == written["total"] == written["good"] + written["bad"]
            good, bad = split(df, truths, entity, year)
            assert good.height == written["good"] and bad.height == written["bad"], (entity, year)
            planted = [b for b in truths["bad_rows"] if b["entity"] == entity and b["fiscal_year"] == year]
            assert {b["kind"] for b in planted} == kinds
            # the id-based split finds exactly the planted positions (a duplicate is the later copy)
            positions = {r for b in planted for r in b.get("rows", [b.get("row")])}
            assert set(bad["_row"].to_list()) == positions, (entity, year)
            assert sum(b["count"] for b in planted) == written["bad"]
            if entity != "ledger_entries":
                assert 0.004 <= written["bad"] / written["good"] <= 0.006 or written["bad"] == len(kinds)


def test_each_bad_row_is_bad_in_its_one_way(demo):
    landing, truths = demo
    known = set(truths["services"])
    times = {
        "queue_events": "issued_at",
        "web_sessions": "started_at",
        "service_requests": "requested_at",
        "survey_responses": "responded_at",
    }
    for entity, tcol in times.items():
        id_col = IDS[entity]
        for year in YEARS:
            df = read(landing, entity, year)
            good, bad = split(df, truths, entity, year)
            # good rows: known service, in the fiscal year, valid values
            assert good["service_id"].is_in(sorted(known)).all()
            assert (good[tcol].dt.year() == year).all()
            if entity == "queue_events":
                assert good.filter(pl.col("called_at") < pl.col("issued_at")).height == 0
            if entity == "survey_responses":
                assert good["satisfaction"].drop_nulls().is_between(1, 5).all()
            kind_of = {
                b["id"]: b["kind"]
                for b in truths["bad_rows"]
                if b["entity"] == entity and b["fiscal_year"] == year and b["id"] is not None
            }
            for row in bad.iter_rows(named=True):
                rid = row[id_col]
                kind = "missing_id" if rid is None else kind_of[rid]
                in_year = row[tcol].year == year
                known_svc = row["service_id"] in known
                assert (kind == "outside_fiscal_year") == (not in_year), row
                assert (kind == "unknown_service") == (not known_svc), row
                if entity == "queue_events":
                    negative = row["called_at"] is not None and row["called_at"] < row["issued_at"]
                    assert (kind == "negative_wait") == negative, row
                if entity == "survey_responses":
                    s = row["satisfaction"]
                    assert (kind == "satisfaction_out_of_range") == (s is not None and not 1 <= s <= 5), row
                if kind == "duplicate_id":
                    copies = df.with_row_index("_row").filter(pl.col(id_col) == rid)
                    assert copies.height == 2 and copies["_row"][1] == row["_row"]


def test_queue_volumes_and_exact_mean_wait(demo):
    landing, truths = demo
    for year in YEARS:
        good, _ = split(read(landing, "queue_events", year), truths, "queue_events", year)
        stats = good.group_by("service_id").agg(
            served=(pl.col("outcome") == "served").sum(),
            transferred=(pl.col("outcome") == "transferred").sum(),
            no_show=(pl.col("outcome") == "no_show").sum(),
            called=pl.col("called_at").is_not_null().sum(),
            wait_s=(pl.col("called_at") - pl.col("issued_at")).dt.total_seconds().sum(),
            no_show_called=((pl.col("outcome") == "no_show") & pl.col("called_at").is_not_null()).sum(),
        )
        for row in stats.iter_rows(named=True):
            m = truths["measures"][str(year)][row["service_id"]]
            planted = m["planted_rows"]["queue_events"]
            assert (row["served"], row["transferred"], row["no_show"]) == (
                planted["served"],
                planted["transferred"],
                planted["no_show"],
            )
            assert row["served"] == m["transactions"]["in_person"]
            assert row["no_show_called"] == 0
            assert Fraction(row["wait_s"], row["called"] * 60) == Fraction(m["mean_wait_minutes"])
        assert stats.height == 12


def test_web_volumes_take_up_and_completion(demo):
    landing, truths = demo
    fees = {sid: s["fee"] for sid, s in truths["services"].items()}
    for year in YEARS:
        good, _ = split(read(landing, "web_sessions", year), truths, "web_sessions", year)
        assert good.filter(pl.col("completed")).select((pl.col("last_step") == "confirmation").all()).item()
        assert good.filter(~pl.col("completed")).select(pl.col("fee_amount").is_null().all()).item()
        stats = good.group_by("service_id").agg(
            completed=pl.col("completed").sum(),
            started=(pl.col("last_step") != "start").sum(),
            bounces=(pl.col("last_step") == "start").sum(),
            fee=pl.col("fee_amount").filter(pl.col("completed")).max(),
        )
        by_service = {r["service_id"]: r for r in stats.iter_rows(named=True)}
        for sid, m in truths["measures"][str(year)].items():
            tx = m["transactions"]
            if "online" not in truths["services"][sid]["channels"]:
                assert sid not in by_service and m["digital_take_up"] == 0 and tx["online"] == 0
                continue
            r = by_service[sid]
            assert r["completed"] == tx["online"] and r["started"] == m["started_online"]
            assert r["bounces"] == m["planted_rows"]["web_sessions"]["bounces"]
            assert r["fee"] == fees[sid]
            assert r["completed"] / (r["completed"] + tx["phone"] + tx["in_person"]) == pytest.approx(
                m["digital_take_up"], abs=1e-12
            )
            assert r["completed"] / r["started"] == pytest.approx(m["completion_rate"], abs=1e-12)
            assert m["digital_take_up"] in (0.2, 0.25, 0.4, 0.5, 0.6)


def test_take_up_rises(demo):
    _, truths = demo
    for sid in truths["services"]:
        series = [truths["measures"][str(y)][sid]["digital_take_up"] for y in YEARS]
        assert series == sorted(series)
        waits = [truths["measures"][str(y)][sid]["mean_wait_minutes"] for y in YEARS]
        assert all(a > b for a, b in zip(waits, waits[1:]))


def test_phone_requests(demo):
    landing, truths = demo
    for year in YEARS:
        good, _ = split(read(landing, "service_requests", year), truths, "service_requests", year)
        assert (good["channel"] == "phone").all()
        assert (
            good.filter(pl.col("status") == "closed")
            .select((pl.col("closed_at") > pl.col("requested_at")).all())
            .item()
        )
        assert good.filter(pl.col("status") == "open")["closed_at"].is_null().all()
        stats = good.group_by("service_id").agg(
            closed=(pl.col("status") == "closed").sum(), open=(pl.col("status") == "open").sum()
        )
        for r in stats.iter_rows(named=True):
            m = truths["measures"][str(year)][r["service_id"]]
            assert r["closed"] == m["transactions"]["phone"]
            assert r["open"] == m["planted_rows"]["service_requests"]["open"]


def test_survey_counts_and_scores(demo):
    landing, truths = demo
    for year in YEARS:
        good, _ = split(read(landing, "survey_responses", year), truths, "survey_responses", year)
        # the source delivers citizens in clear: ingestion pseudonymises them (test_pseudonymise)
        assert good["respondent_key"].str.contains(r"^CIT-\d{7}$").all()
        assert good.filter(pl.col("channel") != "in_person")["perceived_wait_minutes"].is_null().all()
        for sid, m in truths["measures"][str(year)].items():
            rows = good.filter(pl.col("service_id") == sid)
            assert set(rows["channel"].unique()) <= set(truths["services"][sid]["channels"])
            counts = {str(k): rows.filter(pl.col("satisfaction") == k).height for k in range(1, 6)}
            assert counts == m["satisfaction_counts"]
            assert rows["satisfaction"].null_count() == m["satisfaction_dont_know"]
            answered = rows["satisfaction"].drop_nulls()
            assert ((answered >= 4).sum() / answered.len()) == pytest.approx(m["satisfaction_top2_pct"])
            assert (answered.mean() - 1) / 4 == pytest.approx(m["satisfaction_score"])


def _ledger_channel_costs(ledger: pl.DataFrame, volumes: dict[str, dict[str, int]]) -> dict:
    """Independent apportionment: executed rows with an id, rule of docs/raw_tables.md
    (a fee revenue line is not a cost)."""
    rows = ledger.filter(
        pl.col("entry_id").is_not_null() & (pl.col("phase") == "executed") & (pl.col("economic_class") != "fee_revenue")
    )
    cost = {sid: {ch: 0.0 for ch in ("online", "phone", "in_person")} for sid in volumes}
    totals = {ch: sum(v[ch] for v in volumes.values()) for ch in ("online", "phone", "in_person")}
    for r in rows.iter_rows(named=True):
        sid, ch, amount = r["service_id"], r["channel"], r["amount"]
        if sid is None:
            for s in volumes:
                cost[s][ch] += amount * volumes[s][ch] / totals[ch]
        elif ch is None:
            n = sum(volumes[sid].values())
            for c in cost[sid]:
                cost[sid][c] += amount * volumes[sid][c] / n
        else:
            cost[sid][ch] += amount
    return cost


def test_ledger_costs_follow_the_apportionment_rule(demo):
    landing, truths = demo
    previous = None
    for year in YEARS:
        ledger = read(landing, "ledger_entries", year)
        assert set(ledger["phase"]) == {"approved", "executed"}
        assert (ledger["currency"] == "CAD").all()
        assert ledger["amount"].cast(pl.String).str.contains(r"^\d+\.\d{1,2}$").all()
        ms = truths["measures"][str(year)]
        volumes = {sid: {ch: m["transactions"][ch] for ch in ("online", "phone", "in_person")} for sid, m in ms.items()}
        cost = _ledger_channel_costs(ledger, volumes)
        executed = ledger.filter(pl.col("entry_id").is_not_null() & (pl.col("phase") == "executed"))
        fees = executed.filter(pl.col("economic_class") == "fee_revenue")
        executed = executed.filter(pl.col("economic_class") != "fee_revenue")
        assert executed["amount"].sum() == pytest.approx(truths["executed_cost_total"][str(year)], abs=0.01)
        # the planted fee line: the fee of each in-person transaction of one service, one year
        planted = {(sid, ch): v for sid, m in ms.items() for ch, v in m["fee_revenue_ledger"].items()}
        booked = {(r["service_id"], r["channel"]): r["amount"] for r in fees.iter_rows(named=True)}
        assert booked == pytest.approx(planted, abs=0.001)
        if year == 2025:  # Building permits: 250 a permit
            assert planted == {("SVC-007", "in_person"): ms["SVC-007"]["transactions"]["in_person"] * 250.0}
        else:
            assert not planted
        for sid, m in ms.items():
            for ch in ("online", "phone", "in_person"):
                assert cost[sid][ch] == pytest.approx(m["cost"][ch], abs=0.01), (year, sid, ch)
                if volumes[sid][ch]:
                    assert cost[sid][ch] / volumes[sid][ch] == pytest.approx(m["cost_per_transaction"][ch])
            total = sum(cost[sid].values())
            assert total / sum(volumes[sid].values()) == pytest.approx(m["cost_per_transaction"]["all"])
            if m["online_cost_advantage_vs_in_person"] is not None:
                assert m["online_cost_advantage_vs_in_person"] == pytest.approx(
                    cost[sid]["in_person"] / volumes[sid]["in_person"] - cost[sid]["online"] / volumes[sid]["online"]
                )
            if previous is not None:
                d_cost = cost[sid]["in_person"] - previous[0][sid]["in_person"]
                d_wait = previous[1][sid]["mean_wait_minutes"] - m["mean_wait_minutes"]
                assert d_cost / d_wait == pytest.approx(m["cost_per_minute_wait_reduced"])
                assert m["cost_per_minute_wait_reduced"] == pytest.approx(
                    truths["services"][sid]["price_per_minute_wait_reduced"]
                )
            else:
                assert m["cost_per_minute_wait_reduced"] is None
        # SHARED-BUILDINGS stays constant: in-person volumes do not change
        assert (
            truths["shared_costs"][str(year)]["SHARED-BUILDINGS"] == truths["shared_costs"]["2021"]["SHARED-BUILDINGS"]
        )
        previous = (cost, ms)


def test_the_no_online_service(demo):
    landing, truths = demo
    services = read(landing, "services", 2021)
    no_online = services.filter(~pl.col("channels").str.contains("online"))
    assert no_online.height == 1
    assert no_online["channels"].item() == "in_person;phone"
    sid = no_online["service_id"].item()
    for year in YEARS:
        m = truths["measures"][str(year)][sid]
        assert m["digital_take_up"] == 0 and m["completion_rate"] is None
        assert m["cost_per_transaction"]["online"] is None


def test_chunking_does_not_change_the_rows(tmp_path):
    """Small chunks give the same rows in the same order as one chunk, in parts."""
    plan = build_plan(20240401, SIZE, [2023])
    one = write_entity_year(QUEUE_SPEC, plan, 2023, tmp_path / "one")
    many = write_entity_year(QUEUE_SPEC, plan, 2023, tmp_path / "many", chunk_rows=1000)
    assert len(one["files"]) == 1 and len(many["files"]) > 3
    folder = "queue_events/fy=2023"
    parts = [pl.read_parquet(tmp_path / "many" / folder / f) for f in many["files"]]
    assert all(p.height <= 1000 + 50 for p in parts)
    assert pl.concat(parts).equals(pl.read_parquet(tmp_path / "one" / folder / one["files"][0]))


def test_years_are_stable_across_ranges(demo, tmp_path):
    """A year has the same content whether generated alone or in a range."""
    landing, truths = demo
    alone = generate_demo(tmp_path, years=[2024], size=SIZE)
    for sid, m in alone["measures"]["2024"].items():
        assert m["cost_per_minute_wait_reduced"] is None  # no previous year to compare with
        ranged = dict(truths["measures"]["2024"][sid], cost_per_minute_wait_reduced=None)
        assert m == ranged
    rel = "queue_events/fy=2024/part-0000.parquet"
    assert (landing / rel).read_bytes() == (tmp_path / rel).read_bytes()


def _cents(amount: str) -> int:
    whole, _, frac = amount.lstrip("-").partition(".")
    value = int(whole) * 100 + int(frac.ljust(2, "0"))
    return -value if amount.startswith("-") else value


def _line_totals(path: Path) -> dict[tuple, tuple[int, int]]:
    """{(phase, programme, service, centre, class, channel): (entries, cents)} of the rows
    with an entry_id, read with the csv module."""
    import csv

    totals: dict[tuple, tuple[int, int]] = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["entry_id"]:
                continue
            key = (
                row["phase"],
                row["programme_id"],
                row["service_id"],
                row["cost_centre"],
                row["economic_class"],
                row["channel"],
            )
            n, cents = totals.get(key, (0, 0))
            totals[key] = (n + 1, cents + _cents(row["amount"]))
    return totals


def test_entity_sizes_scale_one_entity_and_split_ledger_lines_exactly(demo, tmp_path):
    """`sizes`: queue events at twice the size, the ledger as 3 entries a line; every other
    file is the one of `size`, and each ledger line still sums to the planted cents."""
    landing, truths = demo
    sized = generate_demo(tmp_path, years=[2025], size=SIZE, sizes={"queue_events": 2 * SIZE, "ledger_entries": 3.2})
    assert sized["generator"]["sizes"] == {"queue_events": 2 * SIZE, "ledger_entries": 3.2}
    for rel in (
        "web_sessions/fy=2025/sessions.jsonl",
        "service_requests/fy=2025/requests.jsonl",
        "survey_responses/fy=2025/responses.csv",
        "services/fy=2025/services.csv",
    ):
        assert (tmp_path / rel).read_bytes() == (landing / rel).read_bytes(), rel
    queue = sum(pl.read_parquet(p).height for p in (tmp_path / "queue_events/fy=2025").glob("*.parquet"))
    base_queue = truths["rows_written"]["queue_events"]["2025"]["total"]
    assert queue == sized["rows_written"]["queue_events"]["2025"]["total"]
    assert 1.8 <= queue / base_queue <= 2.2
    base = _line_totals(landing / "ledger_entries/fy=2025/ledger.csv")
    split = _line_totals(tmp_path / "ledger_entries/fy=2025/ledger.csv")
    assert set(split) == set(base)
    for key, (n, cents) in base.items():
        assert n == 1 and split[key] == (3, cents), key
    rows = read(tmp_path, "ledger_entries", 2025)
    assert rows["entry_id"].null_count() == 2 and rows["entry_id"].drop_nulls().is_unique().all()
    assert rows["amount"].min() >= 0
    assert sized["rows_written"]["ledger_entries"]["2025"] == {
        "good": 3 * len(base),
        "bad": 2,
        "total": 3 * len(base) + 2,
    }


def test_an_unknown_entity_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="services"):
        generate_demo(tmp_path, years=[2025], size=SIZE, sizes={"services": 2.0})

"""Published indicator tables (NYC Mayor's Management Report, Boston CityScore) from
../shared/realdata into kpi_observations as kpi `indicator`: one row per indicator and
period, values, targets and nulls checked against the CSVs read here, row accounting."""

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

from conftest import REALDATA, source_rows
from conftest import assert_balanced as _balanced
from conftest import quarantined_rows as _quarantined

from orchestration.load.flow import ingest_feed


def _loaded(catalog, source: str) -> list[dict]:
    return source_rows(catalog, "raw.kpi_observations", source)


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_nyc_mmr_indicators_one_row_per_indicator_and_fiscal_year(lake):
    settings, catalog = lake
    folder = REALDATA / "nyc_mmr_indicators"
    records = ingest_feed(settings, catalog, "nyc_mmr", str(folder))
    _balanced(records)
    source = "nyc_mmr:nyc_mmr_indicators"
    rows = _loaded(catalog, source)
    assert not _quarantined(catalog, source)
    src = _read_csv(folder / "Tidy_Indicator_Level_Data.csv")
    years = [h for h in src[0] if re.fullmatch(r"20\d\d", h)]
    assert len(src) == 1139 and len(years) == 8
    assert len(rows) == len(src) * len(years)
    # the budget maps are not indicators: nothing is read from them
    assert {Path(r["_source_file"]).name for r in rows} == {"Tidy_Indicator_Level_Data.csv"}
    # "NA" is not available: loaded with a null value
    assert sum(r["value"] is None for r in rows) == sum(s[y] == "NA" for s in src for y in years)
    by_key = {(r["indicator_id"], r["fiscal_year_label"]): r for r in rows}
    met = next(s for s in src if s["Success"] == "Met_Goal" and s["Target.MMR"] != "NA")
    row = by_key[(met["ID"], "2023")]
    assert row["value"] == float(met["2023"]) and row["dimension"] == met["Indicator"]
    assert row["kpi"] == "indicator" and row["service_id"] == met["Service"]
    assert row["period_start"] == dt.datetime(2022, 7, 1) and row["period"] == "year"  # NYC FY2023
    # the published label files the figure (one rule for every source): "2023" is FY2023,
    # though NYC's year starts in July and the lake's calendar here in January
    assert settings.calendar.start_month == 1 and row["fiscal_year"] == 2023
    assert {(r["fiscal_year_label"], r["fiscal_year"]) for r in rows} == {(y, int(y)) for y in years}
    assert row["desired_direction"] == met["Desired.Direction"] and row["target_mmr"] == met["Target.MMR"]
    assert row["success"] == "Met_Goal" and row["observation_id"] == f"nyc_mmr/{met['ID']}/2023"
    pct = next(s for s in src if s["Indicator"].endswith("(%)"))
    assert by_key[(pct["ID"], "2023")]["unit"] == "percent"


def test_boston_cityscore_scores_per_window_and_the_repeated_metric(lake):
    settings, catalog = lake
    folder = REALDATA / "boston_cityscore"
    records = ingest_feed(settings, catalog, "boston_cityscore", str(folder))
    _balanced(records)
    source = "boston_cityscore:boston_cityscore"
    rows = _loaded(catalog, source)
    quarantined = _quarantined(catalog, source)
    summary = _read_csv(folder / "current_summary_clean.csv")
    history = _read_csv(folder / "city_score_summary_clean_sample_2016-01-15.csv")
    windows = ("day", "week", "month", "quarter")
    repeats = sum(n - 1 for n in Counter(s["metric_name"] for s in summary).values())
    assert repeats == 1  # CITY SERVICES SATISFACTION SURVEYS is in the summary twice
    assert len(quarantined) == len(windows) * repeats
    assert {q["rule"] for q in quarantined} == {"unique_id"}
    assert len(rows) == len(windows) * (len(summary) + len(history)) - len(quarantined)

    ems = next(h for h in history if h["cty_scr_name"] == "EMS RESPONSE TIME")
    loaded = datetime_of_micros(ems["etl_load_date"])
    scored = loaded.date() - dt.timedelta(days=1)
    assert scored.strftime("%A") == ems["cty_scr_day_name"]
    [day] = [
        r
        for r in rows
        if r["dimension"] == "EMS RESPONSE TIME" and r["period"] == "day" and r["period_start"].year == 2016
    ]
    assert day["period_start"].date() == scored and day["unit"] == "score"
    assert day["value"] == float(ems["cty_scr_day"]) and day["target"] == ems["cty_scr_tgt_01"]
    # lower is better: score = target / value (PROVENANCE: 6.0 / 5.83 = 1.0286)
    assert round(float(day["target"]) / float(day["metric_value"]), 4) == round(day["value"], 4) == 1.0286
    # a window without a score is loaded with a null value
    blank = next(s for s in summary if not s["previous_day_score"])
    [na] = [
        r
        for r in rows
        if r["dimension"] == blank["metric_name"] and r["period"] == "day" and r["period_start"].year == 2026
    ]
    assert na["value"] is None


def datetime_of_micros(value: str) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(value))

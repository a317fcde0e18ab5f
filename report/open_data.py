"""The open-data package: every mart and fiscal year as CSV, Parquet and JSON, with a
Frictionless `datapackage.json`, the data dictionary, a licence and SHA-256 checksums.

Only the marts are published, so nothing below their aggregate grain leaves the lake."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lake.marts_dictionary import dictionary_markdown, read_marts_dictionary

LICENCE_ID = "CC-BY-4.0"
LICENCE_TEXT = (
    "The data in this package is published under the Creative Commons Attribution 4.0 International "
    "licence (CC BY 4.0): https://creativecommons.org/licenses/by/4.0/\n"
    "You may share and adapt it for any purpose, provided you credit the publisher.\n"
)
YEAR_COLUMNS = ("fiscal_year", "plan_year")


def frictionless_type(duckdb_type: str) -> str:
    """The Table Schema type of a DuckDB column type."""
    t = duckdb_type.upper()
    if t in ("BOOLEAN",):
        return "boolean"
    if any(k in t for k in ("INT",)) and "INTERVAL" not in t:
        return "integer"
    if any(k in t for k in ("DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")):
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    return "string"


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_open_data(con: duckdb.DuckDBPyConnection, out: Path, manifest_path: Path | None = None) -> list[str]:
    """Write the package under `out`; returns the files written, relative to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
    ]
    resources, files = [], []
    for table in tables:
        schema = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        names = [c for c, _ in schema]
        year_col = next((c for c in YEAR_COLUMNS if c in names), None)
        years: list = (
            [r[0] for r in con.execute(f'select distinct "{year_col}" from marts."{table}" order by 1').fetchall()]
            if year_col
            else []
        )
        years = years or [None]  # an empty mart is still published, as its header
        fields = [{"name": c, "type": frictionless_type(t)} for c, t in schema]
        for year in years:
            where = f' where "{year_col}" = {int(year)}' if year_col and year is not None else ""
            arrow = con.execute(f'select * from marts."{table}"{where}').to_arrow_table()  # noqa: S608
            stem = f"{table}/{table}" + (f"_fy{year}" if year is not None else "")
            (out / table).mkdir(exist_ok=True)
            pacsv.write_csv(arrow, out / f"{stem}.csv")
            pq.write_table(arrow, out / f"{stem}.parquet")
            (out / f"{stem}.json").write_text(
                json.dumps(arrow.to_pylist(), default=_json_default, indent=1), encoding="utf-8"
            )
            files += [f"{stem}.csv", f"{stem}.parquet", f"{stem}.json"]
            resources.append(
                {
                    "name": f"{table}{'_fy' + str(year) if year is not None else ''}",
                    "path": f"{stem}.csv",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "hash": f"sha256:{_sha256(out / f'{stem}.csv')}",
                    "schema": {"fields": fields},
                }
            )
    if manifest_path is not None and Path(manifest_path).exists():
        (out / "dictionary.md").write_text(dictionary_markdown(read_marts_dictionary(manifest_path)), encoding="utf-8")
        files.append("dictionary.md")
    (out / "LICENSE.txt").write_text(LICENCE_TEXT, encoding="utf-8")
    files.append("LICENSE.txt")
    package = {
        "name": "civic-scorecard-marts",
        "title": "Public service performance and cost, per service and fiscal year",
        "licenses": [{"name": LICENCE_ID, "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    files.append("datapackage.json")
    sums = "".join(f"{_sha256(out / f)}  {f}\n" for f in files)
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
    files.append("SHA256SUMS")
    return files

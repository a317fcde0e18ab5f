"""Service-id namespaces: two feeds whose catalogues reuse the same ids are refused before
loading unless each declares a namespace (`service_id_prefix`), and with one the lake
keeps their services apart. The pair of feeds is synthetic: two towns' Open311 exports
that both call a service "015"."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.service_ids import prefix_service_ids, shared_service_ids
from lake.settings import load_settings
from orchestration.cli import main
from orchestration.load.feeds import FeedsConfigError, read_feeds
from orchestration.load.flow import ServiceIdCollision, check_feed_catalogues
from tests.conftest import source_rows

NORTH = {
    "services": {"015": "North: illegal dumping", "024": "North: sidewalk cleaning", "031": "North: sewer"},
    "requests": ["015", "015", "024", "031", "031", "031"],
}
SOUTH = {
    "services": {"015": "South: potholes", "024": "South: street lights", "099": "South: noise"},
    "requests": ["015", "024", "024", "099"],
}


def _open311(folder: Path, feed: dict) -> Path:
    """An Open311 export: services.json and requests.json (May 2024, fiscal year 2024)."""
    folder.mkdir(parents=True)
    services = [{"service_code": c, "service_name": n} for c, n in feed["services"].items()]
    requests = [
        {
            "service_request_id": f"{folder.name}-{i}",
            "service_code": code,
            "status": "open",
            "requested_datetime": f"2024-05-{i + 1:02d}T10:00:00Z",
        }
        for i, code in enumerate(feed["requests"])
    ]
    (folder / "services.json").write_text(json.dumps(services))
    (folder / "requests.json").write_text(json.dumps(requests))
    return folder


def _feeds_yml(home: Path, north: Path, south: Path, north_prefix: str = "", south_prefix: str = "") -> None:
    def entry(name: str, folder: Path, prefix: str) -> str:
        return f"  - {{name: {name}, kind: open311, location: '{folder}'" + (
            f", service_id_prefix: '{prefix}'}}\n" if prefix else "}\n"
        )

    home.mkdir(parents=True, exist_ok=True)
    (home / "feeds.yml").write_text(
        "sources:\n" + entry("north", north, north_prefix) + entry("south", south, south_prefix)
    )


@pytest.fixture
def towns(tmp_path) -> tuple[Path, Path]:
    return _open311(tmp_path / "north", NORTH), _open311(tmp_path / "south", SOUTH)


def test_a_prefix_goes_before_every_service_id_and_leaves_missing_ones_missing():
    batch = pa.RecordBatch.from_pydict({"service_id": [" 015", "", None, "7"], "other": ["a", "b", "c", "d"]})
    out = prefix_service_ids(batch, "north:")
    assert out.column("service_id").to_pylist() == ["north:015", "", None, "north:7"]
    assert out.column("other").to_pylist() == ["a", "b", "c", "d"]
    assert prefix_service_ids(batch, None) is batch
    no_ids = pa.RecordBatch.from_pydict({"other": ["a"]})
    assert prefix_service_ids(no_ids, "north:") is no_ids


def test_shared_ids_collide_unless_they_lie_in_a_declared_namespace():
    [collision] = shared_service_ids({"south": (None, {"015", "024", "099"}), "north": (None, {"015", "024", "031"})})
    assert (collision.first, collision.second, collision.shared) == ("north", "south", ("015", "024"))
    assert not shared_service_ids({"north": ("n:", {"n:015"}), "south": ("s:", {"s:015"})})
    # two feeds of one catalogue declare the same namespace: shared on purpose
    assert not shared_service_ids({"a": ("city:", {"city:015"}), "b": ("city:", {"city:015"})})
    # one feed's prefix does not excuse the ids the other names outside it
    [partial] = shared_service_ids({"a": ("city:", {"city:015", "9"}), "b": (None, {"city:015", "9"})})
    assert partial.shared == ("9",)


def test_feeds_yml_reads_the_prefix_and_refuses_one_with_spaces(tmp_path, towns):
    north, south = towns
    _feeds_yml(tmp_path, north, south, north_prefix="north:")
    assert [f.service_id_prefix for f in read_feeds(tmp_path / "feeds.yml")] == ["north:", None]
    _feeds_yml(tmp_path, north, south, north_prefix="north town:")
    with pytest.raises(FeedsConfigError, match=r"sources\[0\] \(north\): `service_id_prefix` must be text"):
        read_feeds(tmp_path / "feeds.yml")


def test_a_refresh_of_two_catalogues_sharing_ids_is_refused_in_one_line(civic_home, towns, capsys):
    north, south = towns
    _feeds_yml(civic_home, north, south)
    assert main(["refresh", "--years", "2024"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("civic refresh: feeds north and south share service ids '015', '024':"), err
    assert 'service_id_prefix: "south:"' in err
    assert not (civic_home / "warehouse").exists() or not any((civic_home / "warehouse").rglob("*.parquet"))


def test_prefixes_or_one_shared_namespace_let_the_refresh_go(civic_home, towns):
    north, south = towns
    _feeds_yml(civic_home, north, south, north_prefix="north:", south_prefix="south:")
    check_feed_catalogues(load_settings())
    _feeds_yml(civic_home, north, south, north_prefix="city:", south_prefix="city:")  # one catalogue, two feeds
    check_feed_catalogues(load_settings())
    _feeds_yml(civic_home, north, south, north_prefix="north:")  # south's ids are now its own
    check_feed_catalogues(load_settings())
    _feeds_yml(civic_home, north, north)  # the same export twice, undeclared
    with pytest.raises(ServiceIdCollision, match="'015', '024', '031'"):
        check_feed_catalogues(load_settings())


def test_ingest_refuses_a_colliding_catalogue_and_keeps_prefixed_services_apart(lake, towns, capsys):
    _, catalog = lake
    north, south = towns
    assert main(["ingest", "--kind", "open311", "--name", "north", str(north)]) == 0
    capsys.readouterr()
    assert main(["ingest", "--kind", "open311", "--name", "south", str(south)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("civic ingest: feeds north and south share service ids '015', '024':"), err
    assert '--service-id-prefix "south:"' in err and "\n" not in err
    assert not source_rows(catalog, "raw.service_requests", "south")  # refused before loading

    assert main(["ingest", "--kind", "open311", "--name", "south", "--service-id-prefix", "south:", str(south)]) == 0
    services = {r["service_id"]: r["name"] for r in source_rows(catalog, "raw.services", "south")}
    assert services == {f"south:{c}": n for c, n in SOUTH["services"].items()}
    requests = Counter(r["service_id"] for r in source_rows(catalog, "raw.service_requests", "south"))
    assert requests == Counter(f"south:{c}" for c in SOUTH["requests"])
    # the first feed's rows are untouched: "015" is North's alone
    north_requests = Counter(r["service_id"] for r in source_rows(catalog, "raw.service_requests", "north"))
    assert north_requests == Counter(NORTH["requests"])
    # ingesting the namespaced feed again replaces its own rows: no collision with itself
    assert main(["ingest", "--kind", "open311", "--name", "south", "--service-id-prefix", "south:", str(south)]) == 0


def test_the_services_load_of_a_refresh_launched_elsewhere_refuses_too(lake, towns):
    """A run started from the Dagster UI does not pass through the CLI's check: the raw
    services asset refuses before it commits anything."""
    from orchestration.load.flow import load_feeds

    settings, catalog = lake
    north, south = towns
    _feeds_yml(settings.home, north, south)
    with pytest.raises(ServiceIdCollision, match="feeds north and south share service ids '015', '024'"):
        load_feeds(load_settings(), catalog, "services", [2024])
    assert not catalog.table_exists("raw.services") or not source_rows(catalog, "raw.services", "north")

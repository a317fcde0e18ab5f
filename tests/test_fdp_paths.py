"""A fiscal data package reads only files inside its own directory (issue 18 item 18):
a resource path with `..`, an absolute path or a symlink out of the package is refused
with a message naming the descriptor, before any file outside is opened."""

from __future__ import annotations

import json
import shutil

import pytest

from ingestion.errors import SourceFileError
from ingestion.feeds import feed_kind
from ingestion.feeds.fdp_package import resource_file
from tests.conftest import REALDATA

AU = REALDATA / "fdp_au-budget"


def test_resource_file_stays_inside_the_package(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.csv").write_text("x\n")
    assert resource_file(tmp_path, "data/a.csv") == (tmp_path / "data" / "a.csv").resolve()
    assert resource_file(tmp_path, "data/../data/a.csv") == (tmp_path / "data" / "a.csv").resolve()
    for bad in ("../outside_pkg/private_payroll.csv", "/etc/passwd", "data/../../x.csv", "C:\\\\x.csv"):
        with pytest.raises(ValueError, match="outside the package|absolute"):
            resource_file(tmp_path, bad)
    (tmp_path / "data" / "link.csv").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="outside the package"):
        resource_file(tmp_path, "data/link.csv")


@pytest.mark.skipif(not AU.exists(), reason="needs shared/realdata")
@pytest.mark.parametrize("escape", ["../outside_pkg/private_payroll.csv", "ABSOLUTE"])
def test_a_package_naming_a_file_outside_it_is_refused(tmp_path, escape):
    pkg = tmp_path / "pkg"
    shutil.copytree(AU, pkg)
    outside = tmp_path / "outside_pkg"
    outside.mkdir()
    source = next((pkg / "data").glob("*.csv"))
    shutil.copy(source, outside / "private_payroll.csv")
    descriptor = json.loads((pkg / "datapackage.json").read_text())
    path = str(outside / "private_payroll.csv") if escape == "ABSOLUTE" else escape
    descriptor["resources"][0]["path"] = path
    (pkg / "datapackage.json").write_text(json.dumps(descriptor))
    with pytest.raises(SourceFileError, match=r"datapackage\.json.*outside the package|datapackage\.json.*absolute"):
        list(feed_kind("fiscal_data_package").extract(str(pkg), "ledger_entries"))

"""The public page on how personal data is used (`data-use.html`).

From the marts: `marts.data_use`, which mart reads which personal field of which
dataset, with the register's purpose, legal basis, protection, retention and readers.
From the data-use register (governance/processing_register.yml, validated by every
refresh): each dataset's purpose and rules, and every personal column of every entity
with how ingestion protects it (contracts.register.personal_columns, the list
docs/trust.md carries too). The page shows column names and rules, never a value.
"""

from __future__ import annotations

import duckdb

from contracts.register import DatasetUse, RegisterError, personal_columns, read_register
from report.site import Table, _e, _query, html_table

PAGE = "data-use.html"
TITLE = "How personal data is used"
USES_CAPTION = "Marts that read a personal field (marts.data_use)"
REGISTER_CAPTION = "The data-use register: each dataset's purpose and rules"
COLUMNS_CAPTION = "Every personal column of every dataset, and how it is protected"
USES_ORDER = "select * from marts.data_use order by mart, dataset, personal_field"


def register_table(register: dict[str, DatasetUse]) -> Table:
    cols = ["dataset", "purpose", "legal_basis", "retention_years", "readers", "personal_fields"]
    rows = [
        {
            "dataset": u.dataset,
            "purpose": u.purpose,
            "legal_basis": u.legal_basis,
            "retention_years": u.retention_years,
            "readers": ", ".join(u.readers),
            "personal_fields": len(u.personal_fields),
        }
        for u in sorted(register.values(), key=lambda u: u.dataset)
    ]
    return Table(cols, rows)


def columns_table(register: dict[str, DatasetUse]) -> Table:
    cols = ["dataset", "column", "protection", "retention", "readers"]
    return Table(cols, [dict(zip(cols, row, strict=True)) for row in personal_columns(register)])


def data_use_page(con: duckdb.DuckDBPyConnection) -> str:
    """The page's body: the mart's rows, then the register."""
    uses = _query(con, USES_ORDER)
    body = (
        "<p>Personal data (survey respondents, the places of service requests) is protected when it "
        "is loaded, before anything else sees it: an identifier is replaced by a keyed pseudonym "
        "(HMAC-SHA256; without the key nobody can recompute or reverse it), an exact location is "
        "coarsened to a grid cell of about 1 km, and free text, contact details and street-level "
        "places are dropped. None of it is published: the figures of this site and the open data "
        "are counts and sums at the level of services and years.</p>"
        "<p>The table below, computed from the pipeline's lineage at every refresh, lists each mart "
        "that reads a personal field (a count of distinct respondents, say), and the rules of the "
        "dataset it comes from. It is also in the "
        '<a href="data/data_use/data_use.csv">open data</a>. Every read of the marts by an analyst '
        "or a BI tool is logged (who, when, which marts), and a person's rows can be erased on request.</p>"
        + html_table(uses, USES_CAPTION)
    )
    try:
        register = read_register()
    except RegisterError as err:  # validated by the refresh; a file changed since then
        return body + f"<p>The data-use register cannot be read: {_e(err)}</p>"
    return (
        body
        + '<h2 id="register">The data-use register</h2>'
        + "<p>Why each dataset holding personal data is processed, on what legal basis, how long "
        "its rows are kept (older fiscal years are removed) and who may read it.</p>"
        + html_table(register_table(register), REGISTER_CAPTION)
        + '<h2 id="columns">Personal columns and their protection</h2>'
        + html_table(columns_table(register), COLUMNS_CAPTION)
    )

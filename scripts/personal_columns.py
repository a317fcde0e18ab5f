"""Print every entity's personal columns and how each is protected, as the Markdown table
docs/trust.md holds (from the contracts' declarations and the data-use register).

    uv run python scripts/personal_columns.py            # print it
    uv run python scripts/personal_columns.py --write    # replace it in docs/trust.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from contracts.register import PERSONAL_TABLE_END, PERSONAL_TABLE_START, personal_columns_markdown, read_register

TRUST = Path(__file__).resolve().parents[1] / "docs" / "trust.md"


def main(argv: list[str]) -> int:
    table = personal_columns_markdown(read_register())
    if "--write" not in argv:
        print(table, end="")
        return 0
    text = TRUST.read_text(encoding="utf-8")
    start, end = text.index(PERSONAL_TABLE_START), text.index(PERSONAL_TABLE_END) + len(PERSONAL_TABLE_END) + 1
    TRUST.write_text(text[:start] + table + text[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

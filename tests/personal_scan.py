"""Find planted values in every file under a directory, as stored and as decoded.

Each file's bytes are searched as they are (metadata JSON, SQLite catalogs, logs, Parquet
footers with their min/max statistics); Parquet files are also read column by column
(their pages are compressed), Avro manifests block by block (deflate-compressed), and a
DuckDB file table by table. A value found names the file it is in.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq


def files_holding(root: Path, needles: list[str], skip: tuple[Path, ...] = ()) -> dict[str, list[str]]:
    """file -> the needles it holds (anywhere under `root`, except below `skip`)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(path.is_relative_to(s) for s in skip):
            continue
        texts = [path.read_bytes().decode("latin-1")]
        if path.suffix == ".parquet":
            texts.append(_parquet_text(path))
        elif path.suffix == ".avro":
            texts.append(_avro_text(path))
        elif path.suffix == ".duckdb":
            texts.append(_duckdb_text(path))
        hits = [n for n in needles if any(n in t for t in texts)]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def _parquet_text(path: Path) -> str:
    table = pq.read_table(path)
    return "\n".join(str(v) for col in table.columns for v in col.to_pylist())


def _duckdb_text(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = []
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall():
            for row in con.execute(f'select * from "{schema}"."{name}"').fetchall():
                out.append(" ".join(str(v) for v in row))
        return "\n".join(out)
    finally:
        con.close()


def _long(data: bytes, pos: int) -> tuple[int, int]:
    """An Avro zig-zag varint."""
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos


def _avro_text(path: Path) -> str:
    """The decompressed blocks of an Avro object container file."""
    data = path.read_bytes()
    if data[:4] != b"Obj\x01":
        return ""
    pos, meta = 4, {}
    while True:
        count, pos = _long(data, pos)
        if count == 0:
            break
        if count < 0:
            count = -count
            _, pos = _long(data, pos)
        for _ in range(count):
            n, pos = _long(data, pos)
            key = data[pos : pos + n].decode()
            pos += n
            n, pos = _long(data, pos)
            meta[key] = data[pos : pos + n]
            pos += n
    pos += 16  # sync marker
    codec = meta.get("avro.codec", b"null").decode()
    out = []
    while pos < len(data):
        _, pos = _long(data, pos)
        size, pos = _long(data, pos)
        block = data[pos : pos + size]
        pos += size + 16
        out.append(zlib.decompress(block, -15) if codec == "deflate" else block)
    return b"".join(out).decode("latin-1")

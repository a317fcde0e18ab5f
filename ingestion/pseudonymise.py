"""Personal columns protected at the door: every batch passes here before the contracts.

A personal identifier becomes a keyed HMAC-SHA256 (`p<version>:<64 hex>`) under a key of
its own pseudonymisation domain (a respondent, an address), derived with HKDF (RFC 5869)
from one master key that comes from the environment or a key file, never from the
repository. The same value gives the same pseudonym under one key and domain (distinct
counts and joins still hold), another under another domain or key version; without the
key nobody can recompute it (an unkeyed hash of a citizen number is reversed by trying
every number). Coordinates are coarsened to a grid cell; free text is dropped. What is
personal is declared per entity (`contracts.entities.Entity.personal`).

Rejected rows are quarantined from the protected batch, so the quarantine never holds a
clear personal value either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from contracts.entities import Entity
from contracts.errors import ContractError
from contracts.personal import Protection

MIN_KEY_BYTES = 32
_SALT = b"civic-lakehouse pseudonymisation v1"
_PSEUDONYM = re.compile(r"^p(\d+):([0-9a-f]{64})$")


class PseudonymKeyError(ContractError):
    """No usable pseudonymisation key where one is needed: the load is refused."""


def hkdf_sha256(key: bytes, info: bytes, length: int = 32, salt: bytes = _SALT) -> bytes:
    """HKDF (RFC 5869) with HMAC-SHA256: extract a pseudorandom key, expand it for `info`."""
    if length > 255 * 32:
        raise ValueError("HKDF-SHA256 gives at most 8160 bytes")
    prk = hmac.new(salt, key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def pseudonym(domain_key: bytes, version: int, value: str) -> str:
    """The pseudonym of one value under one domain's key: `p<version>:<hex HMAC-SHA256>`."""
    return f"p{version}:" + hmac.new(domain_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def is_pseudonym(value: str) -> bool:
    return _PSEUDONYM.match(value) is not None


def grid_cell(value: float | None, decimals: int) -> float | None:
    """A coordinate rounded to a grid cell of `decimals` decimal degrees."""
    return None if value is None else round(value, decimals)


@dataclass
class Keyring:
    """The master key of one version and the domain keys derived from it."""

    master: bytes
    version: int = 1
    _domains: dict[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.master) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes (64 hex digits)")
        if self.version < 1:
            raise PseudonymKeyError("the pseudonymisation key version must be 1 or more")

    def domain_key(self, domain: str) -> bytes:
        if domain not in self._domains:
            self._domains[domain] = hkdf_sha256(self.master, f"domain:{domain}:v{self.version}".encode())
        return self._domains[domain]

    def pseudonym(self, domain: str, value: str) -> str:
        return pseudonym(self.domain_key(domain), self.version, value)


def parse_key(text: str, where: str) -> bytes:
    """A master key written as hex (64 digits or more)."""
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise PseudonymKeyError(f"{where}: the pseudonymisation key must be written as hex digits") from None
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"{where}: the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes (64 hex digits)"
        )
    return key


def load_keyring(key_text: str | None, key_file: Path | None, version: int = 1) -> Keyring | None:
    """The keyring of CIVIC_PSEUDONYM_KEY, else of the key file; None when neither is set."""
    if key_text:
        return Keyring(parse_key(key_text, "CIVIC_PSEUDONYM_KEY"), version)
    if key_file is not None and key_file.exists():
        try:
            text = key_file.read_text()
        except OSError as err:
            raise PseudonymKeyError(f"cannot read the pseudonymisation key file {key_file}: {err.strerror}") from None
        return Keyring(parse_key(text, str(key_file)), version)
    return None


def create_key_file(path: Path) -> None:
    """Write a new random master key, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")


def missing_key_message(entity: str, columns: list[str]) -> str:
    """One line: an entity of many personal columns (24 for 3-1-1 requests) names three."""
    named = ", ".join(columns[:3]) + (f" and {len(columns) - 3} more" if len(columns) > 3 else "")
    return (
        f"{entity}: personal column(s) {named} need a pseudonymisation key; set CIVIC_PSEUDONYM_KEY "
        "(64+ hex digits) or CIVIC_PSEUDONYM_KEY_FILE (default $CIVIC_HOME/pseudonym.key); nothing was loaded"
    )


def require_key(entity: Entity, keyring: Keyring | None) -> None:
    """Refuse a load of an entity that can carry personal columns when there is no key."""
    if keyring is None and entity.personal:
        raise PseudonymKeyError(missing_key_message(entity.name, sorted(entity.personal)))


def protect(frame: pl.DataFrame, entity: Entity, keyring: Keyring | None) -> pl.DataFrame:
    """The batch with every personal column of `entity` protected as declared."""
    present = {c: p for c, p in entity.personal.items() if c in frame.columns}
    if not present:
        return frame
    if keyring is None:
        holding = [c for c in present if frame[c].null_count() < frame.height]
        if holding:
            raise PseudonymKeyError(missing_key_message(entity.name, holding))
    drops = [c for c, p in present.items() if p.kind == "drop"]
    # (without a key, a pseudonym column here holds nulls only: nothing to protect)
    columns = [
        _protected(frame[c], p, keyring)
        for c, p in present.items()
        if p.kind == "grid" or (p.kind == "pseudonym" and keyring is not None)
    ]
    return frame.with_columns(columns).drop(drops)


def _protected(column: pl.Series, protection: Protection, keyring: Keyring | None) -> pl.Series:
    if protection.kind == "grid":
        number = column.cast(pl.Float64, strict=False).round(protection.decimals)
        if column.dtype == pl.String:  # kept as text, as it arrived, without the exact digits
            return number.map_elements(lambda v: f"{v:.{protection.decimals}f}", return_dtype=pl.String)
        return number
    assert keyring is not None and protection.domain is not None
    text = column.cast(pl.String, strict=False).str.strip_chars()
    text = pl.Series(column.name, text).replace("", None)
    distinct = text.drop_nulls().unique()
    table = {v: keyring.pseudonym(protection.domain, v) for v in distinct.to_list()}
    return text.replace_strict(table, default=None, return_dtype=pl.String).alias(column.name)

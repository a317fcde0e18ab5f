"""Pseudonymisation at the door (ingestion.pseudonymise): HKDF per RFC 5869, keyed
pseudonyms per domain and key version, coarsened coordinates, dropped free text, and a
load refused when personal columns arrive without a key."""

import os
import stat

import polars as pl
import pytest
from conftest import TEST_PSEUDONYM_KEY, expected_pseudonym

from contracts.entities import ENTITIES
from ingestion.pseudonymise import (
    Keyring,
    PseudonymKeyError,
    create_key_file,
    hkdf_sha256,
    is_pseudonym,
    load_keyring,
    parse_key,
    protect,
)

KEY = Keyring(bytes.fromhex(TEST_PSEUDONYM_KEY))


def test_hkdf_matches_rfc5869_test_case_1():
    okm = hkdf_sha256(bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), 42, salt=bytes(range(0x0D)))
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_same_value_same_pseudonym_other_domain_or_key_another():
    a = KEY.pseudonym("respondent", "CIT-0000042")
    assert a == KEY.pseudonym("respondent", "CIT-0000042") == expected_pseudonym("respondent", "CIT-0000042")
    assert is_pseudonym(a) and a.startswith("p1:") and len(a) == 3 + 64
    assert KEY.pseudonym("address", "CIT-0000042") != a  # another domain
    assert Keyring(KEY.master, version=2).pseudonym("respondent", "CIT-0000042").startswith("p2:")
    assert Keyring(KEY.master, version=2).pseudonym("respondent", "CIT-0000042")[3:] != a[3:]  # rotated
    other = Keyring(bytes(32)).pseudonym("respondent", "CIT-0000042")
    assert other != a  # another master key


def test_protect_pseudonymises_coarsens_and_drops_as_declared():
    frame = pl.DataFrame(
        {
            "request_id": ["1", "2", "3"],
            "location": ["12 Elm St", " 12 Elm St ", None],
            "lat": ["39.168734", "0.0", None],
            "longitude": [-86.534921, 1.0, None],
            "description": ["Jane Roe at 12 Elm St", "x", None],
            "zipcode": ["47401", "47401", None],
        }
    )
    out = protect(frame, ENTITIES["service_requests"], KEY)
    assert out["location"].to_list() == [expected_pseudonym("address", "12 Elm St")] * 2 + [None]
    assert out["lat"].to_list() == ["39.17", "0.00", None]  # text stays text, without the exact digits
    assert out["longitude"].to_list() == [-86.53, 1.0, None]
    assert "description" not in out.columns
    assert out["zipcode"].to_list() == frame["zipcode"].to_list()  # an area: kept
    assert out["request_id"].to_list() == ["1", "2", "3"]


def test_entities_without_personal_columns_pass_untouched_without_a_key():
    frame = pl.DataFrame({"service_id": ["S1"], "name": ["Passports"]})
    assert protect(frame, ENTITIES["services"], None).equals(frame)


def test_no_key_refuses_a_batch_holding_personal_values_only():
    entity = ENTITIES["survey_responses"]
    with pytest.raises(PseudonymKeyError, match="respondent_key need a pseudonymisation key"):
        protect(pl.DataFrame({"response_id": ["r1"], "respondent_key": ["CIT-1"]}), entity, None)
    empty = pl.DataFrame(
        {"response_id": ["r1"], "respondent_key": [None]}, schema_overrides={"respondent_key": pl.String}
    )
    assert protect(empty, entity, None).equals(empty)


def test_keys_come_from_the_environment_or_a_private_file(tmp_path):
    assert load_keyring(None, tmp_path / "absent.key") is None
    path = tmp_path / "home" / "pseudonym.key"
    create_key_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    from_file = load_keyring(None, path, version=3)
    assert from_file is not None and from_file.version == 3 and len(from_file.master) == 32
    with pytest.raises(FileExistsError):
        create_key_file(path)  # never overwrites a key: every pseudonym depends on it
    from_env = load_keyring(TEST_PSEUDONYM_KEY, path)
    assert from_env is not None and from_env.master == KEY.master  # the environment wins
    with pytest.raises(PseudonymKeyError, match="hex digits"):
        parse_key("not hex", "CIVIC_PSEUDONYM_KEY")
    with pytest.raises(PseudonymKeyError, match="at least 32 bytes"):
        parse_key("ab" * 16, "CIVIC_PSEUDONYM_KEY")

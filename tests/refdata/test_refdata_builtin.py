"""Built-in reference data: ICD-10-CM FY2026 and Excludes1 from simple-icd-10-cm, MCE v37."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from auditor.refdata import builtin as B
from auditor.refdata.store import RefStore


@pytest.fixture(scope="module")
def s():
    return RefStore(None, builtin=True)


def test_builtin_kinds_listed_without_building(tmp_path):
    assert set(B.BUILTIN_KINDS) <= set(RefStore(tmp_path, builtin=True).kinds())
    assert RefStore(tmp_path, builtin=False).kinds() == []


def test_icd10cm_fy2026(s):
    (v,) = s.versions("icd10cm")
    assert v.builtin and v.version_id == "FY2026-builtin"
    assert (v.valid_from, v.valid_to) == (date(2025, 10, 1), date(2026, 9, 30))
    t = s.table("icd10cm", v.version_id).set_index("code")
    assert v.rows == len(t) > 90_000
    assert 70_000 < t["billable"].sum() < 80_000
    assert not t.loc["E11", "billable"] and t.loc["E119", "billable"]  # header vs leaf
    assert not t.loc["M545", "billable"] and t.loc["M5450", "billable"]  # M54.5 became a header in FY2022
    assert t.loc["W19XXXA", "billable"]  # placeholder X and 7th character
    assert t.loc["W19XXXA", "description"] == "Unspecified fall, initial encounter"
    assert t.loc["S0000XA", "description"].endswith("initial encounter")
    assert t["description"].notna().all()
    assert not t.index.str.contains(r"[.\-]").any()  # no dots, no chapter/block ranges
    assert t.index.is_unique


def test_icd_cache_is_written_and_reused(monkeypatch):
    # start from an empty process cache: other test folders may have built into another cache dir
    monkeypatch.setattr(B, "_tables", {})
    monkeypatch.setattr(B, "_meta", {})
    B.table("icd10cm")
    files = B._cache_files(B._package()[0])
    cache = Path(os.environ["AUDITOR_CACHE"])
    assert files["icd10cm"].parent == cache and files["icd10cm"].exists() and files["excludes1"].exists()
    # a new process (simulated: clear the in-memory copy) loads the parquet and never rebuilds
    monkeypatch.setattr(B, "_tables", {})
    monkeypatch.setattr(B, "_meta", {})

    def boom():
        raise AssertionError("rebuilt although cached")

    monkeypatch.setattr(B, "_build_icd", boom)
    assert len(B.table("icd10cm")) > 90_000
    assert len(B.table("excludes1")) > 1_000


def test_excludes1_pairs(s):
    (v,) = s.versions("excludes1")
    assert v.builtin and v.valid_from is None and v.valid_to is None
    t = s.table("excludes1", v.version_id)
    assert list(t.columns) == ["code", "excluded", "note"]
    pairs = set(zip(t.code, t.excluded))
    assert ("A04", "A05") in pairs  # "(A05.-)" on category A04
    assert ("A04", "A1832") in pairs  # "(A18.32)"
    # "(A04.0-A04.4)" on A05: a subcategory range expanded code by code
    assert {("A05", f"A04{i}") for i in range(5)} <= pairs
    # "(T61-T62)" on A05: a category range expanded to each category
    assert {("A05", "T61"), ("A05", "T62")} <= pairs
    assert not t.code.str.contains(r"\.").any() and not t.excluded.str.contains(r"[.\-]").any()
    # E11 type 2 diabetes excludes diabetes due to underlying condition (E08.-)
    assert ("E11", "E08") in pairs


def test_excludes1_parse_notes_exposed(s):
    n = s.notes["excludes1"]
    assert n["notes"] > 5000 and n["parsed"] + n["unparsed"] == n["notes"]
    assert 0 < n["unparsed"] < n["notes"] / 10
    assert n["unparsed_examples"]
    (v,) = s.versions("excludes1")
    assert "without a code reference" in v.source


def test_mce_v37_builtin(s):
    (v,) = s.versions("mce")
    assert v.version_id == "v37-builtin" and v.valid_from == date(2019, 10, 1) and v.valid_to is None
    t = s.table("mce", v.version_id)
    assert len(t) == v.rows > 14_000
    counts = t.groupby("edit_type").size()
    assert counts["Maternity_Only"] == 2372 and counts["Principal_Manifestation"] == 395
    assert set(t.code_type) == {"D", "P"}
    ages = s.table("mce_age_groups", "v37-builtin").set_index("group")
    assert ages.loc["maternity", ["min_age", "max_age"]].tolist() == [12, 55]
    assert ages.loc["adult", ["min_age", "max_age"]].tolist() == [15, 124]
    assert ages.loc["newborn", ["min_age", "max_age"]].tolist() == [0, 0]
    assert ages.loc["pediatric", "edit_type"] == "Pediatric_Only"


def test_mce_builtin_covers_fy2020_onwards(s):
    got = s.version_for_dates("mce", pd.Series(pd.to_datetime(["2019-09-30", "2019-10-01", "2030-01-01"]))).tolist()
    assert got == [None, "v37-builtin", "v37-builtin"]


def test_age_groups_by_version():
    assert B.mce_age_groups(38).set_index("group").loc["maternity", ["min_age", "max_age"]].tolist() == [9, 64]
    g = B.mce_age_groups(37, {"maternity": (10, 50)}).set_index("group")
    assert g.loc["maternity", ["min_age", "max_age"]].tolist() == [10, 50]
